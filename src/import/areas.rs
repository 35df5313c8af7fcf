//! `hotline import areas FILE.geojson`: the areas org units serve, for placing appeals by their
//! coordinates (see `hotline_dispatch::places::areas`). Errors name the feature as a path in the
//! document (`features[2].properties.code`).

use hotline_core::Db;
use hotline_dispatch::DispatchError;
use hotline_dispatch::places::areas::{self, FeatureError};

use super::Report;

fn report_errors(report: &mut Report, errors: Vec<FeatureError>) {
    for e in errors {
        let field = if e.feature == 0 {
            e.field
        } else {
            format!("features[{}].{}", e.feature - 1, e.field)
        };
        report.error(0, &field, e.message);
    }
}

pub fn import(db: &Db, text: &str) -> Result<Report, DispatchError> {
    let mut report = Report::default();
    let features = match areas::parse(text) {
        Ok(f) => f,
        Err(errors) => {
            report_errors(&mut report, errors);
            return Ok(report);
        }
    };
    report.lines = features.len();
    let now = hotline_core::db::now();
    match db.write_blocking(|c| areas::import(c, &features, now).map_err(DispatchError::from))? {
        Ok((created, updated)) => {
            report.created = created;
            report.updated = updated;
            report.summary = Some(format!(
                "{} areas: {created} new, {updated} replaced",
                features.len()
            ));
        }
        Err(errors) => report_errors(&mut report, errors),
    }
    Ok(report)
}
