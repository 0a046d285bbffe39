//! The pre-alert call: a request shaped like the national 3101 (明细审核事前事中分析服务) input,
//! checked by the engine, answered like the 3101 output.
//!
//! The request becomes the four canonical claims tables (national column names, the canonical
//! Arrow types that `medaudit_core::claims::claims_from_json` also gives them), so the JSON call
//! and the Arrow call run the same engine code on the same columns. Field names follow the national interface; the canonical
//! medaudit names are accepted as aliases. Every field is documented in
//! `include/medaudit_3101_request.schema.json` and `include/medaudit_3101_response.schema.json`.
//!
//! `trig_scen` (触发场景) chooses the stage of the rules that run:
//!
//! | trig_scen | scene | stage |
//! |---|---|---|
//! | 1 门诊挂号, 2 门诊收费登记, 3 住院登记, 4 住院收费登记, 5 住院执行医嘱, 10 购药登记 | ordering, prescribing, registering | 事前 (pre-alert) |
//! | 6 门诊结算, 7 门诊预结算, 8 住院结算, 9 住院预结算 | settlement | 事中 |

use crate::jtree::J;
use crate::status::{core_err, Ctx, FfiError, FfiResult, MedauditStatus};
use arrow_array::{
    new_null_array, ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray, TimestampSecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use medaudit_core::claims::{columns, ColumnKind};
use medaudit_core::time::{day_of, parse_datetime};
use medaudit_core::{CheckOptions, CheckOutput, Claims, ClaimsTable, Engine, Finding, Stage};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

/// The stage a national trigger scene runs, or `None` for an unknown scene.
pub(crate) fn stage_of_trig_scen(s: &str) -> Option<Stage> {
    match s.trim() {
        "1" | "2" | "3" | "4" | "5" | "10" => Some(Stage::Pre),
        "6" | "7" | "8" | "9" => Some(Stage::During),
        _ => None,
    }
}

/// A JSON object being read, with its path for errors (paths are built only when needed).
struct Node<'v> {
    map: &'v [(Cow<'v, str>, J<'v>)],
    /// The path of the object, or of its list when `index` is set (formatted only for errors).
    base: Rc<str>,
    index: Option<usize>,
}

fn bad(path: &str, message: impl std::fmt::Display) -> FfiError {
    FfiError::json(format!("request: {path}: {message}"))
}

/// A value for one canonical column.
#[derive(Clone, Copy)]
enum Val<'v> {
    S(&'v str),
    N(f64),
    /// Wall-clock seconds.
    T(i64),
}

impl<'v> Node<'v> {
    fn new(v: &'v J<'v>, base: Rc<str>, index: Option<usize>) -> FfiResult<Self> {
        match v {
            J::Obj(map) => Ok(Node { map, base, index }),
            other => {
                let path = match index {
                    Some(i) => format!("{base}[{i}]"),
                    None => base.to_string(),
                };
                Err(bad(&path, format_args!("expected an object, found {}", other.type_name())))
            }
        }
    }

