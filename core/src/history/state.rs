//! The state history rules keep between events, and judging sorted events against it.
//!
//! State lives per partition key: per person (`psn_no`) a short list of (rule, knowledge row,
//! template state), and per trace code the same. Nothing else is kept: no lines, no encounters.

use super::events::Events;
use super::extract::Unjudged;
use super::trace_store::TraceStore;
use crate::engine::codes::FxHashMap;
use crate::engine::{Engine, NO_ROW};
use crate::error::Result;
use crate::findings::{At, Finding};
use crate::templates::history::{Ev, Hist, Outcome, PartitionKey, St, Verdict};
use crate::templates::Kernel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One rule's state for one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Slot {
    pub rule: u32,
    pub sub: u32,
    pub st: Option<St>,
}

/// Every key's state: per person a short list of slots, per trace-code rule a compact store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct HistState {
    pub persons: FxHashMap<Box<str>, Vec<Slot>>,
    pub traces: BTreeMap<u32, TraceStore>,
}

fn hist(eng: &Engine, rule: u32) -> Option<&Hist> {
    match eng.rules.get(rule as usize).map(|r| &r.kernel) {
        Some(Kernel::History(h)) => Some(h),
        _ => None,
    }
}

impl HistState {
    /// Judges `events`, sorted by [`Ev::order_key`], in order.
    pub fn feed(
        &mut self,
        eng: &Engine,
        events: &Events,
        findings: &mut Vec<Finding>,
        unj: &mut Unjudged,
    ) -> Result<()> {
        for ev in events.iter() {
            let ev = &ev;
            let Some(h) = hist(eng, ev.rule) else { continue };
            let outcome = match h.partition_key() {
                PartitionKey::TraceCode => {
                    let store = self.traces.entry(ev.rule).or_default();
                    // A code seen for the first time (nearly all of them) is only recorded.
                    if !store.contains(ev.key) {
                        store.record(ev.key, ev.time, ev.fac, ev.sn)?;
                        continue;
                    }
                    let mut st = store.get(ev.key).map(|s| St::Trace(Box::new(s)));
                    let o = h.step(&mut st, ev);
                    if let Some(St::Trace(s)) = &st {
                        store.put(ev.key, s)?;
                    }
                    o
                }
                PartitionKey::Person => {
                    let slots = match self.persons.get_mut(ev.key) {
                        Some(s) => s,
                        None => self.persons.entry(ev.key.into()).or_default(),
                    };
                    let i = match slots.iter().position(|s| s.rule == ev.rule && s.sub == ev.sub) {
                        Some(i) => i,
                        None => {
                            // Persons are many and hold few slots: grow one at a time.
                            slots.reserve_exact(1);
                            slots.push(Slot { rule: ev.rule, sub: ev.sub, st: None });
                            slots.len() - 1
                        }
                    };
                    let Some(slot) = slots.get_mut(i) else { continue };
                    let o = h.step(&mut slot.st, ev);
                    // A state that holds nothing (no open stay) is not kept.
                    if slot.st.as_ref().is_none_or(St::is_empty) {
                        slots.swap_remove(i);
                        if slots.is_empty() {
                            self.persons.remove(ev.key);
                        }
                    }
                    o
                }
            };
            match outcome {
                Outcome::Clear => {}
                Outcome::Unjudged(why) => *unj.entry((ev.rule, why)).or_default() += 1,
                Outcome::Hits(vs) => findings.extend(vs.into_iter().filter_map(|v| finding(eng, h, ev, v))),
            }
        }
        Ok(())
    }

    /// Drops state no later event (all at or after `cutoff`) can need.
    pub fn sweep(&mut self, eng: &Engine, cutoff: i64) {
        self.persons.retain(|_, slots| {
            slots.retain_mut(|s| match (hist(eng, s.rule), s.st.as_mut()) {
                (Some(h), Some(st)) => h.retain(st, s.sub, cutoff),
                _ => false,
            });
            !slots.is_empty()
        });
        for (rule, store) in &mut self.traces {
            if let Some(Hist::Trace(t)) = hist(eng, *rule) {
                if let Some(r) = t.retention {
                    store.retain(|time| cutoff - time <= r);
                }
            }
        }
    }

    /// Number of trace codes held, over all trace rules.
    pub fn trace_codes(&self) -> usize {
        self.traces.values().map(TraceStore::len).sum()
    }
}

/// Renders one finding.
fn finding(eng: &Engine, h: &Hist, ev: &Ev, v: Verdict) -> Option<Finding> {
    let rule = eng.pack.rules.get(ev.rule as usize)?;
    let cr = eng.rules.get(ev.rule as usize)?;
    let cite = if ev.sub == NO_ROW { None } else { cr.citation(ev.sub) };
    let at = At {
        // Person-keyed events leave psn to the key.
        psn_no: ev.psn.or((h.partition_key() == PartitionKey::Person).then_some(ev.key)),
        mdtrt_id: ev.mdtrt_id,
        fixmedins_code: ev.fac,
        feedetl_sn: ev.sn,
        item_code: ev.code,
        item_name: ev.name,
        bilg_dept_codg: ev.dept,
        related_feedetl_sn: v.related.as_deref(),
        amount: v.amount,
        id_extra: Some(if h.partition_key() == PartitionKey::TraceCode { ev.key } else { v.discr }),
    };
    Some(Finding::build(rule, cite, at, &v.args))
}
