//! A report as files for spreadsheets: CSV (UTF-8 with a byte-order mark, so Excel reads the
//! Chinese) and XLSX (one sheet per table), with the page's tables and Chinese headers. Counts
//! and durations are numbers (durations in seconds, means and shares with one decimal).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::query::{Cell, Table, one_decimal};

/// The byte-order mark Excel needs to read UTF-8.
pub const BOM: &str = "\u{feff}";

/// What a file says about the report before its tables: (field, value) pairs.
pub type About = Vec<(&'static str, String)>;

/// A cell's value in a file: text, a number, or empty.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Number(f64),
    Empty,
}

fn value(c: &Cell) -> Value {
    match c {
        Cell::Text(t) => Value::Text(t.clone()),
        Cell::Count(n, _) => Value::Number(*n as f64),
        Cell::Span(s) => Value::Number(*s as f64),
        Cell::Seconds(s) | Cell::Pct(s) => {
            s.map_or(Value::Empty, |v| Value::Number(one_decimal(v)))
        }
    }
}

/// Text a spreadsheet would run as a formula (spaces before it too) gets a `'` before it.
fn neutral(text: &str) -> String {
    match text.trim_start_matches([' ', '\u{3000}']).chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// The report as CSV: what it covers, then each table under its title with its note.
pub fn csv(about: &About, tables: &[Table]) -> Result<Vec<u8>, csv::Error> {
    let mut out = BOM.as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        for (field, v) in about {
            w.write_record([*field, &neutral(v)])?;
        }
        for t in tables {
            w.write_record([""])?;
            w.write_record([t.title])?;
            w.write_record(t.columns.iter().map(|c| c.export_label()))?;
            for row in &t.rows {
                w.write_record(row.iter().map(|c| match value(c) {
                    Value::Text(t) => neutral(&t),
                    Value::Number(n) => number_text(n),
                    Value::Empty => String::new(),
                }))?;
            }
            w.write_record([format!("说明：{}", t.note)])?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The report as an XLSX workbook: a sheet of what it covers, then one sheet per table (its
/// headers in the first row, the total in the second, the note under the rows).
pub fn xlsx(about: &About, tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("统计范围")?;
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 40)?;
    for (r, (field, v)) in about.iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, *field, &bold)?;
        sheet.write_string(r as u32, 1, v)?;
    }
    for t in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(t.title)?;
        sheet.set_column_width(0, 22)?;
        for (c, col) in t.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, col.export_label(), &bold)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                match value(cell) {
                    Value::Text(text) => sheet.write_string(r, c as u16, text)?,
                    Value::Number(n) => sheet.write_number(r, c as u16, n)?,
                    Value::Empty => sheet,
                };
            }
        }
        sheet.write_string(t.rows.len() as u32 + 2, 0, format!("说明：{}", t.note))?;
    }
    book.save_to_buffer()
}

/// `Content-Disposition` for a download named `name` (Chinese kept by RFC 5987's `filename*`;
/// `ascii` for clients that read only `filename`).
pub fn disposition(ascii: &str, name: &str) -> String {
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Only what is safe in a quoted ASCII file name.
pub fn ascii_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statistics::query::Column;

    fn table() -> Table {
        Table {
            id: "t",
            title: "排队与办理",
            columns: vec![
                Column {
                    label: "大厅".into(),
                    unit: "",
                },
                Column {
                    label: "平均等候".into(),
                    unit: "秒",
                },
            ],
            rows: vec![vec![Cell::Text("=福田".into()), Cell::Seconds(Some(12.34))]],
            note: "n",
        }
    }

    #[test]
    fn csv_has_a_bom_units_in_headers_and_no_formulas() {
        let out =
            String::from_utf8(csv(&vec![("大厅", "福田".into())], &[table()]).unwrap()).unwrap();
        assert!(out.starts_with("\u{feff}大厅,福田\r\n"));
        assert!(
            out.contains("大厅,平均等候（秒）\r\n'=福田,12.3\r\n"),
            "{out}"
        );
    }

    #[test]
    fn filenames_keep_chinese_in_rfc_5987() {
        assert_eq!(
            disposition("a.csv", "福 a.csv"),
            "attachment; filename=\"a.csv\"; filename*=UTF-8''%E7%A6%8F%20a.csv"
        );
        assert_eq!(ascii_name("hall futian/1"), "hall_futian_1");
    }
}
