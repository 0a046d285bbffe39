//! Fuzz input = a 3101 request (pointer + length, not NUL-terminated) to `medaudit_check_json` on
//! one engine built once from the sample pack through the C ABI. Any status is fine; it must
//! never crash. Replayed by `ffi/tests/fuzz_regressions.rs`.
#![no_main]

use std::os::raw::c_char;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use medaudit::{medaudit_check_json, medaudit_engine_new, medaudit_string_free, MedauditEngine, MedauditStatus};

struct Engine(*mut MedauditEngine);
// SAFETY: the library documents engines as usable from any number of threads at once.
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

fn engine() -> *const MedauditEngine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let pack = medaudit_core::pack::SAMPLE_PACK_JSON;
        let mut out = std::ptr::null_mut();
        // SAFETY: `pack` is `pack.len()` readable bytes; `out` is valid for writes.
        let st = unsafe { medaudit_engine_new(pack.as_ptr().cast::<c_char>(), pack.len(), &mut out) };
        assert_eq!(st, MedauditStatus::MEDAUDIT_OK, "sample pack engine");
        Engine(out)
    })
    .0
}

fuzz_target!(|data: &[u8]| {
    let mut response: *mut c_char = std::ptr::null_mut();
    let mut len = 0usize;
    // SAFETY: `data` is `data.len()` readable bytes; the outputs are valid for writes.
    let _ =
        unsafe { medaudit_check_json(engine(), data.as_ptr().cast::<c_char>(), data.len(), &mut response, &mut len) };
    if !response.is_null() {
        assert_eq!(medaudit_string_free(response), MedauditStatus::MEDAUDIT_OK);
    }
});
