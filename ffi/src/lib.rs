//! # libmedaudit: the C ABI of medaudit
//!
//! This crate builds `libmedaudit` (shared and static) and is the source of `include/medaudit.h`,
//! which cbindgen generates from the items below (`ffi/cbindgen.toml`). The rules of the
//! boundary, which every function follows:
//!
//! * every fallible function returns a [`MedauditStatus`]; on failure the calling thread's last
//!   error ([`medaudit_last_error`], [`medaudit_last_error_kind`]) says what and where (rule id,
//!   table, column, row, JSON path);
//! * no panic crosses the boundary: every body runs under `catch_unwind` (so the library must be
//!   built with `panic = "unwind"`, the default); a caught panic is `MEDAUDIT_INTERNAL`;
//! * pointers are checked for NULL, lengths for range, text for UTF-8, before use;
//! * memory the library returns is released by the matching function (`medaudit_string_free`,
//!   `medaudit_engine_free`, an Arrow stream's own `release`); memory the caller passes stays the
//!   caller's, except Arrow C structures, which are moved into the library as the Arrow spec says;
//! * an engine is immutable and may be used from many threads at once; reloading knowledge means
//!   building a new engine and freeing the old one (safe even while calls on it are in flight).

#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod arrow;
mod engine;
/// cbindgen:ignore
mod jni;
mod jtree;
mod national;
mod options;
mod prealert;
mod status;
mod text;

pub use engine::MedauditEngine;
pub use status::MedauditStatus;
pub use text::MEDAUDIT_NUL_TERMINATED;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use medaudit_core::claims::claims_from_json;
use medaudit_core::{Claims, ClaimsTable};
use status::{core_err, guard, no_panic, Ctx, FfiError, FfiResult};
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

/// The ABI version of this header. Incremented whenever a function's signature or a struct's
/// layout changes incompatibly; compare with `medaudit_abi_version()` at start-up.
pub const MEDAUDIT_ABI_VERSION: u32 = 1;

pub(crate) fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Writes `value` through `out` if `out` is not NULL.
///
/// # Safety
/// `out` must be NULL or valid for writes of a `T`.
unsafe fn init_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, and the caller promises it is valid for writes.
        unsafe { out.write(value) };
    }
}

fn need<T>(p: *const T, name: &str) -> FfiResult<()> {
    if p.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Versions and errors
// ---------------------------------------------------------------------------------------------

/// The ABI version of the loaded library (see `MEDAUDIT_ABI_VERSION`).
///
/// Thread safety: any thread, any time. Never fails; does not touch the last error.
#[no_mangle]
pub extern "C" fn medaudit_abi_version() -> u32 {
    MEDAUDIT_ABI_VERSION
}

/// The library version, e.g. "0.1.0": a static, NUL-terminated string; never free it.
///
/// Thread safety: any thread, any time. Never fails; does not touch the last error.
#[no_mangle]
pub extern "C" fn medaudit_version() -> *const c_char {
    static V: OnceLock<CString> = OnceLock::new();
    no_panic(c"".as_ptr(), || V.get_or_init(|| CString::new(medaudit_core::VERSION).unwrap_or_default()).as_ptr())
}

/// The message of the last failed call on the calling thread (UTF-8, NUL-terminated), or "" when
/// the last call succeeded. It carries the engine's own text, naming the rule id, knowledge table,
/// claims table, column, row or JSON path at fault.
///
/// Ownership: the library's; valid until the calling thread's next call into the library (other
/// than `medaudit_last_error`, `medaudit_last_error_kind`, `medaudit_status_str`,
/// `medaudit_version`, `medaudit_abi_version`); never free it.
/// Thread safety: per thread; never NULL.
#[no_mangle]
pub extern "C" fn medaudit_last_error() -> *const c_char {
    no_panic(c"".as_ptr(), status::last_error_ptr)
}

/// The machine-readable class of the last error on the calling thread, "" after a success.
/// For errors of the rule engine it is the kind every binding shares: "pack_json", "rule",
/// "pack", "knowledge", "column", "value", "argument"; for errors of the C layer:
/// "null_pointer", "invalid_argument", "invalid_handle", "invalid_utf8", "json", "arrow",
/// "internal".
///
/// Ownership and lifetime: a static string; never free it. Thread safety: per thread; never NULL.
#[no_mangle]
pub extern "C" fn medaudit_last_error_kind() -> *const c_char {
    no_panic(c"".as_ptr(), status::last_error_kind_ptr)
}

/// A short static description of a status code ("ok", "null pointer", …; "unknown status" for a
/// value this library does not define). Never free it; never NULL. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn medaudit_status_str(status: i32) -> *const c_char {
    use MedauditStatus::*;
    const ALL: [MedauditStatus; 12] = [
        MEDAUDIT_OK,
        MEDAUDIT_NULL_POINTER,
        MEDAUDIT_INVALID_ARGUMENT,
        MEDAUDIT_INVALID_HANDLE,
        MEDAUDIT_INVALID_UTF8,
        MEDAUDIT_INVALID_JSON,
        MEDAUDIT_PACK_ERROR,
        MEDAUDIT_KNOWLEDGE_ERROR,
        MEDAUDIT_COLUMN_ERROR,
        MEDAUDIT_VALUE_ERROR,
        MEDAUDIT_ARROW_ERROR,
        MEDAUDIT_INTERNAL,
    ];
    no_panic(c"unknown status".as_ptr(), || {
        ALL.iter().find(|s| **s as i32 == status).map_or(c"unknown status".as_ptr(), |s| s.describe().as_ptr())
    })
}

