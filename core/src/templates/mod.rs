//! Rule templates: the fixed logic of each national rule class, and their parameters.
//!
//! A template is a spec ([`TemplateSpec`]: name, parameters, knowledge use, message placeholders,
//! how the amount at risk is computed) and a kernel ([`Kernel`]) compiled from one rule. Where a
//! template lives:
//!
//! | template | file | granularity | national rule classes |
//! |---|---|---|---|
//! | `sex`, `insutype`, `hosp_level`, `scene`, `dept` | [`attribute`] | line | 区分性别, 限工伤/生育, 限医疗机构级别, 限就医方式/互联网, 限科室 |
//! | `age` | [`age`] | line | 儿童专用, 限儿童, 新生儿, 限成人, 限法定就业年龄 |
//! | `price_cap` | [`price_cap`] | line | 超限价收费 by facility level |
//! | `not_payable` | [`not_payable`] | line | 中药饮片单复方均不予支付, 目录外 |
//! | `amount_mismatch`, `fee_time` | [`data_quality`] | line | 金额≠数量×单价, 费用时间在住院期间外/出院后/死亡后 |
//! | `frequency`, `bed_days` | [`quantity`] | hour / day / encounter | 限定频次, 床位费天数大于住院天数 |
//! | `diag_required`, `diag_forbidden` | [`diagnosis`] | encounter | 限适应症, 禁忌症 |
//! | `pair`, `companion` | [`pair`] | hour / N hours / day / encounter | 重复收费, 配伍禁忌, 关联缺失 |
//! | `surgery_discount` | [`surgery_discount`] | day | 手术项目未按规定折价 |
//! | `herbs_only`, `rx_drug_count` | [`prescription`] | prescription | 中药饮片单方使用, 单张处方药品数 |
//! | `expr` | [`expr`] | line or encounter | analyst-written conditions (see [`crate::expr`]) |
//! | `drg_cost_ratio` | [`drg_cost_ratio`] | stay (DRG) | 高倍率/低倍率病例 |
//! | `drg_unsupported_coding` | [`drg_unsupported_coding`] | stay (DRG) | 高编高套 (诊断/手术无收费支持, re-grouped) |
//! | `drg_low_standard` | [`drg_low_standard`] | stay | 低标准入院 |
//! | `dip_cost_ratio` | [`dip_cost_ratio`] | stay (DIP) | DIP 高倍率/低倍率病例 |
//! | `drg_readmission` | [`drg_readmission`] | stays of a person (DRG) | 分解住院 (同病组短期再入院) |
//! | `drg_cost_shifting` | [`drg_cost_shifting`] | stays and visits of a person | 转嫁费用 (住院前后门诊) |
//!
//! The DRG templates share [`drg_case`]: they group the stay with a DRG scheme the engine was
//! given (`Engine::builder(pack).drg_scheme(..)`, named by the rule's `params.scheme`).
//! | `course`, `cycle_frequency`, `days_supply`, `readmission`, `frequent_visits`, `overlapping_care`, `trace_duplicate`, `identity_change` | [`history`] (one file each) | person or trace code, across encounters | 支付疗程, 周期超频次, 超量开药, 分解住院, 频繁就诊, 住院期间门诊/购药, 追溯码重复, 冒名就医 |
//!
//! Parameters resolve in one way for every template: a knowledge row's column of the parameter's
//! name, else the rule's `params`, else the template default. This module never does IO.

pub(crate) mod age;
pub(crate) mod attribute;
pub(crate) mod data_quality;
pub(crate) mod diagnosis;
pub(crate) mod dip_cost_ratio;
pub(crate) mod drg_case;
pub(crate) mod drg_cost_ratio;
pub(crate) mod drg_cost_shifting;
pub(crate) mod drg_history;
pub(crate) mod drg_low_standard;
pub(crate) mod drg_readmission;
pub(crate) mod drg_unsupported_coding;
pub(crate) mod expr;
pub(crate) mod history;
pub(crate) mod not_payable;
pub(crate) mod pair;
pub(crate) mod prescription;
pub(crate) mod price_cap;
pub(crate) mod quantity;
pub(crate) mod surgery_discount;

use crate::claims::ClaimsTable;
use crate::error::{Error, Result};
use crate::knowledge::KnowledgeTable;
use crate::pack::Rule;
use serde_json::Value;
use std::collections::BTreeMap;

