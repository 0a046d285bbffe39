//! Prescription templates: `herbs_only` (中药饮片单方使用不予支付: a prescription whose herb lines
//! are all on the list) and `rx_drug_count` (单张处方药品种数超限).
//!
//! A prescription is the lines of one encounter with one `rxno`; lines with a null or absent
//! `rxno` form one prescription per encounter and calendar day. Herb lines are those whose code
//! starts with `herb_prefix` (national herb codes start with `T`); drug lines those whose code
//! starts with one of `drug_prefixes` (`X` western, `Z` Chinese patent medicines).
//! Amount at risk: the flagged lines' `det_item_fee_sumamt`.

use super::{groups, rule_param, Compiled, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::engine::run::{Env, Event, Hit, LineAt, RxInterner, Sink};
use crate::error::{Error, Result};
use crate::time::day_of;
use smallvec::SmallVec;

/// 中药饮片单方使用不予支付.
pub static HERBS_ONLY: TemplateSpec = TemplateSpec {
    name: "herbs_only",
    title: "中药饮片单方使用不予支付 (GZ10000101004000)",
    doc: "Every herb line of a prescription is on the list: the herbs used alone, or a prescription made only of them, are not paid.",
    knowledge: KnowledgeUse::Required,
    params: &[rule_param("herb_prefix", ParamKind::Str, false, "code prefix of herb lines, default \"T\"")],
    placeholders: &["herbs"],
    default_message: "{item_name}单独使用或处方全部由不予支付饮片({herbs}味)组成",
    amount: "each flagged line's det_item_fee_sumamt",
    needs: &[],
};

/// 单张处方药品种数超限.
pub static RX_DRUG_COUNT: TemplateSpec = TemplateSpec {
    name: "rx_drug_count",
    title: "单张处方药品种数超限",
    doc: "A prescription has more than max_drugs distinct drug codes; the lines of the drugs beyond the first max_drugs (in time order) are flagged.",
    knowledge: KnowledgeUse::None,
    params: &[
        rule_param("max_drugs", ParamKind::Num, true, "most distinct drugs allowed on one prescription (commonly 5)"),
        rule_param("drug_prefixes", ParamKind::StrList, false, "code prefixes of drug lines, default [\"X\", \"Z\"]"),
    ],
    placeholders: &["count", "limit"],
    default_message: "单张处方开具药品{count}种，超过{limit}种",
    amount: "each flagged line's det_item_fee_sumamt",
    needs: &[],
};

pub(crate) struct Rx {
    /// `None` for herbs_only; the limit for rx_drug_count.
    max_drugs: Option<usize>,
}

pub(crate) fn compile(p: &Params) -> Result<Compiled> {
    if p.rule.template.name == "herbs_only" {
        let prefix = p.str("herb_prefix", None)?.unwrap_or_else(|| "T".to_string());
        if prefix.is_empty() {
            return Err(Error::rule(&p.rule.id, "params.herb_prefix", "empty prefix"));
        }
        let mut c = Compiled::new(Kernel::Prescription(Rx { max_drugs: None }));
        c.selectors.push((prefix, 1));
        Ok(c)
    } else {
        let max = p.req_num("max_drugs", None)?;
        if max < 1.0 || max.fract() != 0.0 {
            return Err(Error::rule(
                &p.rule.id,
                "params.max_drugs",
                format!("expected a whole number ≥ 1, found {max}"),
            ));
        }
        let prefixes = p.list("drug_prefixes", None)?.unwrap_or_else(|| vec!["X".into(), "Z".into()]);
        if prefixes.iter().any(String::is_empty) || prefixes.is_empty() {
            return Err(Error::rule(&p.rule.id, "params.drug_prefixes", "prefixes must be non-empty"));
        }
        let mut c = Compiled::new(Kernel::Prescription(Rx { max_drugs: Some(max as usize) }));
        c.selectors = prefixes.into_iter().map(|x| (x, 0)).collect();
        Ok(c)
    }
}

/// The prescription key of a line: its rxno, else its calendar day.
pub(crate) fn key<'a>(line: &LineAt<'a, '_>, enc: u32, rx: &mut dyn RxInterner<'a>) -> Option<u64> {
    match line.rxno() {
        Some(r) => Some((1u64 << 40) | u64::from(rx.rx(enc, r))),
        None => line.time().map(|t| (day_of(t) + (1i64 << 38)) as u64),
    }
}

impl Rx {
    pub(crate) fn finish(&self, rule: u32, events: &[Event], env: &Env, sink: &mut Sink) -> Result<()> {
        for g in groups(events) {
            match self.max_drugs {
                None => {
                    // Events of one line are adjacent (sorted by line, then role).
                    let lines: Vec<&[Event]> = g.chunk_by(|a, b| a.line == b.line).collect();
                    let all_listed = lines.iter().all(|l| l.iter().any(|e| e.role == 0));
                    if !all_listed {
                        continue;
                    }
                    let n = lines.len();
                    for l in lines {
                        let Some(e) = l.iter().find(|e| e.role == 0) else { continue };
                        let line = env.ev_line(e)?;
                        let mut args: SmallVec<[(&'static str, String); 4]> = SmallVec::new();
                        args.push(("herbs", n.to_string()));
                        sink.hits.push(Hit {
                            rule,
                            enc: e.enc,
                            line: Some(e.line),
                            related: None,
                            amount: line.amount(),
                            kp_row: e.row,
                            args,
                        });
                    }
                }
                // A prescription cannot hold more distinct drugs than it has lines.
                Some(max) if g.len() <= max => {}
                Some(max) => {
                    let mut seen: Vec<&str> = Vec::new();
                    let mut over: Vec<(&Event, Option<f64>)> = Vec::new();
                    for e in g {
                        let line = env.ev_line(e)?;
                        let Some(code) = line.code() else { continue };
                        let pos = match seen.iter().position(|c| *c == code) {
                            Some(p) => p,
                            None => {
                                seen.push(code);
                                seen.len() - 1
                            }
                        };
                        if pos >= max {
                            over.push((e, line.amount()));
                        }
                    }
                    for (e, amount) in over {
                        let mut args: SmallVec<[(&'static str, String); 4]> = SmallVec::new();
                        args.push(("count", seen.len().to_string()));
                        args.push(("limit", max.to_string()));
                        sink.hits.push(Hit {
                            rule,
                            enc: e.enc,
                            line: Some(e.line),
                            related: None,
                            amount,
                            kp_row: e.row,
                            args,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
