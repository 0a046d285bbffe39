//! Patient history across encounters: the engine side of the history templates
//! ([`crate::templates`] `course`, `cycle_frequency`, `days_supply`, `readmission`,
//! `frequent_visits`, `overlapping_care`, `trace_duplicate`, `identity_change`).
//!
//! One mechanism serves every history rule and both ways in:
//!
//! 1. **events**: each active history rule turns the claims into owned events keyed by its
//!    partition key ([`PartitionKey`]): an encounter (mdtrt row, at `begntime`), a fee line its
//!    knowledge selects (at `fee_ocur_time`), or one trace code of a line;
//! 2. **order**: events are sorted by (rule, key, knowledge row, time, mdtrt_id, feedetl_sn);
//! 3. **judging**: each key's events run through the template's state machine, which keeps only
//!    what later events need (see [`StateStats`]; the README tabulates the sizes).
//!
//! *Bulk*: [`crate::Engine::check`] runs history rules over everything it is given, after the
//! line and encounter rules (on one thread: history is not split by encounter).
//! *Streaming*: an [`Auditor`] takes batches in time order, holds events back until no event
//! within the stated lateness can come before them, then judges them; findings are emitted as
//! soon as they are certain, and the state exports to bytes and imports again. Because both ways
//! judge each key's events in the same order with the same state machine, they give the same
//! findings whatever the batch split.
//! *Scale-out*: [`partition_claims`] cuts claims by person or by trace code so that checks per
//! partition give exactly the findings of one check.
//!
//! This module does no IO, starts no threads and keeps no global state.

mod events;
mod extract;
mod partition;
mod state;
mod stream;
mod trace_col;
mod trace_store;

pub use crate::templates::history::PartitionKey;
pub use partition::partition_claims;
pub use stream::{Auditor, StateStats, STATE_FORMAT_VERSION};
pub use trace_col::{TraceCol, TRACE_TYPES};

use crate::claims::Claims;
use crate::engine::{CheckOptions, Engine};
use crate::error::Result;
use crate::findings::{Finding, Output, Unjudged};
use crate::templates::history::Ev;
use crate::templates::Kernel;
use extract::Plan;
use std::cmp::Ordering;

impl Engine {
    /// The partition key of a rule: `Some(Person)` or `Some(TraceCode)` for history rules,
    /// `None` for line and encounter rules (any split that keeps each encounter whole is exact
    /// for them, and a split by person does).
    ///
    /// ```
    /// use medaudit_core::{history::PartitionKey, Engine, RulePack};
    /// let engine = Engine::new(RulePack::history_sample()?)?;
    /// assert_eq!(engine.partition_key("trace_duplicate"), Some(PartitionKey::TraceCode));
    /// assert_eq!(engine.partition_key("readmission_15d"), Some(PartitionKey::Person));
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn partition_key(&self, rule_id: &str) -> Option<PartitionKey> {
        let i = self.pack.rules.iter().position(|r| r.id == rule_id)?;
        match &self.rules.get(i)?.kernel {
            Kernel::History(h) => Some(h.partition_key()),
            _ => None,
        }
    }
}

/// Total order of events: the judging order, then every other field, so that events that compare
/// equal are identical and an unstable sort gives the same order whatever the batch split.
pub(crate) fn cmp_ev(a: &Ev, b: &Ev) -> Ordering {
    a.order_key()
        .cmp(&b.order_key())
        .then_with(|| a.code.cmp(&b.code))
        .then_with(|| a.end.cmp(&b.end))
        .then_with(|| a.fac.cmp(&b.fac))
        .then_with(|| a.amount.map(f64::to_bits).cmp(&b.amount.map(f64::to_bits)))
        .then_with(|| a.prd_days.map(f64::to_bits).cmp(&b.prd_days.map(f64::to_bits)))
        .then_with(|| a.cnt.map(f64::to_bits).cmp(&b.cnt.map(f64::to_bits)))
        .then_with(|| a.gend.cmp(&b.gend))
        .then_with(|| a.brdy.cmp(&b.brdy))
        .then_with(|| a.diag.cmp(&b.diag))
        .then_with(|| a.psn.cmp(&b.psn))
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.dept.cmp(&b.dept))
        .then_with(|| a.scene.cmp(&b.scene))
        .then_with(|| a.planned.cmp(&b.planned))
}

/// Runs the active history rules over `claims` and merges their findings into `out`.
pub(crate) fn check_into<O: Output>(eng: &Engine, claims: &Claims, opts: &CheckOptions, out: &mut O) -> Result<()> {
    // Most packs have no history rule: skip the second rule filtering on the pre-alert path.
    if !eng.rules.iter().any(|r| matches!(r.kernel, Kernel::History(_))) {
        return Ok(());
    }
    let active = crate::engine::run::active_rules(eng, opts)?;
    let plan = Plan::new(eng, &active);
    if plan.is_empty() {
        return Ok(());
    }
    crate::engine::run::check_needs(eng, &plan.active, claims)?;
    let mut events = events::Events::default();
    let mut unj = extract::Unjudged::new();
    extract::extract(eng, &plan, claims, &mut events, &mut unj)?;
    events.sort();
    let mut findings = Vec::new();
    state::HistState::default().feed(eng, &events, &mut findings, &mut unj)?;
    merge(eng, out, findings, &unj);
    Ok(())
}

/// Adds history findings and unjudged counts to `out`, in the engine's order.
pub(crate) fn merge<O: Output>(eng: &Engine, out: &mut O, findings: Vec<Finding>, unj: &extract::Unjudged) {
    let unjudged = unj
        .iter()
        .filter_map(|((r, reason), count)| {
            eng.pack.rules.get(*r as usize).map(|rule| Unjudged {
                rule_id: rule.id.clone(),
                reason: reason.to_string(),
                count: *count,
            })
        })
        .collect();
    let hist = O::from_findings(findings, unjudged);
    let lines = std::mem::replace(out, O::from_findings(Vec::new(), Vec::new()));
    *out = crate::engine::partition::merge(eng, vec![lines, hist], true);
}

/// The history sample pack's JSON text.
pub const HISTORY_PACK_JSON: &str = include_str!("../../packs/history.json");

impl crate::RulePack {
    /// A pack with one rule per history template (used by the examples, the tests and
    /// [`crate::synth::history`]).
    ///
    /// ```
    /// let pack = medaudit_core::RulePack::history_sample()?;
    /// assert_eq!(pack.rules.len(), 8);
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn history_sample() -> Result<Self> {
        Self::from_json(HISTORY_PACK_JSON)
    }
}
