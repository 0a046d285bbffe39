//! A small RFC 4180 CSV reader for the `drg-scheme/1` tables: UTF-8, one header row, comma
//! separators, double-quoted fields with `""` escapes, LF or CRLF line ends.
//!
//! It reads only the text it is given and reports a malformed row by file and line.

use crate::error::{Error, Result};

/// One parsed table: its header and rows, each row with the 1-based line it starts on.
pub(crate) struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Parses `text` (named `file` in errors). Every row must have as many fields as the header.
pub(crate) fn parse(file: &str, text: &str) -> Result<Csv> {
    let err = |row: usize, message: String| Error::Scheme { file: file.into(), path: None, row: Some(row), message };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    let mut field = String::new();
    let mut fields: Vec<String> = Vec::new();
    let mut line = 1usize;
    let mut start = 1usize;
    let mut quoted = false;
    let mut at_field_start = true;
    let mut after_quote = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if quoted {
            match ch {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    after_quote = true;
                }
                '\n' => {
                    line += 1;
                    field.push(ch);
                }
                _ => field.push(ch),
            }
            continue;
        }
        match ch {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
                after_quote = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
                at_field_start = true;
                after_quote = false;
            }
            _ if after_quote => {
                return Err(err(line, format!("unexpected {ch:?} after a closing quote")));
            }
            '"' => return Err(err(line, "a quote inside an unquoted field".into())),
            _ => {
                field.push(ch);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err(err(start, "unterminated quoted field".into()));
    }
    if !field.is_empty() || !fields.is_empty() || after_quote {
        fields.push(field);
        records.push((start, fields));
    }
    // A blank line is no record.
    records.retain(|(_, f)| !(f.len() == 1 && f.first().is_some_and(String::is_empty)));
    let mut it = records.into_iter();
    let (_, header) = it.next().ok_or_else(|| err(1, "empty file: expected a header row".into()))?;
    let rows: Vec<(usize, Vec<String>)> = it.collect();
    for (ln, r) in &rows {
        if r.len() != header.len() {
            return Err(err(*ln, format!("{} fields, the header has {}", r.len(), header.len())));
        }
    }
    Ok(Csv { header, rows })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quotes_crlf_and_blank_lines() {
        let c = parse("t.csv", "code,name\r\nA01,\"x, \"\"y\"\"\"\r\n\r\nB02,z\n").unwrap();
        assert_eq!(c.header, ["code", "name"]);
        assert_eq!(c.rows.len(), 2);
        assert_eq!(c.rows[0].1, ["A01", "x, \"y\""]);
        assert_eq!(c.rows[1], (4, vec!["B02".to_string(), "z".to_string()]));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("mcc.csv", "code,exclusion_table\nA01,1\nA02\n").err().unwrap();
        assert_eq!(e.to_string(), "DRG/DIP scheme: mcc.csv line 3: 1 fields, the header has 2");
        let e = parse("mcc.csv", "code,t\n\"A01,1\n").err().unwrap();
        assert!(e.to_string().contains("line 2: unterminated quoted field"), "{e}");
        let e = parse("mcc.csv", "").err().unwrap();
        assert!(e.to_string().contains("empty file"), "{e}");
    }
}
