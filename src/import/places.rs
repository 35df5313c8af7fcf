//! `hotline import places FILE.csv`: roads, estates and landmarks in the org tree's units, for
//! placing appeals by their text (columns `name,unit_code,source`; see
//! `hotline_dispatch::places::names`).

use hotline_core::Db;
use hotline_dispatch::DispatchError;
use hotline_dispatch::places::names::{self, LineError};

use super::Report;

fn report_errors(report: &mut Report, errors: Vec<LineError>) {
    for e in errors {
        report.error(e.line, e.field, e.message);
    }
}

pub fn import(db: &Db, text: &str) -> Result<Report, DispatchError> {
    let mut report = Report::default();
    let list = match names::parse(text) {
        Ok(l) => l,
        Err(errors) => {
            report_errors(&mut report, errors);
            return Ok(report);
        }
    };
    report.lines = list.len();
    let now = hotline_core::db::now();
    match db.write_blocking(|c| names::import(c, &list, now).map_err(DispatchError::from))? {
        Ok((created, updated)) => {
            report.created = created;
            report.updated = updated;
        }
        Err(errors) => report_errors(&mut report, errors),
    }
    Ok(report)
}
