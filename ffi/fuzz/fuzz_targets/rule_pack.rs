//! Fuzz input = rule pack JSON: `RulePack::from_json`, then `Engine::new` when it parses. Errors
//! are fine; it must never panic. Replayed by `ffi/tests/fuzz_regressions.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use medaudit_core::{Engine, RulePack};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(pack) = RulePack::from_json(text) {
            let _ = Engine::new(pack);
        }
    }
});
