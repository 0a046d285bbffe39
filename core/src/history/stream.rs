//! The streaming auditor: batches in time order, bounded state, findings once certain, state as
//! bytes.

use super::events::Events;
use super::extract::{self, Plan, Unjudged};
use super::merge;
use super::state::HistState;
use crate::claims::Claims;
use crate::engine::{CheckOptions, Engine};
use crate::error::{Error, Result};
use crate::findings::CheckOutput;
use crate::time::{day_of, format_datetime};
use serde::{Deserialize, Serialize};

/// Version of the byte format of [`Auditor::export_state`]; [`Auditor::import_state`] reads
/// only this version.
pub const STATE_FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"MDAHIST\0";
/// Stream days between two sweeps of stale state (stays long discharged, windows long past,
/// trace codes past their retention): the state may hold that much stale data in between.
const SWEEP_DAYS: i64 = 30;

/// Checks history rules on claims that arrive batch by batch (a HIS day by day, a nightly job).
///
/// Batches must come in time order up to `lateness_seconds`: an event (an encounter at its
/// `begntime`, a fee line at its `fee_ocur_time`) may arrive at most that long after the latest
/// event already seen; an earlier one is an error that names it, and the auditor is unchanged.
/// Each batch must hold, for every fee line, its encounter's `mdtrt` row when a rule needs the
/// person, facility or scene of the line and the line does not carry `psn_no` itself. An inpatient
/// stay is an event at its admission, so a stay settled at discharge arrives late by its length:
/// choose the lateness to cover the longest stay whose overlaps you want judged.
///
/// Events wait until every event that could still come before them is in; then they are judged
/// and their findings returned by [`Auditor::push`]. [`Auditor::finish`] judges the rest. The
/// findings of all calls together equal those of [`Engine::check`] over all batches at once.
///
/// ```
/// use medaudit_core::{history::Auditor, synth, CheckOptions, Engine, RulePack};
/// let engine = Engine::new(RulePack::history_sample()?)?;
/// let data = synth::history::generate(&synth::history::HistoryConfig { persons: 50, ..Default::default() });
/// let mut auditor = Auditor::new(&engine, &CheckOptions::default(), 90 * 86_400)?;
/// let mut found = auditor.push(&data.claims)?.findings;
/// let saved = auditor.export_state();
/// let mut resumed = Auditor::import_state(&engine, &saved)?;
/// found.extend(resumed.finish()?.findings);
/// assert_eq!(found.len(), data.truth.len());
/// # Ok::<(), medaudit_core::Error>(())
/// ```
pub struct Auditor<'e> {
    eng: &'e Engine,
    plan: Plan,
    s: Saved,
}

/// What the auditor keeps, as exported.
#[derive(Serialize, Deserialize)]
struct Saved {
    pack_id: String,
    /// (rule id, template) of every rule, to refuse state from another pack.
    rules: Vec<(String, String)>,
    /// The rules the auditor runs.
    active: Vec<bool>,
    lateness: i64,
    /// Latest event time seen.
    watermark: Option<i64>,
    /// Every event before this time has been judged.
    released: Option<i64>,
    /// When the state was last swept of entries no later event can need.
    swept: Option<i64>,
    buffer: Events,
    state: HistState,
}

/// The size of an auditor's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateStats {
    /// Persons with state.
    pub persons: usize,
    /// Trace codes with state.
    pub trace_codes: usize,
    /// Events waiting for the lateness window to pass.
    pub buffered_events: usize,
}

fn fingerprint(eng: &Engine) -> Vec<(String, String)> {
    eng.pack.rules.iter().map(|r| (r.id.clone(), r.template.name.to_string())).collect()
}

fn state_err(message: impl Into<String>) -> Error {
    Error::Argument { argument: "auditor state".into(), message: message.into() }
}

impl<'e> Auditor<'e> {
    /// An auditor for the history rules of `engine` that `options` select (stage, rule ids;
    /// `threads` is ignored), tolerating events up to `lateness_seconds` out of order.
    pub fn new(engine: &'e Engine, options: &CheckOptions, lateness_seconds: i64) -> Result<Self> {
        if lateness_seconds < 0 {
            return Err(Error::Argument {
                argument: "lateness_seconds".into(),
                message: "must not be negative".into(),
            });
        }
        let active = crate::engine::run::active_rules(engine, options)?;
        let plan = Plan::new(engine, &active);
        Ok(Auditor {
            eng: engine,
            s: Saved {
                pack_id: engine.pack.id.clone(),
                rules: fingerprint(engine),
                active: plan.active.clone(),
                lateness: lateness_seconds,
                watermark: None,
                released: None,
                swept: None,
                buffer: Events::default(),
                state: HistState::default(),
            },
            plan,
        })
    }

