//! Findings: one row per violation, as owned records ([`CheckOutput`]) and as an Arrow table
//! ([`CheckBatch`]).
//!
//! Findings are deterministic: their order is by `mdtrt_id`, then `feedetl_sn` (encounter-level
//! findings first), then the rule's position in the pack, then the related line and the knowledge
//! point; their `finding_id` is a hash of that same content. Splitting the input into other batches
//! gives the same rows in the same order.
//!
//! The engine renders each finding once, as a borrowed `Row`, straight into the form the caller
//! asked for; both forms are joined and sorted by the same code (`Output`), so they hold the same
//! rows in the same order.
//!
//! This module renders and converts; it never decides whether something is a violation.

use arrow_array::builder::{Float64Builder, StringBuilder, UInt8Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt8Type};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt8Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use smallvec::SmallVec;
use std::sync::{Arc, OnceLock};

/// One violation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// Stable id: a hash of rule, encounter, line, related line and knowledge point.
    pub finding_id: String,
    /// The rule's id in the pack.
    pub rule_id: String,
    /// Official national rule code (GZ…), if the rule has one.
    pub rule_code: Option<String>,
    /// Rule name.
    pub rule_name: String,
    /// Template name.
    pub template: String,
    /// 明确违规 or 可疑.
    pub severity: String,
    /// 1 (block) to 3 (notice).
    pub warn_level: u8,
    /// 人员编号.
    pub psn_no: Option<String>,
    /// 就诊ID.
    pub mdtrt_id: String,
    /// 定点医药机构编号.
    pub fixmedins_code: Option<String>,
    /// The line at fault, when the finding is about a line.
    pub feedetl_sn: Option<String>,
    /// The line's item code.
    pub item_code: Option<String>,
    /// The line's item name (from the claims, else the knowledge point).
    pub item_name: Option<String>,
    /// 开单科室.
    pub bilg_dept_codg: Option<String>,
    /// Another line involved (the first item of a pair, the main operation…).
    pub related_feedetl_sn: Option<String>,
    /// 可疑金额: the amount at risk, by the template's documented rule; null when the amount
    /// column it needs is null or absent.
    pub amount: Option<f64>,
    /// Rendered Chinese message.
    pub message: String,
    /// Knowledge point id.
    pub kp_id: Option<String>,
    /// Basis: the knowledge point's constraint text, else the rule's basis.
    pub basis: Option<String>,
}

/// Lines a rule could not judge, with why (a null attribute, a missing time…), so that nothing is
/// passed silently.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unjudged {
    /// The rule.
    pub rule_id: String,
    /// Why it could not judge.
    pub reason: String,
    /// How many times.
    pub count: u64,
}

/// The result of a check call, as records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckOutput {
    /// The findings, in deterministic order.
    pub findings: Vec<Finding>,
    /// Lines or encounters rules could not judge, by rule and reason.
    pub unjudged: Vec<Unjudged>,
}

impl CheckOutput {
    /// The findings as an Arrow record batch with [`findings_schema`].
    ///
    /// A caller that only wants the table should call [`crate::Engine::check_batch`]: it gives the
    /// same table without making a [`Finding`] per row first.
    pub fn to_record_batch(&self) -> RecordBatch {
        let mut b = TableBuilder::with_capacity(self.findings.len());
        self.findings.iter().for_each(|f| b.push(&f.row()));
        b.finish()
    }

    /// Sum of the amounts at risk.
    pub fn total_amount(&self) -> f64 {
        self.findings.iter().filter_map(|f| f.amount).sum()
    }
}

/// The result of a check call, as the Arrow findings table: what [`crate::Engine::check_batch`]
/// returns.
///
/// Its rows are the rows of [`CheckOutput::to_record_batch`] for the same call, in the same order.
/// It is made straight from the engine's hits, with no per-row [`Finding`], which is faster and
/// smaller when the table is what the caller keeps (the C, Python and Java bindings).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckBatch {
    /// The findings, with [`findings_schema`], in deterministic order.
    pub findings: RecordBatch,
    /// Lines or encounters rules could not judge, by rule and reason.
    pub unjudged: Vec<Unjudged>,
}

