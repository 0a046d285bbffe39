//! Line templates that compare one attribute of the patient, encounter or line with what the
//! knowledge point allows: `sex`, `insutype`, `hosp_level`, `scene`, `dept`.
//!
//! Amount at risk: the line's `det_item_fee_sumamt`. A null attribute cannot prove a violation: the
//! line is counted as unjudged for the rule.

use super::{line_hit, Compiled, Judge, Kernel, KnowledgeUse, ParamKind, ParamSpec, Params, TemplateSpec};
use crate::claims::ClaimsTable;
use crate::engine::run::{need_row, Sink};
use crate::error::Result;
use crate::pack::Scene;

use super::row_param as P;

/// 药品/医疗服务项目区分性别使用.
pub static SEX: TemplateSpec = TemplateSpec {
    name: "sex",
    title: "药品/医疗服务项目区分性别使用 (GZ10000301004000, GZ10000302004000)",
    doc: "The item is for one sex only; fires when the patient's gend differs.",
    knowledge: KnowledgeUse::Required,
    params: &[ParamSpec {
        name: "sex",
        kind: ParamKind::Str,
        per_row: true,
        required: true,
        doc: "allowed sex: 1/男/M or 2/女/F",
    }],
    placeholders: &["sex", "gend"],
    default_message: "{item_name}限{sex}性使用，患者性别为{gend}",
    amount: "the line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::Mdtrt, "gend")],
};

/// 药品限工伤保险 / 限生育保险.
pub static INSUTYPE: TemplateSpec = TemplateSpec {
    name: "insutype",
    title: "药品限工伤保险 / 药品限生育保险 (GZ10000101001000, GZ10000101002000)",
    doc: "The item is paid only under the listed insurance types (410 工伤, 510 生育); fires for any other insutype.",
    knowledge: KnowledgeUse::Required,
    params: &[ParamSpec {
        name: "insutype",
        kind: ParamKind::StrList,
        per_row: true,
        required: true,
        doc: "allowed insutype codes, e.g. [\"410\"]",
    }],
    placeholders: &["allowed", "insutype"],
    default_message: "{item_name}限{allowed}险种支付，本次险种为{insutype}",
    amount: "the line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::Mdtrt, "insutype")],
};

/// 药品限医疗机构级别.
pub static HOSP_LEVEL: TemplateSpec = TemplateSpec {
    name: "hosp_level",
    title: "药品限医疗机构级别 (GZ10000101012000)",
    doc: "The item is paid only at facilities of a minimum tier (hosp_lv 01–04 三级, 05–07 二级, 08–10 一级, 11–14 unrated); fires below it.",
    knowledge: KnowledgeUse::Required,
    params: &[P("min_level", ParamKind::Num, true, "minimum tier: 1, 2 or 3 (限二级及以上 = 2)")],
    placeholders: &["min_level", "hosp_lv"],
    default_message: "{item_name}限{min_level}及以上医疗机构使用，本机构等级为{hosp_lv}",
    amount: "the line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::Mdtrt, "hosp_lv")],
};

/// 药品限就医方式 / 超互联网医院药品支付范围.
pub static SCENE: TemplateSpec = TemplateSpec {
    name: "scene",
    title: "药品限就医方式 / 超互联网医院药品支付范围",
    doc: "The item is allowed only in some scenes (住院 only) or forbidden in some (互联网); the scene comes from med_type through the pack's `scenes` map.",
    knowledge: KnowledgeUse::Required,
    params: &[
        P("allowed_scenes", ParamKind::StrList, false, "scenes where the item may be used, e.g. [\"住院\"]"),
        P("denied_scenes", ParamKind::StrList, false, "scenes where it may not, e.g. [\"互联网\"]"),
    ],
    placeholders: &["scene", "limit"],
    default_message: "{item_name}{limit}，本次就医场景为{scene}",
    amount: "the line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::Mdtrt, "med_type")],
};

