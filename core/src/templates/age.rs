//! `age`: the item is for an age band (儿童专用, 新生儿, 限成人, 限法定就业年龄).
//!
//! Age is taken at the line's `fee_ocur_time` from `brdy` (completed years, and days since birth
//! for newborn limits); when `brdy` is absent or null, `mdtrt.age` gives the years. Fires when the
//! age is below `min_age`, above `max_age` (both in completed years, inclusive bounds), or above
//! `max_age_days`. Amount at risk: the line's `det_item_fee_sumamt`.

use super::{line_hit, row_param as P, Compiled, Judge, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::engine::run::{need_row, Sink};
use crate::error::Result;
use crate::time::{age_days, age_years};

/// 药品/医疗服务项目儿童专用, 限儿童, 限年龄.
pub static AGE: TemplateSpec = TemplateSpec {
    name: "age",
    title: "药品儿童专用 / 药品限儿童使用 / 医疗服务项目儿童专用 / 医疗服务项目限年龄 (GZ10000301002000, GZ10000101007000, GZ10000302003000)",
    doc: "The item is for an age band; fires outside [min_age, max_age] years or beyond max_age_days days of age.",
    knowledge: KnowledgeUse::Required,
    params: &[
        P("min_age", ParamKind::Num, false, "youngest allowed age in completed years (限成人: 18; 法定就业年龄: 16)"),
        P("max_age", ParamKind::Num, false, "oldest allowed age in completed years (儿童: 17, i.e. under 18; 法定就业年龄: 59)"),
        P("max_age_days", ParamKind::Num, false, "oldest allowed age in days (新生儿: 28)"),
    ],
    placeholders: &["age", "limit"],
    default_message: "{item_name}限{limit}使用，患者年龄为{age}",
    amount: "the line's det_item_fee_sumamt",
    needs: &[],
};

#[derive(Clone, Copy)]
struct Band {
    min: Option<i64>,
    max: Option<i64>,
    max_days: Option<i64>,
}

pub(crate) struct Age {
    bands: Vec<Band>,
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    let mut bands = Vec::with_capacity(rows);
    for r in 0..rows {
        let int = |name: &str| -> Result<Option<i64>> {
            match p.num(name, Some(r))? {
                None => Ok(None),
                Some(x) if x >= 0.0 && x.fract() == 0.0 && x < 200_000.0 => Ok(Some(x as i64)),
                Some(x) => Err(p.row_err(name, r, format!("expected a whole number of years or days, found {x}"))),
            }
        };
        let b = Band { min: int("min_age")?, max: int("max_age")?, max_days: int("max_age_days")? };
        if b.min.is_none() && b.max.is_none() && b.max_days.is_none() {
            return Err(p.row_err(
                "max_age",
                r,
                "no age limit: give min_age, max_age or max_age_days (in the row or the rule's params)",
            ));
        }
        bands.push(b);
    }
    Ok(Compiled::new(Kernel::Age(Age { bands })))
}

fn limit_label(b: &Band) -> String {
    match (b.min, b.max, b.max_days) {
        (_, _, Some(d)) => format!("出生{d}天内"),
        (Some(a), Some(z), _) => format!("{a}至{z}岁"),
        (Some(a), None, _) => format!("{a}岁及以上"),
        (None, Some(z), _) => format!("{}岁以下", z + 1),
        (None, None, None) => String::new(),
    }
}

impl Age {
    pub(crate) fn eval(&self, j: &Judge, sink: &mut Sink) -> Result<()> {
        let (spec, rule, kp, line, enc, er) = (j.spec, j.rule, j.kp, j.line, j.enc, j.er);
        let Some(b) = self.bands.get(kp as usize) else { return Ok(()) };
        let er = need_row(er, line, spec)?;
        let time = line.time();
        let (years, days) = match (er.brdy, time) {
            (Some(birth), Some(t)) => (Some(age_years(birth, t)), Some(age_days(birth, t))),
            _ => (er.age.map(|a| a.floor() as i64), None),
        };
        // A bound that is known and broken fires even when another bound cannot be checked;
        // only when nothing proves a violation does an unknown age make the line unjudged.
        let mut bad = None;
        let mut unknown = None;
        if b.min.is_some() || b.max.is_some() {
            match years {
                Some(y) if b.min.is_some_and(|m| y < m) || b.max.is_some_and(|m| y > m) => bad = Some(format!("{y}岁")),
                Some(_) => {}
                None => unknown = Some("age unknown: brdy (with fee_ocur_time) and age are null"),
            }
        }
        if let Some(md) = b.max_days {
            match days {
                Some(d) if d > md => {
                    bad = Some(match years {
                        Some(y) if y >= 1 => format!("{y}岁"),
                        _ => format!("{d}天"),
                    })
                }
                Some(_) => {}
                None => unknown = unknown.or(Some("age in days unknown: brdy or fee_ocur_time is null")),
            }
        }
        if let (None, Some(reason)) = (&bad, unknown) {
            sink.unjudged(rule, reason);
        }
        if let Some(age) = bad {
            let mut hit = line_hit(rule, enc, line, kp, line.amount());
            hit.args.push(("age", age));
            hit.args.push(("limit", limit_label(b)));
            sink.hits.push(hit);
        }
        Ok(())
    }
}