/// Whether a template reads a knowledge table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnowledgeUse {
    /// The rule must name a knowledge table; its rows select the items the rule applies to.
    Required,
    /// The rule applies to every line (data-quality) or to lines selected by parameters.
    None,
    /// The rule may name a knowledge table (`expr`): with one, its rows select the lines judged.
    Optional,
    /// The rule must name a knowledge table, which an encounter-level template reads whole (DRG
    /// weights, coding evidence, diagnosis lists); its rows are not matched against fee lines.
    Case,
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A string.
    Str,
    /// A number.
    Num,
    /// A list of strings (in a knowledge column: `a|b|c`).
    StrList,
    /// A time window: `hour` (same clock hour), `day` (same calendar day), `encounter`, or `<N>h`
    /// (within N hours of each other).
    Window,
    /// One of the listed strings.
    Enum(&'static [&'static str]),
    /// The name of a code set of the pack.
    CodeSet,
}

/// One parameter of a template.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Name, in `params` and as a knowledge column.
    pub name: &'static str,
    /// Type.
    pub kind: ParamKind,
    /// Whether a knowledge row may give it (row value wins over the rule's `params`).
    pub per_row: bool,
    /// Whether it must be given (in `params` or, when `per_row`, by every row).
    pub required: bool,
    /// What it means, with its default.
    pub doc: &'static str,
}

/// A template: everything a pack author needs to know, and what the engine checks at load.
#[derive(Debug)]
pub struct TemplateSpec {
    /// Template name used in packs.
    pub name: &'static str,
    /// The national rule class it serves.
    pub title: &'static str,
    /// What it checks.
    pub doc: &'static str,
    /// Knowledge use.
    pub knowledge: KnowledgeUse,
    /// Parameters.
    pub params: &'static [ParamSpec],
    /// Placeholders the message may use besides the common ones.
    pub placeholders: &'static [&'static str],
    /// Message used when the rule gives none.
    pub default_message: &'static str,
    /// How the amount at risk (可疑金额) is computed.
    pub amount: &'static str,
    /// Claims columns the template reads (beyond the keys and the code).
    pub needs: &'static [(ClaimsTable, &'static str)],
}

/// Placeholders every message may use.
pub const COMMON_PLACEHOLDERS: &[&str] = &["rule_name", "item_code", "item_name", "amount", "kp_id"];

/// Every template, in documentation order.
pub static SPECS: &[&TemplateSpec] = &[
    &attribute::SEX,
    &age::AGE,
    &attribute::INSUTYPE,
    &attribute::HOSP_LEVEL,
    &attribute::SCENE,
    &attribute::DEPT,
    &price_cap::PRICE_CAP,
    &not_payable::NOT_PAYABLE,
    &data_quality::AMOUNT_MISMATCH,
    &data_quality::FEE_TIME,
    &quantity::BED_DAYS,
    &quantity::FREQUENCY,
    &diagnosis::DIAG_REQUIRED,
    &diagnosis::DIAG_FORBIDDEN,
    &pair::PAIR,
    &pair::COMPANION,
    &surgery_discount::SURGERY_DISCOUNT,
    &prescription::HERBS_ONLY,
    &prescription::RX_DRUG_COUNT,
    &expr::EXPR,
    &drg_cost_ratio::DRG_COST_RATIO,
    &drg_unsupported_coding::DRG_UNSUPPORTED_CODING,
    &drg_low_standard::DRG_LOW_STANDARD,
    &dip_cost_ratio::DIP_COST_RATIO,
    &drg_readmission::DRG_READMISSION,
    &drg_cost_shifting::DRG_COST_SHIFTING,
    &history::course::COURSE,
    &history::cycle::CYCLE_FREQUENCY,
    &history::supply::DAYS_SUPPLY,
    &history::readmission::READMISSION,
    &history::frequent::FREQUENT_VISITS,
    &history::overlap::OVERLAPPING_CARE,
    &history::trace::TRACE_DUPLICATE,
    &history::identity::IDENTITY_CHANGE,
];

/// The template named `name`.
pub fn spec(name: &str) -> Option<&'static TemplateSpec> {
    SPECS.iter().copied().find(|s| s.name == name)
}

/// A time window of a pair or quantity rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The same clock hour (同一小时).
    Hour,
    /// Within N hours of each other (e.g. 6 小时).
    Hours(i64),
    /// The same calendar day (单日).
    Day,
    /// The same encounter (单次就诊).
    Encounter,
}

