//! `drg_readmission` (分解住院 by group): an inpatient stay that starts within `window_days` of
//! the discharge of the same person's previous inpatient stay at the same facility, with both
//! stays in the same ADRG (or MDC, `same`), grouped with the scheme `params.scheme`.
//!
//! The finding is on the later stay and names the earlier one. ADRGs in `exclude_adrgs` (planned
//! series such as radiotherapy or chemotherapy) are out of scope. Only the encounters of one
//! check call are seen (see [`super::drg_history`]). Amount at risk: the later stay's cost.

use super::drg_case::{num, DrgKind, DrgRule, Judge};
use super::{rule_param, Compiled, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::engine::run::Sink;
use crate::error::{Error, Result};
use crate::pack::Scene;
use smallvec::smallvec;

/// Readmission in the same group.
pub static DRG_READMISSION: TemplateSpec = TemplateSpec {
    name: "drg_readmission",
    title: "分解住院：同一机构短期内同病组再入院",
    doc: "A stay starting within window_days of the previous stay's discharge (same person, same facility) in the same ADRG or MDC.",
    knowledge: KnowledgeUse::None,
    params: &[
        rule_param("scheme", ParamKind::Str, true, "id of a DRG scheme given to the engine"),
        rule_param("window_days", ParamKind::Num, false, "days from discharge to readmission; default 15"),
        rule_param("same", ParamKind::Enum(&["adrg", "mdc"]), false, "what must match; default adrg"),
        rule_param("exclude_adrgs", ParamKind::StrList, false, "ADRGs out of scope (planned series); default none"),
    ],
    placeholders: &["prev_mdtrt_id", "prev_drg", "drg", "days", "same"],
    default_message: "出院{days}天后再次入院，与前次住院{prev_mdtrt_id}（{prev_drg}）同属{same}，本次入组{drg}",
    amount: "the later stay's cost",
    needs: &[],
};

pub(crate) struct Readmission {
    window: f64,
    mdc: bool,
    exclude: Vec<String>,
}

pub(crate) fn compile(p: &Params) -> Result<Compiled> {
    let window = p.num("window_days", None)?.unwrap_or(15.0);
    if window.is_nan() || window <= 0.0 {
        return Err(Error::rule(&p.rule.id, "params.window_days", "must be positive"));
    }
    let k = Readmission {
        window,
        mdc: p.str("same", None)?.is_some_and(|s| s == "mdc"),
        exclude: p.list("exclude_adrgs", None)?.unwrap_or_default(),
    };
    Ok(DrgRule::new(DrgKind::Readmission(k), p)?.compiled())
}

impl Readmission {
    pub fn judge(&self, j: &Judge, sink: &mut Sink) {
        let inpatient = Scene::Inpatient.bit();
        let me = j.history.info(j.stay.enc);
        let Some(begn) = me.begn else { return sink.unjudged(j.ri, "begntime is null") };
        // The nearest earlier inpatient stay of the same person at the same facility.
        let Some(prev) = j.history.before(j.stay.enc).find(|o| j.history.info(*o).scene & inpatient != 0) else {
            return;
        };
        let p = j.history.info(prev);
        let Some(end) = p.end else { return sink.unjudged(j.ri, "the previous stay's endtime is null") };
        let days = (crate::time::day_of(begn) - crate::time::day_of(end)) as f64;
        if days < 0.0 || days > self.window {
            return;
        }
        let (g, _) = match j.drg() {
            Ok(x) => x,
            Err(why) => return sink.unjudged(j.ri, why),
        };
        let pg = match j.drg_of(prev) {
            Ok(x) => x,
            Err(why) => return sink.unjudged(j.ri, why),
        };
        if self.exclude.iter().any(|a| a == g.adrg) {
            return;
        }
        let same = if self.mdc { g.mdc == pg.mdc } else { g.adrg == pg.adrg };
        if !same {
            return;
        }
        let Some(cost) = j.stay.cost else { return sink.unjudged(j.ri, "a fee line amount is null") };
        let args = smallvec![
            ("prev_mdtrt_id", p.id.to_string()),
            ("prev_drg", pg.drg.to_string()),
            ("drg", g.drg.to_string()),
            ("days", num(days)),
            ("same", if self.mdc { g.mdc.to_string() } else { format!("ADRG {}", g.adrg) }),
        ];
        sink.hits.push(j.hit(Some(cost), crate::engine::NO_ROW, args));
    }
}
