//! The one error type of medaudit-core.
//!
//! Every fallible call in the crate returns [`Result<T>`](Result). Each variant names the place at
//! fault the way a user would look for it: the rule id and field of a rule pack (as a JSON path),
//! the knowledge table, column and row, or the claims table, column and row. Messages are meant to
//! be shown to people as they are, and the C, Python and Java bindings pass them on unchanged.
//!
//! This module must never format data it was not given: no paths on disk, no environment.

/// Shorthand for `Result<T, medaudit_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in medaudit-core.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The rule pack is not valid JSON or does not have the shape of a pack.
    #[error("rule pack: invalid JSON at {path}: {message}")]
    PackJson {
        /// JSON path of the fault (`$.rules[3].params`), or `$` when unknown.
        path: String,
        /// What the JSON parser said.
        message: String,
    },

    /// A rule in the pack is invalid: unknown template, missing or mistyped parameter, and so on.
    #[error("rule pack: rule {rule_id:?}: {field}: {message}")]
    Rule {
        /// The rule's `id` (or `#N` when the rule has no id).
        rule_id: String,
        /// The field at fault, as a JSON path inside the rule (`params.max_age`).
        field: String,
        /// What is wrong.
        message: String,
    },

    /// The pack as a whole is invalid (for example an unsupported `format`).
    #[error("rule pack: {field}: {message}")]
    Pack {
        /// JSON path of the fault.
        field: String,
        /// What is wrong.
        message: String,
    },

    /// A knowledge table is invalid: missing column, wrong type, bad value in a row.
    #[error("knowledge table {table:?}: {message}{}", fmt_loc(column, row))]
    Knowledge {
        /// Knowledge table name, as the pack names it.
        table: String,
        /// Column at fault, if any.
        column: Option<String>,
        /// Row (0-based) at fault, if any.
        row: Option<usize>,
        /// What is wrong.
        message: String,
    },

    /// A claims column is missing or has a type medaudit cannot read.
    #[error("claims table {table}: column {column:?}: {message}")]
    Column {
        /// Claims table (`fee_details`, `mdtrt`, `diagnoses`, `operations`).
        table: String,
        /// The caller's column name (after the column map).
        column: String,
        /// What is wrong, naming the expected types.
        message: String,
    },

    /// A value in the claims cannot be used by a rule that needs it (a null amount, an unknown
    /// encounter id, …).
    #[error("claims table {table}: row {row}: column {column:?}: {message}{}", fmt_rule(rule_id))]
    Value {
        /// Claims table.
        table: String,
        /// Column at fault.
        column: String,
        /// Row (0-based across all batches of that table).
        row: usize,
        /// The rule that needed the value, if any.
        rule_id: Option<String>,
        /// What is wrong.
        message: String,
    },

    /// A DRG grouping scheme (`drg-scheme/1`) or a DIP catalogue is invalid: bad JSON, an unknown
    /// primitive or code list, a missing file, a malformed CSV row.
    #[error("DRG/DIP scheme: {file}{}: {message}", fmt_scheme_loc(path, row))]
    Scheme {
        /// The file at fault (`scheme.json`, `mcc.csv`, …).
        file: String,
        /// JSON path inside the file (`$.mdcs[3].adrg_rules[2].gate`), if any.
        path: Option<String>,
        /// CSV line (1-based, the header is line 1), if any.
        row: Option<usize>,
        /// What is wrong.
        message: String,
    },

    /// The caller asked for something the engine does not have (unknown rule id in a filter…).
    #[error("invalid argument {argument}: {message}")]
    Argument {
        /// The argument at fault.
        argument: String,
        /// What is wrong.
        message: String,
    },

    /// The check was stopped by its [`CheckOptions::progress`](crate::CheckOptions::progress)
    /// callback (for example on Ctrl-C in Python).
    #[error("check cancelled")]
    Cancelled,
}

fn fmt_loc(column: &Option<String>, row: &Option<usize>) -> String {
    match (column, row) {
        (Some(c), Some(r)) => format!(" (column {c:?}, row {r})"),
        (Some(c), None) => format!(" (column {c:?})"),
        (None, Some(r)) => format!(" (row {r})"),
        (None, None) => String::new(),
    }
}

fn fmt_scheme_loc(path: &Option<String>, row: &Option<usize>) -> String {
    match (path, row) {
        (Some(p), _) => format!(" at {p}"),
        (None, Some(r)) => format!(" line {r}"),
        (None, None) => String::new(),
    }
}

fn fmt_rule(rule: &Option<String>) -> String {
    match rule {
        Some(r) => format!(" (needed by rule {r:?})"),
        None => String::new(),
    }
}

impl Error {
    /// A stable, machine-readable class of the error, shared by every binding
    /// (`pack_json`, `rule`, `pack`, `knowledge`, `column`, `value`, `scheme`, `argument`, `cancelled`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::PackJson { .. } => "pack_json",
            Error::Rule { .. } => "rule",
            Error::Pack { .. } => "pack",
            Error::Knowledge { .. } => "knowledge",
            Error::Column { .. } => "column",
            Error::Value { .. } => "value",
            Error::Scheme { .. } => "scheme",
            Error::Argument { .. } => "argument",
            Error::Cancelled => "cancelled",
        }
    }

    pub(crate) fn rule(rule_id: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Rule { rule_id: rule_id.to_string(), field: field.into(), message: message.into() }
    }

    pub(crate) fn knowledge(table: &str, column: Option<&str>, row: Option<usize>, message: impl Into<String>) -> Self {
        Error::Knowledge { table: table.to_string(), column: column.map(str::to_string), row, message: message.into() }
    }
}
