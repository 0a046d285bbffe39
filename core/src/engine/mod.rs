//! The engine: a rule pack compiled against its knowledge, checking claims.
//!
//! Compilation turns every knowledge row of every rule into an *entry* (rule, row, role, effective
//! range) and indexes all entries of all rules by code in one [`codes::CodeIndex`]. A check then:
//!
//! 1. reads `mdtrt` into an encounter table (and ORs each diagnosis's code-set bits into its
//!    encounter, each distinct diagnosis code matched once by the code-set automaton);
//! 2. maps each distinct fee-line code to its list of active entries once (for a dictionary
//!    column, once per dictionary value), so that the lines carry small integers;
//! 3. makes one pass over the lines: data-quality rules see every line; a line whose code has
//!    entries is judged by every line-level rule at once, and feeds the windowed rules an event;
//! 4. sorts each windowed rule's events by (encounter, key, time, input position) and judges
//!    each group;
//! 5. renders and orders the findings.
//!
//! An [`Engine`] is immutable and `Send + Sync`: share it across threads; rebuild it to load new
//! knowledge. It starts no threads and does no IO.

pub(crate) mod builder;
pub(crate) mod codes;
pub(crate) mod compile;
pub(crate) mod encounters;
pub(crate) mod partition;
pub(crate) mod run;

use crate::claims::Claims;
use crate::error::Result;
use crate::findings::{CheckBatch, CheckOutput, Output};
use crate::knowledge::KnowledgeTable;
use crate::pack::{RulePack, Stage};

pub use builder::EngineBuilder;
pub(crate) use compile::{CompiledRule, Entry, NO_ROW};

/// A compiled rule pack.
pub struct Engine {
    pub(crate) pack: RulePack,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) entries: Vec<Entry>,
    pub(crate) index: codes::CodeIndex,
    pub(crate) code_sets: codes::CodeSets,
    /// The pack's `scenes`: med_type code or prefix → scene bit.
    pub(crate) scenes: encounters::SceneMap,
}

/// Which rules a check runs.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Run only rules that declare this stage (事前 pre-alert, 事中, 事后); all rules when `None`.
    pub stage: Option<Stage>,
    /// Run only these rule ids (each must exist); all when `None`.
    pub rule_ids: Option<Vec<String>>,
    /// Threads to check on (0 or 1: the calling thread only; a pack with DRG stay rules always
    /// checks on the calling thread). More threads are used only when the
    /// fee lines come grouped by encounter in increasing `mdtrt_id` order (the split must keep each
    /// encounter whole) and there are at least 50,000 lines per thread; the findings are the same
    /// as on one thread. The threads are scoped to the call.
    pub threads: usize,
    /// Called after each `fee_details` batch of the line pass with the number of lines it held;
    /// returning `false` stops the check with [`Error::Cancelled`](crate::Error::Cancelled). For
    /// progress bars and interruption (the Python binding's Ctrl-C); with `threads` > 1 it is called
    /// from the checking threads. Batches are the caller's: to be called more often, pass smaller
    /// zero-copy slices (splitting never changes the findings). `None`: no calls.
    pub progress: Option<Progress>,
}

/// The progress callback of [`CheckOptions::progress`]: lines just checked → go on?
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(usize) -> bool + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Engine {
    /// Compiles a pack whose knowledge is inline.
    ///
    /// ```
    /// use medaudit_core::{Engine, RulePack};
    /// let engine = Engine::new(RulePack::sample().unwrap()).unwrap();
    /// assert!(engine.pack().rules.len() >= 19);
    /// ```
    pub fn new(pack: RulePack) -> Result<Self> {
        Self::with_knowledge(pack, Vec::new())
    }

    /// Compiles a pack with knowledge tables given by the caller (from Arrow batches with
    /// [`KnowledgeTable::from_record_batches`]). A given table replaces the pack's inline rows of
    /// the same name; every given table must be declared in the pack's `knowledge`.
    pub fn with_knowledge(pack: RulePack, tables: Vec<KnowledgeTable>) -> Result<Self> {
        compile::build(pack, tables, builder::Payment::default())
    }

    /// The pack this engine was built from.
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// Checks claims and returns the findings as records.
    ///
    /// ```
    /// use medaudit_core::{synth, CheckOptions, Engine, RulePack};
    /// let engine = Engine::new(RulePack::sample()?)?;
    /// let data = synth::generate(&synth::Config { encounters: 50, seed: 3, ..Default::default() });
    /// let out = engine.check(&data.claims, &CheckOptions::default())?;
    /// assert!(out.findings.iter().all(|f| !f.message.is_empty()));
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn check(&self, claims: &Claims, options: &CheckOptions) -> Result<CheckOutput> {
        self.check_as(claims, options)
    }

    /// Checks claims and returns the findings as the Arrow table of [`crate::findings_schema`]:
    /// the rows of `check(..)?.to_record_batch()`, in the same order, built straight from the
    /// engine's hits without a [`crate::Finding`] per row. The faster path when the table is
    /// what the caller keeps.
    ///
    /// ```
    /// use medaudit_core::{synth, CheckOptions, Engine, RulePack};
    /// let engine = Engine::new(RulePack::sample()?)?;
    /// let data = synth::generate(&synth::Config { encounters: 50, seed: 3, ..Default::default() });
    /// let table = engine.check_batch(&data.claims, &CheckOptions::default())?;
    /// let records = engine.check(&data.claims, &CheckOptions::default())?;
    /// assert_eq!(table.findings, records.to_record_batch());
    /// # Ok::<(), medaudit_core::Error>(())
    /// ```
    pub fn check_batch(&self, claims: &Claims, options: &CheckOptions) -> Result<CheckBatch> {
        self.check_as(claims, options)
    }

    fn check_as<O: Output>(&self, claims: &Claims, options: &CheckOptions) -> Result<O> {
        let mut out = if options.threads > 1 && !self.has_stay_rules() {
            partition::check(self, claims, options)?
        } else {
            run::check(self, claims, options)?
        };
        // History rules see all encounters at once (see crate::history).
        crate::history::check_into(self, claims, options, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn engine_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Engine>();
    }
}
