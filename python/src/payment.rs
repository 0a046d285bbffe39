//! DRG schemes and DIP catalogues for Python: loading a `drg-scheme/1` folder (scheme.json and
//! the CSV files it declares), grouping Arrow claims or one case, and DIP catalogue matching, over
//! [`medaudit_core::drg`] and [`medaudit_core::dip`]. Engines take them through
//! `medaudit.Engine(..., drg_schemes=[...], dip_catalogues=[...])`.
//!
//! This module must never group or match itself; it reads the files the core asks for (the core
//! does no IO) and passes results and errors through unchanged.

use crate::capsule::ArrowBatches;
use crate::engine::claims_in;
use crate::errors::to_py;
use medaudit_core::dip::DipCase;
use medaudit_core::drg::{Case, GroupOptions};
use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn read(path: &Path) -> PyResult<String> {
    std::fs::read_to_string(path).map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))
}

fn options(reference: bool, code_mapping: Option<bool>) -> GroupOptions {
    let base = if reference { GroupOptions::reference() } else { GroupOptions::default() };
    GroupOptions { code_mapping, ..base }
}

/// A compiled DRG grouping scheme (`drg-scheme/1`): immutable, shareable between engines.
#[pyclass(module = "medaudit._medaudit", frozen)]
pub struct DrgScheme {
    pub(crate) scheme: Arc<medaudit_core::drg::DrgScheme>,
}

#[pymethods]
impl DrgScheme {
    /// Loads a scheme from a folder (or its scheme.json) holding scheme.json and the CSV files it
    /// declares, or from a dict `{"scheme.json": text, "<file>.csv": text, ...}`.
    #[staticmethod]
    fn load(py: Python<'_>, dir_or_files: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (json, files) = if let Ok(d) = dir_or_files.downcast::<PyDict>() {
            let mut files: BTreeMap<String, String> = d.extract()?;
            let json = files.remove("scheme.json").ok_or_else(|| {
                crate::errors::ArgumentError::new_err(
                    "invalid argument dir_or_files: the dict has no \"scheme.json\" entry",
                )
            })?;
            (json, files)
        } else {
            let mut dir: PathBuf = dir_or_files
                .extract()
                .map_err(|_| PyTypeError::new_err("dir_or_files: expected a folder path or a dict of file texts"))?;
            if dir.is_file() {
                dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
            }
            let json = read(&dir.join("scheme.json"))?;
            let mut files = BTreeMap::new();
            for f in medaudit_core::drg::DrgScheme::declared_files(&json).map_err(to_py)? {
                let text = read(&dir.join(&f))?;
                files.insert(f, text);
            }
            (json, files)
        };
        let scheme = py.allow_threads(|| medaudit_core::drg::DrgScheme::load(&json, &files)).map_err(to_py)?;
        Ok(DrgScheme { scheme: Arc::new(scheme) })
    }

    /// The scheme id (rules name it in `params.scheme`).
    #[getter]
    fn id(&self) -> &str {
        self.scheme.id()
    }

    /// The scheme name.
    #[getter]
    fn name(&self) -> &str {
        self.scheme.name()
    }

    /// The scheme version.
    #[getter]
    fn version(&self) -> &str {
        self.scheme.version()
    }

    /// Every DRG code of the scheme.
    fn drg_codes(&self) -> Vec<String> {
        self.scheme.drg_codes().into_iter().map(str::to_string).collect()
    }

    /// Groups the encounters of Arrow `mdtrt` + `diagnoses` + `operations`; one result row per
    /// `mdtrt` row.
    #[pyo3(signature = (mdtrt, diagnoses=None, operations=None, trace=true, reference=false, code_mapping=None, column_map=None))]
    #[allow(clippy::too_many_arguments)]
    fn group(
        &self,
        py: Python<'_>,
        mdtrt: &Bound<'_, PyAny>,
        diagnoses: Option<&Bound<'_, PyAny>>,
        operations: Option<&Bound<'_, PyAny>>,
        trace: bool,
        reference: bool,
        code_mapping: Option<bool>,
        column_map: Option<&str>,
    ) -> PyResult<ArrowBatches> {
        let claims = claims_in(py, [None, Some(mdtrt), diagnoses, operations], column_map)?;
        let opts = options(reference, code_mapping);
        let scheme = self.scheme.clone();
        let batch = py
            .allow_threads(|| scheme.group_claims(&claims, &opts, trace).and_then(|o| o.to_record_batch()))
            .map_err(to_py)?;
        Ok(ArrowBatches::new(batch.schema(), vec![batch]))
    }

    /// Groups one case; returns a dict (status, status_code, reason, reason_text, mdc, adrg, drg,
    /// drg_name, rule, trace).
    #[pyo3(signature = (diagnoses, procedures=Vec::new(), sex=None, age=None, age_days=None, birth_weight_g=None,
                        los_days=None, discharge_status=None, dept=None, reference=false, code_mapping=None))]
    #[allow(clippy::too_many_arguments)]
    fn group_case<'py>(
        &self,
        py: Python<'py>,
        diagnoses: Vec<String>,
        procedures: Vec<String>,
        sex: Option<i64>,
        age: Option<i64>,
        age_days: Option<i64>,
        birth_weight_g: Option<i64>,
        los_days: Option<i64>,
        discharge_status: Option<String>,
        dept: Option<String>,
        reference: bool,
        code_mapping: Option<bool>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let case = Case {
            sex,
            age_years: age,
            age_days,
            birth_weight_g,
            los_days,
            discharge_status: discharge_status.as_deref(),
            dept: dept.as_deref(),
            diagnoses: diagnoses.iter().map(String::as_str).collect(),
            procedures: procedures.iter().map(String::as_str).collect(),
        };
        let (g, trace) = self.scheme.group_traced(&case, &options(reference, code_mapping));
        let d = PyDict::new(py);
        d.set_item("status", g.status.name())?;
        d.set_item("status_code", g.status_code)?;
        d.set_item("reason", g.reason.map(|r| r.code()))?;
        d.set_item("reason_text", g.reason.map(|r| r.message(&case.diagnoses, &case.procedures)))?;
        d.set_item("mdc", g.mdc)?;
        d.set_item("adrg", g.adrg)?;
        d.set_item("drg", g.drg)?;
        d.set_item("drg_name", g.drg_name)?;
        d.set_item("rule", g.rule)?;
        d.set_item("trace", trace.summary())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("DrgScheme(id={:?}, version={:?})", self.scheme.id(), self.scheme.version())
    }
}

