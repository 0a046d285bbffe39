//! The national-knowledge importer over the C ABI: a thin file-reading wrapper around
//! `medaudit_core::national` (records file → rule pack JSON, coverage report, or an engine).
//! This module reads the one file it is given and nothing else.

use crate::engine::{self, MedauditEngine};
use crate::status::{core_err, guard, Ctx, FfiError, FfiResult, MedauditStatus};
use crate::text::{self, give_string};
use crate::{init_out, need};
use medaudit_core::national::{self, ImportOptions, IndicationMap, NationalImport};
use serde_json::Value;
use std::ffi::c_char;

/// Import options from NUL-terminated JSON (NULL: defaults).
fn options(json: Option<&str>) -> FfiResult<ImportOptions> {
    let mut o = ImportOptions::default();
    let Some(text) = json else { return Ok(o) };
    let v: Value =
        serde_json::from_str(text).map_err(|e| FfiError::json(format!("options: invalid JSON at $: {e}")))?;
    let Value::Object(m) = v else {
        return Err(FfiError::json(format!("options: $: expected an object, found {}", crate::json_type(&v))));
    };
    let strs = |k: &str, v: &Value| -> FfiResult<Vec<String>> {
        v.as_array()
            .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| FfiError::json(format!("options: $.{k}: expected an array of strings")))
    };
    // The mapping is composed after every key is read, whatever their order: the starter mapping
    // (unless `starter_indications` is false), then the caller's TSV, whose texts win.
    let (mut starter, mut user) = (true, None);
    for (k, v) in &m {
        match k.as_str() {
            "pack_id" => {
                o.pack_id =
                    v.as_str().ok_or_else(|| FfiError::json("options: $.pack_id: expected a string"))?.to_string()
            }
            "internet_med_types" => o.internet_med_types = strs(k, v)?,
            "indications_tsv" => {
                let t = v.as_str().ok_or_else(|| FfiError::json("options: $.indications_tsv: expected a string"))?;
                user = Some(IndicationMap::parse_tsv(t).map_err(|e| core_err(e, Ctx::Json))?);
            }
            "starter_indications" => {
                starter =
                    v.as_bool().ok_or_else(|| FfiError::json("options: $.starter_indications: expected a boolean"))?;
            }
            "std_prices" => {
                let obj = v.as_object().ok_or_else(|| FfiError::json("options: $.std_prices: expected an object"))?;
                for (code, p) in obj {
                    let p = p
                        .as_f64()
                        .ok_or_else(|| FfiError::json(format!("options: $.std_prices.{code}: expected a number")))?;
                    o.std_prices.insert(code.clone(), p);
                }
            }
            other => {
                return Err(FfiError::json(format!(
                    "options: $.{other}: unknown option; known: pack_id, internet_med_types, indications_tsv, starter_indications, std_prices"
                )))
            }
        }
    }
    if !starter {
        o.indications = IndicationMap::default();
    }
    if let Some(user) = user {
        o.indications.extend(user);
    }
    Ok(o)
}

/// Reads and imports the records file at `path` with `options_json`.
///
/// # Safety
/// `path` must be a NUL-terminated string; `options_json` NULL or a NUL-terminated string.
unsafe fn import_file(path: *const c_char, options_json: *const c_char) -> FfiResult<NationalImport> {
    // SAFETY: the caller promises NUL-terminated strings (or NULL, which is reported / allowed).
    let path = unsafe { text::borrow_text(path, text::MEDAUDIT_NUL_TERMINATED, "path") }?;
    // SAFETY: as above.
    let opts = options(unsafe { text::borrow_opt_cstr(options_json, "options_json") }?)?;
    let records = std::fs::read_to_string(path)
        .map_err(|e| FfiError::arg(format!("path: cannot read the records file {path:?}: {e}")))?;
    national::import(&records, &opts).map_err(|e| core_err(e, Ctx::Call))
}

fn coverage_json(imp: &NationalImport) -> FfiResult<String> {
    serde_json::to_string(&imp.coverage)
        .map_err(|e| FfiError::new(MedauditStatus::MEDAUDIT_INTERNAL, format!("coverage report: {e}")))
}

