//! Knowledge tables: the parameters of rules, as rows keyed by national code.
//!
//! A knowledge table has one row per knowledge point (知识点). Standard columns:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `code` | string, required | the national code (or code prefix) the point applies to; a point covering several codes lists them as `a\|b` (a JSON array in inline rows) |
//! | `match` | string | `exact` or `prefix`, overriding the table's mode for this row |
//! | `kp_id` | string | knowledge point id cited by findings (default `<table>#<row>`) |
//! | `item_name` | string | item name for messages |
//! | `effective_from`, `effective_to` | date | the point is in force for lines whose `fee_ocur_time` is in `[from, to)` |
//! | `supersedes` | string | the `kp_id` this point replaces: the old point stops applying where the new one starts |
//! | `batch`, `basis` | string | published batch and constraint text, cited by findings |
//!
//! Every other column is a template parameter given row by row (for example `sex`, `max_age`,
//! `code_b`, `window`, `max_qty`), read by the rule's template; a parameter given in the rule's
//! `params` is the default for rows where the column is absent or null.
//!
//! Tables come as inline JSON rows in a pack or as Arrow record batches; both become the same
//! small column store. This module only stores and types values; it never evaluates claims.

use crate::claims::{NumCol, StrCol, TimeCol};
use crate::error::{Error, Result};
use crate::pack::type_name;
use crate::time::parse_datetime;
use arrow_array::RecordBatch;
use serde_json::Value;
use std::collections::BTreeMap;

/// How a knowledge row's `code` matches a claim's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMode {
    /// The codes are equal.
    Exact,
    /// The claim's code starts with the row's code (a drug's 10-character generic prefix covers all
    /// its specifications and makers).
    Prefix,
}

/// One column of a knowledge table.
#[derive(Debug, Clone, PartialEq)]
pub enum KColumn {
    /// Strings.
    Str(Vec<Option<String>>),
    /// Numbers.
    Num(Vec<Option<f64>>),
    /// Wall-clock seconds (from Arrow date/timestamp columns).
    Time(Vec<Option<i64>>),
}

impl KColumn {
    fn kind(&self) -> &'static str {
        match self {
            KColumn::Str(_) => "string",
            KColumn::Num(_) => "number",
            KColumn::Time(_) => "date",
        }
    }
}

/// A knowledge table: named, typed columns of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeTable {
    name: String,
    rows: usize,
    columns: BTreeMap<String, KColumn>,
}

impl KnowledgeTable {
    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Whether column `c` exists.
    pub fn has(&self, c: &str) -> bool {
        self.columns.contains_key(c)
    }

