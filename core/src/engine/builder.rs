//! Building an [`Engine`] with everything a pack may need besides its own JSON: knowledge tables
//! given as Arrow, and compiled DRG grouping schemes for the DRG stay templates.

use super::{compile, Engine};
use crate::drg::DrgScheme;
use crate::error::Result;
use crate::knowledge::KnowledgeTable;
use crate::pack::RulePack;
use std::sync::Arc;

/// Collects what an engine is built from; [`EngineBuilder::build`] compiles it.
///
/// ```
/// use medaudit_core::{Engine, RulePack};
/// let engine = Engine::builder(RulePack::sample()?).build()?;
/// assert!(engine.pack().rules.len() >= 19);
/// # Ok::<(), medaudit_core::Error>(())
/// ```
///
/// A rule of a DRG template (`drg_cost_ratio`, `drg_unsupported_coding`) names its scheme by id
/// in `params.scheme`; the scheme is loaded by the caller ([`DrgScheme::load`]) and given here,
/// shared by `Arc` (one scheme serves any number of engines). Building fails when a rule names a
/// scheme that was not given.
pub struct EngineBuilder {
    pack: RulePack,
    tables: Vec<KnowledgeTable>,
    drg: Vec<Arc<DrgScheme>>,
}

impl Engine {
    /// Starts building an engine for `pack`.
    pub fn builder(pack: RulePack) -> EngineBuilder {
        EngineBuilder { pack, tables: Vec::new(), drg: Vec::new() }
    }

    /// Whether the pack has stay-level (DRG) rules.
    pub(crate) fn has_stay_rules(&self) -> bool {
        self.rules.iter().any(|r| matches!(r.kernel, crate::templates::Kernel::Drg(_)))
    }
}

impl EngineBuilder {
    /// Adds a knowledge table (it replaces the pack's inline rows of the same name; the pack must
    /// declare it).
    pub fn knowledge(mut self, table: KnowledgeTable) -> Self {
        self.tables.push(table);
        self
    }

    /// Adds a compiled DRG scheme, found by rules through its id ([`DrgScheme::id`]).
    pub fn drg_scheme(mut self, scheme: Arc<DrgScheme>) -> Self {
        self.drg.push(scheme);
        self
    }

    /// Compiles the engine.
    pub fn build(self) -> Result<Engine> {
        compile::build(self.pack, self.tables, self.drg)
    }
}
