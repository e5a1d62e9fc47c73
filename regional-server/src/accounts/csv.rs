//! CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel reads Chinese), quoted cells,
//! and cells a spreadsheet would run as a formula neutralised.

/// The byte-order mark Excel needs to read UTF-8.
pub(super) const BOM: &str = "\u{feff}";

/// One cell: a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` before it (the
/// cell is then text, never a formula), and the cell is quoted when it holds a comma, quote or
/// line break.
pub fn csv_cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// A line of cells, ended by CRLF.
pub(super) fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_separators_quoted() {
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("+86"), "'+86");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"x\",1)"),
            "\"'=HYPERLINK(\"\"x\"\",1)\""
        );
        assert_eq!(csv_cell("福田"), "福田");
        assert_eq!(csv_line(&["a", "=b"]), "a,'=b\r\n");
    }
}
