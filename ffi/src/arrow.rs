//! Arrow C Stream Interface: importing caller streams (taking ownership, zero copy) and exporting
//! findings.

use crate::status::{FfiError, FfiResult};
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator};
use medaudit_core::claims::columns;
use medaudit_core::{ClaimsTable, ColumnMap};

/// Moves the stream out of `raw` (leaving it released, as the Arrow spec's "move" does), so that
/// it is released by the library whatever happens next.
///
/// # Safety
/// `raw` must be NULL or point to a valid `ArrowArrayStream` (released or not) that the caller
/// hands over.
pub(crate) unsafe fn take_stream(raw: *mut FFI_ArrowArrayStream) -> Option<FFI_ArrowArrayStream> {
    if raw.is_null() {
        return None;
    }
    // SAFETY: non-NULL and, by the caller's contract, a valid, aligned `ArrowArrayStream`;
    // `from_raw` swaps in an empty (released) struct, so the caller's copy is marked released.
    Some(unsafe { FFI_ArrowArrayStream::from_raw(raw) })
}

/// Reads every batch of `stream`, naming `what` in errors. Data is not copied.
pub(crate) fn read_stream(stream: FFI_ArrowArrayStream, what: &str) -> FfiResult<Vec<RecordBatch>> {
    if stream.release().is_none() {
        return Err(FfiError::arrow(format!("{what}: the ArrowArrayStream is already released")));
    }
    let reader = RecordBatchStreamReader::try_new(stream)
        .map_err(|e| FfiError::arrow(format!("{what}: cannot import the ArrowArrayStream: {e}")))?;
    let mut batches = Vec::new();
    for (i, b) in reader.enumerate() {
        batches.push(b.map_err(|e| FfiError::arrow(format!("{what}: batch {i}: {e}")))?);
    }
    Ok(batches)
}

/// Checks the buffers of every column the engine reads (offsets in bounds and monotonic, UTF-8,
/// dictionary keys in range, …): imported data is otherwise trusted as the producer gave it, and
/// a broken producer must not be able to make the engine read out of bounds. Validation reads,
/// never copies.
pub(crate) fn validate_claims(batches: &[RecordBatch], table: ClaimsTable, map: &ColumnMap) -> FfiResult<()> {
    let mut base = 0usize;
    for (bi, b) in batches.iter().enumerate() {
        for spec in columns(table) {
            let src = map.source(table, spec.name);
            // A position lookup, not Schema::index_of, which formats an error on every absent column.
            let Some(idx) = b.schema_ref().fields().iter().position(|f| f.name() == src) else { continue };
            b.column(idx).to_data().validate_full().map_err(|e| {
                FfiError::arrow(format!(
                    "claims table {}: column {src:?}: batch {bi} (rows from {base}): invalid Arrow data: {e}",
                    table.name()
                ))
            })?;
        }
        base += b.num_rows();
    }
    Ok(())
}

/// Checks every column of a knowledge table's batches (all of them are read).
pub(crate) fn validate_all(batches: &[RecordBatch], what: &str) -> FfiResult<()> {
    for (bi, b) in batches.iter().enumerate() {
        for (f, c) in b.schema_ref().fields().iter().zip(b.columns()) {
            c.to_data().validate_full().map_err(|e| {
                FfiError::arrow(format!("{what}: column {:?}: batch {bi}: invalid Arrow data: {e}", f.name()))
            })?;
        }
    }
    Ok(())
}

/// Exports `batch` as a one-batch stream into `out`.
///
/// # Safety
/// `out` must be non-NULL and valid for writes of an `ArrowArrayStream` (its old content, if any,
/// is overwritten without being released).
pub(crate) unsafe fn export_batch(batch: RecordBatch, out: *mut FFI_ArrowArrayStream) {
    let schema = batch.schema();
    let reader = RecordBatchIterator::new(vec![Ok(batch)], schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    // SAFETY: the caller guarantees `out` is valid for writes; `write` does not drop the old value,
    // which per the Arrow spec is uninitialized or released.
    unsafe { std::ptr::write(out, stream) };
}

/// Marks `out` released (all NULL) so that a failed call leaves a defined, releasable-by-nobody
/// struct behind.
///
/// # Safety
/// As for [`export_batch`].
pub(crate) unsafe fn mark_released(out: *mut FFI_ArrowArrayStream) {
    // SAFETY: the caller guarantees `out` is valid for writes; the old value is not dropped.
    unsafe { std::ptr::write(out, FFI_ArrowArrayStream::empty()) };
}
