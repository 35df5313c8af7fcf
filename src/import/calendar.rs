//! `hotline import calendar FILE.csv`: the official working-day calendar (`date,kind,name`, kind
//! `holiday` or `workday`; dates not listed follow Monday–Friday). Each year in the file replaces
//! that year's stored calendar.

use chrono::Datelike;
use hotline_core::calendar::{CalendarError, WorkCalendar};
use hotline_core::store;
use hotline_core::{Db, StoreError};

use super::Report;

pub fn import(db: &Db, text: &str) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let entries = match WorkCalendar::parse_csv(text) {
        Ok(e) => e,
        Err(CalendarError::Csv {
            line,
            field,
            message,
        }) => {
            report.error(line as u64, field, message);
            return Ok(report);
        }
        Err(e) => {
            report.error(0, "file", e.to_string());
            return Ok(report);
        }
    };
    report.lines = entries.len();
    let mut years: Vec<i32> = entries.iter().map(|e| e.date.year()).collect();
    years.sort_unstable();
    years.dedup();
    db.write_blocking(|c| {
        let now = hotline_core::db::now();
        for year in &years {
            let of_year: Vec<_> = entries
                .iter()
                .filter(|e| e.date.year() == *year)
                .cloned()
                .collect();
            store::calendar::store_year(c, *year, &of_year, now)?;
        }
        Ok::<_, StoreError>(())
    })?;
    report.updated = years.len();
    report.summary = Some(format!(
        "calendar of {} loaded",
        years
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(report)
}