/// A compiled DIP catalogue (`dip-catalogue/1`).
#[pyclass(module = "medaudit._medaudit", frozen)]
pub struct DipCatalogue {
    pub(crate) catalogue: Arc<medaudit_core::dip::DipCatalogue>,
}

#[pymethods]
impl DipCatalogue {
    /// Parses and validates a catalogue from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let c = medaudit_core::dip::DipCatalogue::from_json(text).map_err(to_py)?;
        Ok(DipCatalogue { catalogue: Arc::new(c) })
    }

    /// Reads and validates a catalogue file.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        Self::from_json(&read(&path)?)
    }

    /// The sample catalogue (core/packs/dip_sample_catalogue.json) the DRG sample pack names.
    #[staticmethod]
    fn sample() -> PyResult<Self> {
        Self::from_json(medaudit_core::synth::drg::DIP_SAMPLE_CATALOGUE_JSON)
    }

    /// The catalogue id (rules name it in `params.catalogue`).
    #[getter]
    fn id(&self) -> &str {
        self.catalogue.id()
    }

    /// The catalogue name.
    #[getter]
    fn name(&self) -> &str {
        self.catalogue.name()
    }

    /// Matches one case; a dict (group, name, core, treatment, score, factor, adjusted_score,
    /// adjustments) or None when no group takes it.
    #[pyo3(signature = (principal, secondary=Vec::new(), procedures=Vec::new(), age=None, los_days=None))]
    fn match_case<'py>(
        &self,
        py: Python<'py>,
        principal: &str,
        secondary: Vec<String>,
        procedures: Vec<String>,
        age: Option<i64>,
        los_days: Option<i64>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let case = DipCase {
            principal,
            secondary: secondary.iter().map(String::as_str).collect(),
            procedures: procedures.iter().map(String::as_str).collect(),
            age_years: age,
            los_days,
        };
        let Some(m) = self.catalogue.match_case(&case) else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("group", m.group)?;
        d.set_item("name", m.name)?;
        d.set_item("core", m.core)?;
        d.set_item("treatment", m.treatment.map(|t| t.name()))?;
        d.set_item("score", m.score)?;
        d.set_item("factor", m.factor)?;
        d.set_item("adjusted_score", m.adjusted_score())?;
        d.set_item("adjustments", m.adjustments.clone())?;
        Ok(Some(d))
    }

    fn __repr__(&self) -> String {
        format!("DipCatalogue(id={:?})", self.catalogue.id())
    }
}
