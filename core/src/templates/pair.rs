//! Two items in one window: `pair` (重复收费, 配伍禁忌: B is billed with A) and `companion`
//! (关联缺失: A is billed without B).
//!
//! Each knowledge row names A (`code`) and B (`code_b`, matched the same way as `code`) and the
//! window: `hour` (the same clock hour, 同一小时), `<N>h` (within N hours, e.g. `6h`), `day` (the
//! same calendar day, 单日) or `encounter` (单次就诊). `pair` flags each B line that has an A line
//! in its window (the first such A is the related line); `companion` flags each A line with no B
//! line in its window. Amount at risk: the flagged line's `det_item_fee_sumamt`.

use super::{groups, row_param, Compiled, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec, Window};
use crate::claims::ClaimsTable;
use crate::engine::run::{Env, Event, Hit, Sink};
use crate::error::Result;
use smallvec::SmallVec;

/// 医疗服务项目重复收费 / 配伍禁忌.
pub static PAIR: TemplateSpec = TemplateSpec {
    name: "pair",
    title: "医疗服务项目重复收费 (GZ10000102012000) / 配伍禁忌",
    doc: "Item B is billed in the same window as item A (A's charge already includes B, or A and B must not be combined).",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("code_b", ParamKind::Str, true, "item B's code (matched like code)"),
        row_param("window", ParamKind::Window, false, "hour, <N>h, day (default) or encounter"),
    ],
    placeholders: &["related_item", "window"],
    default_message: "{item_name}与{related_item}{window}同时收费",
    amount: "the B line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::FeeDetails, "fee_ocur_time")],
};

/// 关联缺失.
pub static COMPANION: TemplateSpec = TemplateSpec {
    name: "companion",
    title: "关联项目缺失",
    doc: "Item A is billed without item B in its window (e.g. a drug infusion without the infusion service, an operation without anaesthesia).",
    knowledge: KnowledgeUse::Required,
    params: &[
        row_param("code_b", ParamKind::Str, true, "the companion item's code"),
        row_param("window", ParamKind::Window, false, "hour, <N>h, day or encounter (default)"),
    ],
    placeholders: &["code_b", "window"],
    default_message: "{item_name}{window}未见关联项目{code_b}",
    amount: "the A line's det_item_fee_sumamt",
    needs: &[],
};

pub(crate) struct Pair {
    companion: bool,
    rows: Vec<(String, Window)>,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    let companion = p.rule.template.name == "companion";
    p.require("code_b")?;
    let default = if companion { Window::Encounter } else { Window::Day };
    let mut v = Vec::with_capacity(rows);
    let mut extra = Vec::with_capacity(rows);
    for r in 0..rows {
        let b = p.req_str("code_b", Some(r))?;
        if b.is_empty() {
            return Err(p.row_err("code_b", r, "empty code"));
        }
        let w = p.window("window", Some(r), default)?;
        extra.push((b.clone(), r as u32, 1u8));
        v.push((b, w));
    }
    let mut c = Compiled::new(Kernel::Pair(Pair { companion, rows: v }));
    c.extra_keys = extra;
    Ok(c)
}

/// Whether events `a` and `b` fall in one window; `None` when a needed time is null.
fn together(w: Window, a: &Event, b: &Event) -> Option<bool> {
    if w == Window::Encounter {
        return Some(true);
    }
    if !a.has_time || !b.has_time {
        return None;
    }
    Some(match w {
        Window::Hours(n) => a.time.abs_diff(b.time) <= n.unsigned_abs().saturating_mul(3600),
        _ => w.bucket(Some(a.time)) == w.bucket(Some(b.time)),
    })
}

impl Pair {
    pub(crate) fn finish(&self, rule: u32, events: &[Event], env: &Env, sink: &mut Sink) -> Result<()> {
        for g in groups(events) {
            let Some(first) = g.first() else { continue };
            let Some((code_b, w)) = self.rows.get(first.row as usize) else { continue };
            let (subjects, others): (Vec<&Event>, Vec<&Event>) = if self.companion {
                (g.iter().filter(|e| e.role == 0).collect(), g.iter().filter(|e| e.role == 1).collect())
            } else {
                (g.iter().filter(|e| e.role == 1).collect(), g.iter().filter(|e| e.role == 0).collect())
            };
            for s in subjects {
                let mut unknown = false;
                let mut found = None;
                for o in &others {
                    if o.line == s.line {
                        continue;
                    }
                    match together(*w, s, o) {
                        Some(true) => {
                            found = Some(*o);
                            break;
                        }
                        Some(false) => {}
                        None => unknown = true,
                    }
                }
                let line = env.ev_line(s)?;
                let mut args: SmallVec<[(&'static str, String); 4]> = SmallVec::new();
                args.push(("window", w.label()));
                let hit = match (self.companion, found) {
                    (false, Some(a)) => {
                        let al = env.ev_line(a)?;
                        let name = al.v.hilist_name.and_then(|c| c.get(al.row)).or_else(|| al.code()).unwrap_or("");
                        args.push(("related_item", name.to_string()));
                        Some(Some(a.line))
                    }
                    (true, None) if !unknown => {
                        args.push(("code_b", code_b.clone()));
                        Some(None)
                    }
                    _ => None,
                };
                // Unjudged only when no other line decided it: a companion found in the window
                // judges the A line even if a line with a null time came first.
                if unknown && hit.is_none() && found.is_none() {
                    sink.unjudged(rule, "fee_ocur_time is null");
                }
                if let Some(related) = hit {
                    sink.hits.push(Hit {
                        rule,
                        enc: s.enc,
                        line: Some(s.line),
                        related,
                        amount: line.amount(),
                        kp_row: s.row,
                        args,
                    });
                }
            }
        }
        Ok(())
    }
}
