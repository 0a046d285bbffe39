//! The options JSON of the batch and claims-JSON calls:
//! `{"stage": "事前", "rule_ids": ["sex"], "column_map": {"fee_details": {"hilist_code": "med_list_codg"}},
//! "validate": true, "threads": 2}`.

use crate::status::{core_err, Ctx, FfiError, FfiResult};
use medaudit_core::{CheckOptions, ColumnMap, Stage};
use serde_json::Value;

/// Parsed options.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub check: CheckOptions,
    pub column_map: Option<ColumnMap>,
    /// Whether imported Arrow buffers are validated before use (default true).
    pub validate: bool,
}

pub(crate) fn parse(text: Option<&str>) -> FfiResult<Options> {
    let mut out = Options { validate: true, ..Default::default() };
    let Some(text) = text else { return Ok(out) };
    if text.trim().is_empty() {
        return Ok(out);
    }
    let v: Value = serde_json::from_str(text).map_err(|e| FfiError::json(format!("options: invalid JSON: {e}")))?;
    let Value::Object(o) = v else {
        return Err(FfiError::json(format!("options: $: expected an object, found {}", crate::json_type(&v))));
    };
    for (k, v) in &o {
        match (k.as_str(), v) {
            (_, Value::Null) => {}
            ("stage", Value::String(s)) => {
                out.check.stage = Some(Stage::parse(s).ok_or_else(|| {
                    FfiError::arg(format!(
                        "options: $.stage: unknown stage {s:?}; expected 事前, 事中, 事后 (or pre, during, post)"
                    ))
                })?);
            }
            ("rule_ids", Value::Array(ids)) => {
                let mut list = Vec::with_capacity(ids.len());
                for (i, id) in ids.iter().enumerate() {
                    match id {
                        Value::String(s) => list.push(s.clone()),
                        other => {
                            return Err(FfiError::json(format!(
                                "options: $.rule_ids[{i}]: expected a string, found {}",
                                crate::json_type(other)
                            )))
                        }
                    }
                }
                out.check.rule_ids = Some(list);
            }
            ("column_map", Value::Object(_)) => {
                out.column_map = Some(ColumnMap::from_json(&v.to_string()).map_err(|e| core_err(e, Ctx::Call))?);
            }
            ("validate", Value::Bool(b)) => out.validate = *b,
            ("threads", Value::Number(n)) => {
                out.check.threads = n.as_u64().filter(|t| *t <= 256).map(|t| t as usize).ok_or_else(|| {
                    FfiError::arg(format!("options: $.threads: expected a whole number from 0 to 256, found {n}"))
                })?;
            }
            ("stage" | "rule_ids" | "column_map" | "validate" | "threads", other) => {
                return Err(FfiError::json(format!(
                    "options: $.{k}: unexpected {}; see medaudit.h for the options format",
                    crate::json_type(other)
                )))
            }
            _ => {
                return Err(FfiError::arg(format!(
                    "options: $.{k}: unknown option; expected stage, rule_ids, column_map, validate or threads"
                )))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn threads_option_is_read_and_bounded() {
        assert_eq!(parse(Some(r#"{"threads": 2}"#)).map(|o| o.check.threads).ok(), Some(2));
        assert_eq!(parse(None).map(|o| o.check.threads).ok(), Some(0));
        let err = parse(Some(r#"{"threads": -1}"#)).err().map(|e| format!("{e:?}")).unwrap_or_default();
        assert!(err.contains("$.threads: expected a whole number from 0 to 256"), "{err}");
        let err = parse(Some(r#"{"thread": 2}"#)).err().map(|e| format!("{e:?}")).unwrap_or_default();
        assert!(err.contains("unknown option; expected stage, rule_ids, column_map, validate or threads"), "{err}");
    }
}
