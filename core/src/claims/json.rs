//! Claims from JSON rows: the language-neutral form used by the conformance vectors and by callers
//! that do not speak Arrow.
//!
//! ```json
//! {
//!   "mdtrt":       [{"mdtrt_id": "M1", "gend": "1", "brdy": "1980-05-01", "begntime": "2026-03-01 09:00:00"}],
//!   "diagnoses":   [{"mdtrt_id": "M1", "diag_code": "I10.x00"}],
//!   "operations":  [],
//!   "fee_details": [{"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "…", "cnt": 1, "pric": 2.5,
//!                    "det_item_fee_sumamt": 2.5, "fee_ocur_time": "2026-03-01 09:10:00"}],
//!   "types":       {"fee_details": {"hilist_code": "dict_utf8", "cnt": "int64"}}
//! }
//! ```
//!
//! Each canonical column becomes its canonical Arrow type (strings Utf8, numbers Float64, times
//! `timestamp[s]`, `brdy`/`die_date` Date32); times are written `YYYY-MM-DD[ HH:MM:SS]` in wall
//! clock. `types` forces another Arrow type for a column, to exercise the accepted variants (and
//! the rejected ones): `utf8`, `large_utf8`, `utf8_view`, `dict_utf8`, `float64`, `float32`,
//! `int64`, `int32`, `decimal128`, `timestamp[s]`, `timestamp[ms]`, `timestamp[us, <zone>]`,
//! `date32`, `boolean`, `list_utf8` (a list of strings per row; `drug_trac_codg` given as JSON
//! arrays becomes one). Columns that are not canonical are kept with an inferred type. Errors name
//! the JSON path of the value at fault.

use super::{columns, Claims, ClaimsTable, ColumnKind};
use crate::error::{Error, Result};
use crate::pack::type_name;
use crate::time::{day_of, parse_datetime};
use arrow_array::builder::{
    BooleanBuilder, Decimal128Builder, Float32Builder, Float64Builder, Int32Builder, Int64Builder, LargeStringBuilder,
    StringBuilder, StringDictionaryBuilder, StringViewBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Date32Array, RecordBatch, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampSecondArray,
};
use arrow_schema::{Field, Schema};
use serde_json::{Map, Value};
use std::sync::Arc;

fn arg(path: String, message: impl Into<String>) -> Error {
    Error::Argument { argument: path, message: message.into() }
}

/// Reads claims from JSON (see the module docs). `path` prefixes error paths (e.g. `$.claims`).
pub fn claims_from_json(v: &Value, path: &str) -> Result<Claims> {
    let obj = match v {
        Value::Object(o) => o,
        other => return Err(arg(path.to_string(), format!("expected an object, found {}", type_name(other)))),
    };
    for k in obj.keys() {
        if k != "types" && k != "column_map" && ClaimsTable::from_name(k).is_none() {
            return Err(arg(
                format!("{path}.{k}"),
                "unknown table; expected mdtrt, diagnoses, operations, fee_details, types or column_map",
            ));
        }
    }
    let types = match obj.get("types") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(t)) => t.clone(),
        Some(other) => {
            return Err(arg(format!("{path}.types"), format!("expected an object, found {}", type_name(other))))
        }
    };
    let mut claims = Claims::default();
    if let Some(m) = obj.get("column_map") {
        claims.column_map = serde_json::from_value::<
            std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
        >(m.clone())
        .map_err(|e| arg(format!("{path}.column_map"), e.to_string()))
        .and_then(|raw| super::ColumnMap::from_json(&serde_json::to_string(&raw).unwrap_or_default()))?;
    }
    for t in ClaimsTable::ALL {
        let Some(rows) = obj.get(t.name()) else { continue };
        let tp = format!("{path}.{}", t.name());
        let rows = match rows {
            Value::Array(a) => a,
            other => return Err(arg(tp, format!("expected an array of rows, found {}", type_name(other)))),
        };
        let forced = match types.get(t.name()) {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(arg(
                    format!("{path}.types.{}", t.name()),
                    format!("expected an object, found {}", type_name(other)),
                ))
            }
        };
        let batch = table_from_rows(t, rows, &forced, &tp, &claims.column_map)?;
        let slot = match t {
            ClaimsTable::Mdtrt => &mut claims.mdtrt,
            ClaimsTable::Diagnoses => &mut claims.diagnoses,
            ClaimsTable::Operations => &mut claims.operations,
            ClaimsTable::FeeDetails => &mut claims.fee_details,
        };
        slot.push(batch);
    }
    Ok(claims)
}

