//! # medaudit-core
//!
//! The rule engine of medaudit: China's national medical-insurance smart-supervision rules
//! (医保基金智能监管 “两库”) evaluated over Apache Arrow claims, with no IO, no global state and
//! no threads of its own.
//!
//! * [`claims`]: the four national tables (`mdtrt`, `diagnoses`, `operations`, `fee_details`),
//!   the Arrow variants accepted, the column map, and what a null means.
//! * [`pack`]: the rule-pack JSON format and its validation.
//! * [`knowledge`]: knowledge tables (知识点) keyed by exact code or prefix, versioned.
//! * [`national`]: the published national knowledge-point records imported into a pack, with a
//!   coverage report.
//! * [`templates`]: the rule templates and where each lives.
//! * [`indicators`]: provider indicators (药占比, 次均费用, 再入院率…) and peer flags, as an Arrow table.
//! * [`expr`]: the expression language of the `expr` template (analyst-written rules).
//! * [`Engine`]: a compiled pack; [`Engine::check`] returns [`CheckOutput`] (findings as records
//!   or an Arrow batch).
//! * [`drg`]: a data-driven DRG grouper (`drg-scheme/1`: CHS-DRG 1.1 and regional variants).
//! * [`dip`]: DIP catalogues (`dip-catalogue/1`) and matching a case to its disease group.
//! * [`synth`]: seeded synthetic claims with injected violations and their ground truth.
//! * [`history`]: patient-history rules across encounters: bulk, the streaming [`history::Auditor`],
//!   and [`history::partition_claims`] for scale-out.
//!
//! ```
//! use medaudit_core::{synth, CheckOptions, Engine, RulePack};
//! let engine = Engine::new(RulePack::sample()?)?;
//! let data = synth::generate(&synth::Config { encounters: 200, seed: 7, ..Default::default() });
//! let out = engine.check(&data.claims, &CheckOptions::default())?;
//! assert_eq!(out.findings.len(), data.truth.len());
//! # Ok::<(), medaudit_core::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod claims;
pub mod dip;
pub mod drg;
mod engine;
pub mod error;
pub mod expr;
pub mod findings;
pub mod history;
pub mod indicators;
pub mod knowledge;
pub mod national;
pub mod pack;
pub mod synth;
pub mod templates;
pub mod time;

pub use claims::{canonical_schema, Claims, ClaimsTable, ColumnMap};
pub use engine::{CheckOptions, Engine, EngineBuilder, Progress};
pub use error::{Error, Result};
pub use findings::{findings_schema, CheckBatch, CheckOutput, Finding, Unjudged};
pub use knowledge::{KnowledgeTable, MatchMode};
pub use pack::{RulePack, Scene, Severity, Stage};

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
