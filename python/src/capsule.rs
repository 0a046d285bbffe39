//! The Arrow PyCapsule interface, both ways, over arrow's C Data / C Stream FFI.
//!
//! Import: any Python object with `__arrow_c_stream__` (pyarrow Table/RecordBatchReader, polars
//! DataFrame, pandas ≥ 2.2 DataFrame, DuckDB relation, nanoarrow stream) or `__arrow_c_array__`
//! returning a struct array (pyarrow RecordBatch) is moved into Rust record batches. The buffers
//! are not copied: the batches keep the producer's memory alive through its release callback.
//! Because imported buffers are otherwise trusted as the producer gave them, every column the
//! engine reads is validated (offsets, UTF-8, dictionary keys) before the engine sees it.
//!
//! Export: [`ArrowBatches`] holds record batches and exports them as an `arrow_array_stream`
//! capsule (`__arrow_c_stream__`), a schema capsule, or one struct array (`__arrow_c_array__`),
//! so `pyarrow.table(obj)`, `pyarrow.RecordBatchReader.from_stream(obj)` and polars read them
//! without a copy.
//!
//! This module must never hold on to a caller's capsule after the call, and never read an
//! imported buffer before it is validated.

use arrow_array::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{Array, RecordBatch, RecordBatchIterator, StructArray};
use arrow_schema::{ArrowError, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};
use std::ffi::CString;

const STREAM: &str = "arrow_array_stream";
const SCHEMA: &str = "arrow_schema";
const ARRAY: &str = "arrow_array";

fn capsule_named<'py>(obj: &Bound<'py, PyAny>, name: &str, what: &str) -> PyResult<Bound<'py, PyCapsule>> {
    let cap = obj
        .downcast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err(format!("{what}: the Arrow PyCapsule protocol returned a non-capsule")))?;
    let got = cap.name()?.map(|n| n.to_string_lossy().into_owned());
    if got.as_deref() != Some(name) {
        return Err(PyTypeError::new_err(format!("{what}: expected a capsule named {name:?}, got {got:?}")));
    }
    Ok(cap.clone())
}

/// Reads every batch that `obj` exports (see the module docs); `what` names the argument in errors.
pub(crate) fn import(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<RecordBatch>> {
    if obj.hasattr("__arrow_c_stream__")? {
        let cap = obj.call_method0("__arrow_c_stream__")?;
        let cap = capsule_named(&cap, STREAM, what)?;
        let raw = cap.pointer() as *mut FFI_ArrowArrayStream;
        if raw.is_null() {
            return Err(PyValueError::new_err(format!("{what}: NULL ArrowArrayStream")));
        }
        // SAFETY: the capsule is named "arrow_array_stream", so by the PyCapsule protocol it points
        // to a valid ArrowArrayStream that its consumer may move out; `from_raw` moves it and leaves
        // a released stream behind, which the capsule's destructor then ignores.
        let stream = unsafe { FFI_ArrowArrayStream::from_raw(raw) };
        let reader = RecordBatchStreamReader::try_new(stream)
            .map_err(|e| PyValueError::new_err(format!("{what}: cannot import the Arrow stream: {e}")))?;
        return reader
            .enumerate()
            .map(|(i, b)| b.map_err(|e| PyValueError::new_err(format!("{what}: batch {i}: {e}"))))
            .collect();
    }
    if obj.hasattr("__arrow_c_array__")? {
        let pair = obj.call_method0("__arrow_c_array__")?;
        let pair = pair
            .downcast::<PyTuple>()
            .map_err(|_| PyTypeError::new_err(format!("{what}: __arrow_c_array__ must return a tuple")))?;
        let schema_cap = capsule_named(&pair.get_item(0)?, SCHEMA, what)?;
        let array_cap = capsule_named(&pair.get_item(1)?, ARRAY, what)?;
        let (sp, ap) = (schema_cap.pointer() as *const FFI_ArrowSchema, array_cap.pointer() as *mut FFI_ArrowArray);
        if sp.is_null() || ap.is_null() {
            return Err(PyValueError::new_err(format!("{what}: NULL Arrow schema or array")));
        }
        // SAFETY: the capsules are named per the protocol, so they point to a valid ArrowSchema
        // (borrowed here; its capsule keeps it alive for this scope) and a valid ArrowArray that
        // the consumer may move out (`from_raw` leaves a released struct for the destructor).
        let (schema, array) = unsafe { (&*sp, FFI_ArrowArray::from_raw(ap)) };
        // SAFETY: `array` was produced for `schema` by the same producer call.
        let data = unsafe { from_ffi(array, schema) }
            .map_err(|e| PyValueError::new_err(format!("{what}: cannot import the Arrow array: {e}")))?;
        // `StructArray::from` panics on any other type: refuse it with the type named instead.
        if !matches!(data.data_type(), arrow_schema::DataType::Struct(_)) {
            return Err(PyTypeError::new_err(format!(
                "{what}: __arrow_c_array__ gave a {} array; a table is a struct array (a record batch)",
                data.data_type()
            )));
        }
        let arr = StructArray::from(data);
        if arr.null_count() > 0 {
            return Err(PyValueError::new_err(format!("{what}: a struct array with null rows is not a table")));
        }
        return Ok(vec![RecordBatch::from(arr)]);
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected an Arrow table (an object with __arrow_c_stream__ or __arrow_c_array__, such as a \
         pyarrow Table or RecordBatch, a polars DataFrame, a pandas DataFrame or a DuckDB relation), got {}",
        obj.get_type().name()?
    )))
}

