//! The expression language analysts write rules in (template `expr`).
//!
//! ```text
//! line.list_type == "101" and line.prd_days > 7 and mdtrt.med_type in ["11", "13"]
//! any(diagnoses, code ~ "^C(0[0-9]|[1-8][0-9]|9[0-7])")
//! sum(lines where med_chrgitm_type == "03", det_item_fee_sumamt) / mdtrt.medfee_sumamt > 0.6
//! ```
//!
//! * the parser turns text into a syntax tree with byte spans (lexer and recursive descent);
//! * the checker resolves names against the canonical claims schema and the rule's knowledge table,
//!   checks types, and produces a typed program;
//! * the evaluator runs the program column by column over selection vectors (no per-row tree walk
//!   over dynamic values); the engine glue is the `expr` template (core/src/templates/expr.rs).
//!
//! The language reference (grammar, operators, functions, null rules) is core/src/expr/LANGUAGE.md and the
//! `expr` template's documentation. This module never reads claims on its own and never panics on
//! any input text: every error names the rule, the field and the position.

pub(crate) mod check;
pub(crate) mod eval;
pub(crate) mod parse;

pub use check::Type;

use crate::error::{Error, Result};
use crate::knowledge::KnowledgeTable;

/// Whether a rule judges fee lines or encounters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The expression reads `line.<column>` (outside aggregates) or the rule has a knowledge
    /// table: one verdict per fee line.
    Line,
    /// Otherwise: one verdict per encounter (that has fee lines).
    Encounter,
}

/// Parses and type-checks a rule condition, as the pack loader does, and tells its scope.
///
/// Errors are [`Error::Rule`] for rule `rule_id`, field `params.expr`, with `line:column`, the
/// expression line and a caret under the fault.
///
/// ```
/// use medaudit_core::expr::{validate, Scope};
/// assert_eq!(validate("R1", r#"line.list_type == "101" and line.prd_days > 7"#)?, Scope::Line);
/// assert_eq!(validate("R2", r#"any(diagnoses, code ~ "^C")"#)?, Scope::Encounter);
/// let e = validate("R3", "line.prd_dayz > 7").unwrap_err().to_string();
/// assert!(e.contains("rule \"R3\": params.expr: 1:1"));
/// assert!(e.contains("unknown column line.prd_dayz; fee_details columns are: feedetl_sn,"));
/// # Ok::<(), medaudit_core::Error>(())
/// ```
pub fn validate(rule_id: &str, text: &str) -> Result<Scope> {
    let p = compile(rule_id, text, None, None, None)?;
    Ok(if p.line_scope { Scope::Line } else { Scope::Encounter })
}

fn located(rule_id: &str, field: &str, src: &str, span: parse::Span, message: &str) -> Error {
    let loc = parse::locate(src, span);
    let (pos, excerpt) = loc.split_once('\n').unwrap_or((loc.as_str(), ""));
    Error::rule(rule_id, field, format!("{pos}: {message}\n{excerpt}"))
}

/// Compiles a condition and an optional amount expression of one rule.
pub(crate) fn compile(
    rule_id: &str,
    text: &str,
    amount: Option<&str>,
    kt: Option<&KnowledgeTable>,
    code_sets: Option<&crate::engine::codes::CodeSets>,
) -> Result<check::Program> {
    let mut c = check::Checker::new(kt, code_sets);
    let tree = parse::parse(text).map_err(|e| located(rule_id, "params.expr", text, e.span, &e.message))?;
    let pred = c.predicate(&tree).map_err(|e| located(rule_id, "params.expr", text, e.span, &e.message))?;
    let amount = match amount {
        None => None,
        Some(a) => {
            let t = parse::parse(a).map_err(|e| located(rule_id, "params.amount", a, e.span, &e.message))?;
            Some(c.number(&t).map_err(|e| located(rule_id, "params.amount", a, e.span, &e.message))?)
        }
    };
    let line = c.uses_line || kt.is_some();
    let mut p = c.finish(pred, amount);
    p.line_scope = line;
    Ok(p)
}