/// The sample rule pack that ships with the library (every template, real national codes), as
/// static NUL-terminated JSON text; its length in bytes is written to `*len` when `len` is not
/// NULL. Pass it to `medaudit_engine_new` to try the library.
///
/// Ownership: static; never free it. Thread safety: any thread. Never fails (never NULL).
///
/// # Safety
/// `len` must be NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_sample_pack_json(len: *mut usize) -> *const c_char {
    static S: OnceLock<CString> = OnceLock::new();
    no_panic(c"".as_ptr(), || {
        let s = S.get_or_init(|| CString::new(medaudit_core::pack::SAMPLE_PACK_JSON).unwrap_or_default());
        // SAFETY: the caller promises `len` is NULL or valid for writes.
        unsafe { init_out(len, s.as_bytes().len()) };
        s.as_ptr()
    })
}

// ---------------------------------------------------------------------------------------------
// Strings returned by the library
// ---------------------------------------------------------------------------------------------

/// Frees a string the library returned (`medaudit_check_json`, `medaudit_check_claims_json`,
/// `medaudit_engine_info`). NULL is accepted and ignored.
///
/// Double free is guarded: a pointer that is not a live string of the library (already freed, or
/// never returned by it) is left alone and `MEDAUDIT_INVALID_HANDLE` is returned.
///
/// Status: `MEDAUDIT_OK`, `MEDAUDIT_INVALID_HANDLE`. Thread safety: any thread (a string may be
/// freed on another thread than the one that received it).
#[no_mangle]
pub extern "C" fn medaudit_string_free(s: *mut c_char) -> MedauditStatus {
    guard("medaudit_string_free", || text::free_string(s))
}

// ---------------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------------

/// Builds an engine from a rule pack (JSON text, `medaudit-pack/1`) whose knowledge tables are
/// inline in the pack.
///
/// `pack_json` is UTF-8 of `pack_len` bytes (it need not be NUL-terminated), or a NUL-terminated
/// string when `pack_len` is `MEDAUDIT_NUL_TERMINATED`. On success `*out` is a new engine the
/// caller frees with `medaudit_engine_free`; on failure `*out` is NULL.
///
/// Status: `MEDAUDIT_OK`; `MEDAUDIT_NULL_POINTER` (`pack_json` or `out` NULL);
/// `MEDAUDIT_INVALID_ARGUMENT` (length above `PTRDIFF_MAX`); `MEDAUDIT_INVALID_UTF8`;
/// `MEDAUDIT_PACK_ERROR` (invalid pack, naming rule id and field or JSON path);
/// `MEDAUDIT_KNOWLEDGE_ERROR` (an inline table is invalid, or a table without rows was
/// declared: give it with `medaudit_engine_new_arrow` or `medaudit_engine_new_with_knowledge_json`);
/// `MEDAUDIT_INTERNAL`.
///
/// Thread safety: any thread; building engines concurrently is fine. The engine is immutable:
/// to load a new knowledge batch, build a new engine, switch new calls to it, and free the old one.
///
/// # Safety
/// `pack_json` must point to `pack_len` readable bytes (or a NUL-terminated string); `out` must be
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_engine_new(
    pack_json: *const c_char,
    pack_len: usize,
    out: *mut *mut MedauditEngine,
) -> MedauditStatus {
    guard("medaudit_engine_new", || {
        // SAFETY: the caller promises `out` is NULL or valid for writes.
        unsafe { init_out(out, std::ptr::null_mut()) };
        need(out, "out")?;
        // SAFETY: the caller promises `pack_len` readable bytes at `pack_json`.
        let text = unsafe { text::borrow_text(pack_json, pack_len, "pack_json") }?;
        let engine = engine::build(engine::parse_pack(text)?, Vec::new())?;
        // SAFETY: `out` is non-NULL (checked) and valid for writes by contract.
        unsafe { out.write(engine::register(engine)) };
        Ok(())
    })
}

/// Builds an engine from a rule pack plus knowledge tables given as JSON rows:
/// `{"table name": [{"code": "…", "kp_id": "…", …}, …], …}`. Each given table replaces the pack's
/// inline rows of that name and must be declared in the pack's `knowledge`. This is the form of
/// the conformance vectors, and suits hosts that receive knowledge batches as JSON.
///
/// Text arguments as in `medaudit_engine_new` (`knowledge_len` may be `MEDAUDIT_NUL_TERMINATED`).
/// On success `*out` is a new engine (free it with `medaudit_engine_free`); on failure NULL.
///
/// Status: as `medaudit_engine_new`, plus `MEDAUDIT_INVALID_JSON` (knowledge text is not JSON or
/// not an object of arrays) and `MEDAUDIT_KNOWLEDGE_ERROR` (naming table, column and row).
///
/// Thread safety: any thread.
///
/// # Safety
/// `pack_json` and `knowledge_json` must point to readable text of the given lengths; `out` must
/// be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_engine_new_with_knowledge_json(
    pack_json: *const c_char,
    pack_len: usize,
    knowledge_json: *const c_char,
    knowledge_len: usize,
    out: *mut *mut MedauditEngine,
) -> MedauditStatus {
    guard("medaudit_engine_new_with_knowledge_json", || {
        // SAFETY: the caller promises `out` is NULL or valid for writes.
        unsafe { init_out(out, std::ptr::null_mut()) };
        need(out, "out")?;
        // SAFETY: the caller promises readable text of the given lengths.
        let pack_text = unsafe { text::borrow_text(pack_json, pack_len, "pack_json") }?;
        // SAFETY: as above.
        let k_text = unsafe { text::borrow_text(knowledge_json, knowledge_len, "knowledge_json") }?;
        let pack = engine::parse_pack(pack_text)?;
        let tables = engine::knowledge_from_json(k_text)?;
        let engine = engine::build(pack, tables)?;
        // SAFETY: `out` is non-NULL (checked) and valid for writes by contract.
        unsafe { out.write(engine::register(engine)) };
        Ok(())
    })
}