impl Default for CheckBatch {
    fn default() -> Self {
        CheckBatch { findings: RecordBatch::new_empty(findings_schema()), unjudged: Vec::new() }
    }
}

/// The schema metadata key under which [`CheckBatch::into_batch_with_unjudged`] carries the
/// unjudged report: a JSON array of `{"rule_id", "reason", "count"}` objects. The Python package
/// (`medaudit.unjudged(table)`), the C Arrow call and the Java `ArrowCheck` use the same key.
pub const UNJUDGED_METADATA_KEY: &str = "medaudit.unjudged";

impl CheckBatch {
    /// The findings table with the unjudged report in its schema metadata (key
    /// [`UNJUDGED_METADATA_KEY`]), so that a caller who can pass on only one Arrow table (a C
    /// stream, a Java root) loses nothing. The metadata is always present: `[]` when every line
    /// was judged.
    ///
    /// ```
    /// use medaudit_core::{findings::UNJUDGED_METADATA_KEY, CheckBatch, Unjudged};
    /// let out = CheckBatch {
    ///     unjudged: vec![Unjudged { rule_id: "R1".into(), reason: "gend is null".into(), count: 2 }],
    ///     ..CheckBatch::default()
    /// };
    /// let table = out.into_batch_with_unjudged();
    /// assert_eq!(
    ///     table.schema().metadata()[UNJUDGED_METADATA_KEY],
    ///     r#"[{"rule_id":"R1","reason":"gend is null","count":2}]"#
    /// );
    /// ```
    pub fn into_batch_with_unjudged(self) -> RecordBatch {
        // Serialising plain strings and integers cannot fail; an empty report is the fallback.
        let json = serde_json::to_string(&self.unjudged).unwrap_or_else(|_| "[]".into());
        let schema = self.findings.schema();
        let mut metadata = schema.metadata().clone();
        metadata.insert(UNJUDGED_METADATA_KEY, json);
        let schema = Arc::new(Schema::new_with_metadata(schema.fields().clone(), metadata));
        let columns = self.findings.columns().to_vec();
        // Same fields and columns, so the batch is valid; keep the original if arrow disagrees.
        RecordBatch::try_new(schema, columns).unwrap_or(self.findings)
    }
}

/// The Arrow schema of the findings table.
pub fn findings_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
        Arc::new(Schema::new(vec![
            s("finding_id", false),
            s("rule_id", false),
            s("rule_code", true),
            s("rule_name", false),
            s("template", false),
            s("severity", false),
            Field::new("warn_level", DataType::UInt8, false),
            s("psn_no", true),
            s("mdtrt_id", false),
            s("fixmedins_code", true),
            s("feedetl_sn", true),
            s("item_code", true),
            s("item_name", true),
            s("bilg_dept_codg", true),
            s("related_feedetl_sn", true),
            Field::new("amount", DataType::Float64, true),
            s("message", false),
            s("kp_id", true),
            s("basis", true),
        ]))
    })
    .clone()
}

/// One finding's fields, borrowed: the one form both outputs (records and the Arrow table) are
/// made from and read back as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a> {
    pub finding_id: &'a str,
    pub rule_id: &'a str,
    pub rule_code: Option<&'a str>,
    pub rule_name: &'a str,
    pub template: &'a str,
    pub severity: &'a str,
    pub warn_level: u8,
    pub psn_no: Option<&'a str>,
    pub mdtrt_id: &'a str,
    pub fixmedins_code: Option<&'a str>,
    pub feedetl_sn: Option<&'a str>,
    pub item_code: Option<&'a str>,
    pub item_name: Option<&'a str>,
    pub bilg_dept_codg: Option<&'a str>,
    pub related_feedetl_sn: Option<&'a str>,
    pub amount: Option<f64>,
    pub message: &'a str,
    pub kp_id: Option<&'a str>,
    pub basis: Option<&'a str>,
}

