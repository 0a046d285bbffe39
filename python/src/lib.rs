//! The native part of the `medaudit` Python package (`medaudit._medaudit`): rule packs, engines,
//! the check call, synthetic claims and the Arrow PyCapsule protocol. The public Python API is
//! the pure-Python package in `python/medaudit/`, which wraps these with docs, stubs, progress
//! bars, summaries, what-if and Spark.
//!
//! This crate must never copy claims data on the way in, never hold the GIL while the engine
//! works, and never let a Rust panic or a core error reach Python as anything but an exception.

mod capsule;
mod engine;
mod errors;
mod expr;
mod history;
mod indicators;
mod national;
mod payment;
mod synth;

use pyo3::prelude::*;

/// The native part of medaudit (pyo3): rule packs, engines, the check call, synthetic claims and
/// the Arrow PyCapsule protocol. Use the `medaudit` package, which wraps it.
#[pymodule]
fn _medaudit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::RulePack>()?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<capsule::ArrowBatches>()?;
    m.add_class::<payment::DrgScheme>()?;
    m.add_class::<payment::DipCatalogue>()?;
    m.add_class::<history::Auditor>()?;
    m.add_function(wrap_pyfunction!(national::national_import, m)?)?;
    m.add_function(wrap_pyfunction!(indicators::indicators, m)?)?;
    m.add_function(wrap_pyfunction!(expr::validate_expr, m)?)?;
    m.add_function(wrap_pyfunction!(history::partition_claims, m)?)?;
    m.add_function(wrap_pyfunction!(synth::synth_history, m)?)?;
    m.add_function(wrap_pyfunction!(synth::synth_drg, m)?)?;
    m.add_function(wrap_pyfunction!(engine::findings_schema, m)?)?;
    m.add_function(wrap_pyfunction!(synth::synth_claims, m)?)?;
    m.add_function(wrap_pyfunction!(engine::claims_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(engine::_buffer_addresses, m)?)?;
    errors::register(m)?;
    m.add("__version__", medaudit_core::VERSION)?;
    Ok(())
}