/// Builds an engine from a rule pack plus knowledge tables given as Arrow C streams (for example
/// a weekly batch of national knowledge points read by the host with Arrow, pyarrow or nanoarrow).
///
/// `table_names[i]` (NUL-terminated UTF-8) names the table `tables[i]` holds; each must be declared
/// in the pack's `knowledge` and replaces the pack's inline rows of that name. Columns: `code`
/// (string, required), optional `match`, `kp_id`, `item_name`, `effective_from`/`effective_to`,
/// `supersedes`, `batch`, `basis`, and the template's parameters; strings may be any Arrow string
/// or dictionary-of-string type, numbers any integer/float/decimal, dates any date/timestamp.
/// `n_tables` may be 0 (then both arrays may be NULL).
///
/// Ownership: the library takes every stream `tables[i]` that is not NULL, whatever the status:
/// it moves it out (the caller's struct is marked released, `release == NULL`) and releases it
/// when done. The data is read once into the engine's own tables; nothing refers to the streams
/// after the call. On success `*out` is a new engine (free it with `medaudit_engine_free`); on
/// failure NULL.
///
/// Status: as `medaudit_engine_new`, plus `MEDAUDIT_NULL_POINTER` (a NULL array with
/// `n_tables > 0`, a NULL name or stream); `MEDAUDIT_ARROW_ERROR` (a released stream, a producer
/// error, invalid buffers); `MEDAUDIT_KNOWLEDGE_ERROR` (wrong column type, missing `code`, a table
/// the pack does not declare).
///
/// Thread safety: any thread.
///
/// # Safety
/// `pack_json` as in `medaudit_engine_new`; `table_names` and `tables` must each be NULL or point
/// to `n_tables` pointers, each NULL or valid (a NUL-terminated string; an `ArrowArrayStream`);
/// `out` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_engine_new_arrow(
    pack_json: *const c_char,
    pack_len: usize,
    table_names: *const *const c_char,
    tables: *const *mut FFI_ArrowArrayStream,
    n_tables: usize,
    out: *mut *mut MedauditEngine,
) -> MedauditStatus {
    guard("medaudit_engine_new_arrow", || {
        // Take ownership of every stream first, so that each is released on every path.
        let mut streams: Vec<Option<FFI_ArrowArrayStream>> = Vec::new();
        if !tables.is_null() {
            if n_tables > isize::MAX as usize / std::mem::size_of::<*mut FFI_ArrowArrayStream>() {
                return Err(FfiError::arg(format!("n_tables: {n_tables} is out of range")));
            }
            // SAFETY: non-NULL, and the caller promises `n_tables` readable pointers (size checked).
            let ptrs = unsafe { std::slice::from_raw_parts(tables, n_tables) };
            // SAFETY: each pointer is NULL or a valid stream the caller hands over.
            streams = ptrs.iter().map(|p| unsafe { arrow::take_stream(*p) }).collect();
        }
        // SAFETY: the caller promises `out` is NULL or valid for writes.
        unsafe { init_out(out, std::ptr::null_mut()) };
        need(out, "out")?;
        // SAFETY: the caller promises readable text.
        let pack_text = unsafe { text::borrow_text(pack_json, pack_len, "pack_json") }?;
        if n_tables > 0 && tables.is_null() {
            return Err(FfiError::null("tables (n_tables > 0)"));
        }
        if n_tables > 0 && table_names.is_null() {
            return Err(FfiError::null("table_names (n_tables > 0)"));
        }
        let names: &[*const c_char] = if n_tables == 0 {
            &[]
        } else {
            // SAFETY: non-NULL (checked), `n_tables` readable pointers by contract; the size was
            // checked above against the same element size.
            unsafe { std::slice::from_raw_parts(table_names, n_tables) }
        };
        let pack = engine::parse_pack(pack_text)?;
        let mut knowledge = Vec::with_capacity(n_tables);
        for (i, (name_ptr, stream)) in names.iter().zip(streams).enumerate() {
            if name_ptr.is_null() {
                return Err(FfiError::null(&format!("table_names[{i}]")));
            }
            // SAFETY: non-NULL and NUL-terminated by contract.
            let name = unsafe { text::borrow_text(*name_ptr, MEDAUDIT_NUL_TERMINATED, &format!("table_names[{i}]")) }?;
            let stream = stream.ok_or_else(|| FfiError::null(&format!("tables[{i}]")))?;
            let what = format!("knowledge table {name:?}");
            let batches = arrow::read_stream(stream, &what)?;
            arrow::validate_all(&batches, &what)?;
            knowledge.push(
                medaudit_core::KnowledgeTable::from_record_batches(name, &batches)
                    .map_err(|e| core_err(e, Ctx::Call))?,
            );
        }
        let engine = engine::build(pack, knowledge)?;
        // SAFETY: `out` is non-NULL (checked) and valid for writes by contract.
        unsafe { out.write(engine::register(engine)) };
        Ok(())
    })
}