/// The string columns of the findings table, in schema order, without `warn_level` and `amount`.
const STR_COLUMNS: usize = 17;

impl<'a> Row<'a> {
    /// The string fields in schema order (see [`STR_COLUMNS`]).
    fn strs(&self) -> [Option<&'a str>; STR_COLUMNS] {
        [
            Some(self.finding_id),
            Some(self.rule_id),
            self.rule_code,
            Some(self.rule_name),
            Some(self.template),
            Some(self.severity),
            self.psn_no,
            Some(self.mdtrt_id),
            self.fixmedins_code,
            self.feedetl_sn,
            self.item_code,
            self.item_name,
            self.bilg_dept_codg,
            self.related_feedetl_sn,
            Some(self.message),
            self.kp_id,
            self.basis,
        ]
    }

    fn to_finding(self) -> Finding {
        let own = |s: Option<&str>| s.map(str::to_string);
        Finding {
            finding_id: self.finding_id.to_string(),
            rule_id: self.rule_id.to_string(),
            rule_code: own(self.rule_code),
            rule_name: self.rule_name.to_string(),
            template: self.template.to_string(),
            severity: self.severity.to_string(),
            warn_level: self.warn_level,
            psn_no: own(self.psn_no),
            mdtrt_id: self.mdtrt_id.to_string(),
            fixmedins_code: own(self.fixmedins_code),
            feedetl_sn: own(self.feedetl_sn),
            item_code: own(self.item_code),
            item_name: own(self.item_name),
            bilg_dept_codg: own(self.bilg_dept_codg),
            related_feedetl_sn: own(self.related_feedetl_sn),
            amount: self.amount,
            message: self.message.to_string(),
            kp_id: own(self.kp_id),
            basis: own(self.basis),
        }
    }

    /// The one-thread output order of findings from different parts or passes: encounter id,
    /// line id, rule position (`rank` of the rule id), related line, knowledge point, finding id.
    pub(crate) fn order(a: &Row, b: &Row, rank: &dyn Fn(&str) -> usize) -> std::cmp::Ordering {
        (a.mdtrt_id, a.feedetl_sn, rank(a.rule_id), a.related_feedetl_sn, a.kp_id, a.finding_id).cmp(&(
            b.mdtrt_id,
            b.feedetl_sn,
            rank(b.rule_id),
            b.related_feedetl_sn,
            b.kp_id,
            b.finding_id,
        ))
    }
}

impl Finding {
    pub(crate) fn row(&self) -> Row<'_> {
        Row {
            finding_id: &self.finding_id,
            rule_id: &self.rule_id,
            rule_code: self.rule_code.as_deref(),
            rule_name: &self.rule_name,
            template: &self.template,
            severity: &self.severity,
            warn_level: self.warn_level,
            psn_no: self.psn_no.as_deref(),
            mdtrt_id: &self.mdtrt_id,
            fixmedins_code: self.fixmedins_code.as_deref(),
            feedetl_sn: self.feedetl_sn.as_deref(),
            item_code: self.item_code.as_deref(),
            item_name: self.item_name.as_deref(),
            bilg_dept_codg: self.bilg_dept_codg.as_deref(),
            related_feedetl_sn: self.related_feedetl_sn.as_deref(),
            amount: self.amount,
            message: &self.message,
            kp_id: self.kp_id.as_deref(),
            basis: self.basis.as_deref(),
        }
    }
}

/// Appends [`Row`]s to the columns of the findings table.
pub(crate) struct TableBuilder {
    strs: [StringBuilder; STR_COLUMNS],
    warn: UInt8Builder,
    amount: Float64Builder,
}

