//! Python exceptions for core errors: one class per error kind, all subclasses of
//! `medaudit.Error`, each carrying the core's message unchanged and its kind in `.kind`.
//!
//! This module must never rewrite a core message: the C, Java and Python bindings show the same text.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(_medaudit, Error, PyException, "Base class of every medaudit error; `.kind` names its class.");
create_exception!(_medaudit, RulePackError, Error, "A rule pack is invalid (JSON, rule, or pack-level fault).");
create_exception!(_medaudit, KnowledgeError, Error, "A knowledge table is invalid (column, type, or row).");
create_exception!(_medaudit, ClaimsError, Error, "A claims column is missing or mistyped, or a value cannot be used.");
create_exception!(_medaudit, ArgumentError, Error, "An argument is invalid (unknown rule id, column map, …).");
create_exception!(_medaudit, SchemeError, Error, "A DRG scheme or DIP catalogue is invalid (file, JSON path, row).");

/// The Python exception for a core error: class by kind, message unchanged, `.kind` set.
pub(crate) fn to_py(e: medaudit_core::Error) -> PyErr {
    let kind = e.kind();
    let msg = e.to_string();
    let err = match kind {
        "pack_json" | "rule" | "pack" => RulePackError::new_err(msg),
        "knowledge" => KnowledgeError::new_err(msg),
        "column" | "value" => ClaimsError::new_err(msg),
        "scheme" => SchemeError::new_err(msg),
        "cancelled" => pyo3::exceptions::PyKeyboardInterrupt::new_err(msg),
        _ => ArgumentError::new_err(msg),
    };
    Python::with_gil(|py| {
        // Setting an attribute on a fresh exception instance cannot fail in practice; if it did,
        // the exception is still the right class with the right message.
        let _ = err.value(py).setattr("kind", kind);
    });
    err
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("RulePackError", py.get_type::<RulePackError>())?;
    m.add("KnowledgeError", py.get_type::<KnowledgeError>())?;
    m.add("ClaimsError", py.get_type::<ClaimsError>())?;
    m.add("ArgumentError", py.get_type::<ArgumentError>())?;
    m.add("SchemeError", py.get_type::<SchemeError>())?;
    Ok(())
}
