//! Typed reading of a JSON object with errors that name the rule and the field.

use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// Where a JSON object sits, for error messages.
#[derive(Clone)]
pub(crate) enum Place {
    /// A rule, named by its id; fields are paths inside the rule.
    Rule(String),
    /// Anything else in the pack, named by its JSON path.
    Path(String),
}

impl Place {
    pub(crate) fn err(&self, field: &str, message: impl Into<String>) -> Error {
        match self {
            Place::Rule(id) => Error::rule(id, field, message),
            Place::Path(p) => {
                let field = if field.is_empty() { p.clone() } else { format!("{p}.{field}") };
                Error::Pack { field, message: message.into() }
            }
        }
    }
}

/// A JSON object being read field by field.
pub(crate) struct Obj<'v> {
    pub map: &'v Map<String, Value>,
    pub place: Place,
    pub prefix: String,
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'v> Obj<'v> {
    pub(crate) fn new(v: &'v Value, place: Place, prefix: &str) -> Result<Self> {
        match v {
            Value::Object(map) => Ok(Obj { map, place, prefix: prefix.to_string() }),
            other => Err(place.err(prefix, format!("expected an object, found {}", type_name(other)))),
        }
    }

    pub(crate) fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    pub(crate) fn err(&self, field: &str, message: impl Into<String>) -> Error {
        self.place.err(&self.path(field), message)
    }

    /// Fails on any key not in `known`.
    pub(crate) fn only(&self, known: &[&str]) -> Result<()> {
        for k in self.map.keys() {
            if !known.contains(&k.as_str()) {
                return Err(self.err(k, format!("unknown field; expected one of: {}", known.join(", "))));
            }
        }
        Ok(())
    }

    pub(crate) fn get(&self, field: &str) -> Option<&'v Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    pub(crate) fn opt_str(&self, field: &str) -> Result<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(field, format!("expected a string, found {}", type_name(other)))),
        }
    }

    pub(crate) fn req_str(&self, field: &str) -> Result<String> {
        self.opt_str(field)?.ok_or_else(|| self.err(field, "missing required field"))
    }

    pub(crate) fn opt_num(&self, field: &str) -> Result<Option<f64>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                n.as_f64().filter(|x| x.is_finite()).map(Some).ok_or_else(|| self.err(field, "number out of range"))
            }
            Some(other) => Err(self.err(field, format!("expected a number, found {}", type_name(other)))),
        }
    }

    pub(crate) fn opt_str_list(&self, field: &str) -> Result<Option<Vec<String>>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Array(items)) => {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::String(s) => Ok(s.clone()),
                        other => Err(self
                            .err(&format!("{field}[{i}]"), format!("expected a string, found {}", type_name(other)))),
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Some)
            }
            Some(other) => Err(self.err(field, format!("expected an array of strings, found {}", type_name(other)))),
        }
    }
}
