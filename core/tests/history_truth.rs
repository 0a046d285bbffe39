//! History rules against the history generator's ground truth: 100% recall and precision, and
//! the trace-code pattern of every duplicate.

use medaudit_core::synth::history::{generate, HistoryConfig, HistoryTruth, HISTORY_SCENARIOS};
use medaudit_core::{CheckOptions, Engine, RulePack};
use std::collections::BTreeSet;

fn key(t: &HistoryTruth) -> (String, String, Option<String>) {
    (t.rule_id.clone(), t.mdtrt_id.clone(), t.feedetl_sn.clone())
}

fn check(cfg: &HistoryConfig) {
    let data = generate(cfg);
    let engine = Engine::new(RulePack::history_sample().unwrap()).unwrap();
    let out = engine.check(&data.claims, &CheckOptions::default()).unwrap();
    assert!(out.unjudged.is_empty(), "{:?}", out.unjudged);
    let got: BTreeSet<_> =
        out.findings.iter().map(|f| (f.rule_id.clone(), f.mdtrt_id.clone(), f.feedetl_sn.clone())).collect();
    assert_eq!(got.len(), out.findings.len(), "one finding per (rule, encounter, line)");
    let want: BTreeSet<_> = data.truth.iter().map(key).collect();
    for rule in engine.pack().rules.iter().map(|r| r.id.as_str()) {
        let g: BTreeSet<_> = got.iter().filter(|t| t.0 == rule).collect();
        let w: BTreeSet<_> = want.iter().filter(|t| t.0 == rule).collect();
        assert!(!w.is_empty(), "rule {rule} never injected");
        let missed: Vec<_> = w.difference(&g).take(3).collect();
        let extra: Vec<_> = g.difference(&w).take(3).collect();
        assert!(missed.is_empty() && extra.is_empty(), "rule {rule}: missed {missed:?}, extra {extra:?}");
    }
    assert_eq!(got, want);
    // Every trace duplicate names its national pattern.
    for t in data.truth.iter().filter(|t| t.pattern.is_some()) {
        let f = out
            .findings
            .iter()
            .find(|f| f.rule_id == t.rule_id && f.feedetl_sn == t.feedetl_sn)
            .expect("trace finding");
        let p = t.pattern.as_deref().unwrap_or_default();
        assert!(f.message.contains(&format!("疑似{p}")), "{} should name {p}", f.message);
        assert!(f.related_feedetl_sn.is_some());
    }
}

#[test]
fn every_history_rule_has_full_recall_and_precision() {
    check(&HistoryConfig { persons: 3000, seed: 11, violation_rate: 0.4, ..Default::default() });
}

#[test]
fn list_trace_codes_give_the_same_answer() {
    check(&HistoryConfig { persons: 800, seed: 5, list_trace_codes: true, ..Default::default() });
}

#[test]
fn every_scenario_is_generated() {
    let data = generate(&HistoryConfig { persons: 400, violation_rate: 1.0, ..Default::default() });
    let patterns: BTreeSet<_> = data.truth.iter().filter_map(|t| t.pattern.clone()).collect();
    assert_eq!(patterns.len(), 3, "{patterns:?}");
    assert!(HISTORY_SCENARIOS.len() >= 13);
}