fn table_from_rows(
    t: ClaimsTable,
    rows: &[Value],
    forced: &Map<String, Value>,
    tp: &str,
    map: &super::ColumnMap,
) -> Result<RecordBatch> {
    // Columns: canonical ones present (under the caller's name), then any others, in first-seen order.
    let mut names: Vec<String> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let o = match r {
            Value::Object(o) => o,
            other => return Err(arg(format!("{tp}[{i}]"), format!("expected an object, found {}", type_name(other)))),
        };
        for k in o.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    if rows.is_empty() {
        // An empty table has the whole canonical schema: no rows, nothing missing.
        for spec in columns(t) {
            names.push(map.source(t, spec.name).to_string());
        }
    }
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for name in &names {
        let canonical = columns(t).iter().find(|c| map.source(t, c.name) == name);
        let ty = match forced.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(arg(
                    format!("{tp}.types.{name}"),
                    format!("expected a type name, found {}", type_name(other)),
                ))
            }
            None => match canonical {
                Some(c) => match (c.kind, c.name) {
                    // Trace codes given as JSON arrays become a list column.
                    (ColumnKind::Str, "drug_trac_codg")
                        if rows.iter().any(|r| r.get(name).is_some_and(Value::is_array)) =>
                    {
                        "list_utf8".into()
                    }
                    (ColumnKind::Str, _) => "utf8".into(),
                    (ColumnKind::Num, _) => "float64".into(),
                    (ColumnKind::Time, "brdy" | "die_date") => "date32".into(),
                    (ColumnKind::Time, _) => "timestamp[s]".into(),
                },
                None => infer(rows, name),
            },
        };
        let vals: Vec<&Value> = rows.iter().map(|r| r.get(name).unwrap_or(&Value::Null)).collect();
        let a = build(&ty, &vals, &|i| format!("{tp}[{i}].{name}"))?;
        fields.push(Field::new(name, a.data_type().clone(), true));
        arrays.push(a);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| arg(tp.to_string(), e.to_string()))
}

fn infer(rows: &[Value], name: &str) -> String {
    for r in rows {
        match r.get(name) {
            Some(Value::Number(_)) => return "float64".into(),
            Some(Value::Bool(_)) => return "boolean".into(),
            Some(Value::String(_)) => return "utf8".into(),
            _ => {}
        }
    }
    "utf8".into()
}

