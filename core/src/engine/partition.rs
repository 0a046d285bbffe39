//! Checking on several threads: the fee lines are cut at encounter boundaries into zero-copy
//! slices, each slice is checked on its own thread against the shared encounter, diagnosis and
//! operation tables, and the findings are merged into the order one thread gives.
//!
//! This is only exact when every encounter's lines sit in one run, so the split is made only when
//! the runs of `mdtrt_id` along the lines are strictly increasing (lines grouped by encounter and
//! sorted, as exports usually are); otherwise the check runs on the calling thread. The threads are
//! scoped: none outlives the call.

use super::{run, CheckOptions, Engine};
use crate::claims::{Claims, ClaimsTable, StrCol};
use crate::error::Result;
use crate::findings::{CheckOutput, Unjudged};
use arrow_array::RecordBatch;
use std::collections::BTreeMap;

/// Below this many lines per thread the split costs more than it gains.
const MIN_LINES_PER_PART: usize = 50_000;

pub(crate) fn check(eng: &Engine, claims: &Claims, opts: &CheckOptions) -> Result<CheckOutput> {
    let total: usize = claims.fee_details.iter().map(RecordBatch::num_rows).sum();
    let parts = opts.threads.min(total / MIN_LINES_PER_PART).max(1);
    let cuts = if parts > 1 { encounter_cuts(claims, parts) } else { None };
    let Some(cuts) = cuts else { return run::check(eng, claims, opts) };
    let pieces: Vec<Claims> =
        cuts.windows(2).filter_map(|w| Some(slice_lines(claims, *w.first()?, *w.get(1)?))).collect();
    let results: Vec<Result<CheckOutput>> = std::thread::scope(|s| {
        let handles: Vec<_> = pieces.iter().map(|p| s.spawn(move || run::check(eng, p, opts))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(crate::error::Error::Argument {
                        argument: "threads".into(),
                        message: "internal: a checking thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut outs = Vec::with_capacity(results.len());
    for r in results {
        outs.push(r?);
    }
    Ok(merge(eng, outs))
}

/// Global line positions where the lines split into `parts` runs of whole encounters, or `None`
/// when the lines are not grouped by increasing `mdtrt_id`.
fn encounter_cuts(claims: &Claims, parts: usize) -> Option<Vec<usize>> {
    let total: usize = claims.fee_details.iter().map(RecordBatch::num_rows).sum();
    let map = &claims.column_map;
    let src = map.source(ClaimsTable::FeeDetails, "mdtrt_id");
    let mut cuts = vec![0];
    let mut prev: Option<&str> = None;
    let mut base = 0;
    for b in &claims.fee_details {
        let idx = b.schema_ref().fields().iter().position(|f| f.name() == src)?;
        let col = StrCol::new(b.column(idx)).ok()?;
        for r in 0..b.num_rows() {
            let id = col.get(r)?;
            match prev {
                Some(p) if p == id => {}
                Some(p) if p > id => return None,
                Some(_) => {
                    // A new encounter starts here: cut if the current part is full.
                    let g = base + r;
                    if cuts.len() < parts && g * parts >= total * cuts.len() {
                        cuts.push(g);
                    }
                }
                None => {}
            }
            prev = Some(id);
        }
        base += b.num_rows();
    }
    cuts.push(total);
    (cuts.len() > 2).then_some(cuts)
}

/// The claims with only the fee lines in global positions `[lo, hi)` (zero-copy slices).
fn slice_lines(claims: &Claims, lo: usize, hi: usize) -> Claims {
    let mut fee = Vec::new();
    let mut base = 0;
    for b in &claims.fee_details {
        let (start, end) = (base, base + b.num_rows());
        let (a, z) = (lo.max(start), hi.min(end));
        if a < z {
            fee.push(b.slice(a - start, z - a));
        }
        base = end;
    }
    Claims { fee_details: fee, ..claims.clone() }
}

/// Findings in the one-thread order (encounter, line, rule position, related line, knowledge
/// point), unjudged counts summed.
pub(crate) fn merge(eng: &Engine, outs: Vec<CheckOutput>) -> CheckOutput {
    let pos: BTreeMap<&str, usize> = eng.pack.rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let rank = |id: &str| pos.get(id).copied().unwrap_or(usize::MAX);
    let mut findings = Vec::new();
    let mut unjudged: BTreeMap<(usize, String), u64> = BTreeMap::new();
    for o in outs {
        findings.extend(o.findings);
        for u in o.unjudged {
            *unjudged.entry((rank(&u.rule_id), u.reason)).or_default() += u.count;
        }
    }
    findings.sort_by(|a, b| {
        (&a.mdtrt_id, &a.feedetl_sn, rank(&a.rule_id), &a.related_feedetl_sn, &a.kp_id, &a.finding_id).cmp(&(
            &b.mdtrt_id,
            &b.feedetl_sn,
            rank(&b.rule_id),
            &b.related_feedetl_sn,
            &b.kp_id,
            &b.finding_id,
        ))
    });
    let unjudged = unjudged
        .into_iter()
        .filter_map(|((r, reason), count)| {
            eng.pack.rules.get(r).map(|rule| Unjudged { rule_id: rule.id.clone(), reason, count })
        })
        .collect();
    CheckOutput { findings, unjudged }
}
