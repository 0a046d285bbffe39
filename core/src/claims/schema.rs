//! The canonical claims schemas: national field names, logical kinds, and what each column means.

use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// The four claims tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimsTable {
    /// 就诊/结算信息: one row per encounter.
    Mdtrt,
    /// 诊断信息.
    Diagnoses,
    /// 手术操作信息.
    Operations,
    /// 费用明细: one row per fee line.
    FeeDetails,
}

impl ClaimsTable {
    /// All tables, in a fixed order.
    pub const ALL: [ClaimsTable; 4] =
        [ClaimsTable::Mdtrt, ClaimsTable::Diagnoses, ClaimsTable::Operations, ClaimsTable::FeeDetails];

    /// The table's name as used in errors, column maps and bindings.
    pub fn name(self) -> &'static str {
        match self {
            ClaimsTable::Mdtrt => "mdtrt",
            ClaimsTable::Diagnoses => "diagnoses",
            ClaimsTable::Operations => "operations",
            ClaimsTable::FeeDetails => "fee_details",
        }
    }

    /// The table named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The logical kind of a column; each kind accepts several Arrow types (see [`super::column`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Strings (codes, ids, dictionary values).
    Str,
    /// Numbers (counts, prices, amounts, days).
    Num,
    /// Dates or timestamps.
    Time,
}

/// One canonical column.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// National field name.
    pub name: &'static str,
    /// Logical kind.
    pub kind: ColumnKind,
    /// Whether every batch of the table must have it.
    pub required: bool,
    /// What it holds.
    pub doc: &'static str,
}

const fn c(name: &'static str, kind: ColumnKind, required: bool, doc: &'static str) -> ColumnSpec {
    ColumnSpec { name, kind, required, doc }
}

use ColumnKind::{Num, Str, Time};

const MDTRT: &[ColumnSpec] = &[
    c("mdtrt_id", Str, true, "就诊ID, the encounter key"),
    c("psn_no", Str, false, "人员编号, the insured person"),
    c("gend", Str, false, "性别: 1 male, 2 female (national dictionary)"),
    c("brdy", Time, false, "出生日期"),
    c("age", Num, false, "年龄 in years, used when brdy is absent or null"),
    c("insutype", Str, false, "险种类型: 310 职工, 390 居民, 410 工伤, 510 生育"),
    c("med_type", Str, false, "医疗类别: 11 普通门诊, 14 门诊慢特病, 21 普通住院, 41 定点药店购药, …"),
    c("fixmedins_code", Str, false, "定点医药机构编号"),
    c("hosp_lv", Str, false, "医院等级 01–14 (01–04 三级, 05–07 二级, 08–10 一级)"),
    c("begntime", Time, false, "开始时间 (admission or visit start)"),
    c("endtime", Time, false, "结束时间 (discharge or visit end)"),
    c("dscg_way", Str, false, "离院方式"),
    c("die_date", Time, false, "死亡日期"),
    c(
        "medfee_sumamt",
        Num,
        false,
        "医疗费总额 of the settlement (also the amount at risk of encounter-level history findings)",
    ),
    c("fulamt_ownpay_amt", Num, false, "全自费金额"),
    c("hifp_pay", Num, false, "统筹基金支出"),
    c("adm_dept_codg", Str, false, "入院科室编码"),
    c("atddr_no", Str, false, "主诊医师代码"),
    c("drg_code", Str, false, "DRG/DIP 分组编码, when the claims were grouped"),
    c("fixmedins_type", Str, false, "定点医疗机构类型 (e.g. 综合医院, 专科医院, 中医院), a peer-group key"),
    c(
        "act_ipt_days",
        Num,
        false,
        "实际住院天数 (length of stay; DRG grouping derives it from begntime/endtime when absent)",
    ),
    c("nwb_bir_wt", Num, false, "新生儿出生体重 in grams (DRG grouping of newborns)"),
    c("dscg_caty", Str, false, "出院科别 (discharge department; DRG schemes that split by department)"),
    c(
        "dscg_31days_rinp_flag",
        Str,
        false,
        "出院31天内再住院计划标志: 1 planned (a readmission after this stay is not 分解住院)",
    ),
];

const DIAGNOSES: &[ColumnSpec] = &[
    c("mdtrt_id", Str, true, "就诊ID"),
    c("diag_code", Str, true, "诊断代码, 医保版 ICD-10 2.0"),
    c("maindiag_flag", Str, false, "主诊断标志 1/0"),
    c("diag_type", Str, false, "诊断类别"),
];

const OPERATIONS: &[ColumnSpec] = &[
    c("mdtrt_id", Str, true, "就诊ID"),
    c("oprn_oprt_code", Str, true, "手术操作代码, ICD-9-CM-3 医保版"),
    c("main_oprn_flag", Str, false, "主手术标志"),
    c("oprn_oprt_date", Time, false, "手术操作日期"),
];

const FEE_DETAILS: &[ColumnSpec] = &[
    c("feedetl_sn", Str, true, "费用明细流水号, the line key"),
    c("mdtrt_id", Str, true, "就诊ID, joins the line to its encounter"),
    c("hilist_code", Str, true, "医保目录编码 (national drug, herb, service or consumable code)"),
    c("psn_no", Str, false, "人员编号 (taken from mdtrt when absent)"),
    c("hilist_name", Str, false, "医保目录名称"),
    c("fee_ocur_time", Time, false, "费用发生时间"),
    c("list_type", Str, false, "目录类别: 101 西药中成药, 102 中药饮片, 201 医疗服务, 301 耗材"),
    c("med_chrgitm_type", Str, false, "医疗收费项目类别 01–14"),
    c("cnt", Num, false, "数量"),
    c("pric", Num, false, "单价"),
    c("det_item_fee_sumamt", Num, false, "明细项目费用总额"),
    c("prd_days", Num, false, "周期天数 (days supplied)"),
    c("bilg_dept_codg", Str, false, "开单科室编码"),
    c("bilg_dr_code", Str, false, "开单医生编码"),
    c("rxno", Str, false, "处方号"),
    c("chrg_bchno", Str, false, "收费批次号"),
    c(
        "drug_trac_codg",
        Str,
        false,
        "药品追溯码: codes separated by , ; | or whitespace, or a List/LargeList of strings",
    ),
];

/// The canonical columns of `table`.
pub fn columns(table: ClaimsTable) -> &'static [ColumnSpec] {
    match table {
        ClaimsTable::Mdtrt => MDTRT,
        ClaimsTable::Diagnoses => DIAGNOSES,
        ClaimsTable::Operations => OPERATIONS,
        ClaimsTable::FeeDetails => FEE_DETAILS,
    }
}

/// The canonical Arrow schema of `table`: Utf8 strings, Float64 numbers, second timestamps
/// without zone (dates of birth and death as Date32). Every column is nullable; the engine accepts
/// the other variants listed in [`super::column`] as well.
pub fn canonical_schema(table: ClaimsTable) -> Schema {
    Schema::new(
        columns(table)
            .iter()
            .map(|c| {
                let t = match (c.kind, c.name) {
                    (Str, _) => DataType::Utf8,
                    (Num, _) => DataType::Float64,
                    (Time, "brdy" | "die_date") => DataType::Date32,
                    (Time, _) => DataType::Timestamp(TimeUnit::Second, None),
                };
                Field::new(c.name, t, !c.required)
            })
            .collect::<Vec<_>>(),
    )
}
