//! Exports: one table written as CSV (UTF-8 with a byte-order mark, which spreadsheet programs
//! in Chinese locales need to read UTF-8) or as an XLSX workbook.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    Empty,
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        v.filter(|x| x.is_finite()).map_or(Self::Empty, Self::Float)
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Self::Empty, Self::Text)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A text cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
/// leading apostrophe: appeal text is the citizens', and must never run in a leader's Excel.
fn inert(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

pub fn to_csv(t: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&t.headers)?;
        for row in &t.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Value::Text(s) => inert(s).into_owned(),
                    Value::Int(n) => n.to_string(),
                    Value::Float(x) => format!("{x:.4}"),
                    Value::Empty => String::new(),
                })
                .collect();
            w.write_record(&cells)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The table as one sheet named `sheet`, the header bold and frozen.
pub fn to_xlsx(t: &Table, sheet: &str) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    let bold = Format::new().set_bold();
    for (c, h) in t.headers.iter().enumerate() {
        let col =
            u16::try_from(c).map_err(|_| XlsxError::ParameterError("too many columns".into()))?;
        ws.write_string_with_format(0, col, h, &bold)?;
        ws.set_column_width(col, 14)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let at =
            u32::try_from(r + 1).map_err(|_| XlsxError::ParameterError("too many rows".into()))?;
        for (c, v) in row.iter().enumerate() {
            let col = u16::try_from(c)
                .map_err(|_| XlsxError::ParameterError("too many columns".into()))?;
            match v {
                // Strings are written as strings: never as formulas, whatever they begin with.
                Value::Text(s) => ws.write_string(at, col, s)?,
                #[allow(clippy::cast_precision_loss)]
                Value::Int(n) => ws.write_number(at, col, *n as f64)?,
                Value::Float(x) => ws.write_number(at, col, *x)?,
                Value::Empty => ws,
            };
        }
    }
    ws.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            headers: vec!["单位".into(), "工单数".into(), "满意率".into()],
            rows: vec![
                vec!["A2区".into(), 3_i64.into(), Some(0.75).into()],
                vec!["=HYPERLINK(\"x\")".into(), 0_i64.into(), None::<f64>.into()],
            ],
        }
    }

    #[test]
    fn csv_has_a_bom_a_header_and_inert_formulas() {
        let bytes = to_csv(&table()).expect("csv");
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            r.headers().expect("header"),
            vec!["单位", "工单数", "满意率"]
        );
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
        assert_eq!(rows[0].iter().collect::<Vec<_>>(), ["A2区", "3", "0.7500"]);
        assert_eq!(&rows[1][0], "'=HYPERLINK(\"x\")");
        assert_eq!(&rows[1][2], "");
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let bytes = to_xlsx(&table(), "三率").expect("xlsx");
        assert!(
            bytes.starts_with(b"PK\x03\x04"),
            "an OOXML package is a zip"
        );
        assert!(bytes.len() > 1000);
    }
}