fn build(ty: &str, vals: &[&Value], at: &dyn Fn(usize) -> String) -> Result<ArrayRef> {
    let s = |i: usize, v: &Value| -> Result<Option<String>> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            other => Err(arg(at(i), format!("expected a string, found {}", type_name(other)))),
        }
    };
    let n = |i: usize, v: &Value| -> Result<Option<f64>> {
        match v {
            Value::Null => Ok(None),
            Value::Number(x) => x.as_f64().map(Some).ok_or_else(|| arg(at(i), "number out of range")),
            other => Err(arg(at(i), format!("expected a number, found {}", type_name(other)))),
        }
    };
    let tm = |i: usize, v: &Value| -> Result<Option<i64>> {
        match v {
            Value::Null => Ok(None),
            Value::String(x) => parse_datetime(x)
                .map(Some)
                .ok_or_else(|| arg(at(i), format!("expected a time YYYY-MM-DD[ HH:MM:SS], found {x:?}"))),
            other => Err(arg(at(i), format!("expected a time string, found {}", type_name(other)))),
        }
    };
    macro_rules! strings {
        ($b:expr) => {{
            let mut b = $b;
            for (i, v) in vals.iter().enumerate() {
                b.append_option(s(i, v)?);
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    macro_rules! nums {
        ($b:expr, $conv:expr) => {{
            let mut b = $b;
            for (i, v) in vals.iter().enumerate() {
                b.append_option(n(i, v)?.map($conv));
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    let ty_norm = ty.replace(' ', "");
    Ok(match ty_norm.as_str() {
        "utf8" => strings!(StringBuilder::new()),
        "large_utf8" => strings!(LargeStringBuilder::new()),
        "utf8_view" => strings!(StringViewBuilder::new()),
        "dict_utf8" => {
            let mut b = StringDictionaryBuilder::<Int32Type>::new();
            for (i, v) in vals.iter().enumerate() {
                match s(i, v)? {
                    Some(x) => {
                        b.append_value(x);
                    }
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        "float64" => nums!(Float64Builder::new(), |x| x),
        "float32" => nums!(Float32Builder::new(), |x| x as f32),
        "int64" => nums!(Int64Builder::new(), |x| x as i64),
        "int32" => nums!(Int32Builder::new(), |x| x as i32),
        "decimal128" => {
            let mut b = Decimal128Builder::new();
            for (i, v) in vals.iter().enumerate() {
                b.append_option(n(i, v)?.map(|x| (x * 100.0).round() as i128));
            }
            Arc::new(b.finish().with_precision_and_scale(18, 2).map_err(|e| arg(at(0), e.to_string()))?)
        }
        "boolean" => {
            let mut b = BooleanBuilder::new();
            for (i, v) in vals.iter().enumerate() {
                match v {
                    Value::Null => b.append_null(),
                    Value::Bool(x) => b.append_value(*x),
                    other => return Err(arg(at(i), format!("expected a boolean, found {}", type_name(other)))),
                }
            }
            Arc::new(b.finish())
        }
        "list_utf8" => {
            // A list of strings per row (the trace-code column); null is a null list.
            let mut b = arrow_array::builder::ListBuilder::new(StringBuilder::new());
            for (i, v) in vals.iter().enumerate() {
                match v {
                    Value::Null => b.append(false),
                    Value::Array(items) => {
                        for (k, x) in items.iter().enumerate() {
                            match x {
                                Value::String(c) => b.values().append_value(c),
                                other => {
                                    return Err(arg(
                                        format!("{}[{k}]", at(i)),
                                        format!("expected a string, found {}", type_name(other)),
                                    ))
                                }
                            }
                        }
                        b.append(true);
                    }
                    other => {
                        return Err(arg(at(i), format!("expected an array of strings, found {}", type_name(other))))
                    }
                }
            }
            Arc::new(b.finish())
        }
        "date32" => {
            let mut out = Vec::with_capacity(vals.len());
            for (i, v) in vals.iter().enumerate() {
                out.push(tm(i, v)?.map(|t| day_of(t) as i32));
            }
            Arc::new(Date32Array::from(out))
        }
        other => {
            let Some(inner) = other.strip_prefix("timestamp[").and_then(|x| x.strip_suffix(']')) else {
                return Err(arg(at(0), format!("unknown type name {ty:?}")));
            };
            let (unit, zone) = match inner.split_once(',') {
                Some((u, z)) => (u, Some(z.to_string())),
                None => (inner, None),
            };
            let offset = match &zone {
                None => 0,
                Some(z) => super::column::zone_offset_seconds(z).unwrap_or(0),
            };
            let mut secs = Vec::with_capacity(vals.len());
            for (i, v) in vals.iter().enumerate() {
                secs.push(tm(i, v)?.map(|t| t - offset));
            }
            let a: ArrayRef = match unit {
                "s" => Arc::new(TimestampSecondArray::from(secs).with_timezone_opt(zone)),
                "ms" => Arc::new(
                    TimestampMillisecondArray::from(secs.iter().map(|x| x.map(|t| t * 1000)).collect::<Vec<_>>())
                        .with_timezone_opt(zone),
                ),
                "us" => Arc::new(
                    TimestampMicrosecondArray::from(secs.iter().map(|x| x.map(|t| t * 1_000_000)).collect::<Vec<_>>())
                        .with_timezone_opt(zone),
                ),
                _ => return Err(arg(at(0), format!("unknown timestamp unit in {ty:?}; expected s, ms or us"))),
            };
            a
        }
    })
}
