//! `RulePack` and `Engine` for Python: loading packs, building engines with Arrow or row
//! knowledge, and the check call (GIL released, progress, Ctrl-C).
//!
//! A check imports its four tables through the Arrow PyCapsule protocol (no copy), validates the
//! columns the engine reads, cuts the fee lines into zero-copy slices so that the engine reports
//! progress between them, and runs [`medaudit_core::Engine::check_batch`] with the GIL released.
//! A one-thread check runs on the calling thread, and takes the GIL back between slices to look
//! for signals (Ctrl-C cancels the check through [`medaudit_core::Progress`]) and to report
//! progress to a Python callback. A check of several threads runs on a helper thread while the
//! calling thread does the same between polls (only the main thread sees signals).
//!
//! This module must never change what the engine finds: slicing never changes findings, and
//! everything else is passed through.

use crate::capsule::{self, ArrowBatches};
use crate::errors::to_py;
use arrow_array::RecordBatch;
use medaudit_core::claims::columns;
use medaudit_core::{CheckBatch, CheckOptions, Claims, ClaimsTable, ColumnMap, KnowledgeTable, Progress, Stage};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// How often the calling thread wakes during a check to look for signals (Ctrl-C) and report
/// progress; the result itself is picked up as soon as it is sent.
const POLL: Duration = Duration::from_millis(25);

/// A validated rule pack (`medaudit-pack/1` JSON).
#[pyclass(module = "medaudit._medaudit", frozen)]
pub struct RulePack {
    pub(crate) pack: medaudit_core::RulePack,
    /// The JSON text it was read from (for pickling and for Spark executors).
    text: String,
}

impl RulePack {
    /// A pack the core already validated, with its JSON text.
    pub(crate) fn from_parts(pack: medaudit_core::RulePack, text: String) -> Self {
        RulePack { pack, text }
    }
}

#[pymethods]
impl RulePack {
    /// Parses and validates a pack from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let pack = medaudit_core::RulePack::from_json(text).map_err(to_py)?;
        Ok(RulePack { pack, text: text.to_string() })
    }

    /// Reads and validates a pack file.
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<Self> {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", path.display())))?;
        Self::from_json(&text)
    }

    /// The sample pack bundled with the library.
    #[staticmethod]
    fn sample() -> PyResult<Self> {
        Self::from_json(medaudit_core::pack::SAMPLE_PACK_JSON)
    }

    /// The history sample pack (one rule per patient-history template).
    #[staticmethod]
    fn history_sample() -> PyResult<Self> {
        Self::from_json(medaudit_core::history::HISTORY_PACK_JSON)
    }

    /// The DRG sample pack (the six stay templates; needs the CHS-DRG 1.1 scheme and the sample
    /// DIP catalogue).
    #[staticmethod]
    fn drg_sample() -> PyResult<Self> {
        Self::from_json(medaudit_core::synth::drg::DRG_SAMPLE_PACK_JSON)
    }

    /// The pack's `indicators` section as JSON text, or None.
    #[getter]
    fn indicators(&self) -> Option<String> {
        serde_json::from_str::<serde_json::Value>(&self.text).ok()?.get("indicators").map(|v| v.to_string())
    }

    /// The pack's JSON text.
    #[getter]
    fn json(&self) -> &str {
        &self.text
    }

    /// Pack id.
    #[getter]
    fn id(&self) -> &str {
        &self.pack.id
    }

    /// Pack name, if any.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.pack.name.as_deref()
    }

    /// Pack version, if any.
    #[getter]
    fn version(&self) -> Option<&str> {
        self.pack.version.as_deref()
    }

    /// Rule ids, in pack order.
    #[getter]
    fn rule_ids(&self) -> Vec<String> {
        self.pack.rules.iter().map(|r| r.id.clone()).collect()
    }

    /// Names of the knowledge tables the pack declares.
    #[getter]
    fn knowledge_tables(&self) -> Vec<String> {
        self.pack.knowledge.keys().cloned().collect()
    }

    /// `(rule_id, code, name, template, severity)` of every rule, in pack order.
    fn rules(&self) -> Vec<(String, Option<String>, String, String, String)> {
        self.pack
            .rules
            .iter()
            .map(|r| {
                (r.id.clone(), r.code.clone(), r.name.clone(), r.template.name.to_string(), r.severity.label().into())
            })
            .collect()
    }

    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<(PyObject, (String,))> {
        let ctor = slf.get_type().getattr("from_json")?.unbind();
        Ok((ctor, (slf.get().text.clone(),)))
    }

    fn __repr__(&self) -> String {
        format!("RulePack(id={:?}, rules={})", self.pack.id, self.pack.rules.len())
    }
}