/// Record batches exported through the Arrow PyCapsule protocol.
#[pyclass(module = "medaudit._medaudit", frozen)]
pub struct ArrowBatches {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl ArrowBatches {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        ArrowBatches { schema, batches }
    }

    /// A claims table: its batches' schema, or the canonical schema of `table` when it has none.
    pub(crate) fn claims(batches: Vec<RecordBatch>, table: medaudit_core::ClaimsTable) -> Self {
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => std::sync::Arc::new(medaudit_core::canonical_schema(table)),
        };
        ArrowBatches { schema, batches }
    }
}

/// The four claims tables of one `Claims` (fee_details, mdtrt, diagnoses, operations).
pub(crate) type ClaimsTables = (ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches);

/// Exports the four tables of `c` (no copy).
pub(crate) fn claims_tables(c: medaudit_core::Claims) -> ClaimsTables {
    use medaudit_core::ClaimsTable;
    (
        ArrowBatches::claims(c.fee_details, ClaimsTable::FeeDetails),
        ArrowBatches::claims(c.mdtrt, ClaimsTable::Mdtrt),
        ArrowBatches::claims(c.diagnoses, ClaimsTable::Diagnoses),
        ArrowBatches::claims(c.operations, ClaimsTable::Operations),
    )
}

fn no_requested_schema(requested_schema: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    match requested_schema {
        Some(s) if !s.is_none() => Err(PyValueError::new_err(
            "medaudit exports its own schema; casting to a requested schema is not supported",
        )),
        _ => Ok(()),
    }
}

fn name(n: &str) -> PyResult<CString> {
    CString::new(n).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymethods]
impl ArrowBatches {
    /// Exports the batches as an `arrow_array_stream` PyCapsule (zero copy).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        no_requested_schema(requested_schema)?;
        let reader = RecordBatchIterator::new(
            self.batches.clone().into_iter().map(Ok::<_, ArrowError>).collect::<Vec<_>>(),
            self.schema.clone(),
        );
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        // The capsule owns the stream; dropping it calls the stream's release unless a consumer
        // moved it out (which leaves it released).
        PyCapsule::new_with_destructor(py, stream, Some(name(STREAM)?), |_stream, _ctx| {})
    }

    /// Exports the schema as an `arrow_schema` PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref())
            .map_err(|e| PyValueError::new_err(format!("cannot export the schema: {e}")))?;
        PyCapsule::new_with_destructor(py, schema, Some(name(SCHEMA)?), |_s, _ctx| {})
    }

    /// Exports all rows as one struct array: `(arrow_schema, arrow_array)` PyCapsules.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        no_requested_schema(requested_schema)?;
        let batch = one_batch(&self.schema, &self.batches)?;
        let data = StructArray::from(batch).into_data();
        let array = FFI_ArrowArray::new(&data);
        let schema = FFI_ArrowSchema::try_from(data.data_type())
            .map_err(|e| PyValueError::new_err(format!("cannot export the schema: {e}")))?;
        Ok((
            PyCapsule::new_with_destructor(py, schema, Some(name(SCHEMA)?), |_s, _ctx| {})?,
            PyCapsule::new_with_destructor(py, array, Some(name(ARRAY)?), |_a, _ctx| {})?,
        ))
    }

    /// Number of rows over all batches.
    fn __len__(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// One batch holding all rows: the only batch when there is one (no copy); otherwise an error,
/// since one array of several batches would need a copy (use `__arrow_c_stream__`).
fn one_batch(schema: &SchemaRef, batches: &[RecordBatch]) -> PyResult<RecordBatch> {
    match batches {
        [] => Ok(RecordBatch::new_empty(schema.clone())),
        [one] => Ok(one.clone()),
        _ => Err(PyValueError::new_err(
            "these rows are in several batches; read them with __arrow_c_stream__ (pyarrow.table(obj))",
        )),
    }
}
