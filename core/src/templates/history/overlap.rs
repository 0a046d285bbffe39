//! `overlapping_care` (住院期间门诊/购药/他院住院): an encounter of one of `scenes` (default 门诊
//! and 购药) whose day (`begntime`) falls strictly inside an inpatient stay of the same person
//! (after the admission day and before the discharge day, so a visit on the day of admission or
//! discharge is not flagged), or an inpatient stay at another facility admitted strictly inside
//! such a stay. The related stay is named in the message.
//!
//! State per person: the inpatient stays not yet ended (about 100 bytes each). Amount at risk:
//! the flagged encounter's medfee_sumamt.

use super::{scene_bits, verdict, Ev, Outcome, St, Stay};
use crate::claims::ClaimsTable;
use crate::error::Result;
use crate::pack::Scene;
use crate::templates::{rule_param, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::time::{day_of, format_datetime};

/// 住院期间其他就诊.
pub static OVERLAPPING_CARE: TemplateSpec = TemplateSpec {
    name: "overlapping_care",
    title: "住院期间门诊/购药/他院住院结算",
    doc: "An outpatient or pharmacy settlement (or an inpatient stay at another facility) dated strictly inside one of the person's inpatient stays.",
    knowledge: KnowledgeUse::None,
    params: &[rule_param(
        "scenes",
        ParamKind::StrList,
        false,
        "scenes of the encounters checked besides other-facility stays, default [门诊, 购药]",
    )],
    placeholders: &["prev_mdtrt_id", "stay"],
    default_message: "就诊时间在住院{prev_mdtrt_id}（{stay}）期间",
    amount: "the flagged encounter's medfee_sumamt",
    needs: &[
        (ClaimsTable::Mdtrt, "psn_no"),
        (ClaimsTable::Mdtrt, "begntime"),
        (ClaimsTable::Mdtrt, "endtime"),
        (ClaimsTable::Mdtrt, "med_type"),
    ],
};

pub(crate) struct Overlap {
    pub scenes: u8,
}

pub(crate) fn compile(p: &Params) -> Result<Overlap> {
    let labels = p.list("scenes", None)?.unwrap_or_else(|| vec!["门诊".into(), "购药".into()]);
    let scenes = scene_bits(p, "scenes", &labels)? & !Scene::Inpatient.bit();
    Ok(Overlap { scenes })
}

impl Overlap {
    pub(crate) fn step(&self, st: &mut Option<St>, ev: &Ev) -> Outcome {
        if !matches!(st, Some(St::Stays(_))) {
            *st = Some(St::Stays(Vec::new()));
        }
        let Some(St::Stays(stays)) = st else { return Outcome::Clear };
        let day = day_of(ev.time);
        stays.retain(|s| day_of(s.end) > day);
        let inpatient = ev.scene & Scene::Inpatient.bit() != 0;
        let checked = ev.scene & self.scenes != 0;
        let inside = stays.iter().find(|s| {
            day_of(s.begn) < day
                && (checked || (inpatient && s.fac.is_some() && ev.fac.is_some() && s.fac.as_deref() != ev.fac))
        });
        let out = match inside {
            Some(s) => {
                let stay = format!("{}至{}", format_datetime(s.begn), format_datetime(s.end));
                Outcome::hit(verdict(ev.amount, &[("prev_mdtrt_id", s.mdtrt.to_string()), ("stay", stay)]))
            }
            None => Outcome::Clear,
        };
        if inpatient {
            match ev.end {
                Some(end) => stays.push(Stay {
                    fac: ev.fac.map(Into::into),
                    begn: ev.time,
                    end,
                    mdtrt: ev.mdtrt_id.into(),
                    diag: None,
                    planned: false,
                }),
                None => {
                    if matches!(out, Outcome::Clear) {
                        return Outcome::Unjudged("endtime of an inpatient stay is null");
                    }
                }
            }
        }
        out
    }
}
