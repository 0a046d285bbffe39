//! The coverage report of an import: per rule class, how many points became executable checks,
//! how many of those wait for a diagnosis mapping, and every point not interpreted with its reason.
//! Nothing is dropped silently: `interpreted + not_interpreted == total`.

use std::collections::BTreeMap;

/// A point that was not interpreted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Index of the record in the input.
    pub index: usize,
    /// Its kp_id.
    pub kp_id: String,
    /// Why.
    pub reason: String,
}

/// Coverage of one rule class.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClassCoverage {
    /// The rule class as the records name it.
    pub rule_class: String,
    /// Points of the class.
    pub points: usize,
    /// Points that became knowledge rows of an executable rule.
    pub interpreted: usize,
    /// Of `interpreted`: indication points without a diagnosis mapping; their check reports
    /// "cannot be judged without a diagnosis mapping" (unjudged), never a guess.
    pub awaiting_mapping: usize,
    /// Ids of the rules the class's points went to.
    pub rules: Vec<String>,
    /// Points not interpreted, with why.
    pub not_interpreted: Vec<Skipped>,
    /// `not_interpreted` counted by reason.
    pub reasons: BTreeMap<String, usize>,
}

impl ClassCoverage {
    pub(crate) fn skip(&mut self, index: usize, kp_id: &str, reason: &str) {
        self.not_interpreted.push(Skipped { index, kp_id: kp_id.into(), reason: reason.into() });
        *self.reasons.entry(reason.into()).or_default() += 1;
    }
}

/// The coverage report of an import.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Coverage {
    /// Records read.
    pub total: usize,
    /// Points interpreted into executable checks (knowledge rows of a rule).
    pub interpreted: usize,
    /// Of `interpreted`: indication points waiting for a diagnosis mapping.
    pub awaiting_mapping: usize,
    /// Points not interpreted.
    pub not_interpreted: usize,
    /// Share of points interpreted (0–1).
    pub interpreted_share: f64,
    /// Share of points whose check can decide a violation today: interpreted and not waiting
    /// for a diagnosis mapping (0–1).
    pub judging_share: f64,
    /// Per rule class, in the order the records first name them.
    pub classes: Vec<ClassCoverage>,
    /// Notes about the records (a `supersedes` naming an unknown point…).
    pub warnings: Vec<String>,
}

impl Coverage {
    pub(crate) fn class(&mut self, name: &str) -> &mut ClassCoverage {
        let i = match self.classes.iter().position(|c| c.rule_class == name) {
            Some(i) => i,
            None => {
                self.classes.push(ClassCoverage { rule_class: name.into(), ..Default::default() });
                self.classes.len() - 1
            }
        };
        // `i` is a valid index: found above or just pushed.
        &mut self.classes[i]
    }

    pub(crate) fn finish(&mut self, total: usize) {
        self.total = total;
        self.interpreted = self.classes.iter().map(|c| c.interpreted).sum();
        self.awaiting_mapping = self.classes.iter().map(|c| c.awaiting_mapping).sum();
        self.not_interpreted = self.classes.iter().map(|c| c.not_interpreted.len()).sum();
        let t = total.max(1) as f64;
        self.interpreted_share = self.interpreted as f64 / t;
        self.judging_share = (self.interpreted - self.awaiting_mapping) as f64 / t;
    }

    /// The class named `rule_class`.
    pub fn get(&self, rule_class: &str) -> Option<&ClassCoverage> {
        self.classes.iter().find(|c| c.rule_class == rule_class)
    }

    /// A plain-text table: one line per class, then the reasons of what was not interpreted.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} points: {} interpreted ({:.1}%), of which {} wait for a diagnosis mapping; judging today {:.1}%; {} not interpreted\n",
            self.total,
            self.interpreted,
            self.interpreted_share * 100.0,
            self.awaiting_mapping,
            self.judging_share * 100.0,
            self.not_interpreted
        );
        for c in &self.classes {
            s.push_str(&format!(
                "  {:<24} {:>5} points {:>5} interpreted {:>4} awaiting mapping  rules: {}\n",
                c.rule_class,
                c.points,
                c.interpreted,
                c.awaiting_mapping,
                c.rules.join(", ")
            ));
            for (r, n) in &c.reasons {
                s.push_str(&format!("      not interpreted ({n}): {r}\n"));
            }
        }
        for w in &self.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
        s
    }
}
