//! Turning claims into history events: encounters (mdtrt rows), knowledge-selected fee lines and
//! trace codes, each owned and keyed by its partition key.

use super::events::Events;
use crate::claims::{Claims, ClaimsTable, ColumnMap, FeeView, MdtrtView, Resolver};
use crate::engine::codes::{EntryList, FxHashMap};
use crate::engine::{Engine, NO_ROW};
use crate::error::{Error, Result};
use crate::templates::history::{Ev, Hist, Source};
use crate::templates::Kernel;
use std::collections::BTreeMap;

/// Unjudged counts by (rule, reason).
pub(crate) type Unjudged = BTreeMap<(u32, &'static str), u64>;

/// Which history rules run and what they read.
pub(crate) struct Plan {
    /// (rule index, source) of every active history rule.
    pub rules: Vec<(u32, Source)>,
    pub active: Vec<bool>,
    pub diagnoses: bool,
}

impl Plan {
    pub fn new(eng: &Engine, active: &[bool]) -> Self {
        let mut rules = Vec::new();
        let mut act = vec![false; eng.rules.len()];
        let mut diagnoses = false;
        for (i, cr) in eng.rules.iter().enumerate() {
            if let (Kernel::History(h), true) = (&cr.kernel, active.get(i).copied().unwrap_or(false)) {
                rules.push((i as u32, h.source()));
                if let Some(a) = act.get_mut(i) {
                    *a = true;
                }
                diagnoses |= matches!(h, Hist::Readmission(_));
            }
        }
        Plan { rules, active: act, diagnoses }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn any(&self, f: impl Fn(Source) -> bool) -> bool {
        self.rules.iter().any(|(_, s)| f(*s))
    }
}

/// What history rules read of one encounter.
#[derive(Clone, Copy, Default)]
struct Enc<'a> {
    psn: Option<&'a str>,
    fac: Option<&'a str>,
    scene: u8,
    begn: Option<i64>,
    end: Option<i64>,
    amount: Option<f64>,
    planned: bool,
    gend: Option<&'a str>,
    brdy: Option<i64>,
}

/// Whether a rule with scene mask `mask` applies to an encounter of scene bits `scene` (as in the
/// line engine: an unknown scene is in scope).
fn in_scene(scene: u8, mask: u8) -> bool {
    scene == 0 || scene & mask != 0
}

/// Appends the events of `claims` for the plan's rules to `out`.
pub(crate) fn extract<'a>(
    eng: &Engine,
    plan: &Plan,
    claims: &'a Claims,
    out: &mut Events,
    unj: &mut Unjudged,
) -> Result<()> {
    let map = &claims.column_map;
    // Encounters.
    let mut encs: FxHashMap<&str, Enc> = FxHashMap::default();
    let mut order: Vec<&str> = Vec::new();
    let mut row = 0;
    for b in &claims.mdtrt {
        let v = MdtrtView::new(b, map)?;
        let r = Resolver::new(b, ClaimsTable::Mdtrt, map);
        let amount = r.num("medfee_sumamt")?;
        let planned = r.str("dscg_31days_rinp_flag")?;
        for i in 0..v.rows {
            let id = v
                .mdtrt_id
                .get(i)
                .ok_or_else(|| value_err(map, ClaimsTable::Mdtrt, "mdtrt_id", row + i, "null encounter id"))?;
            let e = Enc {
                psn: v.psn_no.and_then(|c| c.get(i)),
                fac: v.fixmedins_code.and_then(|c| c.get(i)),
                scene: eng.scenes.of(v.med_type.and_then(|c| c.get(i))),
                begn: v.begntime.and_then(|c| c.get(i)),
                end: v.endtime.and_then(|c| c.get(i)),
                amount: amount.and_then(|c| c.get(i)),
                planned: planned.and_then(|c| c.get(i)).is_some_and(|f| f.trim() == "1"),
                gend: v.gend.and_then(|c| c.get(i)),
                brdy: v.brdy.and_then(|c| c.get(i)),
            };
            if encs.insert(id, e).is_some() {
                return Err(value_err(
                    map,
                    ClaimsTable::Mdtrt,
                    "mdtrt_id",
                    row + i,
                    &format!("duplicate encounter id {id:?}"),
                ));
            }
            order.push(id);
        }
        row += v.rows;
    }
    // Main diagnoses (maindiag_flag = 1; the first one listed wins).
    let mut main_diag: FxHashMap<&str, &str> = FxHashMap::default();
    if plan.diagnoses {
        for b in &claims.diagnoses {
            let mut r = Resolver::new(b, ClaimsTable::Diagnoses, map);
            r.validate_all()?;
            let (Some(ids), Some(codes)) = (r.str("mdtrt_id")?, r.str("diag_code")?) else { continue };
            let Some(flag) = r.str("maindiag_flag")? else { continue };
            for i in 0..b.num_rows() {
                if let (Some(id), Some(code), Some("1")) = (ids.get(i), codes.get(i), flag.get(i).map(str::trim)) {
                    main_diag.entry(id).or_insert(code);
                }
            }
        }
    }
    let rule_of = |ri: u32| (eng.rules.get(ri as usize), eng.pack.rules.get(ri as usize));
    // Encounter events, in mdtrt order (the sort makes the order irrelevant).
    for &(ri, src) in &plan.rules {
        let Source::Encounters(mask) = src else { continue };
        let (Some(cr), Some(_)) = rule_of(ri) else { continue };
        // Only what the template reads is copied into its events.
        let identity = matches!(cr.kernel, Kernel::History(Hist::Identity(_)));
        let readmission = matches!(cr.kernel, Kernel::History(Hist::Readmission(_)));
        for id in &order {
            let Some(e) = encs.get(id) else { continue };
            if (mask != 0 && e.scene & mask == 0) || !in_scene(e.scene, cr.scene_mask) {
                continue;
            }
            let Some(psn) = e.psn else {
                *unj.entry((ri, "psn_no is null")).or_default() += 1;
                continue;
            };
            let Some(t) = e.begn else {
                *unj.entry((ri, "begntime is null")).or_default() += 1;
                continue;
            };
            if t < cr.from || t >= cr.to {
                continue;
            }
            out.add(&Ev {
                rule: ri,
                key: psn,
                sub: NO_ROW,
                time: t,
                end: e.end,
                mdtrt_id: id,
                sn: None,
                psn: None,
                fac: e.fac,
                code: None,
                name: None,
                dept: None,
                amount: e.amount,
                cnt: None,
                prd_days: None,
                scene: e.scene,
                diag: if readmission { main_diag.get(id).copied() } else { None },
                planned: e.planned,
                gend: if identity { e.gend } else { None },
                brdy: if identity { e.brdy } else { None },
            });
        }
    }
    // Fee lines and trace codes.
    let lines = plan.any(|s| s == Source::Lines);
    let traces: Vec<u32> = plan.rules.iter().filter(|(_, s)| *s == Source::TraceCodes).map(|(r, _)| *r).collect();
    if !lines && traces.is_empty() {
        return Ok(());
    }
    let mut lists: FxHashMap<&str, EntryList> = FxHashMap::default();
    let mut scratch = EntryList::new();
    let mut base = 0;
    for b in &claims.fee_details {
        let v = FeeView::new(b, map, base)?;
        let r = Resolver::new(b, ClaimsTable::FeeDetails, map);
        let prd = r.num("prd_days")?;
        let trace = if traces.is_empty() { None } else { r.trace_codes()? };
        for i in 0..v.rows {
            let enc = v.mdtrt_id.get(i).and_then(|id| encs.get(id).copied()).unwrap_or_default();
            let time = v.fee_ocur_time.and_then(|c| c.get(i));
            let psn = v.psn_no.and_then(|c| c.get(i)).or(enc.psn);
            let line_ev =
                |ri: u32, key: &'a str, sub: u32, amount: Option<f64>, psn: Option<&'a str>| -> Result<Ev<'a>> {
                    let null = |column: &str, message: &str| Error::Value {
                        table: "fee_details".into(),
                        column: map.source(ClaimsTable::FeeDetails, column).into(),
                        row: base + i,
                        rule_id: eng.pack.rules.get(ri as usize).map(|r| r.id.clone()),
                        message: message.into(),
                    };
                    let mdtrt = v.mdtrt_id.get(i).ok_or_else(|| null("mdtrt_id", "null encounter id"))?;
                    let sn = v
                        .feedetl_sn
                        .get(i)
                        .ok_or_else(|| null("feedetl_sn", "null line id on a line a history rule reads"))?;
                    Ok(Ev {
                        rule: ri,
                        key,
                        sub,
                        time: time.unwrap_or(i64::MIN),
                        end: None,
                        mdtrt_id: mdtrt,
                        sn: Some(sn),
                        psn,
                        fac: enc.fac,
                        code: v.hilist_code.get(i),
                        name: v.hilist_name.and_then(|c| c.get(i)),
                        dept: v.bilg_dept_codg.and_then(|c| c.get(i)),
                        amount,
                        cnt: v.cnt.and_then(|c| c.get(i)),
                        prd_days: prd.and_then(|c| c.get(i)),
                        scene: enc.scene,
                        diag: None,
                        planned: false,
                        gend: None,
                        brdy: None,
                    })
                };
            if lines {
                if let Some(code) = v.hilist_code.get(i) {
                    let list = lists.entry(code).or_insert_with(|| {
                        eng.index.lookup(code, &mut scratch);
                        scratch
                            .iter()
                            .copied()
                            .filter(|e| {
                                eng.entries.get(*e as usize).is_some_and(|en| {
                                    plan.active.get(en.rule as usize).copied().unwrap_or(false)
                                        && plan.rules.iter().any(|(r, s)| *r == en.rule && *s == Source::Lines)
                                })
                            })
                            .collect()
                    });
                    for e in list.iter() {
                        let Some(entry) = eng.entries.get(*e as usize) else { continue };
                        let Some(cr) = eng.rules.get(entry.rule as usize) else { continue };
                        if entry.bounded() && time.is_some_and(|t| !entry.in_force(t)) {
                            continue;
                        }
                        if !in_scene(enc.scene, cr.scene_mask) {
                            continue;
                        }
                        let Some(_) = time else {
                            *unj.entry((entry.rule, "fee_ocur_time is null")).or_default() += 1;
                            continue;
                        };
                        let Some(p) = psn else {
                            *unj.entry((entry.rule, "psn_no unknown: neither the line nor its mdtrt row gives it"))
                                .or_default() += 1;
                            continue;
                        };
                        out.add(&line_ev(
                            entry.rule,
                            p,
                            entry.row,
                            v.det_item_fee_sumamt.and_then(|c| c.get(i)),
                            None,
                        )?);
                    }
                }
            }
            if let Some(tc) = &trace {
                let codes = tc.codes(i);
                if codes.is_empty() {
                    continue;
                }
                for &ri in &traces {
                    let Some(cr) = eng.rules.get(ri as usize) else { continue };
                    if !in_scene(enc.scene, cr.scene_mask) {
                        continue;
                    }
                    for code in &codes {
                        let Some(t) = time else {
                            *unj.entry((ri, "fee_ocur_time is null")).or_default() += 1;
                            continue;
                        };
                        if t < cr.from || t >= cr.to {
                            continue;
                        }
                        out.add(&line_ev(ri, code, NO_ROW, v.pric.and_then(|c| c.get(i)), psn)?);
                    }
                }
            }
        }
        base += v.rows;
    }
    Ok(())
}

fn value_err(map: &ColumnMap, t: ClaimsTable, col: &str, row: usize, msg: &str) -> Error {
    Error::Value { table: t.name().into(), column: map.source(t, col).into(), row, rule_id: None, message: msg.into() }
}
