//! `CheckOptions::progress`: called once per fee-lines batch with its line count; returning
//! `false` cancels the check with `Error::Cancelled`, on one thread and on several.

use medaudit_core::{synth, CheckOptions, Engine, Error, Progress, RulePack};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn data() -> synth::Synth {
    synth::generate(&synth::Config { encounters: 3000, seed: 5, batch_rows: 1000, ..Default::default() })
}

#[test]
fn progress_counts_every_line_and_changes_nothing() {
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let d = data();
    let seen = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let (s, c) = (seen.clone(), calls.clone());
    let opts = CheckOptions {
        progress: Some(Progress(Arc::new(move |n| {
            s.fetch_add(n, Ordering::Relaxed);
            c.fetch_add(1, Ordering::Relaxed);
            true
        }))),
        ..Default::default()
    };
    let with = engine.check(&d.claims, &opts).unwrap();
    let without = engine.check(&d.claims, &CheckOptions::default()).unwrap();
    assert_eq!(with, without);
    assert_eq!(seen.load(Ordering::Relaxed), d.lines);
    assert_eq!(calls.load(Ordering::Relaxed), d.claims.fee_details.len());
}

#[test]
fn returning_false_cancels_on_one_and_many_threads() {
    let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    let d = data();
    for threads in [0, 2] {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let opts = CheckOptions {
            threads,
            progress: Some(Progress(Arc::new(move |_| c.fetch_add(1, Ordering::Relaxed) < 2))),
            ..Default::default()
        };
        let err = engine.check(&d.claims, &opts).unwrap_err();
        assert_eq!(err, Error::Cancelled);
        assert_eq!(err.kind(), "cancelled");
        assert_eq!(err.to_string(), "check cancelled");
        assert!(calls.load(Ordering::Relaxed) >= 3);
    }
}
