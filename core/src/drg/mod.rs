//! DRG grouping from data: a `drg-scheme/1` grouping scheme (CHS-DRG 1.1, its regional variants)
//! loaded from its JSON and CSV texts, compiled, and run on one case or on Arrow claims.
//!
//! Statuses, invalid reasons, the trace, the case fields read from claims and the stay templates
//! are tabulated in core/src/drg/GROUPER.md.
//!
//! * [`DrgScheme::load`]: scheme.json + the CSV tables (by file name) → a compiled scheme; every
//!   error names the file and the JSON path or CSV line. A scheme that uses a primitive this
//!   grouper does not implement is refused, so a regional variant either runs exactly from its
//!   data or does not load.
//! * [`DrgScheme::group`] / [`DrgScheme::group_traced`]: one [`Case`] → [`Grouping`] (status,
//!   reason, MDC, ADRG, DRG) and, traced, a [`Trace`] (MDC gates tried, the rule and split that
//!   matched, the CC/MCC counted and those the principal diagnosis's exclusion table cancelled).
//! * [`DrgScheme::group_claims`]: the `mdtrt`, `diagnoses` and `operations` tables of [`Claims`](crate::Claims)
//!   → one result per `mdtrt` row, as records or an Arrow batch ([`drg_result_schema`]).
//!
//! The algorithm and the condition language are the format's (see the README of
//! `shared/data/chs-drg-1.1`); this grouper adds two checks the format leaves to the caller, both
//! on by default and both switchable in [`GroupOptions`]: unknown codes and a principal diagnosis
//! the scheme admits only for the other sex. This module never does IO.

pub(crate) mod batch;
mod cond;
mod csv;
pub(crate) mod group;
pub(crate) mod scheme;

pub use batch::{drg_result_schema, CaseResult, DrgOutput};
pub use cond::PRIMITIVES;
pub use group::{Case, CcMark, GroupOptions, Grouping, MdcStep, Reason, Status, TextCase, Trace};
pub use scheme::DrgScheme;
