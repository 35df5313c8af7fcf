//! `hotline import categories FILE.csv`: the three-level category tree.
//!
//! Columns: `level1,level2,level3` (the official taxonomy, e.g. the shared `taxonomy.csv`); level2
//! and level3 may be empty for shallower entries. Categories are keyed by their full path, so a
//! re-import adds what is new and leaves the rest as it is.

use hotline_core::store::categories;
use hotline_core::{Db, StoreError};

use super::{Report, read_csv};

pub const COLUMNS: [&str; 3] = ["level1", "level2", "level3"];

pub fn import(db: &Db, text: &str) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut paths: Vec<(u64, Vec<String>)> = Vec::new();
    for (line, r) in read_csv(text, &COLUMNS, &mut report) {
        report.lines += 1;
        let mut names = Vec::new();
        let mut gap = false;
        for (i, field) in COLUMNS.iter().enumerate() {
            let v = r.get(i).unwrap_or("").trim();
            if v.is_empty() {
                gap = true;
                continue;
            }
            if gap {
                report.error(line, field, "a level below an empty level");
                break;
            }
            if let Err(e) = crate::routes::catalogue::category_name(field, v) {
                report.error(line, field, e.message);
                break;
            }
            names.push(v.to_owned());
        }
        if names.is_empty() {
            report.error(line, "level1", "must not be empty");
        }
        paths.push((line, names));
    }
    if !report.is_ok() {
        return Ok(report);
    }
    let (before, after) = db.write_blocking(|c| {
        let before = categories::count(c)?;
        let now = hotline_core::db::now();
        for (line, names) in &paths {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let order = i32::try_from(*line).unwrap_or(i32::MAX);
            categories::ensure_path(c, &refs, order, now)?;
        }
        Ok::<_, StoreError>((before, categories::count(c)?))
    })?;
    report.created = usize::try_from(after - before).unwrap_or(0);
    report.summary = Some(format!(
        "{} categories created, {} already present",
        report.created,
        usize::try_from(before).unwrap_or(0)
    ));
    Ok(report)
}
