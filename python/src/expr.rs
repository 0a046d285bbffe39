//! `medaudit.validate_expr`: checks an analyst's rule condition (template `expr`) without a pack,
//! over [`medaudit_core::expr::validate`].
//!
//! This module must never parse an expression itself; the core's error (with `line:column` and a
//! caret) passes through unchanged.

use crate::errors::to_py;
use medaudit_core::expr::{validate, Scope};
use pyo3::prelude::*;

/// Parses and type-checks `text` as rule `rule_id`'s `params.expr`; returns `"line"` or `"encounter"`.
#[pyfunction]
pub fn validate_expr(rule_id: &str, text: &str) -> PyResult<&'static str> {
    Ok(match validate(rule_id, text).map_err(to_py)? {
        Scope::Line => "line",
        Scope::Encounter => "encounter",
    })
}
