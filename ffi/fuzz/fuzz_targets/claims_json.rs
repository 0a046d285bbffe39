//! Fuzz input = claims JSON (the conformance-vector form, with `types` forcing Arrow types):
//! `claims_from_json`, then `Engine::check` on the sample pack engine. Errors are fine; it must
//! never panic. Replayed by `ffi/tests/fuzz_regressions.rs`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use medaudit_core::{claims::claims_from_json, CheckOptions, Engine, RulePack};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new(RulePack::sample().expect("sample pack")).expect("sample engine"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    if let Ok(claims) = claims_from_json(&value, "$") {
        let _ = engine().check(&claims, &CheckOptions::default());
    }
});
