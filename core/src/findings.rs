//! Findings: one row per violation, as owned records and as an Arrow table.
//!
//! Findings are deterministic: their order is by `mdtrt_id`, then `feedetl_sn` (encounter-level
//! findings first), then the rule's position in the pack, then the related line and the knowledge
//! point; their `finding_id` is a hash of that same content. Splitting the input into other batches
//! gives the same rows in the same order.
//!
//! This module renders and converts; it never decides whether something is a violation.

use arrow_array::builder::{Float64Builder, StringBuilder, UInt8Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use smallvec::SmallVec;
use std::sync::{Arc, OnceLock};

/// One violation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// Stable id: a hash of rule, encounter, line, related line and knowledge point.
    pub finding_id: String,
    /// The rule's id in the pack.
    pub rule_id: String,
    /// Official national rule code (GZ…), if the rule has one.
    pub rule_code: Option<String>,
    /// Rule name.
    pub rule_name: String,
    /// Template name.
    pub template: String,
    /// 明确违规 or 可疑.
    pub severity: String,
    /// 1 (block) to 3 (notice).
    pub warn_level: u8,
    /// 人员编号.
    pub psn_no: Option<String>,
    /// 就诊ID.
    pub mdtrt_id: String,
    /// 定点医药机构编号.
    pub fixmedins_code: Option<String>,
    /// The line at fault, when the finding is about a line.
    pub feedetl_sn: Option<String>,
    /// The line's item code.
    pub item_code: Option<String>,
    /// The line's item name (from the claims, else the knowledge point).
    pub item_name: Option<String>,
    /// 开单科室.
    pub bilg_dept_codg: Option<String>,
    /// Another line involved (the first item of a pair, the main operation…).
    pub related_feedetl_sn: Option<String>,
    /// 可疑金额: the amount at risk, by the template's documented rule; null when the amount
    /// column it needs is null or absent.
    pub amount: Option<f64>,
    /// Rendered Chinese message.
    pub message: String,
    /// Knowledge point id.
    pub kp_id: Option<String>,
    /// Basis: the knowledge point's constraint text, else the rule's basis.
    pub basis: Option<String>,
}

/// Lines a rule could not judge, with why (a null attribute, a missing time…), so that nothing is
/// passed silently.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unjudged {
    /// The rule.
    pub rule_id: String,
    /// Why it could not judge.
    pub reason: String,
    /// How many times.
    pub count: u64,
}

/// The result of a check call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckOutput {
    /// The findings, in deterministic order.
    pub findings: Vec<Finding>,
    /// Lines or encounters rules could not judge, by rule and reason.
    pub unjudged: Vec<Unjudged>,
}

impl CheckOutput {
    /// The findings as an Arrow record batch with [`findings_schema`].
    pub fn to_record_batch(&self) -> RecordBatch {
        findings_to_batch(&self.findings)
    }

    /// Sum of the amounts at risk.
    pub fn total_amount(&self) -> f64 {
        self.findings.iter().filter_map(|f| f.amount).sum()
    }
}

/// The Arrow schema of the findings table.
pub fn findings_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
        Arc::new(Schema::new(vec![
            s("finding_id", false),
            s("rule_id", false),
            s("rule_code", true),
            s("rule_name", false),
            s("template", false),
            s("severity", false),
            Field::new("warn_level", DataType::UInt8, false),
            s("psn_no", true),
            s("mdtrt_id", false),
            s("fixmedins_code", true),
            s("feedetl_sn", true),
            s("item_code", true),
            s("item_name", true),
            s("bilg_dept_codg", true),
            s("related_feedetl_sn", true),
            Field::new("amount", DataType::Float64, true),
            s("message", false),
            s("kp_id", true),
            s("basis", true),
        ]))
    })
    .clone()
}