/// Frees an engine. NULL is accepted and ignored.
///
/// Calls already running on the engine in other threads finish normally on it; the memory is
/// released when the last of them returns. Double free is guarded: a handle that is not live
/// (already freed, never returned) is left alone and `MEDAUDIT_INVALID_HANDLE` is returned. (After
/// a free the allocator may give the same address to a later engine, so do not keep using freed
/// handles: the guard protects memory, not your logic.)
///
/// Status: `MEDAUDIT_OK`, `MEDAUDIT_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn medaudit_engine_free(engine: *mut MedauditEngine) -> MedauditStatus {
    guard("medaudit_engine_free", || engine::unregister(engine))
}

/// Describes an engine as JSON: `{"abi_version", "version", "pack": {"id", "name", "version"},
/// "rules": [{"id", "code", "name", "template", "severity", "warn_level", "stages", "scenes"}],
/// "knowledge": ["table", …]}`; a host can log which pack it has loaded after a reload.
///
/// Ownership: on success `*json` is a library-owned NUL-terminated string of `*json_len` bytes,
/// freed with `medaudit_string_free`; on failure NULL and 0.
///
/// Status: `MEDAUDIT_OK`, `MEDAUDIT_NULL_POINTER`, `MEDAUDIT_INVALID_HANDLE`, `MEDAUDIT_INTERNAL`.
/// Thread safety: any thread.
///
/// # Safety
/// `json` and `json_len` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_engine_info(
    engine: *const MedauditEngine,
    json: *mut *mut c_char,
    json_len: *mut usize,
) -> MedauditStatus {
    guard("medaudit_engine_info", || {
        // SAFETY: the caller promises both are NULL or valid for writes.
        unsafe {
            init_out(json, std::ptr::null_mut());
            init_out(json_len, 0);
        }
        need(json, "json")?;
        need(json_len, "json_len")?;
        let eng = engine::lookup(engine)?;
        let pack = eng.pack();
        let rules: Vec<serde_json::Value> = pack
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "code": r.code, "name": r.name, "template": r.template.name,
                    "severity": r.severity.label(), "warn_level": r.warn_level,
                    "stages": r.stages.iter().map(|s| s.label()).collect::<Vec<_>>(),
                    "scenes": r.scenes.iter().map(|s| s.label()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let info = serde_json::json!({
            "abi_version": MEDAUDIT_ABI_VERSION,
            "version": medaudit_core::VERSION,
            "pack": {"id": pack.id, "name": pack.name, "version": pack.version},
            "rules": rules,
            "knowledge": pack.knowledge.keys().collect::<Vec<_>>(),
        });
        // SAFETY: both outputs checked non-NULL, valid for writes by contract.
        unsafe { text::give_string(info.to_string(), json, json_len) }
    })
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// The pre-alert call (事前提醒 / 事中审核): checks one request shaped like the national 3101 input
/// and answers JSON shaped like the 3101 output.
///
/// Request (UTF-8 JSON, `request_len` bytes or `MEDAUDIT_NUL_TERMINATED`; schema in
/// `medaudit_3101_request.schema.json`): `{"data": {"trig_scen": "1", "rule_ids": […]?,
/// "task_id"?, "patient_dtos": [{"patn_id", "gend", "brdy", "insutype", "fsi_encounter_dtos":
/// [{"mdtrt_id", "med_type", "medins_id", "medins_lv", "adm_date", "dscg_date",
/// "fsi_diagnose_dtos": […], "fsi_order_dtos": [{"rx_id", "rxno", "hilist_code", "hilist_name",
/// "cnt", "pric", "sumamt", "drord_begn_date", "drord_dept_codg", …}], "fsi_operation_dtos": […]}]}]}}`.
/// The national envelope `{"input": {"data": …}}` and a bare data object are accepted too, and
/// the canonical medaudit names (psn_no, fixmedins_code, hosp_lv, begntime, feedetl_sn,
/// det_item_fee_sumamt, fee_ocur_time, bilg_dept_codg, …) as aliases.
///
/// `trig_scen` selects the stage: 1 门诊挂号, 2 门诊收费登记, 3 住院登记, 4 住院收费登记,
/// 5 住院执行医嘱 and 10 购药登记 run the rules of stage 事前; 6 门诊结算, 7 门诊预结算, 8 住院结算 and
/// 9 住院预结算 run those of stage 事中. Scenes (门诊/住院/购药/互联网) come from each encounter's
/// `med_type` through the pack's scene map.
///
/// Response (schema in `medaudit_3101_response.schema.json`): `{"result": [{"jr_id", "rule_id",
/// "rule_code", "rule_name", "vola_cont", "patn_id", "mdtrt_id", "vola_amt", "sev_deg", "warn_lv",
/// "vola_evid", "vola_bhvr_type", "kp_id", "task_id"?, "judge_result_detail_dtos": [{"jr_detl_id",
/// "patn_id", "mdtrt_id", "vola_item_type" (违规项 | 涉及项), "feedetl_sn", "rxno", "hilist_code",
/// "hilist_name", "bilg_dept_codg", "vola_amt"}]}], "unjudged": [{"rule_id", "reason", "count"}]}`,
/// in the engine's deterministic order.
///
/// Ownership: the request stays the caller's. On success `*response` is a library-owned
/// NUL-terminated string of `*response_len` bytes, freed with `medaudit_string_free`; on failure
/// NULL and 0.
///
/// Status: `MEDAUDIT_OK`; `MEDAUDIT_NULL_POINTER`; `MEDAUDIT_INVALID_HANDLE`;
/// `MEDAUDIT_INVALID_ARGUMENT` (length out of range, unknown rule id); `MEDAUDIT_INVALID_UTF8`;
/// `MEDAUDIT_INVALID_JSON` (not JSON, truncated, or a field of the wrong shape: the message names
/// its JSON path, e.g. `$.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[2].cnt`);
/// `MEDAUDIT_VALUE_ERROR` (a value a rule needs is null, naming row, column and rule);
/// `MEDAUDIT_INTERNAL`.
///
/// Thread safety: any number of threads may call this on one engine at once.
///
/// # Safety
/// `request` must point to `request_len` readable bytes (or a NUL-terminated string); `response`
/// and `response_len` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_check_json(
    engine: *const MedauditEngine,
    request: *const c_char,
    request_len: usize,
    response: *mut *mut c_char,
    response_len: *mut usize,
) -> MedauditStatus {
    guard("medaudit_check_json", || {
        // SAFETY: the caller promises both are NULL or valid for writes.
        unsafe {
            init_out(response, std::ptr::null_mut());
            init_out(response_len, 0);
        }
        need(response, "response")?;
        need(response_len, "response_len")?;
        let eng = engine::lookup(engine)?;
        // SAFETY: the caller promises `request_len` readable bytes.
        let text = unsafe { text::borrow_text(request, request_len, "request") }?;
        let answer = prealert::check(&eng, text)?;
        // SAFETY: both outputs checked non-NULL, valid for writes by contract.
        unsafe { text::give_string(answer, response, response_len) }
    })
}

/// Checks claims given in medaudit's claims-JSON form (the form of the conformance vectors:
/// `{"mdtrt": [rows], "diagnoses": [rows], "operations": [rows], "fee_details": [rows],
/// "types"?: {…}, "column_map"?: {…}}` with canonical national column names; see
/// medaudit-core `claims::json`) and answers `{"findings": [Finding…], "unjudged": [Unjudged…]}`
/// with the engine's own records (`finding_id`, `rule_id`, `rule_code`, `rule_name`, `template`,
/// `severity`, `warn_level`, `psn_no`, `mdtrt_id`, `fixmedins_code`, `feedetl_sn`, `item_code`,
/// `item_name`, `bilg_dept_codg`, `related_feedetl_sn`, `amount`, `message`, `kp_id`, `basis`).
///
/// `options_json` is NULL (all rules of all stages) or a NUL-terminated JSON object:
/// `{"stage": "事前"|"事中"|"事后", "rule_ids": ["…"], "column_map": {"fee_details":
/// {"hilist_code": "med_list_codg"}}}` (`column_map` here applies when the claims carry none).
///
/// Ownership: as `medaudit_check_json` (`*findings_json` freed with `medaudit_string_free`).
/// Status: as `medaudit_check_json`, plus `MEDAUDIT_COLUMN_ERROR` (a column has a type the
/// engine cannot read, e.g. a boolean `cnt` forced by `types`).
/// Thread safety: any number of threads on one engine.
///
/// # Safety
/// `claims_json` must point to `claims_len` readable bytes (or a NUL-terminated string);
/// `options_json` must be NULL or NUL-terminated; the outputs must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_check_claims_json(
    engine: *const MedauditEngine,
    claims_json: *const c_char,
    claims_len: usize,
    options_json: *const c_char,
    findings_json: *mut *mut c_char,
    findings_len: *mut usize,
) -> MedauditStatus {
    guard("medaudit_check_claims_json", || {
        // SAFETY: the caller promises both are NULL or valid for writes.
        unsafe {
            init_out(findings_json, std::ptr::null_mut());
            init_out(findings_len, 0);
        }
        need(findings_json, "findings_json")?;
        need(findings_len, "findings_len")?;
        let eng = engine::lookup(engine)?;
        // SAFETY: the caller promises readable text.
        let text = unsafe { text::borrow_text(claims_json, claims_len, "claims_json") }?;
        // SAFETY: NULL or NUL-terminated by contract.
        let options = unsafe { text::borrow_opt_cstr(options_json, "options_json") }?;
        let answer = check_claims_text(&eng, text, options)?;
        // SAFETY: both outputs checked non-NULL, valid for writes by contract.
        unsafe { text::give_string(answer, findings_json, findings_len) }
    })
}

