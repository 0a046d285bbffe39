//! Checking on several threads: the fee lines are cut at encounter boundaries into zero-copy
//! slices, each slice is checked on its own thread, and the findings are merged into the order one
//! thread gives. A slice gets only its own range of encounter ids of `mdtrt` and `diagnoses` when
//! those tables are sorted by `mdtrt_id`, else the whole tables; operations are shared whole.
//! Errors name the caller's rows, not a slice's.
//!
//! This is only exact when every encounter's lines sit in one run, so the split is made only when
//! the runs of `mdtrt_id` along the lines are strictly increasing (lines grouped by encounter and
//! sorted, as exports usually are); otherwise the check runs on the calling thread. The threads are
//! scoped: none outlives the call.

use super::{run, CheckOptions, Engine};
use crate::claims::{Claims, ClaimsTable, StrCol};
use crate::error::Result;
use crate::findings::{Output, Unjudged};
use arrow_array::RecordBatch;
use std::collections::BTreeMap;

/// Below this many lines per thread the split costs more than it gains.
const MIN_LINES_PER_PART: usize = 50_000;

pub(crate) fn check<O: Output>(eng: &Engine, claims: &Claims, opts: &CheckOptions) -> Result<O> {
    let total: usize = claims.fee_details.iter().map(RecordBatch::num_rows).sum();
    let parts = opts.threads.min(total / MIN_LINES_PER_PART).max(1);
    let cuts = if parts > 1 { encounter_cuts(claims, parts) } else { None };
    let Some(cuts) = cuts else { return run::check(eng, claims, opts) };
    let pieces = pieces(claims, &cuts);
    let results: Vec<Result<O>> = std::thread::scope(|s| {
        let handles: Vec<_> = pieces
            .iter()
            .zip(&cuts)
            .map(|(p, &first_line)| s.spawn(move || run::check_from(eng, p, opts, first_line)))
            .collect();
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
    // The parts hold increasing ranges of encounter ids, and each part's findings are in order:
    // when every part boundary is in order too, the parts only need to be joined.
    let joined_in_order = outs.windows(2).all(|w| match (w.first(), w.get(1)) {
        (Some(a), Some(b)) => match (a.ends(), b.ends()) {
            (Some((_, x)), Some((y, _))) => x < y,
            _ => true,
        },
        _ => true,
    });
    Ok(merge(eng, outs, !joined_in_order))
}

/// The claims of each part: its fee lines, and, when `mdtrt` and `diagnoses` are sorted by
/// `mdtrt_id` (as exports usually are), only the rows of the part's range of encounter ids, so
/// that no thread indexes the diagnoses of the others. Unsorted tables are shared whole.
fn pieces(claims: &Claims, cuts: &[usize]) -> Vec<Claims> {
    // The encounter id at each inner cut: part k holds the ids in [bound k, bound k+1).
    let bounds: Option<Vec<&str>> =
        cuts.get(1..cuts.len().saturating_sub(1)).unwrap_or(&[]).iter().map(|&g| line_id(claims, g)).collect();
    // mdtrt ids must be strictly increasing: a duplicate id is an error that names its row, and
    // only the whole table gives the caller's row.
    let mdtrt = bounds.as_ref().and_then(|b| split_sorted(&claims.mdtrt, ClaimsTable::Mdtrt, claims, b, true));
    let diagnoses =
        bounds.as_ref().and_then(|b| split_sorted(&claims.diagnoses, ClaimsTable::Diagnoses, claims, b, false));
    cuts.windows(2)
        .enumerate()
        .filter_map(|(k, w)| {
            let mut c = slice_lines(claims, *w.first()?, *w.get(1)?);
            if let Some(m) = mdtrt.as_ref().and_then(|m| m.get(k)) {
                c.mdtrt = m.clone();
            }
            if let Some(d) = diagnoses.as_ref().and_then(|d| d.get(k)) {
                c.diagnoses = d.clone();
            }
            Some(c)
        })
        .collect()
}

/// The `mdtrt_id` of global fee line `g`.
fn line_id(claims: &Claims, g: usize) -> Option<&str> {
    let src = claims.column_map.source(ClaimsTable::FeeDetails, "mdtrt_id");
    let mut base = 0;
    for b in &claims.fee_details {
        if g < base + b.num_rows() {
            let idx = b.schema_ref().fields().iter().position(|f| f.name() == src)?;
            return StrCol::new(b.column(idx)).ok()?.get(g - base);
        }
        base += b.num_rows();
    }
    None
}

/// `batches` cut into `bounds.len() + 1` parts by `mdtrt_id` (part k: ids in [bounds k-1,
/// bounds k)), as zero-copy slices; `None` when the ids are not in non-decreasing order (in
/// increasing order when `strict`) or are null (then every part gets the whole table).
fn split_sorted(
    batches: &[RecordBatch],
    table: ClaimsTable,
    claims: &Claims,
    bounds: &[&str],
    strict: bool,
) -> Option<Vec<Vec<RecordBatch>>> {
    let src = claims.column_map.source(table, "mdtrt_id");
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); bounds.len() + 1];
    let mut k = 0;
    let mut prev: Option<&str> = None;
    for b in batches {
        let idx = b.schema_ref().fields().iter().position(|f| f.name() == src)?;
        let col = StrCol::new(b.column(idx)).ok()?;
        let mut start = 0;
        for r in 0..b.num_rows() {
            let id = col.get(r)?;
            if prev.is_some_and(|p| if crate::engine::codes::same_str(p, id) { strict } else { p > id }) {
                return None;
            }
            prev = Some(id);
            while bounds.get(k).is_some_and(|&bd| id >= bd) {
                if r > start {
                    parts.get_mut(k)?.push(b.slice(start, r - start));
                }
                start = r;
                k += 1;
            }
        }
        if b.num_rows() > start {
            parts.get_mut(k)?.push(b.slice(start, b.num_rows() - start));
        }
    }
    Some(parts)
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
/// point), unjudged counts summed; `sort` is false when the parts are known to be in that order
/// one after the other.
pub(crate) fn merge<O: Output>(eng: &Engine, outs: Vec<O>, sort: bool) -> O {
    let pos: BTreeMap<&str, usize> = eng.pack.rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let rank = |id: &str| pos.get(id).copied().unwrap_or(usize::MAX);
    let mut unjudged: BTreeMap<(usize, String), u64> = BTreeMap::new();
    for o in &outs {
        for u in o.unjudged() {
            *unjudged.entry((rank(&u.rule_id), u.reason.clone())).or_default() += u.count;
        }
    }
    let unjudged = unjudged
        .into_iter()
        .filter_map(|((r, reason), count)| {
            eng.pack.rules.get(r).map(|rule| Unjudged { rule_id: rule.id.clone(), reason, count })
        })
        .collect();
    O::join(outs, sort.then_some(&rank), unjudged)
}