    fn path(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}]", self.base),
            None => self.base.to_string(),
        }
    }

    /// The last member named `name` (as serde_json keeps the last of duplicate keys).
    fn member(&self, name: &str) -> Option<&'v J<'v>> {
        self.map.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path())
    }

    /// The first non-null field among `names` (national name first, then aliases). Two different
    /// values under two names is an error rather than a silent choice.
    fn get(&self, names: &[&'static str]) -> FfiResult<Option<(&'v J<'v>, &'static str)>> {
        let mut found: Option<(&'v J<'v>, &'static str)> = None;
        for n in names {
            if let Some(v) = self.member(n).filter(|v| !v.is_null()) {
                match found {
                    None => found = Some((v, n)),
                    Some((prev, pn)) if prev != v => {
                        return Err(bad(
                            &self.path(),
                            format_args!("{pn:?} and {n:?} name the same field and disagree ({prev} vs {v}); give one"),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(found)
    }

    fn str(&self, names: &[&'static str]) -> FfiResult<Option<&'v str>> {
        match self.get(names)? {
            None => Ok(None),
            Some((J::Str(s), _)) => Ok(Some(s.as_ref())),
            Some((other, n)) => Err(bad(
                &self.at(n),
                format_args!("expected a string, found {} (codes are strings: \"01\" and 1 differ)", other.type_name()),
            )),
        }
    }

    fn req_str(&self, names: &[&'static str]) -> FfiResult<&'v str> {
        match self.str(names)? {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(bad(&self.at(names[0]), "must not be empty")),
            None => Err(bad(&self.at(names[0]), "missing required field")),
        }
    }

    /// A number, or a string holding one (the national interface often sends "2.00").
    fn num(&self, names: &[&'static str]) -> FfiResult<Option<f64>> {
        match self.get(names)? {
            None => Ok(None),
            Some((J::Num(x), n)) => {
                Some(*x).filter(|x| x.is_finite()).map(Some).ok_or_else(|| bad(&self.at(n), "number out of range"))
            }
            Some((J::Str(s), n)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| bad(&self.at(n), format_args!("expected a number, found {s:?}"))),
            Some((other, n)) => Err(bad(&self.at(n), format_args!("expected a number, found {}", other.type_name()))),
        }
    }

    /// A time `YYYY-MM-DD[ HH:MM[:SS]]` as wall-clock seconds.
    fn time(&self, names: &[&'static str]) -> FfiResult<Option<i64>> {
        match self.get(names)? {
            None => Ok(None),
            Some((J::Str(s), n)) => match parse_datetime(s) {
                Some(t) => Ok(Some(t)),
                None => Err(bad(&self.at(n), format_args!("expected a time YYYY-MM-DD[ HH:MM:SS], found {s:?}"))),
            },
            Some((other, n)) => {
                Err(bad(&self.at(n), format_args!("expected a time string, found {}", other.type_name())))
            }
        }
    }

    fn list(&self, names: &[&'static str]) -> FfiResult<Vec<Node<'v>>> {
        match self.get(names)? {
            None => Ok(Vec::new()),
            Some((J::Arr(items), n)) => {
                let base: Rc<str> = Rc::from(self.at(n));
                items.iter().enumerate().map(|(i, v)| Node::new(v, base.clone(), Some(i))).collect()
            }
            Some((other, n)) => Err(bad(&self.at(n), format_args!("expected an array, found {}", other.type_name()))),
        }
    }
}

/// A claims table being built row by row. `finish` gives every canonical column, null where the
/// request did not give it: an absent field is unknown (rules that need it report the line as
/// unjudged), never a missing-column error. Types are the canonical ones that `claims_from_json`
/// also gives: Utf8, Float64, Timestamp(s), Date32 for brdy and die_date.
struct Table<'v, const K: usize> {
    table: ClaimsTable,
    fields: [&'static str; K],
    rows: Vec<[Option<Val<'v>>; K]>,
}

impl<'v, const K: usize> Table<'v, K> {
    fn new(table: ClaimsTable) -> Self {
        Table { table, fields: [""; K], rows: Vec::new() }
    }

    /// Appends a row of (canonical column, value), always given in the same column order.
    fn push(&mut self, row: [(&'static str, Option<Val<'v>>); K]) {
        if self.rows.is_empty() {
            self.fields = row.map(|(n, _)| n);
        }
        debug_assert!(row.iter().zip(&self.fields).all(|((a, _), b)| a == b));
        self.rows.push(row.map(|(_, v)| v));
    }

    fn finish(self) -> FfiResult<RecordBatch> {
        let n = self.rows.len();
        let specs = columns(self.table);
        let mut fields = Vec::with_capacity(specs.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(specs.len());
        for spec in specs {
            let idx = self.fields.iter().position(|f| *f == spec.name).filter(|_| n > 0);
            let rows = &self.rows;
            let str_at = |i: usize| rows.iter().map(move |r| if let Some(Val::S(s)) = r[i] { Some(s) } else { None });
            let num_at = |i: usize| rows.iter().map(move |r| if let Some(Val::N(x)) = r[i] { Some(x) } else { None });
            let time_at = |i: usize| rows.iter().map(move |r| if let Some(Val::T(t)) = r[i] { Some(t) } else { None });
            let a: ArrayRef = match (spec.kind, spec.name, idx) {
                (ColumnKind::Str, _, Some(i)) => Arc::new(str_at(i).collect::<StringArray>()),
                (ColumnKind::Num, _, Some(i)) => Arc::new(num_at(i).collect::<Float64Array>()),
                (ColumnKind::Time, "brdy" | "die_date", Some(i)) => {
                    Arc::new(time_at(i).map(|t| t.map(|t| day_of(t) as i32)).collect::<Date32Array>())
                }
                (ColumnKind::Time, _, Some(i)) => Arc::new(time_at(i).collect::<TimestampSecondArray>()),
                (ColumnKind::Str, _, None) => new_null_array(&DataType::Utf8, n),
                (ColumnKind::Num, _, None) => new_null_array(&DataType::Float64, n),
                (ColumnKind::Time, "brdy" | "die_date", None) => new_null_array(&DataType::Date32, n),
                (ColumnKind::Time, _, None) => new_null_array(&DataType::Timestamp(TimeUnit::Second, None), n),
            };
            fields.push(Field::new(spec.name, a.data_type().clone(), true));
            arrays.push(a);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| FfiError::new(MedauditStatus::MEDAUDIT_INTERNAL, format!("request: building claims: {e}")))
    }
}

/// What the response needs to know about a line of the request.
struct LineInfo<'v> {
    hilist_code: &'v str,
    hilist_name: Option<&'v str>,
    rxno: Option<&'v str>,
    bilg_dept_codg: Option<&'v str>,
}

/// A parsed request: claims, options, and what the response echoes.
pub(crate) struct Request<'v> {
    pub claims: Claims,
    pub options: CheckOptions,
    task_id: Option<&'v str>,
    lines: HashMap<&'v str, LineInfo<'v>>,
}

fn s(x: Option<&str>) -> Option<Val<'_>> {
    x.map(Val::S)
}

/// Reads a 3101-shaped request from its parsed JSON.
///
/// The request's fields become the canonical claims columns directly (the same Arrow types as
/// `medaudit_core::claims::claims_from_json` gives them, which a unit test checks), because this
/// is the latency-critical path: building JSON rows for `claims_from_json` would double the cost.
pub(crate) fn read_request<'v>(root: &'v J<'v>) -> FfiResult<Request<'v>> {
    // Accept the whole national envelope ({"input": {"data": …}}), {"data": …}, or the data itself.
    let (data, path) = match root.get("input").and_then(|i| i.get("data")) {
        Some(d) => (d, "$.input.data"),
        None => match root.get("data") {
            Some(d) => (d, "$.data"),
            None => (root, "$"),
        },
    };
    let data = Node::new(data, Rc::from(path), None)?;

    let trig = match data.get(&["trig_scen"])? {
        None => return Err(bad(&data.at("trig_scen"), "missing required field (触发场景)")),
        Some((J::Str(s), _)) => s.to_string(),
        Some((J::Num(x), _)) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        Some((J::Num(x), _)) => x.to_string(),
        Some((other, n)) => {
            return Err(bad(&data.at(n), format_args!("expected a string, found {}", other.type_name())))
        }
    };
    let stage = stage_of_trig_scen(&trig).ok_or_else(|| {
        bad(
            &data.at("trig_scen"),
            format_args!("unknown trigger scene {trig:?}; expected 1–5 or 10 (事前) or 6–9 (事中)"),
        )
    })?;
    let rule_ids = match data.get(&["rule_ids"])? {
        None => None,
        Some((J::Arr(ids), n)) => Some(
            ids.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    J::Str(s) => Ok(s.to_string()),
                    other => Err(bad(
                        &format!("{}[{i}]", data.at(n)),
                        format_args!("expected a string, found {}", other.type_name()),
                    )),
                })
                .collect::<FfiResult<Vec<_>>>()?,
        ),
        Some((other, n)) => {
            return Err(bad(&data.at(n), format_args!("expected an array of rule ids, found {}", other.type_name())))
        }
    };
    let task_id = data.str(&["task_id"])?;

    let mut mdtrt: Table<13> = Table::new(ClaimsTable::Mdtrt);
    let mut diagnoses: Table<4> = Table::new(ClaimsTable::Diagnoses);
    let mut operations: Table<4> = Table::new(ClaimsTable::Operations);
    let mut fees: Table<16> = Table::new(ClaimsTable::FeeDetails);
    let mut lines = HashMap::new();
    let mut seen_enc = HashSet::new();

    for patient in data.list(&["patient_dtos", "patients"])? {
        let psn_no = patient.str(&["patn_id", "psn_no"])?;
        let gend = patient.str(&["gend"])?;
        let brdy = patient.time(&["brdy"])?;
        let age = patient.num(&["age"])?;
        let p_insutype = patient.str(&["insutype"])?;
        let p_die = patient.time(&["die_date"])?;
        for enc in patient.list(&["fsi_encounter_dtos", "encounters"])? {
            let mdtrt_id = enc.req_str(&["mdtrt_id"])?;
            if !seen_enc.insert(mdtrt_id) {
                return Err(bad(&enc.at("mdtrt_id"), format_args!("duplicate encounter {mdtrt_id:?}")));
            }
            mdtrt.push([
                ("mdtrt_id", Some(Val::S(mdtrt_id))),
                ("psn_no", s(psn_no)),
                ("gend", s(gend)),
                ("brdy", brdy.map(Val::T)),
                ("age", age.map(Val::N)),
                ("insutype", s(enc.str(&["insutype"])?.or(p_insutype))),
                ("med_type", s(enc.str(&["med_type"])?)),
                ("fixmedins_code", s(enc.str(&["medins_id", "fixmedins_code"])?)),
                ("hosp_lv", s(enc.str(&["medins_lv", "hosp_lv"])?)),
                ("begntime", enc.time(&["adm_date", "begntime"])?.map(Val::T)),
                ("endtime", enc.time(&["dscg_date", "endtime"])?.map(Val::T)),
                ("dscg_way", s(enc.str(&["dscg_way"])?)),
                ("die_date", enc.time(&["die_date"])?.or(p_die).map(Val::T)),
            ]);
            for d in enc.list(&["fsi_diagnose_dtos", "diagnoses"])? {
                diagnoses.push([
                    ("mdtrt_id", Some(Val::S(mdtrt_id))),
                    ("diag_code", Some(Val::S(d.req_str(&["dise_codg", "diag_code"])?))),
                    ("maindiag_flag", s(d.str(&["maindise_flag", "maindiag_flag"])?)),
                    ("diag_type", s(d.str(&["inout_dise_type", "diag_type"])?)),
                ]);
            }
            for o in enc.list(&["fsi_operation_dtos", "operations"])? {
                operations.push([
                    ("mdtrt_id", Some(Val::S(mdtrt_id))),
                    ("oprn_oprt_code", Some(Val::S(o.req_str(&["oprn_code", "oprn_oprt_code"])?))),
                    ("main_oprn_flag", s(o.str(&["main_oprn_flag"])?)),
                    ("oprn_oprt_date", o.time(&["oprn_date", "oprn_oprt_date"])?.map(Val::T)),
                ]);
            }
            let orders = enc.list(&["fsi_order_dtos", "fee_details"])?;
            fees.rows.reserve(orders.len());
            lines.reserve(orders.len());
            for l in orders {
                let sn = l.req_str(&["rx_id", "feedetl_sn"])?;
                let code = l.req_str(&["hilist_code"])?;
                let name = l.str(&["hilist_name"])?;
                let rxno = l.str(&["rxno"])?;
                let dept = l.str(&["drord_dept_codg", "bilg_dept_codg"])?;
                fees.push([
                    ("feedetl_sn", Some(Val::S(sn))),
                    ("mdtrt_id", Some(Val::S(mdtrt_id))),
                    ("hilist_code", Some(Val::S(code))),
                    ("psn_no", s(psn_no)),
                    ("hilist_name", s(name)),
                    ("fee_ocur_time", l.time(&["drord_begn_date", "fee_ocur_time"])?.map(Val::T)),
                    ("list_type", s(l.str(&["hilist_type", "list_type"])?)),
                    ("med_chrgitm_type", s(l.str(&["chrg_type", "med_chrgitm_type"])?)),
                    ("cnt", l.num(&["cnt"])?.map(Val::N)),
                    ("pric", l.num(&["pric"])?.map(Val::N)),
                    ("det_item_fee_sumamt", l.num(&["sumamt", "det_item_fee_sumamt"])?.map(Val::N)),
                    ("prd_days", l.num(&["prd_days"])?.map(Val::N)),
                    ("bilg_dept_codg", s(dept)),
                    ("bilg_dr_code", s(l.str(&["drord_dr_codg", "bilg_dr_code"])?)),
                    ("rxno", s(rxno)),
                    ("chrg_bchno", s(l.str(&["chrg_bchno"])?)),
                ]);
                if lines
                    .insert(sn, LineInfo { hilist_code: code, hilist_name: name, rxno, bilg_dept_codg: dept })
                    .is_some()
                {
                    return Err(bad(&l.at("rx_id"), format_args!("duplicate line id {sn:?}")));
                }
            }
        }
    }
    let claims = Claims {
        mdtrt: vec![mdtrt.finish()?],
        diagnoses: vec![diagnoses.finish()?],
        operations: vec![operations.finish()?],
        fee_details: vec![fees.finish()?],
        column_map: Default::default(),
    };
    Ok(Request { claims, options: CheckOptions { stage: Some(stage), rule_ids, ..Default::default() }, task_id, lines })
}

/// One judged violation, 3101 `result[]`.
#[derive(Serialize)]
struct JudgeResult<'a> {
    jr_id: &'a str,
    rule_id: &'a str,
    rule_code: Option<&'a str>,
    rule_name: &'a str,
    vola_cont: &'a str,
    patn_id: Option<&'a str>,
    mdtrt_id: &'a str,
    vola_amt: Option<f64>,
    sev_deg: &'a str,
    warn_lv: u8,
    vola_evid: Option<&'a str>,
    vola_bhvr_type: &'a str,
    kp_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<&'a str>,
    judge_result_detail_dtos: Vec<Detail<'a>>,
}

/// One line a violation involves, 3101 `judge_result_detail_dtos[]`.
#[derive(Serialize)]
struct Detail<'a> {
    jr_detl_id: String,
    patn_id: Option<&'a str>,
    mdtrt_id: &'a str,
    vola_item_type: &'static str,
    feedetl_sn: &'a str,
    rxno: Option<&'a str>,
    hilist_code: Option<&'a str>,
    hilist_name: Option<&'a str>,
    bilg_dept_codg: Option<&'a str>,
    vola_amt: Option<f64>,
}

#[derive(Serialize)]
struct Response<'a> {
    result: Vec<JudgeResult<'a>>,
    unjudged: &'a [medaudit_core::Unjudged],
}

fn details<'a>(f: &'a Finding, req: &'a Request<'a>) -> Vec<Detail<'a>> {
    let mut out = Vec::new();
    let mut push = |sn: &'a str, kind: &'static str, amount: Option<f64>, n: usize| {
        let info = req.lines.get(sn);
        out.push(Detail {
            jr_detl_id: format!("{}-{n}", f.finding_id),
            patn_id: f.psn_no.as_deref(),
            mdtrt_id: &f.mdtrt_id,
            vola_item_type: kind,
            feedetl_sn: sn,
            rxno: info.and_then(|i| i.rxno),
            hilist_code: info.map(|i| i.hilist_code),
            hilist_name: info.and_then(|i| i.hilist_name),
            bilg_dept_codg: info.and_then(|i| i.bilg_dept_codg),
            vola_amt: amount,
        });
    };
    if let Some(sn) = f.feedetl_sn.as_deref() {
        push(sn, "违规项", f.amount, 1);
    }
    if let Some(sn) = f.related_feedetl_sn.as_deref() {
        push(sn, "涉及项", None, 2);
    }
    out
}

/// Renders the check output as the 3101 response.
pub(crate) fn render_response(out: &CheckOutput, req: &Request<'_>) -> FfiResult<String> {
    let result = out
        .findings
        .iter()
        .map(|f| JudgeResult {
            jr_id: &f.finding_id,
            rule_id: &f.rule_id,
            rule_code: f.rule_code.as_deref(),
            rule_name: &f.rule_name,
            vola_cont: &f.message,
            patn_id: f.psn_no.as_deref(),
            mdtrt_id: &f.mdtrt_id,
            vola_amt: f.amount,
            sev_deg: &f.severity,
            warn_lv: f.warn_level,
            vola_evid: f.basis.as_deref(),
            vola_bhvr_type: &f.template,
            kp_id: f.kp_id.as_deref(),
            task_id: req.task_id,
            judge_result_detail_dtos: details(f, req),
        })
        .collect();
    serde_json::to_string(&Response { result, unjudged: &out.unjudged })
        .map_err(|e| FfiError::new(MedauditStatus::MEDAUDIT_INTERNAL, format!("response: {e}")))
}

/// The whole pre-alert call, request text to response text.
pub(crate) fn check(engine: &Engine, text: &str) -> FfiResult<String> {
    let root: J = serde_json::from_str(text).map_err(|e| FfiError::json(format!("request: invalid JSON: {e}")))?;
    let req = read_request(&root)?;
    let out = engine.check(&req.claims, &req.options).map_err(|e| core_err(e, Ctx::Call))?;
    render_response(&out, &req)
}