/// 限科室使用.
pub static DEPT: TemplateSpec = TemplateSpec {
    name: "dept",
    title: "限定科室使用",
    doc: "The item may be ordered only by the listed departments (bilg_dept_codg, by prefix); fires for others.",
    knowledge: KnowledgeUse::Required,
    params: &[P("depts", ParamKind::StrList, true, "allowed department codes or prefixes")],
    placeholders: &["depts", "dept"],
    default_message: "{item_name}限{depts}科室开具，开单科室为{dept}",
    amount: "the line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::FeeDetails, "bilg_dept_codg")],
};

/// Per knowledge row: what is allowed.
pub(crate) enum Allowed {
    Sex(Vec<u8>),
    Insutype(Vec<Vec<String>>),
    Level(Vec<u8>),
    Scene(Vec<(u8, u8)>),
    Dept(Vec<Vec<String>>),
}

pub(crate) struct Attr {
    allowed: Allowed,
}

fn sex_code(s: &str) -> Option<u8> {
    match s.trim() {
        "1" | "男" | "M" | "m" | "male" => Some(1),
        "2" | "女" | "F" | "f" | "female" => Some(2),
        _ => None,
    }
}

fn sex_label(c: u8) -> &'static str {
    if c == 1 {
        "男"
    } else {
        "女"
    }
}

/// Tier of a national hosp_lv code: 3, 2, 1, or 0 (unrated); `None` when not a known code.
pub(crate) fn tier(hosp_lv: &str) -> Option<u8> {
    match hosp_lv.trim() {
        "01" | "02" | "03" | "04" => Some(3),
        "05" | "06" | "07" => Some(2),
        "08" | "09" | "10" => Some(1),
        "11" | "12" | "13" | "14" => Some(0),
        _ => None,
    }
}

fn tier_label(t: u8) -> &'static str {
    match t {
        3 => "三级",
        2 => "二级",
        1 => "一级",
        _ => "未定级",
    }
}

fn scene_bits(p: &Params, name: &str, row: Option<usize>) -> Result<u8> {
    let mut bits = 0;
    for s in p.list(name, row)?.unwrap_or_default() {
        let sc = Scene::parse(&s).ok_or_else(|| match row {
            Some(r) => p.row_err(name, r, format!("unknown scene {s:?}; expected 门诊, 住院, 购药 or 互联网")),
            None => crate::error::Error::rule(&p.rule.id, format!("params.{name}"), format!("unknown scene {s:?}")),
        })?;
        bits |= sc.bit();
    }
    Ok(bits)
}

fn scene_names(bits: u8) -> String {
    Scene::ALL.iter().filter(|s| bits & s.bit() != 0).map(|s| s.label()).collect::<Vec<_>>().join("、")
}

pub(crate) fn compile(p: &Params, rows: usize) -> Result<Compiled> {
    let rule = p.rule;
    let allowed = match rule.template.name {
        "sex" => {
            p.require("sex")?;
            let mut v = Vec::with_capacity(rows);
            for r in 0..rows {
                let s = p.req_str("sex", Some(r))?;
                v.push(sex_code(&s).ok_or_else(|| p.row_err("sex", r, format!("expected 1/男 or 2/女, found {s:?}")))?);
            }
            Allowed::Sex(v)
        }
        "insutype" => {
            p.require("insutype")?;
            let mut v = Vec::with_capacity(rows);
            for r in 0..rows {
                let l = p.list("insutype", Some(r))?.unwrap_or_default();
                if l.is_empty() {
                    return Err(p.row_err("insutype", r, "empty list of insurance types"));
                }
                v.push(l);
            }
            Allowed::Insutype(v)
        }
        "hosp_level" => {
            p.require("min_level")?;
            let mut v = Vec::with_capacity(rows);
            for r in 0..rows {
                let x = p.req_num("min_level", Some(r))?;
                if !(x == 1.0 || x == 2.0 || x == 3.0) {
                    return Err(p.row_err("min_level", r, format!("expected 1, 2 or 3, found {x}")));
                }
                v.push(x as u8);
            }
            Allowed::Level(v)
        }
        "scene" => {
            let mut v = Vec::with_capacity(rows);
            for r in 0..rows {
                let a = scene_bits(p, "allowed_scenes", Some(r))?;
                let d = scene_bits(p, "denied_scenes", Some(r))?;
                if a == 0 && d == 0 {
                    return Err(p.row_err("allowed_scenes", r, "give allowed_scenes or denied_scenes"));
                }
                v.push((a, d));
            }
            Allowed::Scene(v)
        }
        _ => {
            p.require("depts")?;
            let mut v = Vec::with_capacity(rows);
            for r in 0..rows {
                v.push(p.list("depts", Some(r))?.unwrap_or_default());
            }
            Allowed::Dept(v)
        }
    };
    Ok(Compiled::new(Kernel::Attr(Attr { allowed })))
}