impl TableBuilder {
    pub(crate) fn with_capacity(n: usize) -> Self {
        TableBuilder {
            strs: std::array::from_fn(|_| StringBuilder::with_capacity(n, n * 16)),
            warn: UInt8Builder::with_capacity(n),
            amount: Float64Builder::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, row: &Row<'_>) {
        for (b, v) in self.strs.iter_mut().zip(row.strs()) {
            b.append_option(v);
        }
        self.warn.append_value(row.warn_level);
        self.amount.append_option(row.amount);
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let mut strs = self.strs.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef);
        // Schema order: six strings, warn_level, eight strings, amount, three strings.
        let mut columns: Vec<ArrayRef> = strs.by_ref().take(6).collect();
        columns.push(Arc::new(self.warn.finish()));
        columns.extend(strs.by_ref().take(8));
        columns.push(Arc::new(self.amount.finish()));
        columns.extend(strs);
        // The columns follow the schema field for field; a mismatch is a bug here, and an empty
        // batch of the right schema is the safe answer.
        RecordBatch::try_new(findings_schema(), columns).unwrap_or_else(|_| RecordBatch::new_empty(findings_schema()))
    }
}

/// Reads the rows of a findings table back (to merge tables).
pub(crate) struct TableView<'a> {
    strs: [&'a StringArray; STR_COLUMNS],
    warn: &'a UInt8Array,
    amount: &'a Float64Array,
    len: usize,
}