/// A compiled pack: immutable, shareable between threads.
#[pyclass(module = "medaudit._medaudit", frozen)]
pub struct Engine {
    pub(crate) engine: Arc<medaudit_core::Engine>,
}

/// Knowledge tables from `{name: arrow_table | [row dicts]}`.
pub(crate) fn knowledge_tables(knowledge: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<KnowledgeTable>> {
    let mut out = Vec::new();
    let Some(k) = knowledge else { return Ok(out) };
    for (name, value) in k.iter() {
        let name: String = name.extract().map_err(|_| PyTypeError::new_err("knowledge: keys must be table names"))?;
        let table = if value.is_instance_of::<PyList>() {
            let json = value.py().import("json")?.call_method1("dumps", (&value,))?;
            let rows: serde_json::Value = serde_json::from_str(&json.extract::<String>()?)
                .map_err(|e| PyValueError::new_err(format!("knowledge {name:?}: {e}")))?;
            KnowledgeTable::from_json_rows(&name, &rows)
        } else {
            let batches = capsule::import(&value, &format!("knowledge {name:?}"))?;
            validate(&batches, None, &format!("knowledge table {name:?}"))?;
            KnowledgeTable::from_record_batches(&name, &batches)
        };
        out.push(table.map_err(to_py)?);
    }
    Ok(out)
}

/// Checks the buffers of imported columns (all of them, or the canonical columns of `table`
/// under `map`): offsets in bounds, UTF-8, dictionary keys in range. Reads, never copies.
pub(crate) fn validate(batches: &[RecordBatch], table: Option<(ClaimsTable, &ColumnMap)>, what: &str) -> PyResult<()> {
    let mut base = 0usize;
    for (bi, b) in batches.iter().enumerate() {
        for (f, c) in b.schema_ref().fields().iter().zip(b.columns()) {
            let read = match table {
                None => true,
                Some((t, map)) => columns(t).iter().any(|s| map.source(t, s.name) == f.name()),
            };
            if read {
                validate_column(c).map_err(|e| {
                    crate::errors::ClaimsError::new_err(format!(
                        "{what}: column {:?}: batch {bi} (rows from {base}): invalid Arrow data: {e}",
                        f.name()
                    ))
                })?;
            }
        }
        base += b.num_rows();
    }
    Ok(())
}

/// Full validation of one imported column, as `ArrayData::validate_full` but with UTF-8 checked
/// once over each string column's value bytes plus a char-boundary test per offset, instead of
/// once per value (which costs more than a tenth of a check on plain Utf8 columns).
fn validate_column(c: &arrow_array::ArrayRef) -> Result<(), String> {
    use arrow_schema::DataType;
    match c.data_type() {
        DataType::Utf8 => utf8_column::<i32>(c),
        DataType::LargeUtf8 => utf8_column::<i64>(c),
        _ => c.to_data().validate_full().map_err(|e| e.to_string()),
    }
}

fn utf8_column<O: arrow_array::OffsetSizeTrait>(c: &arrow_array::ArrayRef) -> Result<(), String> {
    let data = c.to_data();
    // Layout first (buffer count, sizes, alignment, first/last offsets), then the null count.
    data.validate().map_err(|e| e.to_string())?;
    data.validate_nulls().map_err(|e| e.to_string())?;
    let a = arrow_array::GenericStringArray::<O>::from(data);
    let offsets = a.value_offsets();
    let values = a.value_data();
    let (Some(first), Some(last)) = (offsets.first(), offsets.last()) else { return Ok(()) };
    let (lo, hi) = (first.as_usize(), last.as_usize());
    // Branch-free over the whole column so that it vectorises.
    let decreasing = offsets.iter().zip(offsets.iter().skip(1)).fold(false, |bad, (a, b)| bad | (a > b));
    if decreasing || lo > hi || hi > values.len() {
        return Err("offsets are not increasing or are out of bounds".into());
    }
    let bytes = values.get(lo..hi).ok_or("offsets out of bounds")?;
    if bytes.is_ascii() {
        // ASCII is UTF-8 and every position is a character boundary: codes and ids end here.
        return Ok(());
    }
    if simdutf8::basic::from_utf8(bytes).is_err() {
        // The fast check says only yes or no; the standard one says where.
        let e = std::str::from_utf8(bytes).err().map_or_else(String::new, |e| e.to_string());
        return Err(format!("invalid UTF-8: {e}"));
    }
    // A value starts at each offset: none may fall inside a multi-byte character.
    if offsets.iter().any(|o| bytes.get(o.as_usize() - lo).is_some_and(|b| b & 0xC0 == 0x80)) {
        return Err("an offset splits a UTF-8 character".into());
    }
    Ok(())
}

/// A column map from its JSON text (`None`: names as they are).
pub(crate) fn column_map_arg(text: Option<&str>) -> PyResult<ColumnMap> {
    match text {
        Some(t) => ColumnMap::from_json(t).map_err(to_py),
        None => Ok(ColumnMap::default()),
    }
}

/// A stage name (`事前`, `pre`, …), or an error naming the argument.
pub(crate) fn stage_arg(stage: Option<&str>) -> PyResult<Option<Stage>> {
    let Some(s) = stage else { return Ok(None) };
    Stage::parse(s).map(Some).ok_or_else(|| {
        crate::errors::ArgumentError::new_err(format!(
            "invalid argument stage: {s:?} is not a stage; expected 事前, 事中, 事后, pre, during or post"
        ))
    })
}

/// The four tables imported without copying, and every column the engine reads validated (with
/// the GIL released).
pub(crate) fn claims_in(py: Python<'_>, tables: [Option<&Bound<'_, PyAny>>; 4], map: Option<&str>) -> PyResult<Claims> {
    let claims = claims_arg(tables, column_map_arg(map)?)?;
    py.allow_threads(|| {
        for t in ClaimsTable::ALL {
            validate(claims.table(t), Some((t, &claims.column_map)), &format!("claims table {}", t.name()))?;
        }
        Ok::<_, PyErr>(())
    })?;
    Ok(claims)
}

