//! `medaudit.indicators`: provider indicators (药占比, 次均费用, 住院率, …) with peer flags, over
//! [`medaudit_core::indicators::compute`].
//!
//! This module must never compute an indicator itself; it imports the tables (no copy), validates
//! the columns, releases the GIL and passes the core's table and errors through.

use crate::capsule::ArrowBatches;
use crate::engine::{claims_in, RulePack};
use crate::errors::to_py;
use medaudit_core::indicators::{compute, IndicatorConfig};
use pyo3::prelude::*;

/// Computes the indicators. `config_json` is the `indicators` section as JSON text; without it,
/// the pack's section, else the defaults.
#[pyfunction]
#[pyo3(signature = (mdtrt, fee_details, diagnoses=None, operations=None, config_json=None, pack=None, column_map=None))]
#[allow(clippy::too_many_arguments)]
pub fn indicators(
    py: Python<'_>,
    mdtrt: &Bound<'_, PyAny>,
    fee_details: &Bound<'_, PyAny>,
    diagnoses: Option<&Bound<'_, PyAny>>,
    operations: Option<&Bound<'_, PyAny>>,
    config_json: Option<&str>,
    pack: Option<&RulePack>,
    column_map: Option<&str>,
) -> PyResult<ArrowBatches> {
    let config = match (config_json, pack.and_then(|p| p.pack.indicators.as_ref())) {
        (Some(text), _) => IndicatorConfig::from_json(text).map_err(to_py)?,
        (None, Some(c)) => c.clone(),
        (None, None) => IndicatorConfig::default(),
    };
    let claims = claims_in(py, [Some(fee_details), Some(mdtrt), diagnoses, operations], column_map)?;
    let batch = py.allow_threads(|| compute(&claims, &config)).map_err(to_py)?;
    Ok(ArrowBatches::new(batch.schema(), vec![batch]))
}