fn findings_to_batch(findings: &[Finding]) -> RecordBatch {
    let n = findings.len();
    let col = |f: &dyn Fn(&Finding) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(n, n * 16);
        for x in findings {
            b.append_option(f(x));
        }
        Arc::new(b.finish())
    };
    let mut warn = UInt8Builder::with_capacity(n);
    let mut amount = Float64Builder::with_capacity(n);
    for x in findings {
        warn.append_value(x.warn_level);
        amount.append_option(x.amount);
    }
    let columns: Vec<ArrayRef> = vec![
        col(&|x| Some(&x.finding_id)),
        col(&|x| Some(&x.rule_id)),
        col(&|x| x.rule_code.as_deref()),
        col(&|x| Some(&x.rule_name)),
        col(&|x| Some(&x.template)),
        col(&|x| Some(&x.severity)),
        Arc::new(warn.finish()),
        col(&|x| x.psn_no.as_deref()),
        col(&|x| Some(&x.mdtrt_id)),
        col(&|x| x.fixmedins_code.as_deref()),
        col(&|x| x.feedetl_sn.as_deref()),
        col(&|x| x.item_code.as_deref()),
        col(&|x| x.item_name.as_deref()),
        col(&|x| x.bilg_dept_codg.as_deref()),
        col(&|x| x.related_feedetl_sn.as_deref()),
        Arc::new(amount.finish()),
        col(&|x| Some(&x.message)),
        col(&|x| x.kp_id.as_deref()),
        col(&|x| x.basis.as_deref()),
    ];
    // The columns are built from the schema above, field for field; a mismatch is a bug here,
    // and an empty batch of the right schema is the safe answer.
    RecordBatch::try_new(findings_schema(), columns).unwrap_or_else(|_| RecordBatch::new_empty(findings_schema()))
}

/// Where a finding points, as its producer (the line pass or the history pass) knows it; the rule,
/// its citation, the message and the id are filled in by [`Finding::build`], the one place that
/// renders findings.
pub(crate) struct At<'a> {
    pub psn_no: Option<&'a str>,
    pub mdtrt_id: &'a str,
    pub fixmedins_code: Option<&'a str>,
    pub feedetl_sn: Option<&'a str>,
    pub item_code: Option<&'a str>,
    /// The item name the claims give (else the knowledge point's, else the code).
    pub item_name: Option<&'a str>,
    pub bilg_dept_codg: Option<&'a str>,
    pub related_feedetl_sn: Option<&'a str>,
    /// The amount at risk before rounding to fen.
    pub amount: Option<f64>,
    /// A last part of the id, for producers whose (rule, encounter, line, related, point) is not
    /// unique (history findings: the trace code or a discriminator).
    pub id_extra: Option<&'a str>,
}

impl At<'_> {
    /// The finding id as a number (its text is [`hex16`] of it): a hash of the rule id, the
    /// encounter, the line, the related line, the knowledge point and `id_extra`.
    pub(crate) fn id_hash(&self, rule_id: &str, kp_id: Option<&str>) -> u64 {
        let parts = [
            rule_id,
            self.mdtrt_id,
            self.feedetl_sn.unwrap_or(""),
            self.related_feedetl_sn.unwrap_or(""),
            kp_id.unwrap_or(""),
            self.id_extra.unwrap_or(""),
        ];
        stable_hash(if self.id_extra.is_some() { &parts } else { &parts[..5] })
    }
}

