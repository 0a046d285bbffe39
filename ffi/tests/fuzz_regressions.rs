//! Replays the fuzz seed corpora (`ffi/fuzz/corpus/<target>/`) and every saved crash
//! (`ffi/fuzz/regressions/<target>/`) through the same code paths as the cargo-fuzz targets in
//! `ffi/fuzz/fuzz_targets/`, on the stable toolchain, so `cargo test --workspace` keeps fixed
//! crashes fixed. Any status or error is fine; a panic or crash fails the test.

use std::os::raw::c_char;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use medaudit::{medaudit_check_json, medaudit_engine_new, medaudit_string_free, MedauditEngine, MedauditStatus};
use medaudit_core::{claims::claims_from_json, CheckOptions, Engine, RulePack};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; `README.md` is skipped and a missing directory is empty.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.expect("read dir entry").path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Runs `one` on every seed and every saved regression input of `target`.
fn replay(target: &str, one: impl Fn(&[u8])) {
    let seeds = files(&fuzz_dir().join("corpus").join(target));
    let regressions = files(&fuzz_dir().join("regressions").join(target));
    assert!(!seeds.is_empty(), "no seed corpus for fuzz target {target}");
    for path in seeds.iter().chain(&regressions) {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{target}: {}", path.display());
        one(&data);
    }
}

struct FfiEngine(*mut MedauditEngine);
// SAFETY: the library documents engines as usable from any number of threads at once.
unsafe impl Send for FfiEngine {}
// SAFETY: as above.
unsafe impl Sync for FfiEngine {}

fn ffi_engine() -> *const MedauditEngine {
    static E: OnceLock<FfiEngine> = OnceLock::new();
    E.get_or_init(|| {
        let pack = medaudit_core::pack::SAMPLE_PACK_JSON;
        let mut out = std::ptr::null_mut();
        // SAFETY: `pack` is `pack.len()` readable bytes; `out` is valid for writes.
        let st = unsafe { medaudit_engine_new(pack.as_ptr().cast::<c_char>(), pack.len(), &mut out) };
        assert_eq!(st, MedauditStatus::MEDAUDIT_OK, "sample pack engine");
        FfiEngine(out)
    })
    .0
}

fn core_engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new(RulePack::sample().expect("sample pack")).expect("sample engine"))
}

/// Same as fuzz target `prealert_json`; returns the status.
fn prealert_json(data: &[u8]) -> MedauditStatus {
    let mut response: *mut c_char = std::ptr::null_mut();
    let mut len = 0usize;
    // SAFETY: `data` is `data.len()` readable bytes; the outputs are valid for writes.
    let st = unsafe {
        medaudit_check_json(ffi_engine(), data.as_ptr().cast::<c_char>(), data.len(), &mut response, &mut len)
    };
    if !response.is_null() {
        assert_eq!(medaudit_string_free(response), MedauditStatus::MEDAUDIT_OK);
    }
    st
}

/// Same as fuzz target `rule_pack`.
fn rule_pack(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(pack) = RulePack::from_json(text) {
            let _ = Engine::new(pack);
        }
    }
}

/// Same as fuzz target `claims_json`.
fn claims_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    if let Ok(claims) = claims_from_json(&value, "$") {
        let _ = core_engine().check(&claims, &CheckOptions::default());
    }
}

#[test]
fn prealert_json_inputs_never_crash() {
    replay("prealert_json", |d| {
        prealert_json(d);
    });
    // The seeds are meaningful: the valid 3101 request of examples/c/prealert.c is accepted.
    let request = std::fs::read(fuzz_dir().join("corpus/prealert_json/outpatient_3101.json")).expect("3101 seed");
    assert_eq!(prealert_json(&request), MedauditStatus::MEDAUDIT_OK);
}

#[test]
fn rule_pack_inputs_never_crash() {
    replay("rule_pack", rule_pack);
    // The sample pack seed builds an engine.
    let text = std::fs::read_to_string(fuzz_dir().join("corpus/rule_pack/sample.json")).expect("sample seed");
    Engine::new(RulePack::from_json(&text).expect("sample pack parses")).expect("sample engine");
}

#[test]
fn claims_json_inputs_never_crash() {
    replay("claims_json", claims_json);
    // The Arrow-variants seed (forced types) is valid claims and checks cleanly.
    let text = std::fs::read_to_string(fuzz_dir().join("corpus/claims_json/v04_arrow_variants.json")).expect("seed");
    let claims = claims_from_json(&serde_json::from_str(&text).expect("seed JSON"), "$").expect("seed claims");
    core_engine().check(&claims, &CheckOptions::default()).expect("seed checks");
}