/// The body of `medaudit_check_claims_json` (shared with the JNI layer): claims JSON text and
/// optional options JSON text in, `{"findings": […], "unjudged": […]}` out.
pub(crate) fn check_claims_text(
    eng: &medaudit_core::Engine,
    text: &str,
    options_json: Option<&str>,
) -> FfiResult<String> {
    let opts = options::parse(options_json)?;
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FfiError::json(format!("claims_json: invalid JSON: {e}")))?;
    let mut claims = claims_from_json(&v, "$.claims").map_err(|e| core_err(e, Ctx::Json))?;
    if let Some(map) = opts.column_map {
        if v.get("column_map").is_none() {
            claims.column_map = map;
        }
    }
    let out = eng.check(&claims, &opts.check).map_err(|e| core_err(e, Ctx::Call))?;
    serde_json::to_string(&serde_json::json!({"findings": out.findings, "unjudged": out.unjudged}))
        .map_err(|e| FfiError::new(MedauditStatus::MEDAUDIT_INTERNAL, format!("findings: {e}")))
}

/// The batch call: checks claims given as Arrow C streams and returns the findings as an Arrow C
/// stream.
///
/// Inputs: `fee_details`, `mdtrt`, `diagnoses`, `operations`, each NULL for a table the caller does
/// not have (history rules over encounters need no fee lines), else a stream of struct arrays (record batches) with the canonical national column
/// names (or the caller's names mapped by `column_map`); strings may be Utf8, LargeUtf8,
/// Utf8View or dictionary-encoded, numbers any integer/float/decimal, times Date32/Date64 or
/// Timestamp (no zone or a China zone). Batches are used in place: nothing is copied.
///
/// `options_json` is NULL or a NUL-terminated JSON object: `{"stage": "事前"|"事中"|"事后",
/// "rule_ids": ["…"], "column_map": {"fee_details": {"hilist_code": "med_list_codg"}},
/// "validate": true}`. With `"validate": true` (the default) the buffers of every column the
/// engine reads are validated first (offsets, UTF-8, dictionary keys), so a faulty producer gets
/// `MEDAUDIT_ARROW_ERROR` instead of an out-of-bounds read; `false` skips that for trusted
/// producers (Arrow C++, pyarrow, arrow-rs), saving one linear pass over those columns.
/// `"threads": N` checks on N scoped threads when the fee lines come grouped by encounter in
/// increasing `mdtrt_id` order (same findings as one thread; default 1, the calling thread).
///
/// Output: on success `*out_findings` is a stream (one record batch, the findings schema:
/// finding_id, rule_id, rule_code, rule_name, template, severity (Utf8), warn_level (UInt8),
/// psn_no, mdtrt_id, fixmedins_code, feedetl_sn, item_code, item_name, bilg_dept_codg,
/// related_feedetl_sn (Utf8), amount (Float64), message, kp_id, basis (Utf8)) that the caller
/// releases by calling its `release`; it does not refer to the inputs. On failure it is marked
/// released (`release == NULL`). What rules could not judge (a null sex, a missing time…) is in
/// the stream schema's metadata under the key `medaudit.unjudged`: a JSON array of
/// `{"rule_id", "reason", "count"}` (`[]` when every line was judged), as in the JSON call's
/// `"unjudged"`.
///
/// Ownership: the library takes every non-NULL input stream, whatever the status: it moves it out
/// (the caller's struct is marked released) and releases it before returning.
///
/// Status: `MEDAUDIT_OK`; `MEDAUDIT_NULL_POINTER` (`out_findings` or `engine` NULL); `MEDAUDIT_INVALID_HANDLE`; `MEDAUDIT_INVALID_JSON` / `MEDAUDIT_INVALID_ARGUMENT`
/// (options); `MEDAUDIT_ARROW_ERROR` (released stream, producer error, arrays that are not
/// structs, invalid buffers); `MEDAUDIT_COLUMN_ERROR` (missing required column, or a column of a
/// type the engine cannot read, naming table and column); `MEDAUDIT_VALUE_ERROR`;
/// `MEDAUDIT_INTERNAL`.
///
/// Thread safety: any number of threads on one engine.
///
/// # Safety
/// Each stream pointer must be NULL or point to a valid `ArrowArrayStream` handed over to the
/// library; `options_json` must be NULL or NUL-terminated; `out_findings` must be valid for writes
/// of an `ArrowArrayStream` (its old content is overwritten, not released).
#[no_mangle]
pub unsafe extern "C" fn medaudit_check_arrow(
    engine: *const MedauditEngine,
    fee_details: *mut FFI_ArrowArrayStream,
    mdtrt: *mut FFI_ArrowArrayStream,
    diagnoses: *mut FFI_ArrowArrayStream,
    operations: *mut FFI_ArrowArrayStream,
    options_json: *const c_char,
    out_findings: *mut FFI_ArrowArrayStream,
) -> MedauditStatus {
    guard("medaudit_check_arrow", || {
        // Take every input first, so that each is released on every path.
        // SAFETY: each pointer is NULL or a valid stream the caller hands over.
        let (fee, enc, diag, ops) = unsafe {
            (
                arrow::take_stream(fee_details),
                arrow::take_stream(mdtrt),
                arrow::take_stream(diagnoses),
                arrow::take_stream(operations),
            )
        };
        if !out_findings.is_null() {
            // SAFETY: non-NULL and valid for writes by contract.
            unsafe { arrow::mark_released(out_findings) };
        }
        need(out_findings, "out_findings")?;
        let eng = engine::lookup(engine)?;
        // SAFETY: NULL or NUL-terminated by contract.
        let opts = options::parse(unsafe { text::borrow_opt_cstr(options_json, "options_json") }?)?;
        let mut claims = Claims { column_map: opts.column_map.unwrap_or_default(), ..Claims::default() };
        if let Some(s) = fee {
            claims.fee_details = arrow::read_stream(s, "fee_details")?;
        }
        if let Some(s) = enc {
            claims.mdtrt = arrow::read_stream(s, "mdtrt")?;
        }
        if let Some(s) = diag {
            claims.diagnoses = arrow::read_stream(s, "diagnoses")?;
        }
        if let Some(s) = ops {
            claims.operations = arrow::read_stream(s, "operations")?;
        }
        if opts.validate {
            for t in ClaimsTable::ALL {
                arrow::validate_claims(claims.table(t), t, &claims.column_map)?;
            }
        }
        let out = eng.check_batch(&claims, &opts.check).map_err(|e| core_err(e, Ctx::Call))?;
        // SAFETY: `out_findings` is non-NULL (checked) and valid for writes by contract.
        unsafe { arrow::export_batch(out.into_batch_with_unjudged(), out_findings) };
        Ok(())
    })
}

