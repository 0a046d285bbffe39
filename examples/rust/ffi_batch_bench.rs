//! ffi_batch_bench: the C ABI's Arrow batch call (`medaudit_check_arrow`) against the Rust API on the
//! same generated claims, to measure what the boundary costs (issue: within 10% of the Rust API).
//!
//! ```text
//! cargo run --release -p medaudit-ffi --example ffi_batch_bench -- [LINES]   # default 3,000,000
//! ```
//!
//! The claims are exported as Arrow C streams exactly as a C host would hand them over (zero copy),
//! checked through the C function with input validation on (the default) and off, and the findings
//! stream is read back; times are wall time, best of 3, one thread.

use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::{RecordBatch, RecordBatchIterator};
use medaudit::{medaudit_check_arrow, medaudit_engine_free, medaudit_engine_new, MedauditEngine, MedauditStatus};
use medaudit_core::synth::{self, Config};
use medaudit_core::{CheckOptions, Engine, RulePack};
use std::ffi::CString;
use std::time::{Duration, Instant};

fn stream(batches: &[RecordBatch]) -> FFI_ArrowArrayStream {
    let schema = batches.first().map(RecordBatch::schema).expect("generated tables have a batch");
    // The stream must own its batches (the reader is 'static): clone the Arcs, not the data.
    let owned: Vec<RecordBatch> = batches.to_vec();
    FFI_ArrowArrayStream::new(Box::new(RecordBatchIterator::new(owned.into_iter().map(Ok), schema)))
}

fn best(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut out = (Duration::MAX, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let n = f();
        out = (out.0.min(t.elapsed()), n);
    }
    out
}

fn main() {
    let lines: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3_000_000);
    let data =
        synth::generate(&Config { encounters: lines * 10 / 77, seed: 7, violation_rate: 0.02, ..Default::default() });
    let c = &data.claims;
    println!("{} fee lines, {} encounters", data.lines, c.mdtrt.iter().map(RecordBatch::num_rows).sum::<usize>());

    let engine = Engine::new(RulePack::sample().expect("sample pack")).expect("engine");
    let (rust, n_rust) = best(|| engine.check(c, &CheckOptions::default()).expect("check").findings.len());

    let pack = CString::new(medaudit_core::pack::SAMPLE_PACK_JSON).expect("pack text has no NUL");
    let mut handle: *mut MedauditEngine = std::ptr::null_mut();
    // SAFETY: a valid NUL-terminated pack, its length, and a valid out pointer.
    let st = unsafe { medaudit_engine_new(pack.as_ptr(), medaudit_core::pack::SAMPLE_PACK_JSON.len(), &mut handle) };
    assert_eq!(st, MedauditStatus::MEDAUDIT_OK);
    let run = |options: &str| {
        let opts = CString::new(options).expect("options");
        best(|| {
            let (mut f, mut m, mut d, mut o) =
                (stream(&c.fee_details), stream(&c.mdtrt), stream(&c.diagnoses), stream(&c.operations));
            let mut out = FFI_ArrowArrayStream::empty();
            // SAFETY: the engine handle is live; each input stream is valid and handed over; `out`
            // is an empty stream the library fills and we then own.
            let st = unsafe { medaudit_check_arrow(handle, &mut f, &mut m, &mut d, &mut o, opts.as_ptr(), &mut out) };
            assert_eq!(st, MedauditStatus::MEDAUDIT_OK);
            let reader = RecordBatchStreamReader::try_new(out).expect("findings stream");
            reader.map(|b| b.expect("findings batch").num_rows()).sum()
        })
    };
    let (ffi_v, n_v) = run(r#"{"validate": true}"#);
    let (ffi_nv, n_nv) = run(r#"{"validate": false}"#);
    medaudit_engine_free(handle);
    assert!(n_rust == n_v && n_v == n_nv, "finding counts differ: {n_rust} {n_v} {n_nv}");
    let pct = |d: Duration| 100.0 * (d.as_secs_f64() / rust.as_secs_f64() - 1.0);
    println!("Rust API                         {:>8.3} s  {n_rust} findings", rust.as_secs_f64());
    println!("C ABI Arrow call, validated      {:>8.3} s  ({:+.1}% vs Rust)", ffi_v.as_secs_f64(), pct(ffi_v));
    println!("C ABI Arrow call, validate=false {:>8.3} s  ({:+.1}% vs Rust)", ffi_nv.as_secs_f64(), pct(ffi_nv));
}