impl Window {
    /// Parses `hour`, `day`, `encounter` or `<N>h`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hour" | "同一小时" => Some(Window::Hour),
            "day" | "日" | "单日" => Some(Window::Day),
            "encounter" | "单次就诊" => Some(Window::Encounter),
            _ => {
                let n = s.strip_suffix('h').or_else(|| s.strip_suffix("小时"))?;
                n.parse::<i64>().ok().filter(|n| (1..=24 * 366).contains(n)).map(Window::Hours)
            }
        }
    }

    /// The label used in messages.
    pub fn label(self) -> String {
        match self {
            Window::Hour => "同一小时".into(),
            Window::Hours(n) => format!("{n}小时内"),
            Window::Day => "同一日".into(),
            Window::Encounter => "同一次就诊".into(),
        }
    }

    /// The bucket of a time for bucketed windows (hour, day); `Some(0)` for the encounter.
    pub fn bucket(self, t: Option<i64>) -> Option<i64> {
        match self {
            Window::Hour => t.map(|t| t.div_euclid(3600)),
            Window::Day => t.map(crate::time::day_of),
            Window::Encounter => Some(0),
            Window::Hours(_) => t,
        }
    }
}

pub(crate) fn validate_params(
    spec: &TemplateSpec,
    rule_id: &str,
    params: &serde_json::Map<String, Value>,
    code_sets: &BTreeMap<String, Vec<String>>,
) -> Result<()> {
    for (k, v) in params {
        let p = spec.params.iter().find(|p| p.name == k).ok_or_else(|| {
            let known: Vec<_> = spec.params.iter().map(|p| p.name).collect();
            Error::rule(
                rule_id,
                format!("params.{k}"),
                format!(
                    "unknown parameter of template {:?}; it takes: {}",
                    spec.name,
                    if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
                ),
            )
        })?;
        check_value(p, v).map_err(|m| Error::rule(rule_id, format!("params.{k}"), m))?;
        if p.kind == ParamKind::CodeSet {
            if let Value::String(s) = v {
                if !code_sets.contains_key(s) {
                    return Err(Error::rule(rule_id, format!("params.{k}"), unknown_set(s, code_sets)));
                }
            }
        }
    }
    for p in spec.params {
        if p.required && !p.per_row && !params.contains_key(p.name) {
            return Err(Error::rule(rule_id, format!("params.{}", p.name), "missing required parameter"));
        }
    }
    Ok(())
}