impl<'a> TableView<'a> {
    /// `None` when `batch` does not have the findings schema's types (it always has when this
    /// module built it).
    pub(crate) fn new(batch: &'a RecordBatch) -> Option<Self> {
        let cols = batch.columns();
        let str_at = |i: usize| cols.get(i).and_then(|c| c.as_string_opt::<i32>());
        let idx: [usize; STR_COLUMNS] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18];
        let strs: Vec<&StringArray> = idx.iter().map(|&i| str_at(i)).collect::<Option<_>>()?;
        Some(TableView {
            strs: strs.try_into().ok()?,
            warn: cols.get(6)?.as_primitive_opt::<UInt8Type>()?,
            amount: cols.get(15)?.as_primitive_opt::<Float64Type>()?,
            len: batch.num_rows(),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn row(&self, i: usize) -> Row<'a> {
        let s = |c: usize| self.strs.get(c).and_then(|a| (i < a.len() && a.is_valid(i)).then(|| a.value(i)));
        let amount = (i < self.amount.len() && self.amount.is_valid(i)).then(|| self.amount.value(i));
        Row {
            finding_id: s(0).unwrap_or(""),
            rule_id: s(1).unwrap_or(""),
            rule_code: s(2),
            rule_name: s(3).unwrap_or(""),
            template: s(4).unwrap_or(""),
            severity: s(5).unwrap_or(""),
            warn_level: if i < self.warn.len() { self.warn.value(i) } else { 0 },
            psn_no: s(6),
            mdtrt_id: s(7).unwrap_or(""),
            fixmedins_code: s(8),
            feedetl_sn: s(9),
            item_code: s(10),
            item_name: s(11),
            bilg_dept_codg: s(12),
            related_feedetl_sn: s(13),
            amount,
            message: s(14).unwrap_or(""),
            kp_id: s(15),
            basis: s(16),
        }
    }
}

/// The two forms of a check's output, made and merged by one mechanism: the engine renders each
/// finding once, as a [`Row`], into either.
pub(crate) trait Output: Sized + Send {
    type Builder;
    fn builder(n: usize) -> Self::Builder;
    fn push(b: &mut Self::Builder, row: &Row<'_>);
    fn finish(b: Self::Builder, unjudged: Vec<Unjudged>) -> Self;
    /// Findings rendered elsewhere (the history pass), in their order.
    fn from_findings(findings: Vec<Finding>, unjudged: Vec<Unjudged>) -> Self {
        let mut b = Self::builder(findings.len());
        findings.iter().for_each(|f| Self::push(&mut b, &f.row()));
        Self::finish(b, unjudged)
    }
    fn unjudged(&self) -> &[Unjudged];
    /// The `mdtrt_id` of the first and of the last finding.
    fn ends(&self) -> Option<(&str, &str)>;
    /// `parts` one after the other, or re-sorted into the one-thread order ([`Row::order`]) when
    /// `sort`; `unjudged` replaces theirs.
    fn join(parts: Vec<Self>, sort: Option<&dyn Fn(&str) -> usize>, unjudged: Vec<Unjudged>) -> Self;
}

impl Output for CheckOutput {
    type Builder = Vec<Finding>;
    fn builder(n: usize) -> Vec<Finding> {
        Vec::with_capacity(n)
    }
    fn push(b: &mut Vec<Finding>, row: &Row<'_>) {
        b.push(row.to_finding());
    }
    fn finish(findings: Vec<Finding>, unjudged: Vec<Unjudged>) -> Self {
        CheckOutput { findings, unjudged }
    }
    fn from_findings(findings: Vec<Finding>, unjudged: Vec<Unjudged>) -> Self {
        CheckOutput { findings, unjudged }
    }
    fn unjudged(&self) -> &[Unjudged] {
        &self.unjudged
    }
    fn ends(&self) -> Option<(&str, &str)> {
        Some((&self.findings.first()?.mdtrt_id, &self.findings.last()?.mdtrt_id))
    }
    fn join(parts: Vec<Self>, sort: Option<&dyn Fn(&str) -> usize>, unjudged: Vec<Unjudged>) -> Self {
        let mut findings: Vec<Finding> = parts.into_iter().flat_map(|p| p.findings).collect();
        if let Some(rank) = sort {
            findings.sort_by(|a, b| Row::order(&a.row(), &b.row(), rank));
        }
        CheckOutput { findings, unjudged }
    }
}

impl Output for CheckBatch {
    type Builder = TableBuilder;
    fn builder(n: usize) -> TableBuilder {
        TableBuilder::with_capacity(n)
    }
    fn push(b: &mut TableBuilder, row: &Row<'_>) {
        b.push(row);
    }
    fn finish(b: TableBuilder, unjudged: Vec<Unjudged>) -> Self {
        CheckBatch { findings: b.finish(), unjudged }
    }
    fn unjudged(&self) -> &[Unjudged] {
        &self.unjudged
    }
    fn ends(&self) -> Option<(&str, &str)> {
        let ids = self.findings.columns().get(8)?.as_string_opt::<i32>()?;
        let last = ids.len().checked_sub(1)?;
        Some((ids.value(0), ids.value(last)))
    }
    fn join(mut parts: Vec<Self>, sort: Option<&dyn Fn(&str) -> usize>, unjudged: Vec<Unjudged>) -> Self {
        parts.retain(|p| p.findings.num_rows() > 0);
        if parts.len() == 1 && sort.is_none() {
            if let Some(p) = parts.pop() {
                return CheckBatch { findings: p.findings, unjudged };
            }
        }
        // Every part was built by `TableBuilder` (the engine never joins a caller's table), so
        // each has the findings schema and `TableView::new` succeeds.
        let views: Vec<TableView> = parts.iter().filter_map(|p| TableView::new(&p.findings)).collect();
        let mut rows: Vec<Row> = views.iter().flat_map(|v| (0..v.len()).map(|i| v.row(i))).collect();
        if let Some(rank) = sort {
            rows.sort_by(|a, b| Row::order(a, b, rank));
        }
        let mut b = TableBuilder::with_capacity(rows.len());
        rows.iter().for_each(|r| b.push(r));
        CheckBatch { findings: b.finish(), unjudged }
    }
}

/// Where a finding points, as its producer (the line pass or the history pass) knows it; the rule,
/// its citation, the message and the id are filled in by [`Finding::build`], the one place that
/// renders findings.
pub(crate) struct At<'a> {
    pub psn_no: Option<&'a str>,
    pub mdtrt_id: &'a str,
    pub fixmedins_code: Option<&'a str>,
    pub feedetl_sn: Option<&'a str>,
    pub item_code: Option<&'a str>,
    /// The item name the claims give (else the knowledge point's, else the code).
    pub item_name: Option<&'a str>,
    pub bilg_dept_codg: Option<&'a str>,
    pub related_feedetl_sn: Option<&'a str>,
    /// The amount at risk before rounding to fen.
    pub amount: Option<f64>,
    /// A last part of the id, for producers whose (rule, encounter, line, related, point) is not
    /// unique (history findings: the trace code or a discriminator).
    pub id_extra: Option<&'a str>,
}

impl At<'_> {
    /// The finding id as a number (its text is its 16 hex digits): a hash of the rule id, the
    /// encounter, the line, the related line, the knowledge point and `id_extra`.
    pub(crate) fn id_hash(&self, rule_id: &str, kp_id: Option<&str>) -> u64 {
        let parts = [
            rule_id,
            self.mdtrt_id,
            self.feedetl_sn.unwrap_or(""),
            self.related_feedetl_sn.unwrap_or(""),
            kp_id.unwrap_or(""),
            self.id_extra.unwrap_or(""),
        ];
        stable_hash(if self.id_extra.is_some() { &parts } else { &parts[..5] })
    }
}