fn table_arg(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<RecordBatch>> {
    match obj {
        None => Ok(Vec::new()),
        Some(o) if o.is_none() => Ok(Vec::new()),
        Some(o) => capsule::import(o, what),
    }
}

/// The four tables (fee_details, mdtrt, diagnoses, operations), imported without copying.
pub(crate) fn claims_arg(tables: [Option<&Bound<'_, PyAny>>; 4], column_map: ColumnMap) -> PyResult<Claims> {
    let [fee, mdtrt, diag, oprn] = tables;
    Ok(Claims {
        fee_details: table_arg(fee, "fee_details")?,
        mdtrt: table_arg(mdtrt, "mdtrt")?,
        diagnoses: table_arg(diag, "diagnoses")?,
        operations: table_arg(oprn, "operations")?,
        column_map,
    })
}

/// Runs a one-thread check on the calling thread, as a Rust caller would (its memory comes from
/// the same allocator arena call after call), with the GIL released. Between fee batches the
/// engine's progress hook takes the GIL back to look for signals (Ctrl-C) and to report progress;
/// an error there cancels the check and is returned instead of its result.
fn check_here(
    py: Python<'_>,
    engine: Arc<medaudit_core::Engine>,
    claims: Claims,
    mut opts: CheckOptions,
    progress: Option<&PyObject>,
    (done, total): (&Arc<AtomicUsize>, usize),
) -> PyResult<medaudit_core::Result<CheckBatch>> {
    let failed: Arc<std::sync::Mutex<Option<PyErr>>> = Arc::default();
    let (d, f) = (done.clone(), failed.clone());
    let cb = progress.map(|cb| cb.clone_ref(py));
    let inner = opts.progress.take();
    opts.progress = Some(Progress(Arc::new(move |n| {
        let go = inner.as_ref().is_none_or(|p| (p.0)(n));
        let now = d.load(Ordering::Relaxed);
        let err = Python::with_gil(|py| {
            py.check_signals()?;
            match &cb {
                Some(cb) => cb.call1(py, (now, total)).map(drop),
                None => Ok(()),
            }
        });
        match err {
            Ok(()) => go,
            Err(e) => {
                if let Ok(mut slot) = f.lock() {
                    slot.get_or_insert(e);
                }
                false
            }
        }
    })));
    let out = py.allow_threads(|| engine.check_batch(&claims, &opts));
    // The hook (and its Python objects) goes before the GIL is used again.
    drop(opts);
    let stored = failed.lock().ok().and_then(|mut slot| slot.take());
    match stored {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Runs a check of several threads on a helper thread, while the calling thread, with the GIL
/// released between polls, watches for signals (Ctrl-C cancels the check through `cancel`) and
/// reports progress: the engine's threads never hold the GIL, and only the main thread sees
/// signals.
fn check_on_helper(
    py: Python<'_>,
    engine: Arc<medaudit_core::Engine>,
    claims: Claims,
    opts: CheckOptions,
    cancel: &Arc<AtomicBool>,
    progress: Option<&PyObject>,
    (done, total): (&Arc<AtomicUsize>, usize),
) -> PyResult<medaudit_core::Result<CheckBatch>> {
    let (tx, rx) = sync_channel(1);
    let worker = std::thread::Builder::new()
        .name("medaudit-check".into())
        .spawn(move || {
            let out = engine.check_batch(&claims, &opts);
            // The receiver waits until this is sent (or was dropped on a Python error).
            let _ = tx.send(out);
        })
        .map_err(|e| PyValueError::new_err(format!("cannot start the checking thread: {e}")))?;
    let mut rx: Receiver<_> = rx;
    let mut interrupted: Option<PyErr> = None;
    let mut reported = usize::MAX;
    let result = loop {
        let (r, back) = py.allow_threads(move || {
            let r = rx.recv_timeout(POLL);
            (r, rx)
        });
        rx = back;
        match r {
            Ok(out) => break out,
            Err(RecvTimeoutError::Disconnected) => {
                break Err(medaudit_core::Error::Argument {
                    argument: "check".into(),
                    message: "internal: the checking thread stopped without an answer".into(),
                })
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let (Some(cb), None) = (&progress, &interrupted) {
            let now = done.load(Ordering::Relaxed);
            if now != reported {
                reported = now;
                if let Err(e) = cb.call1(py, (now, total)) {
                    cancel.store(true, Ordering::Relaxed);
                    interrupted = Some(e);
                }
            }
        }
        if interrupted.is_none() {
            if let Err(e) = py.check_signals() {
                cancel.store(true, Ordering::Relaxed);
                interrupted = Some(e);
            }
        }
    };
    let _ = py.allow_threads(move || worker.join());
    match interrupted {
        Some(e) => Err(e),
        None => Ok(result),
    }
}

#[pymethods]
impl Engine {
    /// Compiles `pack` with optional knowledge tables `{name: arrow table or list of row dicts}`,
    /// DRG schemes and DIP catalogues (through `medaudit_core::Engine::builder`).
    #[new]
    #[pyo3(signature = (pack, knowledge=None, drg_schemes=None, dip_catalogues=None))]
    fn new(
        py: Python<'_>,
        pack: &RulePack,
        knowledge: Option<&Bound<'_, PyDict>>,
        drg_schemes: Option<Vec<PyRef<'_, crate::payment::DrgScheme>>>,
        dip_catalogues: Option<Vec<PyRef<'_, crate::payment::DipCatalogue>>>,
    ) -> PyResult<Self> {
        let mut b = medaudit_core::Engine::builder(pack.pack.clone());
        for t in knowledge_tables(knowledge)? {
            b = b.knowledge(t);
        }
        for s in drg_schemes.unwrap_or_default() {
            b = b.drg_scheme(s.scheme.clone());
        }
        for c in dip_catalogues.unwrap_or_default() {
            b = b.dip_catalogue(c.catalogue.clone());
        }
        let engine = py.allow_threads(|| b.build()).map_err(to_py)?;
        Ok(Engine { engine: Arc::new(engine) })
    }

    /// The partition key of a rule: `"person"` or `"trace_code"` for patient-history rules,
    /// `None` for line and encounter rules (see `medaudit_core::Engine::partition_key`).
    fn partition_key(&self, rule_id: &str) -> Option<&'static str> {
        self.engine.partition_key(rule_id).map(crate::history::key_name)
    }

    /// Runs a check; returns the findings, which export the Arrow PyCapsule protocol and carry
    /// what rules could not judge in their schema metadata (`medaudit.unjudged`, see
    /// `CheckBatch::into_batch_with_unjudged`). The Python wrapper `medaudit.Engine.check` is the
    /// documented entry.
    #[pyo3(signature = (fee_details, mdtrt, diagnoses=None, operations=None, column_map=None, stage=None,
                        rule_ids=None, threads=0, chunk_rows=262_144, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn _check(
        &self,
        py: Python<'_>,
        fee_details: Option<&Bound<'_, PyAny>>,
        mdtrt: Option<&Bound<'_, PyAny>>,
        diagnoses: Option<&Bound<'_, PyAny>>,
        operations: Option<&Bound<'_, PyAny>>,
        column_map: Option<&str>,
        stage: Option<&str>,
        rule_ids: Option<Vec<String>>,
        threads: usize,
        chunk_rows: usize,
        progress: Option<PyObject>,
    ) -> PyResult<ArrowBatches> {
        let stage = stage_arg(stage)?;
        let mut claims = claims_in(py, [fee_details, mdtrt, diagnoses, operations], column_map)?;
        claims.fee_details = medaudit_core::claims::slices(&claims.fee_details, chunk_rows);
        let total: usize = claims.fee_details.iter().map(RecordBatch::num_rows).sum();
        let done = Arc::new(AtomicUsize::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let (d, c) = (done.clone(), cancel.clone());
        let opts = CheckOptions {
            stage,
            rule_ids,
            threads,
            progress: Some(Progress(Arc::new(move |n| {
                d.fetch_add(n, Ordering::Relaxed);
                !c.load(Ordering::Relaxed)
            }))),
        };
        let engine = self.engine.clone();
        let result = if threads <= 1 {
            check_here(py, engine, claims, opts, progress.as_ref(), (&done, total))?
        } else {
            check_on_helper(py, engine, claims, opts, &cancel, progress.as_ref(), (&done, total))?
        };
        if let Some(cb) = &progress {
            cb.call1(py, (done.load(Ordering::Relaxed), total))?;
        }
        let out = match result {
            Ok(out) => out,
            Err(medaudit_core::Error::Cancelled) => return Err(PyKeyboardInterrupt::new_err("check cancelled")),
            Err(e) => return Err(to_py(e)),
        };
        Ok(table_output(out))
    }

    /// For benchmarks: the best wall time in seconds of `repeats` direct Rust API calls
    /// (`medaudit_core::Engine::check_batch`, as a Rust caller holding the same Arrow data and
    /// keeping the findings table would; `Engine.check` makes the same call) on these tables,
    /// imported once beforehand, and the number of findings. No Python runs inside the timed region.
    #[pyo3(signature = (fee_details, mdtrt, diagnoses=None, operations=None, rule_ids=None, threads=0, repeats=3))]
    #[allow(clippy::too_many_arguments)]
    fn _time_rust_check(
        &self,
        py: Python<'_>,
        fee_details: Option<&Bound<'_, PyAny>>,
        mdtrt: Option<&Bound<'_, PyAny>>,
        diagnoses: Option<&Bound<'_, PyAny>>,
        operations: Option<&Bound<'_, PyAny>>,
        rule_ids: Option<Vec<String>>,
        threads: usize,
        repeats: usize,
    ) -> PyResult<(f64, usize)> {
        let claims = claims_arg([fee_details, mdtrt, diagnoses, operations], ColumnMap::default())?;
        let opts = CheckOptions { rule_ids, threads, ..Default::default() };
        let engine = self.engine.clone();
        py.allow_threads(move || {
            let mut best = f64::INFINITY;
            let mut n = 0;
            for _ in 0..repeats.max(1) {
                let t = std::time::Instant::now();
                let out = engine.check_batch(&claims, &opts)?;
                best = best.min(t.elapsed().as_secs_f64());
                n = out.findings.num_rows();
            }
            Ok((best, n))
        })
        .map_err(to_py)
    }

    /// The pack this engine was built from.
    #[getter]
    fn pack_id(&self) -> &str {
        &self.engine.pack().id
    }

    fn __repr__(&self) -> String {
        format!("Engine(pack={:?}, rules={})", self.engine.pack().id, self.engine.pack().rules.len())
    }
}

/// Records (from the history `Auditor`) as [`table_output`]: the findings records are turned
/// into the table and dropped with the GIL released.
pub(crate) fn output(py: Python<'_>, out: medaudit_core::CheckOutput) -> ArrowBatches {
    table_output(py.allow_threads(move || CheckBatch { findings: out.to_record_batch(), unjudged: out.unjudged }))
}

/// A check's output as one findings batch (exported without a copy) with what rules could not
/// judge in its schema metadata, as the C and Java Arrow calls return it.
pub(crate) fn table_output(out: CheckBatch) -> ArrowBatches {
    let findings = out.into_batch_with_unjudged();
    ArrowBatches::new(findings.schema(), vec![findings])
}

/// Claims from the claims-JSON form (`core/src/claims/json.rs`): `(fee_details, mdtrt, diagnoses,
/// operations, column_map_json)`.
#[pyfunction]
#[pyo3(signature = (text, path="$"))]
pub fn claims_from_json(
    py: Python<'_>,
    text: &str,
    path: &str,
) -> PyResult<(ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, Option<String>)> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| crate::errors::ArgumentError::new_err(format!("invalid argument {path}: invalid JSON: {e}")))?;
    let c = py.allow_threads(|| medaudit_core::claims::claims_from_json(&v, path)).map_err(to_py)?;
    let map = match v.get("column_map") {
        None | Some(serde_json::Value::Null) => None,
        Some(m) => Some(m.to_string()),
    };
    Ok((
        ArrowBatches::claims(c.fee_details, ClaimsTable::FeeDetails),
        ArrowBatches::claims(c.mdtrt, ClaimsTable::Mdtrt),
        ArrowBatches::claims(c.diagnoses, ClaimsTable::Diagnoses),
        ArrowBatches::claims(c.operations, ClaimsTable::Operations),
        map,
    ))
}

/// Addresses of the buffers of every column of the first batch `obj` exports, as the engine
/// would see them after import: lets tests show the input is not copied.
#[pyfunction]
pub fn _buffer_addresses(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<usize>>> {
    let batches = capsule::import(obj, "obj")?;
    let Some(b) = batches.first() else { return Ok(Vec::new()) };
    Ok(b.columns().iter().map(|c| c.to_data().buffers().iter().map(|buf| buf.as_ptr() as usize).collect()).collect())
}

/// The findings table's schema, exported as an empty table.
#[pyfunction]
pub fn findings_schema() -> ArrowBatches {
    ArrowBatches::new(medaudit_core::findings_schema(), Vec::new())
}
