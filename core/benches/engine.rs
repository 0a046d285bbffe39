//! Criterion benchmarks of `Engine::check` on synthetic claims.
//!
//! ```text
//! cargo bench -p medaudit-core --bench engine            # all groups, about a minute
//! cargo bench -p medaudit-core --bench engine -- latency # one group
//! ```
//!
//! * `line_level`: the eight line-level templates of the sample pack (sex, age, insutype,
//!   hosp_level, scene, dept, price_cap, not_payable) over about 2 million generated lines, with a
//!   plain Utf8 code column and with dictionary-encoded code columns.
//! * `whole_pack`: every rule of the sample pack over the same lines.
//! * `latency`: one 20-line encounter (sliced out of generated data, so zero-copy) through
//!   `Engine::check`, whole pack and line-level rules only.
//!
//! Throughput is reported in fee lines (`Throughput::Elements`). These are measurements only:
//! nothing here asserts a time.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use medaudit_core::synth::{self, Config};
use medaudit_core::{CheckOptions, Claims, Engine, RulePack};
use std::hint::black_box;
use std::time::Duration;

/// About 2 million fee lines (the generator makes about 7.7 lines per encounter).
const ENCOUNTERS: usize = 260_000;
const SEED: u64 = 20_260_301;
const LINE_RULES: [&str; 8] = ["sex", "age", "insutype", "hosp_level", "scene", "dept", "price_cap", "not_payable"];

fn engine() -> Engine {
    Engine::new(RulePack::sample().expect("the sample pack loads")).expect("the sample pack compiles")
}

fn line_level() -> CheckOptions {
    CheckOptions { rule_ids: Some(LINE_RULES.iter().map(|s| s.to_string()).collect()), ..Default::default() }
}

fn data(dictionary: bool) -> synth::Synth {
    synth::generate(&Config { encounters: ENCOUNTERS, seed: SEED, dictionary, ..Default::default() })
}

fn bulk(c: &mut Criterion) {
    let engine = engine();
    let plain = data(false);
    let dict = data(true);
    let lines = plain.lines as u64;
    let inputs = [("plain_utf8", &plain.claims), ("dictionary", &dict.claims)];

    let mut g = c.benchmark_group("line_level");
    g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4)).throughput(Throughput::Elements(lines));
    let opts = line_level();
    for (name, claims) in inputs {
        g.bench_with_input(BenchmarkId::new("lines", name), claims, |b, claims| {
            b.iter(|| engine.check(black_box(claims), &opts).expect("check runs"))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("whole_pack");
    g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(6)).throughput(Throughput::Elements(lines));
    let opts = CheckOptions::default();
    for (name, claims) in inputs {
        g.bench_with_input(BenchmarkId::new("lines", name), claims, |b, claims| {
            b.iter(|| engine.check(black_box(claims), &opts).expect("check runs"))
        });
    }
    g.finish();
}

/// The first encounter with exactly `lines` fee lines, as claims of its own (zero-copy slices).
fn one_encounter(claims: &Claims, lines: usize) -> Claims {
    let one = |b: &[RecordBatch]| b.first().cloned().expect("synth makes one batch per table");
    let (mdtrt, diag, ops, fee) =
        (one(&claims.mdtrt), one(&claims.diagnoses), one(&claims.operations), one(&claims.fee_details));
    let ids = |b: &RecordBatch| b.column_by_name("mdtrt_id").expect("mdtrt_id column").as_string::<i32>().clone();
    let fee_ids = ids(&fee);
    let mut start = 0;
    let (start, id) = loop {
        assert!(start < fee_ids.len(), "no encounter with {lines} lines");
        let id = fee_ids.value(start);
        let n = (start..fee_ids.len()).take_while(|&i| fee_ids.value(i) == id).count();
        if n == lines {
            break (start, id.to_string());
        }
        start += n;
    };
    // Rows of `id` in a table sorted by encounter.
    let rows = |b: &RecordBatch| -> RecordBatch {
        let ids = ids(b);
        let first = (0..ids.len()).find(|&i| ids.value(i) == id);
        match first {
            Some(f) => b.slice(f, (f..ids.len()).take_while(|&i| ids.value(i) == id).count()),
            None => b.slice(0, 0),
        }
    };
    Claims {
        mdtrt: vec![rows(&mdtrt)],
        diagnoses: vec![rows(&diag)],
        operations: vec![rows(&ops)],
        fee_details: vec![fee.slice(start, lines)],
        column_map: Default::default(),
    }
}

fn latency(c: &mut Criterion) {
    let engine = engine();
    let small = synth::generate(&Config { encounters: 5_000, seed: SEED, ..Default::default() });
    let enc = one_encounter(&small.claims, 20);
    assert_eq!(enc.mdtrt.first().map(RecordBatch::num_rows), Some(1));
    let mut g = c.benchmark_group("latency");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(20));
    for (name, opts) in [("whole_pack", CheckOptions::default()), ("line_level", line_level())] {
        g.bench_with_input(BenchmarkId::new("one_encounter_20_lines", name), &enc, |b, enc| {
            b.iter(|| engine.check(black_box(enc), &opts).expect("check runs"))
        });
    }
    g.finish();
}

criterion_group!(benches, bulk, latency);
criterion_main!(benches);
