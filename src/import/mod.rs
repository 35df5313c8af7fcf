//! `hotline import …`: files of official data. Every line is checked first; errors are reported by
//! line and field and nothing is written unless the whole file is valid. Re-importing a file
//! updates what exists and never duplicates.

pub mod areas;
pub mod calendar;
pub mod categories;
pub mod org;
pub mod places;

use std::fmt;

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based, the header being line 1.
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: a file that has no lines (GeoJSON), whose field is a path in the document.
        if self.line == 0 {
            return write!(f, "field `{}`: {}", self.field, self.message);
        }
        write!(
            f,
            "line {}, field `{}`: {}",
            self.line, self.field, self.message
        )
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<LineError>,
    /// Replaces the created/updated counts in the summary, for imports they do not describe.
    pub summary: Option<String>,
}

impl Report {
    pub fn error(&mut self, line: u64, field: &str, message: impl Into<String>) {
        self.errors.push(LineError {
            line,
            field: field.to_owned(),
            message: message.into(),
        });
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (true, Some(summary)) = (self.is_ok(), &self.summary) {
            write!(f, "{} lines: {summary}", self.lines)
        } else if self.is_ok() {
            write!(
                f,
                "{} lines: {} created, {} updated",
                self.lines, self.created, self.updated
            )
        } else {
            writeln!(f, "{} errors, nothing imported:", self.errors.len())?;
            for e in &self.errors {
                writeln!(f, "  {e}")?;
            }
            Ok(())
        }
    }
}

/// Reads a CSV with exactly the expected header; returns the records with their line numbers.
pub fn read_csv(
    text: &str,
    expected: &[&str],
    report: &mut Report,
) -> Vec<(u64, csv::StringRecord)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    match reader.headers() {
        Ok(h) => {
            let found: Vec<&str> = h.iter().map(str::trim).collect();
            if found != expected {
                report.error(
                    1,
                    "header",
                    format!(
                        "expected columns {}, found {}",
                        expected.join(","),
                        found.join(",")
                    ),
                );
                return Vec::new();
            }
        }
        Err(e) => {
            report.error(1, "header", e.to_string());
            return Vec::new();
        }
    }
    let mut out = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, csv::Position::line);
                if r.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if r.len() != expected.len() {
                    report.error(
                        line,
                        "line",
                        format!("expected {} columns, found {}", expected.len(), r.len()),
                    );
                    continue;
                }
                out.push((line, r));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                report.error(line, "line", e.to_string());
            }
        }
    }
    out
}
