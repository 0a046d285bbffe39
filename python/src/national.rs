//! `medaudit.national_import`: NHSA knowledge-point records (两库知识点) → a rule pack and the
//! coverage report, over [`medaudit_core::national::import`], with the option names of the C ABI
//! (`ffi/src/national.rs`).
//!
//! This module must never interpret a record itself: the core does, and its errors pass unchanged.

use crate::engine::RulePack;
use crate::errors::to_py;
use medaudit_core::national::{import, ImportOptions, IndicationMap};
use pyo3::prelude::*;
use std::collections::BTreeMap;

/// Imports records (JSON text); returns `(pack, coverage_json)`.
#[pyfunction]
#[pyo3(signature = (text, indications_tsv=None, starter_indications=true, std_prices=None,
                    internet_med_types=None, pack_id=None))]
pub fn national_import(
    py: Python<'_>,
    text: &str,
    indications_tsv: Option<&str>,
    starter_indications: bool,
    std_prices: Option<BTreeMap<String, f64>>,
    internet_med_types: Option<Vec<String>>,
    pack_id: Option<String>,
) -> PyResult<(RulePack, String)> {
    let mut o = ImportOptions::default();
    if !starter_indications {
        o.indications = IndicationMap::default();
    }
    if let Some(t) = indications_tsv {
        o.indications.extend(IndicationMap::parse_tsv(t).map_err(to_py)?);
    }
    if let Some(p) = std_prices {
        o.std_prices = p;
    }
    if let Some(t) = internet_med_types {
        o.internet_med_types = t;
    }
    if let Some(id) = pack_id {
        o.pack_id = id;
    }
    let imp = py.allow_threads(|| import(text, &o)).map_err(to_py)?;
    let coverage = serde_json::to_string(&imp.coverage)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("coverage report: {e}")))?;
    let pack_text = imp.pack_json.to_string();
    Ok((RulePack::from_parts(imp.pack, pack_text), coverage))
}