    /// Takes one batch; returns the findings that became certain (and what could not be judged).
    pub fn push(&mut self, claims: &Claims) -> Result<CheckOutput> {
        let mut out = CheckOutput::default();
        if self.plan.is_empty() {
            return Ok(out);
        }
        crate::engine::run::check_needs(self.eng, &self.plan.active, claims)?;
        let mut events = Events::default();
        let mut unj = Unjudged::new();
        extract::extract(self.eng, &self.plan, claims, &mut events, &mut unj)?;
        if let Some(r) = self.s.released {
            if let Some(late) = events.first_before(r) {
                let rule = self.eng.pack.rules.get(late.rule as usize).map_or("", |r| r.id.as_str());
                return Err(Error::Argument {
                    argument: "claims".into(),
                    message: format!(
                        "event of rule {rule:?} at {} (mdtrt_id {:?}{}) is before {}, the time up to which the auditor has already judged (latest event {} minus lateness {} s); batches must come in time order within the lateness",
                        format_datetime(late.time),
                        late.mdtrt_id,
                        late.sn.map(|s| format!(", feedetl_sn {s:?}")).unwrap_or_default(),
                        format_datetime(r),
                        self.s.watermark.map(format_datetime).unwrap_or_default(),
                        self.s.lateness
                    ),
                });
            }
        }
        if let Some(max) = events.max_time() {
            self.s.watermark = Some(self.s.watermark.map_or(max, |w| w.max(max)));
        }
        if self.s.buffer.len() == 0 {
            self.s.buffer = events;
        } else {
            self.s.buffer.append(&events);
        }
        if let Some(w) = self.s.watermark {
            let cutoff = w.saturating_sub(self.s.lateness);
            self.release(Some(cutoff), &mut out, &mut unj)?;
        } else {
            merge(self.eng, &mut out, Vec::new(), &unj);
        }
        Ok(out)
    }

    /// Judges every waiting event (the end of the stream, or of a period); later batches must
    /// then start after the latest event seen.
    pub fn finish(&mut self) -> Result<CheckOutput> {
        let mut out = CheckOutput::default();
        let mut unj = Unjudged::new();
        let end = self.s.watermark.map(|w| w.saturating_add(1));
        self.release(end, &mut out, &mut unj)?;
        Ok(out)
    }

    /// Judges buffered events before `cutoff` (all when `None`) and drops state they made stale.
    /// Fails only when the trace-code state is full (16 GiB of line ids); the auditor should
    /// then be dropped.
    fn release(&mut self, cutoff: Option<i64>, out: &mut CheckOutput, unj: &mut Unjudged) -> Result<()> {
        let mut ready = self.s.buffer.take_before(cutoff);
        ready.sort();
        let mut findings = Vec::new();
        self.s.state.feed(self.eng, &ready, &mut findings, unj)?;
        if let Some(c) = cutoff {
            let prev = self.s.released;
            if prev.is_none_or(|p| c > p) {
                self.s.released = Some(c);
                // Sweeping costs a pass over the whole state: once per SWEEP_DAYS of stream time.
                if self.s.swept.is_none_or(|p| day_of(c) - day_of(p) >= SWEEP_DAYS) {
                    self.s.state.sweep(self.eng, c);
                    self.s.swept = Some(c);
                }
            }
        }
        merge(self.eng, out, findings, unj);
        Ok(())
    }

    /// The size of the state.
    pub fn stats(&self) -> StateStats {
        StateStats {
            persons: self.s.state.persons.len(),
            trace_codes: self.s.state.trace_codes(),
            buffered_events: self.s.buffer.len(),
        }
    }

    /// The whole state as bytes: `MDAHIST\0`, the format version (u32 little-endian), then the
    /// state as JSON. Import it with [`Auditor::import_state`] into an engine built from the same
    /// pack.
    pub fn export_state(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&STATE_FORMAT_VERSION.to_le_bytes());
        // Serialising plain data to a Vec cannot fail; an empty body would be refused at import.
        out.extend(serde_json::to_vec(&self.s).unwrap_or_default());
        out
    }

    /// An auditor resumed from [`Auditor::export_state`] bytes. Fails, naming what is wrong, on
    /// bytes that are not such a state, another format version, or state of another pack.
    pub fn import_state(engine: &'e Engine, bytes: &[u8]) -> Result<Self> {
        let head =
            bytes.get(..8).ok_or_else(|| state_err(format!("{} bytes: too short to be auditor state", bytes.len())))?;
        if head != MAGIC {
            return Err(state_err("not medaudit auditor state (bad magic bytes)"));
        }
        let v = bytes
            .get(8..12)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| state_err("truncated: no format version"))?;
        if v != STATE_FORMAT_VERSION {
            return Err(state_err(format!("format version {v}; this library reads version {STATE_FORMAT_VERSION}")));
        }
        let s: Saved = serde_json::from_slice(bytes.get(12..).unwrap_or_default())
            .map_err(|e| state_err(format!("corrupt state body: {e}")))?;
        if s.pack_id != engine.pack.id || s.rules != fingerprint(engine) {
            return Err(state_err(format!(
                "state of pack {:?} with other rules; the engine runs pack {:?}",
                s.pack_id, engine.pack.id
            )));
        }
        let plan = Plan::new(engine, &s.active);
        if s.active.len() != engine.rules.len() {
            return Err(state_err("rule list does not match the engine"));
        }
        Ok(Auditor { eng: engine, plan, s })
    }
}
