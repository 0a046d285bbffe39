//! Knowledge-point records as NHSA publishes them (one JSON object per point), and their parsing.
//!
//! Only the fields the importer needs are read; unknown fields are ignored, so a future batch
//! that adds a field still loads. Every error names the record's index and the field at fault
//! (`$[12].med_codes`). This module never interprets a constraint text.

use crate::error::{Error, Result};
use crate::pack::type_name;
use serde_json::Value;

/// The table name errors about records use.
pub const RECORDS: &str = "national records";

/// One published knowledge point (知识点).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Knowledge point id (`KP-…`), unique over all records.
    pub kp_id: String,
    /// Rule class (规则名称), e.g. `药品区分性别使用`.
    pub rule_class: String,
    /// Official rule code (GZ…), when published.
    pub gz_code: Option<String>,
    /// The national codes the point covers (drugs, herbs, service items); a duplicate-charge
    /// point lists A then B.
    pub med_codes: Vec<String>,
    /// Item name (`A×B` for a duplicate-charge pair).
    pub item_name: String,
    /// The official constraint text (限定条件 / 内涵).
    pub constraint: Option<String>,
    /// The official detection logic.
    pub detect_logic: Option<String>,
    /// Batch number (1–17); `None` for the 2026-01-28 revision.
    pub batch: Option<u32>,
    /// Publication date `YYYY-MM-DD`, when known.
    pub published_at: Option<String>,
    /// The kp_id this point replaces.
    pub supersedes: Option<String>,
}

impl Record {
    /// The batch as cited by findings: `第7批`, or `2026-01-28修订` for a revision record.
    pub fn batch_label(&self) -> String {
        match (self.batch, &self.published_at) {
            (Some(b), _) => format!("第{b}批"),
            (None, Some(d)) => format!("{d}修订"),
            (None, None) => "修订".to_string(),
        }
    }
}

fn err(index: usize, field: &str, message: impl std::fmt::Display) -> Error {
    Error::Knowledge {
        table: RECORDS.into(),
        column: Some(field.into()),
        row: Some(index),
        message: format!("$[{index}].{field}: {message}"),
    }
}

/// Parses the records file's text: a JSON array of records, or an object with a `records` array.
///
/// ```
/// let err = medaudit_core::national::parse_records(r#"[{"kp_id": "KP-1", "rule_class": 5}]"#).unwrap_err();
/// assert!(err.to_string().contains("$[0].rule_class: expected a string, found a number"));
/// ```
pub fn parse_records(text: &str) -> Result<Vec<Record>> {
    let root: Value = serde_json::from_str(text).map_err(|e| Error::Knowledge {
        table: RECORDS.into(),
        column: None,
        row: None,
        message: format!("invalid JSON: {e}"),
    })?;
    records_from_value(&root)
}

/// Parses already-decoded records (see [`parse_records`]).
pub fn records_from_value(root: &Value) -> Result<Vec<Record>> {
    let items = match root {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("records") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(Error::Knowledge {
                    table: RECORDS.into(),
                    column: None,
                    row: None,
                    message: "expected an array of records (or an object with a \"records\" array)".into(),
                })
            }
        },
        other => {
            return Err(Error::Knowledge {
                table: RECORDS.into(),
                column: None,
                row: None,
                message: format!("expected an array of records, found {}", type_name(other)),
            })
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashMap::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        let rec = parse_one(i, v)?;
        if let Some(first) = seen.insert(rec.kp_id.clone(), i) {
            return Err(err(i, "kp_id", format!("duplicate kp_id {:?} (first at record {first})", rec.kp_id)));
        }
        out.push(rec);
    }
    Ok(out)
}

fn parse_one(i: usize, v: &Value) -> Result<Record> {
    let Value::Object(o) = v else {
        return Err(Error::Knowledge {
            table: RECORDS.into(),
            column: None,
            row: Some(i),
            message: format!("$[{i}]: expected an object, found {}", type_name(v)),
        });
    };
    let opt_str = |f: &str| -> Result<Option<String>> {
        match o.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(err(i, f, format!("expected a string, found {}", type_name(other)))),
        }
    };
    let req_str = |f: &str| -> Result<String> {
        match opt_str(f)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(err(i, f, "empty string")),
            None => Err(err(i, f, "missing required field")),
        }
    };
    let mut med_codes = Vec::new();
    match o.get("med_codes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for (k, c) in a.iter().enumerate() {
                match c {
                    Value::String(s) if !s.trim().is_empty() && !s.contains('|') => {
                        med_codes.push(s.trim().to_string())
                    }
                    Value::String(s) => {
                        return Err(err(i, &format!("med_codes[{k}]"), format!("not a national code: {s:?}")))
                    }
                    other => {
                        return Err(err(
                            i,
                            &format!("med_codes[{k}]"),
                            format!("expected a string, found {}", type_name(other)),
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(err(i, "med_codes", format!("expected an array of strings, found {}", type_name(other))))
        }
    }
    if med_codes.is_empty() {
        if let Some(c) = opt_str("med_code")? {
            if !c.trim().is_empty() {
                med_codes.push(c.trim().to_string());
            }
        }
    }
    let batch = match o.get("batch") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64().and_then(|b| u32::try_from(b).ok()) {
            Some(b) => Some(b),
            None => return Err(err(i, "batch", format!("expected a batch number, found {n}"))),
        },
        Some(other) => return Err(err(i, "batch", format!("expected a number or null, found {}", type_name(other)))),
    };
    let published_at = opt_str("published_at")?;
    if let Some(d) = &published_at {
        if crate::time::parse_datetime(d).is_none() {
            return Err(err(i, "published_at", format!("expected a date YYYY-MM-DD, found {d:?}")));
        }
    }
    Ok(Record {
        kp_id: req_str("kp_id")?,
        rule_class: req_str("rule_class")?,
        gz_code: opt_str("gz_code")?,
        med_codes,
        item_name: opt_str("item_name")?.unwrap_or_default(),
        constraint: opt_str("constraint")?,
        detect_logic: opt_str("detect_logic")?,
        batch,
        published_at,
        supersedes: opt_str("supersedes")?,
    })
}