pub(crate) fn unknown_set(s: &str, code_sets: &BTreeMap<String, Vec<String>>) -> String {
    format!(
        "unknown code set {s:?}; the pack's code_sets are: {}",
        if code_sets.is_empty() {
            "(none)".to_string()
        } else {
            code_sets.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    )
}

fn check_value(p: &ParamSpec, v: &Value) -> std::result::Result<(), String> {
    let found = crate::pack::type_name(v);
    match (p.kind, v) {
        (_, Value::Null) => Ok(()),
        (ParamKind::Num, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => Ok(()),
        (ParamKind::Num, _) => Err(format!("expected a number, found {found}")),
        (ParamKind::Str | ParamKind::CodeSet, Value::String(_)) => Ok(()),
        (ParamKind::Str | ParamKind::CodeSet, _) => Err(format!("expected a string, found {found}")),
        (ParamKind::StrList, Value::Array(a)) if a.iter().all(Value::is_string) => Ok(()),
        (ParamKind::StrList, _) => Err(format!("expected an array of strings, found {found}")),
        (ParamKind::Window, Value::String(s)) => Window::parse(s)
            .map(|_| ())
            .ok_or_else(|| format!("expected a window (hour, day, encounter or <N>h), found {s:?}")),
        (ParamKind::Window, _) => Err(format!("expected a window string, found {found}")),
        (ParamKind::Enum(opts), Value::String(s)) if opts.contains(&s.as_str()) => Ok(()),
        (ParamKind::Enum(opts), _) => Err(format!("expected one of {}, found {v}", opts.join(", "))),
    }
}

pub(crate) fn validate_message(spec: &TemplateSpec, message: &str) -> std::result::Result<(), String> {
    let mut rest = message;
    while let Some(i) = rest.find('{') {
        let after = rest.get(i + 1..).unwrap_or("");
        let j = after.find('}').ok_or_else(|| "unclosed '{' in message".to_string())?;
        let name = after.get(..j).unwrap_or("");
        if !COMMON_PLACEHOLDERS.contains(&name) && !spec.placeholders.contains(&name) {
            let mut known: Vec<&str> = COMMON_PLACEHOLDERS.to_vec();
            known.extend(spec.placeholders);
            return Err(format!(
                "unknown placeholder {{{name}}}; template {:?} offers: {}",
                spec.name,
                known.join(", ")
            ));
        }
        rest = after.get(j + 1..).unwrap_or("");
    }
    Ok(())
}

/// Reads a rule's parameters for compilation: knowledge row first, then `params`.
pub(crate) struct Params<'r> {
    pub rule: &'r Rule,
    pub kt: Option<&'r KnowledgeTable>,
}

impl<'r> Params<'r> {
    fn spec(&self, name: &str) -> Option<&'static ParamSpec> {
        self.rule.template.params.iter().find(|p| p.name == name)
    }

    fn row_source(&self, name: &str) -> Option<&'r KnowledgeTable> {
        self.kt.filter(|t| t.has(name) && self.spec(name).is_some_and(|p| p.per_row))
    }

    fn missing(&self, name: &str, row: Option<usize>) -> Error {
        match (self.kt, row) {
            (Some(t), Some(r)) if t.has(name) => Error::knowledge(
                t.name(),
                Some(name),
                Some(r),
                format!("null, and rule {:?} has no params.{name} default", self.rule.id),
            ),
            (Some(t), _) if self.spec(name).is_some_and(|p| p.per_row) => Error::rule(
                &self.rule.id,
                format!("params.{name}"),
                format!(
                    "missing: give params.{name} or a column {name:?} in knowledge table {:?} (it has: {})",
                    t.name(),
                    t.column_names().collect::<Vec<_>>().join(", ")
                ),
            ),
            _ => Error::rule(&self.rule.id, format!("params.{name}"), "missing required parameter"),
        }
    }

    /// Checks, before any row is read, that a required per-row parameter has a source.
    pub fn require(&self, name: &str) -> Result<()> {
        if self.rule.params.get(name).is_some_and(|v| !v.is_null()) || self.row_source(name).is_some() {
            Ok(())
        } else {
            Err(self.missing(name, None))
        }
    }

    pub fn num(&self, name: &str, row: Option<usize>) -> Result<Option<f64>> {
        if let (Some(t), Some(r)) = (self.row_source(name), row) {
            if let Some(x) = t.num(name, r)? {
                return Ok(Some(x));
            }
        }
        Ok(self.rule.params.get(name).and_then(Value::as_f64))
    }

    pub fn req_num(&self, name: &str, row: Option<usize>) -> Result<f64> {
        self.num(name, row)?.ok_or_else(|| self.missing(name, row))
    }

    pub fn str(&self, name: &str, row: Option<usize>) -> Result<Option<String>> {
        if let (Some(t), Some(r)) = (self.row_source(name), row) {
            if let Some(x) = t.str(name, r)? {
                return Ok(Some(x.to_string()));
            }
        }
        Ok(self.rule.params.get(name).and_then(Value::as_str).map(str::to_string))
    }

    pub fn req_str(&self, name: &str, row: Option<usize>) -> Result<String> {
        self.str(name, row)?.ok_or_else(|| self.missing(name, row))
    }

    pub fn list(&self, name: &str, row: Option<usize>) -> Result<Option<Vec<String>>> {
        if let (Some(t), Some(r)) = (self.row_source(name), row) {
            if let Some(x) = t.str(name, r)? {
                return Ok(Some(x.split('|').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()));
            }
        }
        Ok(self
            .rule
            .params
            .get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()))
    }

    /// A window parameter; `default` when neither row nor params give it.
    pub fn window(&self, name: &str, row: Option<usize>, default: Window) -> Result<Window> {
        match self.str(name, row)? {
            None => Ok(default),
            Some(s) => Window::parse(&s).ok_or_else(|| match (self.row_source(name), row) {
                (Some(t), Some(r)) => Error::knowledge(
                    t.name(),
                    Some(name),
                    Some(r),
                    format!("expected a window (hour, day, encounter or <N>h), found {s:?}"),
                ),
                _ => Error::rule(&self.rule.id, format!("params.{name}"), format!("expected a window, found {s:?}")),
            }),
        }
    }

    /// An error about a value of this rule's knowledge row.
    pub fn row_err(&self, column: &str, row: usize, message: impl Into<String>) -> Error {
        match self.kt {
            Some(t) => Error::knowledge(t.name(), Some(column), Some(row), message),
            None => Error::rule(&self.rule.id, format!("params.{column}"), message),
        }
    }
}