impl Attr {
    pub(crate) fn eval(&self, j: &Judge, sink: &mut Sink) -> Result<()> {
        let (spec, rule, kp, line, enc, er) = (j.spec, j.rule, j.kp, j.line, j.enc, j.er);
        let r = kp as usize;
        let mut hit = line_hit(rule, enc, line, kp, line.amount());
        match &self.allowed {
            Allowed::Sex(v) => {
                let Some(&want) = v.get(r) else { return Ok(()) };
                let er = need_row(er, line, spec)?;
                let Some(g) = er.gend.and_then(sex_code) else {
                    sink.unjudged(rule, "gend is null or not 1/2");
                    return Ok(());
                };
                if g == want {
                    return Ok(());
                }
                hit.args.push(("sex", sex_label(want).into()));
                hit.args.push(("gend", sex_label(g).into()));
            }
            Allowed::Insutype(v) => {
                let Some(list) = v.get(r) else { return Ok(()) };
                let er = need_row(er, line, spec)?;
                let Some(t) = er.insutype else {
                    sink.unjudged(rule, "insutype is null");
                    return Ok(());
                };
                if list.iter().any(|a| a == t) {
                    return Ok(());
                }
                hit.args.push(("allowed", list.join("、")));
                hit.args.push(("insutype", t.into()));
            }
            Allowed::Level(v) => {
                let Some(&min) = v.get(r) else { return Ok(()) };
                let er = need_row(er, line, spec)?;
                let Some(t) = er.hosp_lv.and_then(tier) else {
                    sink.unjudged(rule, "hosp_lv is null or not a national code");
                    return Ok(());
                };
                if t >= min {
                    return Ok(());
                }
                hit.args.push(("min_level", tier_label(min).into()));
                hit.args.push(("hosp_lv", tier_label(t).into()));
            }
            Allowed::Scene(v) => {
                let Some(&(allowed, denied)) = v.get(r) else { return Ok(()) };
                let er = need_row(er, line, spec)?;
                if er.scene == 0 {
                    sink.unjudged(rule, "med_type is null or in no scene");
                    return Ok(());
                }
                let bad_allowed = allowed != 0 && er.scene & allowed == 0;
                let bad_denied = er.scene & denied != 0;
                if !bad_allowed && !bad_denied {
                    return Ok(());
                }
                let limit = if bad_denied {
                    format!("不得在{}场景使用", scene_names(denied))
                } else {
                    format!("限{}使用", scene_names(allowed))
                };
                hit.args.push(("scene", scene_names(er.scene)));
                hit.args.push(("limit", limit));
            }
            Allowed::Dept(v) => {
                let Some(list) = v.get(r) else { return Ok(()) };
                let Some(d) = line.dept() else {
                    sink.unjudged(rule, "bilg_dept_codg is null");
                    return Ok(());
                };
                if list.iter().any(|a| d.starts_with(a.as_str())) {
                    return Ok(());
                }
                hit.args.push(("depts", list.join("、")));
                hit.args.push(("dept", d.into()));
            }
        }
        sink.hits.push(hit);
        Ok(())
    }
}
