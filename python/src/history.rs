//! Patient history for Python: the streaming [`medaudit_core::history::Auditor`] (batches in time
//! order, findings once certain, state as bytes) and [`medaudit_core::history::partition_claims`]
//! (cutting claims by person or trace code so that checks per partition equal one check).
//!
//! This module must never judge history itself and never let an auditor outlive its engine.

use crate::capsule::{ArrowBatches, ClaimsTables};
use crate::engine::{claims_in, output, stage_arg, Engine};
use crate::errors::to_py;
use medaudit_core::history::{partition_claims as core_partition, Auditor as CoreAuditor, PartitionKey};
use medaudit_core::CheckOptions;
use pyo3::prelude::*;
use std::sync::Arc;

/// `"person"` or `"trace_code"`.
pub(crate) fn key_name(k: PartitionKey) -> &'static str {
    match k {
        PartitionKey::Person => "person",
        PartitionKey::TraceCode => "trace_code",
    }
}

fn parse_key(key: &str) -> PyResult<PartitionKey> {
    match key {
        "person" | "psn_no" => Ok(PartitionKey::Person),
        "trace_code" | "drug_trac_codg" => Ok(PartitionKey::TraceCode),
        other => Err(crate::errors::ArgumentError::new_err(format!(
            "invalid argument key: {other:?}; expected \"person\" or \"trace_code\""
        ))),
    }
}

/// A streaming auditor of an engine's history rules.
#[pyclass(module = "medaudit._medaudit")]
pub struct Auditor {
    // Declared before `engine`, so dropped first: it borrows the engine `engine` keeps alive.
    auditor: CoreAuditor<'static>,
    engine: Arc<medaudit_core::Engine>,
}

impl Auditor {
    fn wrap(
        engine: Arc<medaudit_core::Engine>,
        make: impl FnOnce(&medaudit_core::Engine) -> medaudit_core::Result<CoreAuditor<'_>>,
    ) -> PyResult<Self> {
        let auditor = make(&engine).map_err(to_py)?;
        // SAFETY: the auditor borrows the engine behind `engine`'s Arc allocation, which never moves
        // and lives as long as this struct holds the Arc; the field order drops the auditor first,
        // and the auditor is never handed out with the 'static lifetime.
        let auditor: CoreAuditor<'static> = unsafe { std::mem::transmute(auditor) };
        Ok(Auditor { auditor, engine })
    }
}

#[pymethods]
impl Auditor {
    /// An auditor for the history rules of `engine` (those `stage` and `rule_ids` select),
    /// tolerating events up to `lateness_seconds` out of order.
    #[new]
    #[pyo3(signature = (engine, lateness_seconds, stage=None, rule_ids=None))]
    fn new(
        engine: &Engine,
        lateness_seconds: i64,
        stage: Option<&str>,
        rule_ids: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let stage = stage_arg(stage)?;
        let opts = CheckOptions { stage, rule_ids, ..Default::default() };
        Self::wrap(engine.engine.clone(), |e| CoreAuditor::new(e, &opts, lateness_seconds))
    }

    /// Resumes an auditor from `export_state` bytes, for an engine of the same pack.
    #[staticmethod]
    fn import_state(engine: &Engine, state: &[u8]) -> PyResult<Self> {
        Self::wrap(engine.engine.clone(), |e| CoreAuditor::import_state(e, state))
    }

    /// Takes one batch of claims; returns the findings of what became certain, with the unjudged
    /// report in their schema metadata (as `Engine._check`).
    #[pyo3(signature = (fee_details=None, mdtrt=None, diagnoses=None, operations=None, column_map=None))]
    fn push(
        &mut self,
        py: Python<'_>,
        fee_details: Option<&Bound<'_, PyAny>>,
        mdtrt: Option<&Bound<'_, PyAny>>,
        diagnoses: Option<&Bound<'_, PyAny>>,
        operations: Option<&Bound<'_, PyAny>>,
        column_map: Option<&str>,
    ) -> PyResult<ArrowBatches> {
        let claims = claims_in(py, [fee_details, mdtrt, diagnoses, operations], column_map)?;
        let a = &mut self.auditor;
        let out = py.allow_threads(move || a.push(&claims)).map_err(to_py)?;
        Ok(output(py, out))
    }

    /// Judges every waiting event; returns the findings as `push` does.
    fn finish(&mut self, py: Python<'_>) -> PyResult<ArrowBatches> {
        let a = &mut self.auditor;
        let out = py.allow_threads(move || a.finish()).map_err(to_py)?;
        Ok(output(py, out))
    }

    /// The whole state as bytes (`MDAHIST\0`, format version, JSON body).
    fn export_state<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, &self.auditor.export_state())
    }

    /// `{"persons", "trace_codes", "buffered_events"}`: the size of the state.
    fn stats(&self) -> (usize, usize, usize) {
        let s = self.auditor.stats();
        (s.persons, s.trace_codes, s.buffered_events)
    }

    /// The pack id of the auditor's engine.
    #[getter]
    fn pack_id(&self) -> &str {
        &self.engine.pack().id
    }
}

/// Splits claims into `parts` by `key` (`"person"` or `"trace_code"`); returns, per partition,
/// the four tables.
#[pyfunction]
#[pyo3(signature = (engine, key, parts, fee_details=None, mdtrt=None, diagnoses=None, operations=None, column_map=None))]
#[allow(clippy::too_many_arguments)]
pub fn partition_claims(
    py: Python<'_>,
    engine: &Engine,
    key: &str,
    parts: usize,
    fee_details: Option<&Bound<'_, PyAny>>,
    mdtrt: Option<&Bound<'_, PyAny>>,
    diagnoses: Option<&Bound<'_, PyAny>>,
    operations: Option<&Bound<'_, PyAny>>,
    column_map: Option<&str>,
) -> PyResult<Vec<ClaimsTables>> {
    let key = parse_key(key)?;
    let claims = claims_in(py, [fee_details, mdtrt, diagnoses, operations], column_map)?;
    let eng = engine.engine.clone();
    let out = py.allow_threads(|| core_partition(&eng, &claims, key, parts)).map_err(to_py)?;
    Ok(out.into_iter().map(crate::capsule::claims_tables).collect())
}
