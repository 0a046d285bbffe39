//! Indication mappings: official indication text → the ICD-10 code patterns a diagnosis of the
//! encounter must match (a code set of the pack) and a short label shown in messages.
//!
//! The starter mapping (`indications.tsv`, typed from public ICD-10 facts) covers the most
//! frequent texts of the published points; a regulator supplies more in the same tab-separated
//! form and they take precedence. This module never guesses a mapping for a text it does not list.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// The starter mapping's text.
pub const STARTER_TSV: &str = include_str!("indications.tsv");

/// One mapped indication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indication {
    /// Short label (the code set's name in the pack).
    pub label: String,
    /// ICD-10 code patterns (regex, anchored at the code's start).
    pub patterns: Vec<String>,
}

/// Indication text → diagnosis code patterns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicationMap {
    entries: BTreeMap<String, Indication>,
}

/// The key of a text: trimmed, without the final `。`.
pub fn normalize(text: &str) -> String {
    text.trim().trim_end_matches(['。', '.']).trim().to_string()
}

impl IndicationMap {
    /// The starter mapping shipped with the library.
    pub fn starter() -> Self {
        // The shipped file is checked by a unit test; a failure here would be a build defect.
        Self::parse_tsv(STARTER_TSV).unwrap_or_default()
    }

    /// Parses `text<TAB>pattern pattern …<TAB>label` lines; `#` starts a comment line.
    ///
    /// ```
    /// let m = medaudit_core::national::IndicationMap::parse_tsv("限原发性高血压。\tI10\t原发性高血压\n").unwrap();
    /// assert_eq!(m.get("限原发性高血压").map(|i| i.label.as_str()), Some("原发性高血压"));
    /// let err = medaudit_core::national::IndicationMap::parse_tsv("限X\n").unwrap_err();
    /// assert!(err.to_string().contains("line 1"));
    /// ```
    pub fn parse_tsv(text: &str) -> Result<Self> {
        let mut m = IndicationMap::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let bad = |msg: &str| Error::Argument {
                argument: "indication mapping".into(),
                message: format!("line {}: {msg}", i + 1),
            };
            let mut cols = line.split('\t');
            let (Some(t), Some(p), Some(l)) = (cols.next(), cols.next(), cols.next()) else {
                return Err(bad("expected three tab-separated columns: text, patterns, label"));
            };
            let patterns: Vec<String> = p.split_whitespace().map(str::to_string).collect();
            if normalize(t).is_empty() || patterns.is_empty() || l.trim().is_empty() {
                return Err(bad("empty text, patterns or label"));
            }
            m.insert(t, Indication { label: l.trim().to_string(), patterns });
        }
        Ok(m)
    }

    /// Adds or replaces the mapping of `text`.
    pub fn insert(&mut self, text: &str, ind: Indication) {
        self.entries.insert(normalize(text), ind);
    }

    /// Adds every entry of `other`, replacing entries of the same text.
    pub fn extend(&mut self, other: IndicationMap) {
        self.entries.extend(other.entries);
    }

    /// The mapping of `text` (compared after [`normalize`]).
    pub fn get(&self, text: &str) -> Option<&Indication> {
        self.entries.get(&normalize(text))
    }

    /// Number of mapped texts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_parses() {
        let m = IndicationMap::parse_tsv(STARTER_TSV).expect("starter mapping");
        assert!(m.len() >= 40);
        assert_eq!(m.get("限艾滋病病毒感染。").map(|i| i.patterns.len()), Some(4));
        // Every label names one pattern set.
        let mut by_label: BTreeMap<&str, &Vec<String>> = BTreeMap::new();
        for ind in m.entries.values() {
            if let Some(p) = by_label.insert(&ind.label, &ind.patterns) {
                assert_eq!(p, &ind.patterns, "label {} has two pattern sets", ind.label);
            }
        }
    }
}