/// The compiled form of one rule.
pub(crate) enum Kernel {
    Attr(attribute::Attr),
    Age(age::Age),
    PriceCap(price_cap::PriceCap),
    NotPayable,
    AmountMismatch(data_quality::AmountMismatch),
    FeeTime(data_quality::FeeTime),
    Quantity(quantity::Quantity),
    Diagnosis(diagnosis::DiagLink),
    Pair(pair::Pair),
    SurgeryDiscount(surgery_discount::Discount),
    Prescription(prescription::Rx),
    Expr(Box<expr::ExprRule>),
    Drg(Box<drg_case::DrgRule>),
    History(history::Hist),
}

/// What a compiled template asks of the engine.
pub(crate) struct Compiled {
    pub kernel: Kernel,
    /// Extra selectors that are not knowledge rows: (code prefix, role). An empty prefix selects
    /// every line with a code.
    pub selectors: Vec<(String, u8)>,
    /// The role each knowledge row plays (0 for plain subject rows); `code_b` columns add rows.
    pub extra_keys: Vec<(String, u32, u8)>,
}

impl Compiled {
    pub fn new(kernel: Kernel) -> Self {
        Compiled { kernel, selectors: Vec::new(), extra_keys: Vec::new() }
    }
}

/// Compiles `rule` (validated) with its knowledge table.
pub(crate) fn compile(
    rule: &Rule,
    kt: Option<&KnowledgeTable>,
    code_sets: &crate::engine::codes::CodeSets,
) -> Result<Compiled> {
    let p = Params { rule, kt };
    let rows = kt.map_or(0, KnowledgeTable::len);
    if let Some(c) = history::compile(&p, rows) {
        return c;
    }
    match rule.template.name {
        "sex" | "insutype" | "hosp_level" | "scene" | "dept" => attribute::compile(&p, rows),
        "age" => age::compile(&p, rows),
        "price_cap" => price_cap::compile(&p, rows),
        "not_payable" => Ok(Compiled::new(Kernel::NotPayable)),
        "amount_mismatch" => data_quality::compile_amount(&p),
        "fee_time" => data_quality::compile_fee_time(&p),
        "frequency" | "bed_days" => quantity::compile(&p, rows),
        "diag_required" | "diag_forbidden" => diagnosis::compile(&p, rows, code_sets),
        "pair" | "companion" => pair::compile(&p, rows),
        "surgery_discount" => surgery_discount::compile(&p, rows),
        "herbs_only" | "rx_drug_count" => prescription::compile(&p),
        "expr" => expr::compile(&p, code_sets),
        "drg_cost_ratio" => drg_cost_ratio::compile(&p, rows),
        "drg_unsupported_coding" => drg_unsupported_coding::compile(&p, rows),
        "drg_low_standard" => drg_low_standard::compile(&p),
        "dip_cost_ratio" => dip_cost_ratio::compile(&p),
        "drg_readmission" => drg_readmission::compile(&p),
        "drg_cost_shifting" => drg_cost_shifting::compile(&p),
        other => Err(Error::rule(&rule.id, "template", format!("template {other:?} has no compiler"))),
    }
}

use crate::engine::encounters::{EncRow, EncTable};
use crate::engine::run::{Env, Event, Hit, LineAt, RxInterner, Sink};
use crate::engine::{Engine, Entry};
use smallvec::SmallVec;

impl Kernel {
    /// Data-quality kernels judge every line, not only lines selected by code.
    pub(crate) fn all_lines(&self) -> bool {
        matches!(self, Kernel::AmountMismatch(_) | Kernel::FeeTime(_))
    }

    /// Whether judging a line needs its encounter.
    pub(crate) fn needs_encounter(&self) -> bool {
        !matches!(self, Kernel::AmountMismatch(_))
    }

    /// Windowed kernels collect events in the pass and judge groups afterwards.
    pub(crate) fn is_windowed(&self) -> bool {
        match self {
            Kernel::Expr(k) => k.selects_by_code(),
            _ => matches!(
                self,
                Kernel::Quantity(_) | Kernel::Pair(_) | Kernel::SurgeryDiscount(_) | Kernel::Prescription(_)
            ),
        }
    }
}

/// A finding about one line.
pub(crate) fn line_hit(rule: u32, enc: u32, line: &LineAt, kp_row: u32, amount: Option<f64>) -> Hit {
    Hit { rule, enc, line: Some(line.packed), related: None, amount, kp_row, args: SmallVec::new() }
}