impl Finding {
    /// Renders the finding of `rule` at `at`, citing knowledge row `cite` (if it came from one),
    /// with the template's message arguments `args`.
    pub(crate) fn build(
        rule: &crate::pack::Rule,
        cite: Option<&crate::engine::compile::RowCitation>,
        at: At<'_>,
        args: &[(&'static str, String)],
    ) -> Finding {
        let id = at.id_hash(&rule.id, cite.map(|c| c.kp_id.as_str()));
        Self::build_with_id(rule, cite, at, args, id)
    }

    /// [`Finding::build`] for a caller that has already computed `at.id_hash(..)` (to sort by it).
    pub(crate) fn build_with_id(
        rule: &crate::pack::Rule,
        cite: Option<&crate::engine::compile::RowCitation>,
        at: At<'_>,
        args: &[(&'static str, String)],
        id: u64,
    ) -> Finding {
        let kp_id = cite.map(|c| c.kp_id.clone());
        let item_name = at
            .item_name
            .map(str::to_string)
            .or_else(|| cite.and_then(|c| c.item_name.clone()))
            .or_else(|| at.item_code.map(str::to_string));
        let amount = at.amount.map(|a| (a * 100.0).round() / 100.0);
        let amount_s = amount.map(money).unwrap_or_default();
        let message = {
            let mut all: SmallVec<[(&str, &str); 10]> = smallvec::smallvec![
                ("rule_name", rule.name.as_str()),
                ("item_code", at.item_code.unwrap_or("")),
                ("item_name", item_name.as_deref().unwrap_or("")),
                ("amount", amount_s.as_str()),
                ("kp_id", kp_id.as_deref().unwrap_or("")),
            ];
            all.extend(args.iter().map(|(k, v)| (*k, v.as_str())));
            render(&rule.message, &all)
        };
        let finding_id = hex16(id);
        Finding {
            finding_id,
            rule_id: rule.id.clone(),
            rule_code: rule.code.clone(),
            rule_name: rule.name.clone(),
            template: rule.template.name.to_string(),
            severity: rule.severity.label().to_string(),
            warn_level: rule.warn_level,
            psn_no: at.psn_no.map(str::to_string),
            mdtrt_id: at.mdtrt_id.to_string(),
            fixmedins_code: at.fixmedins_code.map(str::to_string),
            feedetl_sn: at.feedetl_sn.map(str::to_string),
            item_code: at.item_code.map(str::to_string),
            item_name,
            bilg_dept_codg: at.bilg_dept_codg.map(str::to_string),
            related_feedetl_sn: at.related_feedetl_sn.map(str::to_string),
            amount,
            message,
            kp_id,
            basis: cite.and_then(|c| c.basis.clone()).or_else(|| rule.basis.clone()),
        }
    }
}

/// `h` as 16 lower-case hex digits (the text of a finding id; their order is the order of `h`).
pub(crate) fn hex16(h: u64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..16).rev().map(|i| char::from(DIGITS[((h >> (i * 4)) & 0xf) as usize])).collect()
}

/// FNV-1a 64 of the parts, separated by NUL: stable across platforms and versions.
pub(crate) fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            // The separator is a NUL byte: XOR with 0 leaves `h`, so only the multiply remains.
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Renders `{name}` placeholders from `args`; unknown names stay as they are (the pack loader has
/// already rejected them).
pub(crate) fn render(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        match after.find('}') {
            Some(j) => {
                let name = after.get(..j).unwrap_or("");
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = after.get(j + 1..).unwrap_or("");
            }
            None => {
                out.push_str(rest.get(i..).unwrap_or(""));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Formats an amount with two decimals, exactly as `format!("{x:.2}")` does.
///
/// Most amounts are whole fen or far from a half fen, and those are printed from their integer
/// number of fen without the formatting machinery; the rest (near a half fen, huge, negative
/// zero or not finite) take the exact path.
pub(crate) fn money(x: f64) -> String {
    let fen = x * 100.0;
    let rounded = fen.round();
    // Below 1e12 fen the product is off by less than 1e-4 fen, so a value 0.001 fen away from a
    // half fen rounds the same way as its exact decimal expansion.
    if fen.abs() < 1e12 && (fen - rounded).abs() < 0.499 {
        let n = rounded as i64;
        if n != 0 || x.is_sign_positive() {
            // The digits of |n| fen, least significant first, with the point after two of them.
            let mut digits = [0u8; 24];
            let (mut m, mut len) = (n.unsigned_abs(), 0);
            while len < 3 || m > 0 {
                if let Some(d) = digits.get_mut(len) {
                    *d = b'0' + (m % 10) as u8;
                }
                m /= 10;
                len += 1;
            }
            let mut s = String::with_capacity(len + 2);
            if n < 0 {
                s.push('-');
            }
            for (k, d) in digits.iter().take(len).enumerate().rev() {
                s.push(char::from(*d));
                if k == 2 {
                    s.push('.');
                }
            }
            return s;
        }
    }
    format!("{x:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_format_two_decimals() {
        let mut xs = vec![0.0, -0.0, 0.004, -0.004, 0.005, 0.015, 1.005, 2.675, 1e14, -1e14, 1e15, 1e300, -3.999];
        xs.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 123.455, 0.125, 0.375, -0.125, 9.995, 0.1 + 0.2]);
        let mut seed: u64 = 7;
        for _ in 0..200_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let cents = (seed >> 40) as i64 - (1 << 23);
            let jitter = ((seed >> 8) & 0xff) as f64 / 256.0;
            xs.push(cents as f64 / 100.0);
            xs.push((cents as f64 + jitter) / 100.0);
            xs.push(cents as f64 * 1.37);
        }
        for x in xs {
            assert_eq!(money(x), format!("{x:.2}"), "{x:?}");
        }
    }
    #[test]
    fn render_and_ids() {
        assert_eq!(render("{a}限{b}使用{c}", &[("a", "药"), ("b", "女")]), "药限女使用{c}");
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
        assert_eq!(hex16(stable_hash(&["a"])), format!("{:016x}", stable_hash(&["a"])));
        assert_eq!(hex16(0x0123_4567_89ab_cdef), "0123456789abcdef");
        let out = CheckOutput::default();
        assert_eq!(out.to_record_batch().num_rows(), 0);
        assert_eq!(out.to_record_batch().schema(), findings_schema());
    }
}