/// Imports NHSA knowledge-point records (a JSON file of records as published: kp_id, rule_class,
/// gz_code, med_codes, item_name, constraint, detect_logic, batch, published_at, supersedes) into a
/// `medaudit-pack/1` rule pack, and reports what was interpreted.
///
/// `path`: NUL-terminated UTF-8 file path. `options_json`: NULL or NUL-terminated JSON
/// `{"internet_med_types": ["9901"], "indications_tsv": "<text>\t<ICD patterns>\t<label>\n…",
/// "starter_indications": true, "std_prices": {"<operation code>": 1200.0}, "pack_id": "…"}`.
///
/// On success `*out_pack` (length `*out_pack_len`) is the pack JSON, and `*out_coverage` (length
/// `*out_coverage_len`) the coverage report as JSON (`total`, `interpreted`, `awaiting_mapping`,
/// `not_interpreted`, `interpreted_share`, `judging_share`, `classes[]` with `rule_class`,
/// `points`, `interpreted`, `not_interpreted[]` {`index`, `kp_id`, `reason`}, `reasons`, and
/// `warnings[]`); both are library-owned: free each with `medaudit_string_free`. On failure all
/// four are NULL/0.
///
/// Status: `MEDAUDIT_NULL_POINTER` (path or an out pointer NULL); `MEDAUDIT_INVALID_UTF8`;
/// `MEDAUDIT_INVALID_ARGUMENT` (the file cannot be read; the message names the path and the
/// system error); `MEDAUDIT_INVALID_JSON` (bad options); `MEDAUDIT_KNOWLEDGE_ERROR` (malformed
/// records: the message names the record index and field, `$[12].med_codes`);
/// `MEDAUDIT_PACK_ERROR` (a bad indication pattern); `MEDAUDIT_INTERNAL`.
///
/// Thread safety: any thread.
///
/// # Safety
/// `path` must be a NUL-terminated string; `options_json` NULL or NUL-terminated; the four out
/// pointers valid for writes.
#[no_mangle]
pub unsafe extern "C" fn medaudit_national_import_file(
    path: *const c_char,
    options_json: *const c_char,
    out_pack: *mut *mut c_char,
    out_pack_len: *mut usize,
    out_coverage: *mut *mut c_char,
    out_coverage_len: *mut usize,
) -> MedauditStatus {
    guard("medaudit_national_import_file", || {
        // SAFETY: the caller promises each out pointer is NULL or valid for writes.
        unsafe {
            init_out(out_pack, std::ptr::null_mut());
            init_out(out_pack_len, 0);
            init_out(out_coverage, std::ptr::null_mut());
            init_out(out_coverage_len, 0);
        }
        need(out_pack, "out_pack")?;
        need(out_pack_len, "out_pack_len")?;
        need(out_coverage, "out_coverage")?;
        need(out_coverage_len, "out_coverage_len")?;
        // SAFETY: forwarded caller contract.
        let imp = unsafe { import_file(path, options_json) }?;
        let pack = imp.pack_json.to_string();
        let cov = coverage_json(&imp)?;
        // SAFETY: out pointers checked non-NULL and valid for writes by contract.
        unsafe { give_string(pack, out_pack, out_pack_len) }?;
        // SAFETY: as above.
        if let Err(e) = unsafe { give_string(cov, out_coverage, out_coverage_len) } {
            // SAFETY: `*out_pack` was just written by give_string.
            let _ = crate::text::free_string(unsafe { *out_pack });
            // SAFETY: as above.
            unsafe {
                *out_pack = std::ptr::null_mut();
                *out_pack_len = 0;
            }
            return Err(e);
        }
        Ok(())
    })
}

/// Builds an engine from an NHSA knowledge-point records file (see
/// `medaudit_national_import_file` for `path`, `options_json` and the errors): the whole national
/// pack, ready to check claims. On success `*out` is a new engine (free it with
/// `medaudit_engine_free`); if `out_coverage` is not NULL, `*out_coverage` (length
/// `*out_coverage_len`, which must then be non-NULL) is the coverage report JSON, freed with
/// `medaudit_string_free`. On failure `*out` is NULL and no report is given.
///
/// Thread safety: any thread. Reloading a new batch: build a new engine, switch, free the old.
///
/// # Safety
/// As `medaudit_national_import_file`; `out` valid for writes; `out_coverage` NULL or valid for
/// writes together with `out_coverage_len`.
#[no_mangle]
pub unsafe extern "C" fn medaudit_engine_new_national_file(
    path: *const c_char,
    options_json: *const c_char,
    out: *mut *mut MedauditEngine,
    out_coverage: *mut *mut c_char,
    out_coverage_len: *mut usize,
) -> MedauditStatus {
    guard("medaudit_engine_new_national_file", || {
        // SAFETY: the caller promises each out pointer is NULL or valid for writes.
        unsafe {
            init_out(out, std::ptr::null_mut());
            init_out(out_coverage, std::ptr::null_mut());
            init_out(out_coverage_len, 0);
        }
        need(out, "out")?;
        if !out_coverage.is_null() {
            need(out_coverage_len, "out_coverage_len")?;
        }
        // SAFETY: forwarded caller contract.
        let imp = unsafe { import_file(path, options_json) }?;
        let cov = if out_coverage.is_null() { None } else { Some(coverage_json(&imp)?) };
        let engine = engine::build(imp.pack, Vec::new())?;
        if let Some(cov) = cov {
            // SAFETY: both pointers checked non-NULL and valid for writes by contract.
            unsafe { give_string(cov, out_coverage, out_coverage_len) }?;
        }
        // SAFETY: `out` is non-NULL (checked) and valid for writes by contract.
        unsafe { out.write(engine::register(engine)) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::options;

    #[test]
    fn the_callers_indications_survive_whatever_the_key_order() {
        const TSV: &str = "限原发性高血压。\tI10\t原发性高血压\n";
        let text = format!(r#"{{"indications_tsv": {tsv:?}, "starter_indications": false}}"#, tsv = TSV);
        let Ok(o) = options(Some(&text)) else { panic!("options refused: {text}") };
        assert_eq!(o.indications.len(), 1, "starter dropped, the caller's mapping kept");
        let text = format!(r#"{{"starter_indications": true, "indications_tsv": {tsv:?}}}"#, tsv = TSV);
        let Ok(o) = options(Some(&text)) else { panic!("options refused: {text}") };
        assert!(o.indications.len() > 1);
        assert!(o.indications.get("限原发性高血压。").is_some_and(|i| i.label == "原发性高血压"));
    }
}