/// Converts one table of claims JSON (the form `medaudit_check_claims_json` reads) into an Arrow
/// C stream of one record batch with the canonical types (or those forced by `"types"`), so that
/// a host without an Arrow library, or a test, can feed `medaudit_check_arrow`.
///
/// `table` is "mdtrt", "diagnoses", "operations" or "fee_details". The whole document is read
/// (and must be valid), so errors are those `medaudit_check_claims_json` would report.
///
/// Ownership: on success `*out` is a stream the caller releases (or hands to
/// `medaudit_check_arrow`, which takes it), except when the document has no such table: then
/// `MEDAUDIT_OK` is returned with `out->release == NULL`, and the caller passes NULL for that
/// table to `medaudit_check_arrow` ("no such table", which rules treat differently from an empty
/// one: a diagnosis rule cannot judge without a diagnoses table). On failure `*out` is marked
/// released.
///
/// Status: `MEDAUDIT_OK`; `MEDAUDIT_NULL_POINTER`; `MEDAUDIT_INVALID_ARGUMENT` (unknown table,
/// length out of range); `MEDAUDIT_INVALID_UTF8`; `MEDAUDIT_INVALID_JSON` (naming the JSON path);
/// `MEDAUDIT_INTERNAL`. Thread safety: any thread.
///
/// # Safety
/// `claims_json` must point to `claims_len` readable bytes (or a NUL-terminated string); `table`
/// must be NULL or NUL-terminated; `out` must be valid for writes of an `ArrowArrayStream`.
#[no_mangle]
pub unsafe extern "C" fn medaudit_claims_json_to_arrow(
    claims_json: *const c_char,
    claims_len: usize,
    table: *const c_char,
    out: *mut FFI_ArrowArrayStream,
) -> MedauditStatus {
    guard("medaudit_claims_json_to_arrow", || {
        if !out.is_null() {
            // SAFETY: non-NULL and valid for writes by contract.
            unsafe { arrow::mark_released(out) };
        }
        need(out, "out")?;
        // SAFETY: the caller promises readable text.
        let text = unsafe { text::borrow_text(claims_json, claims_len, "claims_json") }?;
        // SAFETY: NULL or NUL-terminated by contract.
        let tname = unsafe { text::borrow_opt_cstr(table, "table") }?.ok_or_else(|| FfiError::null("table"))?;
        let t = ClaimsTable::from_name(tname).ok_or_else(|| {
            FfiError::arg(format!(
                "table: unknown claims table {tname:?}; expected mdtrt, diagnoses, operations or fee_details"
            ))
        })?;
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| FfiError::json(format!("claims_json: invalid JSON: {e}")))?;
        // The whole document is read, so that this gives the same errors as the JSON calls.
        let claims = claims_from_json(&v, "$.claims").map_err(|e| core_err(e, Ctx::Json))?;
        // A table the document does not have gives no stream: "no such table" (rules that need
        // it cannot judge) differs from "a table with no rows".
        let Some(batch) = claims.table(t).first().cloned() else { return Ok(()) };
        // SAFETY: `out` is non-NULL (checked) and valid for writes by contract.
        unsafe { arrow::export_batch(batch, out) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: `medaudit_last_error` always returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(medaudit_last_error()) }.to_string_lossy().into_owned()
    }

    fn kind() -> String {
        // SAFETY: `medaudit_last_error_kind` always returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(medaudit_last_error_kind()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status() {
        let st = guard("t", || panic!("boom \0 with a NUL"));
        assert_eq!(st, MedauditStatus::MEDAUDIT_INTERNAL);
        assert!(last().contains("(caught panic at ffi/src/lib.rs:"), "{}", last());
        assert!(last().contains("): boom \\0 with a NUL"), "{}", last());
        assert_eq!(kind(), "internal");
        assert_eq!(guard("t", || Ok(())), MedauditStatus::MEDAUDIT_OK);
        assert_eq!(last(), "");
        assert_eq!(kind(), "");
    }

    #[test]
    fn trig_scen_stages() {
        use medaudit_core::Stage;
        for s in ["1", "2", "3", "4", "5", "10"] {
            assert_eq!(prealert::stage_of_trig_scen(s), Some(Stage::Pre), "{s}");
        }
        for s in ["6", "7", "8", "9"] {
            assert_eq!(prealert::stage_of_trig_scen(s), Some(Stage::During), "{s}");
        }
        assert_eq!(prealert::stage_of_trig_scen("11"), None);
        assert_eq!(prealert::stage_of_trig_scen(""), None);
    }

    #[test]
    fn request_fields_become_canonical_columns() {
        use arrow_array::cast::AsArray;
        use arrow_array::types::{Float64Type, TimestampSecondType};
        let root: jtree::J = serde_json::from_str(
            r#"{"input": {"data": {"trig_scen": 7, "patient_dtos": [{"patn_id": "P", "gend": "1",
               "fsi_encounter_dtos": [{"mdtrt_id": "M", "medins_lv": "05", "adm_date": "2026-01-01",
               "fsi_order_dtos": [{"rx_id": "L", "hilist_code": "X", "sumamt": "3.50", "drord_begn_date": "2026-01-01 08:00"}]}]}]}}}"#,
        )
        .unwrap();
        let req = prealert::read_request(&root).map_err(|e| e.message).unwrap();
        assert_eq!(req.options.stage, Some(medaudit_core::Stage::During));
        let m = &req.claims.mdtrt[0];
        let col = |b: &arrow_array::RecordBatch, n: &str| b.column_by_name(n).cloned().unwrap();
        assert_eq!(col(m, "psn_no").as_string::<i32>().value(0), "P");
        assert_eq!(col(m, "hosp_lv").as_string::<i32>().value(0), "05");
        assert!(col(m, "insutype").is_null(0));
        let begn = medaudit_core::time::parse_datetime("2026-01-01").unwrap();
        assert_eq!(col(m, "begntime").as_primitive::<TimestampSecondType>().value(0), begn);
        let f = &req.claims.fee_details[0];
        assert_eq!(col(f, "feedetl_sn").as_string::<i32>().value(0), "L");
        assert_eq!(col(f, "det_item_fee_sumamt").as_primitive::<Float64Type>().value(0), 3.5);
        assert_eq!(req.claims.diagnoses[0].num_rows(), 0);
    }

    /// The request's direct column building gives the engine what `claims_from_json` would.
    #[test]
    fn request_columns_match_claims_from_json() {
        use medaudit_core::{CheckOptions, Engine, RulePack, Stage};
        let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
        let root: jtree::J = serde_json::from_str(
            r#"{"trig_scen": "8", "patient_dtos": [{"patn_id": "P1", "gend": "2", "brdy": "2020-02-01", "insutype": "310",
               "fsi_encounter_dtos": [{"mdtrt_id": "M1", "med_type": "21", "medins_lv": "05", "adm_date": "2026-03-01 08:00",
               "dscg_date": "2026-03-03 10:00", "fsi_diagnose_dtos": [{"dise_codg": "N18.400"}],
               "fsi_operation_dtos": [{"oprn_code": "68.4100", "oprn_date": "2026-03-02"}],
               "fsi_order_dtos": [
                 {"rx_id": "L1", "rxno": "R", "hilist_code": "XG04CBA088A001010101234", "cnt": 2, "pric": 3, "sumamt": 7, "drord_begn_date": "2026-03-01 09:00"},
                 {"rx_id": "L2", "rxno": "R", "hilist_code": "001109000010000", "cnt": 3, "pric": 80, "sumamt": 240, "drord_begn_date": "2026-03-04 09:00"},
                 {"rx_id": "L3", "rxno": "R", "hilist_code": "XA10BAE055A001010101234", "cnt": 1, "pric": 5, "sumamt": 5, "drord_begn_date": "2026-03-02 09:00", "drord_dept_codg": "A1"}]}]}]}"#,
        )
        .unwrap();
        let req = prealert::read_request(&root).map_err(|e| e.message).unwrap();
        let rows = serde_json::json!({
            "mdtrt": [{"mdtrt_id": "M1", "psn_no": "P1", "gend": "2", "brdy": "2020-02-01", "age": null, "insutype": "310",
                       "med_type": "21", "fixmedins_code": null, "hosp_lv": "05", "begntime": "2026-03-01 08:00",
                       "endtime": "2026-03-03 10:00", "dscg_way": null, "die_date": null}],
            "diagnoses": [{"mdtrt_id": "M1", "diag_code": "N18.400", "maindiag_flag": null, "diag_type": null}],
            "operations": [{"mdtrt_id": "M1", "oprn_oprt_code": "68.4100", "main_oprn_flag": null, "oprn_oprt_date": "2026-03-02"}],
            "fee_details": [
                {"feedetl_sn": "L1", "mdtrt_id": "M1", "hilist_code": "XG04CBA088A001010101234", "psn_no": "P1", "hilist_name": null,
                 "fee_ocur_time": "2026-03-01 09:00", "list_type": null, "med_chrgitm_type": null, "cnt": 2, "pric": 3,
                 "det_item_fee_sumamt": 7, "prd_days": null, "bilg_dept_codg": null, "bilg_dr_code": null, "rxno": "R", "chrg_bchno": null},
                {"feedetl_sn": "L2", "mdtrt_id": "M1", "hilist_code": "001109000010000", "psn_no": "P1", "hilist_name": null,
                 "fee_ocur_time": "2026-03-04 09:00", "list_type": null, "med_chrgitm_type": null, "cnt": 3, "pric": 80,
                 "det_item_fee_sumamt": 240, "prd_days": null, "bilg_dept_codg": null, "bilg_dr_code": null, "rxno": "R", "chrg_bchno": null},
                {"feedetl_sn": "L3", "mdtrt_id": "M1", "hilist_code": "XA10BAE055A001010101234", "psn_no": "P1", "hilist_name": null,
                 "fee_ocur_time": "2026-03-02 09:00", "list_type": null, "med_chrgitm_type": null, "cnt": 1, "pric": 5,
                 "det_item_fee_sumamt": 5, "prd_days": null, "bilg_dept_codg": "A1", "bilg_dr_code": null, "rxno": "R", "chrg_bchno": null}]
        });
        let reference = claims_from_json(&rows, "$").unwrap();
        for t in ClaimsTable::ALL {
            let (a, b) = (&req.claims.table(t)[0], &reference.table(t)[0]);
            for f in b.schema().fields() {
                let mine = a.column_by_name(f.name()).unwrap_or_else(|| panic!("{} lacks {}", t.name(), f.name()));
                assert_eq!(mine.data_type(), f.data_type(), "{}.{}", t.name(), f.name());
                assert_eq!(mine.to_data(), b.column_by_name(f.name()).unwrap().to_data(), "{}.{}", t.name(), f.name());
            }
        }
        let opts = CheckOptions { stage: Some(Stage::During), ..Default::default() };
        let got = engine.check(&req.claims, &opts).unwrap();
        let want = engine.check(&reference, &opts).unwrap();
        assert_eq!(got, want);
        assert!(got.findings.len() >= 3, "{:?}", got.findings);
    }

    #[test]
    fn the_sample_pack_is_exported() {
        let mut len = 0usize;
        // SAFETY: `len` is a valid `usize` to write.
        let p = unsafe { medaudit_sample_pack_json(&mut len) };
        // SAFETY: the function returns a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(p) };
        assert_eq!(s.to_bytes().len(), len);
        assert_eq!(s.to_str().ok(), Some(medaudit_core::pack::SAMPLE_PACK_JSON));
    }
}