/// Reusable text buffers for rendering findings one after another.
#[derive(Default)]
pub(crate) struct Scratch {
    id: String,
    message: String,
    amount: String,
}

impl Finding {
    /// Renders the finding of `rule` at `at`, citing knowledge row `cite` (if it came from one),
    /// with the template's message arguments `args`.
    pub(crate) fn build(
        rule: &crate::pack::Rule,
        cite: Option<&crate::engine::compile::RowCitation>,
        at: At<'_>,
        args: &[(&'static str, String)],
    ) -> Finding {
        let id = at.id_hash(&rule.id, cite.map(|c| c.kp_id.as_str()));
        render_row(rule, cite, &at, args, id, 1, &mut Scratch::default()).to_finding()
    }
}

/// Renders one finding as a [`Row`] borrowing `scratch` for its id and message: the one place that
/// decides a finding's text. `id` is [`At::id_hash`]; `seq` numbers findings that share it (from
/// input lines that share a `feedetl_sn`): the second gets `<id>-2`, and so on.
pub(crate) fn render_row<'a>(
    rule: &'a crate::pack::Rule,
    cite: Option<&'a crate::engine::compile::RowCitation>,
    at: &At<'a>,
    args: &[(&'static str, String)],
    id: u64,
    seq: u32,
    scratch: &'a mut Scratch,
) -> Row<'a> {
    let kp_id = cite.map(|c| c.kp_id.as_str());
    let item_name = at.item_name.or_else(|| cite.and_then(|c| c.item_name.as_deref())).or(at.item_code);
    let amount = at.amount.map(|a| (a * 100.0).round() / 100.0);
    scratch.amount.clear();
    if let Some(a) = amount {
        money_into(a, &mut scratch.amount);
    }
    let mut all: SmallVec<[(&str, &str); 10]> = smallvec::smallvec![
        ("rule_name", rule.name.as_str()),
        ("item_code", at.item_code.unwrap_or("")),
        ("item_name", item_name.unwrap_or("")),
        ("amount", scratch.amount.as_str()),
        ("kp_id", kp_id.unwrap_or("")),
    ];
    all.extend(args.iter().map(|(k, v)| (*k, v.as_str())));
    scratch.message.clear();
    render_into(&rule.message, &all, &mut scratch.message);
    scratch.id.clear();
    hex16_into(id, &mut scratch.id);
    if seq > 1 {
        use std::fmt::Write;
        let _ = write!(scratch.id, "-{seq}");
    }
    Row {
        finding_id: &scratch.id,
        rule_id: &rule.id,
        rule_code: rule.code.as_deref(),
        rule_name: &rule.name,
        template: rule.template.name,
        severity: rule.severity.label(),
        warn_level: rule.warn_level,
        psn_no: at.psn_no,
        mdtrt_id: at.mdtrt_id,
        fixmedins_code: at.fixmedins_code,
        feedetl_sn: at.feedetl_sn,
        item_code: at.item_code,
        item_name,
        bilg_dept_codg: at.bilg_dept_codg,
        related_feedetl_sn: at.related_feedetl_sn,
        amount,
        message: &scratch.message,
        kp_id,
        basis: cite.and_then(|c| c.basis.as_deref()).or(rule.basis.as_deref()),
    }
}

/// `h` as 16 lower-case hex digits (the text of a finding id; their order is the order of `h`).
#[cfg(test)]
fn hex16(h: u64) -> String {
    let mut s = String::with_capacity(16);
    hex16_into(h, &mut s);
    s
}

/// Appends the 16 lower-case hex digits of `h` to `out` (the text of a finding id; their order is
/// the order of `h`).
fn hex16_into(h: u64, out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.extend((0..16).rev().map(|i| char::from(DIGITS[((h >> (i * 4)) & 0xf) as usize])));
}

/// FNV-1a 64 of the parts, separated by NUL: stable across platforms and versions.
pub(crate) fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            // The separator is a NUL byte: XOR with 0 leaves `h`, so only the multiply remains.
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Renders `{name}` placeholders from `args`; unknown names stay as they are (the pack loader has
/// already rejected them).
#[cfg(test)]
fn render(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    render_into(template, args, &mut out);
    out
}

/// Appends the rendering of `template` (see [`render`]) to `out`.
fn render_into(template: &str, args: &[(&str, &str)], out: &mut String) {
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        match after.find('}') {
            Some(j) => {
                let name = after.get(..j).unwrap_or("");
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = after.get(j + 1..).unwrap_or("");
            }
            None => {
                out.push_str(rest.get(i..).unwrap_or(""));
                rest = "";
            }
        }
    }
    out.push_str(rest);
}

/// Formats an amount with two decimals, exactly as `format!("{x:.2}")` does.
///
/// Most amounts are whole fen or far from a half fen, and those are printed from their integer
/// number of fen without the formatting machinery; the rest (near a half fen, huge, negative
/// zero or not finite) take the exact path.
pub(crate) fn money(x: f64) -> String {
    let mut s = String::with_capacity(12);
    money_into(x, &mut s);
    s
}

/// Appends [`money`] of `x` to `out`.
fn money_into(x: f64, s: &mut String) {
    let fen = x * 100.0;
    let rounded = fen.round();
    // Below 1e12 fen the product is off by less than 1e-4 fen, so a value 0.001 fen away from a
    // half fen rounds the same way as its exact decimal expansion.
    if fen.abs() < 1e12 && (fen - rounded).abs() < 0.499 {
        let n = rounded as i64;
        if n != 0 || x.is_sign_positive() {
            // The digits of |n| fen, least significant first, with the point after two of them.
            let mut digits = [0u8; 24];
            let (mut m, mut len) = (n.unsigned_abs(), 0);
            while len < 3 || m > 0 {
                if let Some(d) = digits.get_mut(len) {
                    *d = b'0' + (m % 10) as u8;
                }
                m /= 10;
                len += 1;
            }
            if n < 0 {
                s.push('-');
            }
            for (k, d) in digits.iter().take(len).enumerate().rev() {
                s.push(char::from(*d));
                if k == 2 {
                    s.push('.');
                }
            }
            return;
        }
    }
    use std::fmt::Write;
    let _ = write!(s, "{x:.2}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_format_two_decimals() {
        let mut xs = vec![0.0, -0.0, 0.004, -0.004, 0.005, 0.015, 1.005, 2.675, 1e14, -1e14, 1e15, 1e300, -3.999];
        xs.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 123.455, 0.125, 0.375, -0.125, 9.995, 0.1 + 0.2]);
        let mut seed: u64 = 7;
        for _ in 0..200_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let cents = (seed >> 40) as i64 - (1 << 23);
            let jitter = ((seed >> 8) & 0xff) as f64 / 256.0;
            xs.push(cents as f64 / 100.0);
            xs.push((cents as f64 + jitter) / 100.0);
            xs.push(cents as f64 * 1.37);
        }
        for x in xs {
            assert_eq!(money(x), format!("{x:.2}"), "{x:?}");
        }
    }
    fn finding(mdtrt: &str, sn: Option<&str>, rule: &str, id: &str) -> Finding {
        Finding {
            finding_id: id.into(),
            rule_id: rule.into(),
            rule_code: (rule == "b").then(|| "GZ1".into()),
            rule_name: format!("规则{rule}"),
            template: "sex".into(),
            severity: "可疑".into(),
            warn_level: 2,
            psn_no: None,
            mdtrt_id: mdtrt.into(),
            fixmedins_code: Some("H1".into()),
            feedetl_sn: sn.map(str::to_string),
            item_code: sn.map(|s| format!("X{s}")),
            item_name: None,
            bilg_dept_codg: None,
            related_feedetl_sn: None,
            amount: sn.map(|_| 1.5),
            message: format!("{mdtrt}/{rule}"),
            kp_id: None,
            basis: Some("依据".into()),
        }
    }

    /// Both output forms join parts the same way, in order or re-sorted into the one-thread
    /// order, and the table reads back the rows it was given.
    #[test]
    fn both_forms_join_alike() {
        let parts = || {
            vec![
                vec![finding("m2", Some("2"), "a", "01"), finding("m3", None, "b", "02")],
                vec![],
                vec![
                    finding("m1", Some("9"), "b", "03"),
                    finding("m2", Some("2"), "b", "04"),
                    finding("m2", None, "a", "05"),
                ],
            ]
        };
        let rank = |id: &str| if id == "a" { 0 } else { 1 };
        for sort in [false, true] {
            let records: Vec<CheckOutput> =
                parts().into_iter().map(|f| CheckOutput::from_findings(f, vec![])).collect();
            let tables: Vec<CheckBatch> = parts().into_iter().map(|f| CheckBatch::from_findings(f, vec![])).collect();
            let r = CheckOutput::join(records, sort.then_some(&rank), vec![]);
            let t = CheckBatch::join(tables, sort.then_some(&rank), vec![]);
            assert_eq!(r.to_record_batch(), t.findings, "sort = {sort}");
            let order: Vec<&str> = r.findings.iter().map(|f| f.finding_id.as_str()).collect();
            let want = if sort { ["03", "05", "01", "04", "02"] } else { ["01", "02", "03", "04", "05"] };
            assert_eq!(order, want, "sort = {sort}");
            assert_eq!(t.ends(), Some((if sort { "m1" } else { "m2" }, if sort { "m3" } else { "m2" })));
            let view = TableView::new(&t.findings).unwrap();
            let back: Vec<Finding> = (0..view.len()).map(|i| view.row(i).to_finding()).collect();
            assert_eq!(back, r.findings);
        }
        assert_eq!(CheckBatch::default().findings.num_rows(), 0);
        assert_eq!(CheckBatch::default().ends(), None);
    }

    #[test]
    fn render_and_ids() {
        assert_eq!(render("{a}限{b}使用{c}", &[("a", "药"), ("b", "女")]), "药限女使用{c}");
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
        assert_eq!(hex16(stable_hash(&["a"])), format!("{:016x}", stable_hash(&["a"])));
        assert_eq!(hex16(0x0123_4567_89ab_cdef), "0123456789abcdef");
        let out = CheckOutput::default();
        assert_eq!(out.to_record_batch().num_rows(), 0);
        assert_eq!(out.to_record_batch().schema(), findings_schema());
    }
}