/// One line judged by one knowledge point of one line-level rule.
pub(crate) struct Judge<'x, 'a, 'v> {
    pub spec: &'x Rule,
    pub rule: u32,
    /// Knowledge row ([`crate::engine::NO_ROW`] for rules without knowledge).
    pub kp: u32,
    pub line: &'x LineAt<'a, 'v>,
    pub enc: u32,
    pub er: &'x EncRow<'a>,
}

impl Judge<'_, '_, '_> {
    /// A finding about the judged line with the line's amount.
    pub fn hit(&self) -> Hit {
        line_hit(self.rule, self.enc, self.line, self.kp, self.line.amount())
    }
}

/// Judges one line for one line-level rule.
#[allow(clippy::too_many_arguments)]
pub(crate) fn eval_line(
    kernel: &Kernel,
    rule: u32,
    kp: u32,
    line: &LineAt,
    enc: u32,
    er: &EncRow,
    encs: &EncTable,
    eng: &Engine,
    sink: &mut Sink,
) -> Result<()> {
    let Some(spec) = eng.pack.rules.get(rule as usize) else { return Ok(()) };
    let j = Judge { spec, rule, kp, line, enc, er };
    match kernel {
        Kernel::Attr(k) => k.eval(&j, sink),
        Kernel::Age(k) => k.eval(&j, sink),
        Kernel::PriceCap(k) => k.eval(&j, sink),
        Kernel::NotPayable => {
            sink.hits.push(j.hit());
            Ok(())
        }
        Kernel::Diagnosis(k) => k.eval(&j, encs, sink),
        // Data-quality kernels scan whole chunks (see data_quality::scan); windowed kernels judge
        // groups of events in `finish`.
        Kernel::AmountMismatch(_)
        | Kernel::FeeTime(_)
        | Kernel::Quantity(_)
        | Kernel::Pair(_)
        | Kernel::SurgeryDiscount(_)
        | Kernel::Prescription(_)
        | Kernel::Expr(_)
        // Stay-level kernels run after the lines (see drg_case::run).
        | Kernel::Drg(_)
        // Cross-encounter kernels run over all encounters at once (see crate::history).
        | Kernel::History(_) => Ok(()),
    }
}

/// The grouping key of a windowed rule's event; `None` when the line cannot be grouped.
pub(crate) fn event_key<'a>(
    kernel: &Kernel,
    entry: &Entry,
    line: &LineAt<'a, '_>,
    enc: u32,
    rx: &mut dyn RxInterner<'a>,
) -> Option<u64> {
    match kernel {
        Kernel::Quantity(q) => Some(q.key(entry)),
        Kernel::Pair(_) => Some(u64::from(entry.row)),
        Kernel::SurgeryDiscount(s) => Some(s.key(entry)),
        Kernel::Prescription(_) => prescription::key(line, enc, rx),
        // Knowledge-selected expression rules: one event per (line, knowledge row).
        Kernel::Expr(_) => Some(u64::from(entry.row)),
        _ => Some(0),
    }
}

/// Judges the sorted events of one windowed rule.
pub(crate) fn finish(kernel: &Kernel, rule: u32, events: &[Event], env: &Env, sink: &mut Sink) -> Result<()> {
    let Some(spec) = env.rule(rule) else { return Ok(()) };
    match kernel {
        Kernel::Quantity(k) => k.finish(spec, rule, events, env, sink),
        Kernel::Pair(k) => k.finish(rule, events, env, sink),
        Kernel::SurgeryDiscount(k) => k.finish(spec, rule, events, env, sink),
        Kernel::Prescription(k) => k.finish(rule, events, env, sink),
        _ => Ok(()),
    }
}

/// Splits sorted events into groups of equal (encounter, key).
pub(crate) fn groups(events: &[Event]) -> impl Iterator<Item = &[Event]> {
    events.chunk_by(|a, b| a.enc == b.enc && a.key == b.key)
}

/// A parameter a knowledge row may give (the rule's `params` is the default).
pub(crate) const fn row_param(name: &'static str, kind: ParamKind, required: bool, doc: &'static str) -> ParamSpec {
    ParamSpec { name, kind, per_row: true, required, doc }
}

/// A parameter only the rule's `params` gives.
pub(crate) const fn rule_param(name: &'static str, kind: ParamKind, required: bool, doc: &'static str) -> ParamSpec {
    ParamSpec { name, kind, per_row: false, required, doc }
}
