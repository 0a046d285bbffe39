//! Recall and precision of every rule of the sample pack against the generator's ground truth.

use medaudit_core::synth::{self, Config, Truth, INJECTED_RULES};
use medaudit_core::{CheckOptions, Engine, RulePack};
use std::collections::BTreeSet;

fn findings_as_truth(cfg: &Config) -> (BTreeSet<Truth>, BTreeSet<Truth>) {
    let data = synth::generate(cfg);
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let out = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    assert!(out.unjudged.is_empty(), "clean synthetic data should be fully judged: {:?}", out.unjudged);
    let got: BTreeSet<Truth> = out
        .findings
        .iter()
        .map(|f| Truth { rule_id: f.rule_id.clone(), mdtrt_id: f.mdtrt_id.clone(), feedetl_sn: f.feedetl_sn.clone() })
        .collect();
    assert_eq!(got.len(), out.findings.len(), "one finding per (rule, line)");
    (got, data.truth.into_iter().collect())
}

#[test]
fn every_rule_has_full_recall_and_precision() {
    let cfg = Config { encounters: 4000, seed: 42, violation_rate: 0.15, ..Default::default() };
    let (got, want) = findings_as_truth(&cfg);
    for rule in INJECTED_RULES {
        let g: BTreeSet<_> = got.iter().filter(|t| t.rule_id == *rule).collect();
        let w: BTreeSet<_> = want.iter().filter(|t| t.rule_id == *rule).collect();
        assert!(!w.is_empty(), "rule {rule} was never injected");
        let missed: Vec<_> = w.difference(&g).take(3).collect();
        let extra: Vec<_> = g.difference(&w).take(3).collect();
        assert!(missed.is_empty() && extra.is_empty(), "rule {rule}: missed {missed:?}, extra {extra:?}");
    }
    assert_eq!(got, want);
}

#[test]
fn dictionary_and_batches_give_the_same_findings() {
    let base = Config { encounters: 1500, seed: 7, ..Default::default() };
    let (a, truth) = findings_as_truth(&base);
    let (b, _) = findings_as_truth(&Config { dictionary: true, batch_rows: 997, ..base.clone() });
    assert_eq!(a, truth);
    assert_eq!(a, b);
}

#[test]
fn threads_give_the_same_findings_as_one_thread() {
    let claims = |batch_rows| {
        synth::generate(&Config { encounters: 22_000, seed: 9, violation_rate: 0.05, batch_rows, ..Default::default() })
    };
    let data = claims(40_000);
    assert!(data.lines >= 150_000, "{} lines", data.lines);
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let one = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    // The table path (`check_batch`) joins and sorts its parts by its own code: same rows.
    let table = one.to_record_batch();
    for threads in [2, 3, 8] {
        let opts = CheckOptions { threads, ..Default::default() };
        let many = engine.check(&data.claims, &opts).unwrap();
        assert_eq!(one, many, "threads = {threads}");
        assert_eq!(engine.check_batch(&data.claims, &opts).unwrap().findings, table, "threads = {threads}");
    }
    // Lines not grouped in increasing encounter order: the check stays on one thread, same answer.
    let mut shuffled = data.claims.clone();
    shuffled.fee_details.reverse();
    let fallback = engine.check(&shuffled, &CheckOptions { threads: 2, ..Default::default() }).unwrap();
    assert_eq!(one, fallback);
    // Sorted lines with mdtrt and diagnoses out of order: the threads cannot give each part only
    // its own rows, so each part reads the whole tables; same answer.
    let mut unsorted = data.claims.clone();
    unsorted.mdtrt.reverse();
    unsorted.diagnoses.reverse();
    for threads in [2, 3] {
        let opts = CheckOptions { threads, ..Default::default() };
        let many = engine.check(&unsorted, &opts).unwrap();
        assert_eq!(one, many, "unsorted tables, threads = {threads}");
        assert_eq!(engine.check_batch(&unsorted, &opts).unwrap().findings, table, "unsorted, threads = {threads}");
    }
    // Many small batches: the parts' cuts fall inside and between batches of every table.
    let small = claims(997);
    let one_small = engine.check(&small.claims, &CheckOptions::default()).unwrap();
    assert_eq!(one, one_small);
    for threads in [2, 5] {
        let opts = CheckOptions { threads, ..Default::default() };
        let many = engine.check(&small.claims, &opts).unwrap();
        assert_eq!(one, many, "small batches, threads = {threads}");
        assert_eq!(engine.check_batch(&small.claims, &opts).unwrap().findings, table, "small, threads = {threads}");
    }
}

#[test]
fn errors_on_threads_name_the_callers_row() {
    use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};
    use std::sync::Arc;
    let data = synth::generate(&Config { encounters: 22_000, seed: 9, ..Default::default() });
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    // A null unit price on a line late in the input: amount_mismatch needs it.
    let mut claims = data.claims.clone();
    let b = claims.fee_details[0].clone();
    let at = b.num_rows() - 10;
    let i = b.schema().index_of("pric").unwrap();
    let pric = b.column(i).as_any().downcast_ref::<Float64Array>().unwrap();
    let nulled: Float64Array = (0..pric.len()).map(|r| (r != at).then(|| pric.value(r))).collect();
    let mut cols: Vec<ArrayRef> = b.columns().to_vec();
    cols[i] = Arc::new(nulled);
    claims.fee_details[0] = RecordBatch::try_new(b.schema(), cols).unwrap();
    let one = engine.check(&claims, &CheckOptions::default()).unwrap_err().to_string();
    assert!(one.contains(&format!("row {at}")), "{one}");
    for threads in [2, 3] {
        let many = engine.check(&claims, &CheckOptions { threads, ..Default::default() }).unwrap_err().to_string();
        assert_eq!(one, many, "threads = {threads}");
    }
    // A duplicate encounter id in a sorted mdtrt table: the error names the caller's row too.
    let mut dup = data.claims.clone();
    let m = dup.mdtrt[0].clone();
    let n = m.num_rows();
    dup.mdtrt = vec![m.slice(0, n - 5), m.slice(n - 6, 6)];
    let one = engine.check(&dup, &CheckOptions::default()).unwrap_err().to_string();
    assert!(one.contains("duplicate encounter id"), "{one}");
    let many = engine.check(&dup, &CheckOptions { threads: 2, ..Default::default() }).unwrap_err().to_string();
    assert_eq!(one, many);
}