    /// Column names.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.keys().map(String::as_str)
    }

    /// Builds a table from JSON rows (`[{"code": "…", "sex": "2"}, …]`); `name` is used in errors.
    ///
    /// ```
    /// let rows = serde_json::json!([{"code": "A", "max_qty": 1}, {"code": "B", "max_qty": "x"}]);
    /// let err = medaudit_core::KnowledgeTable::from_json_rows("freq", &rows).unwrap_err();
    /// assert!(err.to_string().contains("knowledge table \"freq\""));
    /// assert!(err.to_string().contains("(column \"max_qty\", row 1)"));
    /// ```
    pub fn from_json_rows(name: &str, rows: &Value) -> Result<Self> {
        let rows = match rows {
            Value::Array(a) => a,
            other => {
                return Err(Error::knowledge(
                    name,
                    None,
                    None,
                    format!("rows: expected an array of objects, found {}", type_name(other)),
                ))
            }
        };
        let n = rows.len();
        let mut columns: BTreeMap<String, KColumn> = BTreeMap::new();
        for (r, row) in rows.iter().enumerate() {
            let obj = match row {
                Value::Object(o) => o,
                other => {
                    return Err(Error::knowledge(
                        name,
                        None,
                        Some(r),
                        format!("expected an object, found {}", type_name(other)),
                    ))
                }
            };
            for (k, v) in obj {
                let col = match columns.get_mut(k) {
                    Some(c) => c,
                    None => {
                        let c = match v {
                            Value::Null => continue,
                            Value::Number(_) => KColumn::Num(vec![None; n]),
                            Value::String(_) | Value::Array(_) => KColumn::Str(vec![None; n]),
                            other => {
                                return Err(Error::knowledge(
                                    name,
                                    Some(k),
                                    Some(r),
                                    format!("expected a string, number or list of strings, found {}", type_name(other)),
                                ))
                            }
                        };
                        columns.entry(k.clone()).or_insert(c)
                    }
                };
                let mismatch = |col: &KColumn| {
                    Error::knowledge(
                        name,
                        Some(k),
                        Some(r),
                        format!("expected a {} like the rows before, found {}", col.kind(), type_name(v)),
                    )
                };
                match (&mut *col, v) {
                    (_, Value::Null) => {}
                    (KColumn::Num(c), Value::Number(x)) => {
                        let x = x.as_f64().filter(|x| x.is_finite());
                        if x.is_none() {
                            return Err(Error::knowledge(name, Some(k), Some(r), "number out of range"));
                        }
                        if let Some(slot) = c.get_mut(r) {
                            *slot = x;
                        }
                    }
                    (KColumn::Str(c), Value::String(s)) => {
                        if let Some(slot) = c.get_mut(r) {
                            *slot = Some(s.clone());
                        }
                    }
                    (KColumn::Str(c), Value::Array(items)) => {
                        let mut parts = Vec::with_capacity(items.len());
                        for it in items {
                            match it {
                                Value::String(s) => parts.push(s.clone()),
                                other => {
                                    return Err(Error::knowledge(
                                        name,
                                        Some(k),
                                        Some(r),
                                        format!("a list must hold strings, found {}", type_name(other)),
                                    ))
                                }
                            }
                        }
                        if let Some(slot) = c.get_mut(r) {
                            *slot = Some(parts.join("|"));
                        }
                    }
                    (c, _) => return Err(mismatch(c)),
                }
            }
        }
        let t = KnowledgeTable { name: name.to_string(), rows: n, columns };
        t.check_code()?;
        Ok(t)
    }

    /// Builds a table from Arrow record batches. String columns may be any string variant, numbers
    /// any integer/float/decimal, dates any date/timestamp; other types are rejected naming the column.
    pub fn from_record_batches(name: &str, batches: &[RecordBatch]) -> Result<Self> {
        let mut columns: BTreeMap<String, KColumn> = BTreeMap::new();
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut base = 0;
        for b in batches {
            for (field, array) in b.schema_ref().fields().iter().zip(b.columns()) {
                let cname = field.name();
                let (col, new) = if let Ok(s) = StrCol::new(array) {
                    (columns.entry(cname.clone()).or_insert_with(|| KColumn::Str(vec![None; total])), Val::S(s))
                } else if let Ok(x) = NumCol::new(array) {
                    (columns.entry(cname.clone()).or_insert_with(|| KColumn::Num(vec![None; total])), Val::N(x))
                } else if let Ok(t) = TimeCol::new(array) {
                    (columns.entry(cname.clone()).or_insert_with(|| KColumn::Time(vec![None; total])), Val::T(t))
                } else {
                    return Err(Error::knowledge(
                        name,
                        Some(cname),
                        None,
                        format!(
                            "has Arrow type {}, expected a string, number, date or timestamp type",
                            field.data_type()
                        ),
                    ));
                };
                let kind = col.kind();
                let rows = b.num_rows();
                match (col, new) {
                    (KColumn::Str(c), Val::S(s)) => {
                        (0..rows).for_each(|i| set(c, base + i, s.get(i).map(str::to_string)))
                    }
                    (KColumn::Num(c), Val::N(x)) => (0..rows).for_each(|i| set(c, base + i, x.get(i))),
                    (KColumn::Time(c), Val::T(t)) => (0..rows).for_each(|i| set(c, base + i, t.get(i))),
                    _ => {
                        return Err(Error::knowledge(
                            name,
                            Some(cname),
                            None,
                            format!("is a {kind} column in an earlier batch but has type {} here", field.data_type()),
                        ))
                    }
                }
            }
            base += b.num_rows();
        }
        let t = KnowledgeTable { name: name.to_string(), rows: total, columns };
        t.check_code()?;
        Ok(t)
    }

    fn check_code(&self) -> Result<()> {
        match self.columns.get("code") {
            Some(KColumn::Str(c)) => {
                if let Some(r) = c.iter().position(|v| v.as_deref().is_none_or(str::is_empty)) {
                    return Err(Error::knowledge(&self.name, Some("code"), Some(r), "code is null or empty"));
                }
                Ok(())
            }
            Some(other) => Err(Error::knowledge(
                &self.name,
                Some("code"),
                None,
                format!("expected a string column, found a {} column", other.kind()),
            )),
            None if self.rows == 0 => Ok(()),
            None => Err(Error::knowledge(&self.name, Some("code"), None, "missing required column")),
        }
    }

    /// The string at (`column`, `row`); errors when the column is not a string column.
    pub fn str(&self, column: &str, row: usize) -> Result<Option<&str>> {
        match self.columns.get(column) {
            None => Ok(None),
            Some(KColumn::Str(c)) => Ok(c.get(row).and_then(|v| v.as_deref())),
            Some(KColumn::Num(c)) => match c.get(row) {
                Some(Some(_)) => Err(self.type_err(column, row, "a string", "a number")),
                _ => Ok(None),
            },
            Some(KColumn::Time(_)) => Err(self.type_err(column, row, "a string", "a date")),
        }
    }

    /// The number at (`column`, `row`); a string that parses as a number is accepted.
    pub fn num(&self, column: &str, row: usize) -> Result<Option<f64>> {
        match self.columns.get(column) {
            None => Ok(None),
            Some(KColumn::Num(c)) => Ok(c.get(row).copied().flatten()),
            Some(KColumn::Str(c)) => match c.get(row).and_then(|v| v.as_deref()) {
                None => Ok(None),
                Some(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).map(Some).ok_or_else(|| {
                    Error::knowledge(&self.name, Some(column), Some(row), format!("expected a number, found {s:?}"))
                }),
            },
            Some(KColumn::Time(_)) => Err(self.type_err(column, row, "a number", "a date")),
        }
    }

    /// The time at (`column`, `row`): an Arrow date/timestamp, or a string `YYYY-MM-DD[ HH:MM:SS]`.
    pub fn time(&self, column: &str, row: usize) -> Result<Option<i64>> {
        match self.columns.get(column) {
            None => Ok(None),
            Some(KColumn::Time(c)) => Ok(c.get(row).copied().flatten()),
            Some(KColumn::Str(c)) => match c.get(row).and_then(|v| v.as_deref()) {
                None => Ok(None),
                Some(s) => parse_datetime(s).map(Some).ok_or_else(|| {
                    Error::knowledge(
                        &self.name,
                        Some(column),
                        Some(row),
                        format!("expected a date YYYY-MM-DD, found {s:?}"),
                    )
                }),
            },
            Some(KColumn::Num(_)) => Err(self.type_err(column, row, "a date", "a number")),
        }
    }

    fn type_err(&self, column: &str, row: usize, want: &str, found: &str) -> Error {
        Error::knowledge(&self.name, Some(column), Some(row), format!("expected {want}, found {found}"))
    }
}

enum Val<'a> {
    S(StrCol<'a>),
    N(NumCol<'a>),
    T(TimeCol<'a>),
}

fn set<T>(c: &mut [Option<T>], i: usize, v: Option<T>) {
    if let Some(slot) = c.get_mut(i) {
        *slot = v;
    }
}
