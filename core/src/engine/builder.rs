//! Building an [`Engine`] with everything a pack may need besides its own JSON: knowledge tables
//! given as Arrow, compiled DRG grouping schemes and DIP catalogues for the stay templates.

use super::{compile, Engine};
use crate::dip::DipCatalogue;
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
    payment: Payment,
}

/// The DRG schemes and DIP catalogues given to an engine.
#[derive(Default)]
pub(crate) struct Payment {
    pub drg: Vec<Arc<DrgScheme>>,
    pub dip: Vec<Arc<DipCatalogue>>,
}

impl Engine {
    /// Starts building an engine for `pack`.
    pub fn builder(pack: RulePack) -> EngineBuilder {
        EngineBuilder { pack, tables: Vec::new(), payment: Payment::default() }
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
        self.payment.drg.push(scheme);
        self
    }

    /// Adds a DIP catalogue, found by `dip_cost_ratio` rules through its id
    /// ([`DipCatalogue::id`]) in `params.catalogue`.
    pub fn dip_catalogue(mut self, catalogue: Arc<DipCatalogue>) -> Self {
        self.payment.dip.push(catalogue);
        self
    }

    /// Compiles the engine.
    pub fn build(self) -> Result<Engine> {
        compile::build(self.pack, self.tables, self.payment)
    }
}
