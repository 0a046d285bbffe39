//! Data-quality templates over every line: `amount_mismatch` and `fee_time`.

use super::{line_hit, rule_param as P, Compiled, Kernel, KnowledgeUse, ParamKind, Params, TemplateSpec};
use crate::claims::ClaimsTable;
use crate::claims::{ColumnMap, FeeView, NumCol};
use crate::engine::compile::CompiledRule;
use crate::engine::encounters::{EncRow, EncTable, Stay};
use crate::engine::run::{need_row, null_encounter, pack_line, LineAt, Sink};
use crate::error::Result;
use crate::findings::money;
use crate::pack::Rule;
use crate::time::{day_of, format_datetime, DAY};
use arrow_array::Array;

/// 明细金额与数量×单价不符.
pub static AMOUNT_MISMATCH: TemplateSpec = TemplateSpec {
    name: "amount_mismatch",
    title: "费用明细金额不符 (数据质量)",
    doc: "det_item_fee_sumamt differs from cnt × pric by more than the tolerance. Every line is checked; a null cnt, pric or amount is an error.",
    knowledge: KnowledgeUse::None,
    params: &[P("tolerance", ParamKind::Num, false, "allowed difference in yuan, default 0.01")],
    placeholders: &["cnt", "pric", "sumamt"],
    default_message: "{item_name}明细金额{sumamt}元与数量{cnt}×单价{pric}不符",
    amount: "|det_item_fee_sumamt − cnt × pric|",
    needs: &[(ClaimsTable::FeeDetails, "cnt"), (ClaimsTable::FeeDetails, "pric"), (ClaimsTable::FeeDetails, "det_item_fee_sumamt")],
};

/// 费用发生时间在就诊期间外 / 出院后 / 死亡后.
pub static FEE_TIME: TemplateSpec = TemplateSpec {
    name: "fee_time",
    title: "费用发生时间异常: 住院期间外 / 出院后 / 死亡后 (数据质量)",
    doc: "check=outside_stay: fee_ocur_time before begntime or after endtime; after_discharge: after endtime; after_death: on a calendar day after die_date. tolerance_hours widens the stay.",
    knowledge: KnowledgeUse::None,
    params: &[
        P("check", ParamKind::Enum(&["outside_stay", "after_discharge", "after_death"]), true, "which bound"),
        P("tolerance_hours", ParamKind::Num, false, "hours allowed beyond the bound, default 0"),
    ],
    placeholders: &["fee_time", "bound"],
    default_message: "{item_name}费用发生时间{fee_time}，{bound}",
    amount: "the line's det_item_fee_sumamt",
    needs: &[(ClaimsTable::FeeDetails, "fee_ocur_time")],
};

pub(crate) struct AmountMismatch {
    tol: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Outside,
    AfterDischarge,
    AfterDeath,
}

pub(crate) struct FeeTime {
    check: Check,
    tol: i64,
}

pub(crate) fn compile_amount(p: &Params) -> Result<Compiled> {
    Ok(Compiled::new(Kernel::AmountMismatch(AmountMismatch { tol: p.num("tolerance", None)?.unwrap_or(0.01) })))
}

pub(crate) fn compile_fee_time(p: &Params) -> Result<Compiled> {
    let check = match p.req_str("check", None)?.as_str() {
        "outside_stay" => Check::Outside,
        "after_discharge" => Check::AfterDischarge,
        _ => Check::AfterDeath,
    };
    let tol = (p.num("tolerance_hours", None)?.unwrap_or(0.0) * 3600.0) as i64;
    Ok(Compiled::new(Kernel::FeeTime(FeeTime { check, tol })))
}

impl AmountMismatch {
    fn eval(&self, spec: &Rule, rule: u32, line: &LineAt, sink: &mut Sink) -> Result<()> {
        let cnt = line.need("cnt", line.cnt(), spec)?;
        let pric = line.need("pric", line.pric(), spec)?;
        let sum = line.need("det_item_fee_sumamt", line.amount(), spec)?;
        let diff = (sum - cnt * pric).abs();
        if diff <= self.tol + 1e-9 {
            return Ok(());
        }
        // Encounter index is resolved at rendering from the line's mdtrt_id.
        let mut hit = line_hit(rule, u32::MAX, line, super::super::engine::NO_ROW, Some(diff));
        hit.args.push(("cnt", trim_num(cnt)));
        hit.args.push(("pric", money(pric)));
        hit.args.push(("sumamt", money(sum)));
        sink.hits.push(hit);
        Ok(())
    }
}

fn trim_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

impl FeeTime {
    fn eval(&self, spec: &Rule, rule: u32, line: &LineAt, enc: u32, er: &EncRow, sink: &mut Sink) -> Result<()> {
        let er = need_row(er, line, spec)?;
        let Some(t) = line.time() else {
            sink.unjudged(rule, "fee_ocur_time is null");
            return Ok(());
        };
        let bound = match self.check {
            Check::Outside | Check::AfterDischarge => {
                // A known bound that is crossed fires even when the other bound is null;
                // after_discharge is bounded by endtime only.
                let early = self.check == Check::Outside && er.begn.is_some_and(|b| t < b.saturating_sub(self.tol));
                let late = er.end.is_some_and(|e| t > e.saturating_add(self.tol));
                let needs_begn = self.check == Check::Outside;
                match (er.begn, er.end) {
                    (Some(b), _) if early => Some(format!("早于入院时间{}", format_datetime(b))),
                    (_, Some(e)) if late => Some(format!("晚于出院时间{}", format_datetime(e))),
                    (None, _) if needs_begn => {
                        sink.unjudged(rule, "begntime or endtime is null");
                        return Ok(());
                    }
                    (_, None) => {
                        sink.unjudged(rule, "begntime or endtime is null");
                        return Ok(());
                    }
                    _ => None,
                }
            }
            Check::AfterDeath => match er.die {
                None => None,
                Some(d) if day_of(t.saturating_sub(self.tol)) > day_of(d) => {
                    Some(format!("晚于死亡日期{}", format_datetime(d).get(..10).unwrap_or("")))
                }
                Some(_) => None,
            },
        };
        if let Some(b) = bound {
            let mut hit = line_hit(rule, enc, line, super::super::engine::NO_ROW, line.amount());
            hit.args.push(("fee_time", format_datetime(t)));
            hit.args.push(("bound", b));
            sink.hits.push(hit);
        }
        Ok(())
    }
}

/// What a data-quality scan over one chunk of lines reads.
pub(crate) struct ScanCtx<'a, 'c> {
    pub rule: &'c Rule,
    pub ri: u32,
    pub cr: &'c CompiledRule,
    pub v: &'c FeeView<'a>,
    pub chunk: usize,
    pub map: &'c ColumnMap,
    /// The encounter of each line, when a rule of the scan needs it.
    pub line_enc: Option<&'c [u32]>,
    pub encs: &'c EncTable<'a>,
}

impl ScanCtx<'_, '_> {
    /// Whether the rule applies to `row` by its effective dates and scenes; counts unjudged lines.
    /// (The scene test reads the encounter; scans that hold the encounter row test it themselves.)
    ///
    /// A rule that reads the encounter (`fee_time`), or is limited to some scenes, needs the
    /// line's encounter to judge it or to know whether it applies: a line in the rule's dates
    /// with a null `mdtrt_id` is an error, as for a code-selected rule, even when its time is
    /// null.
    #[inline]
    fn applies(&self, row: usize, sink: &mut Sink) -> Result<bool> {
        let dated = self.cr.from != i64::MIN || self.cr.to != i64::MAX;
        let time = self.v.fee_ocur_time.and_then(|c| c.get(row));
        if dated && time.is_some_and(|t| !(self.cr.from <= t && t < self.cr.to)) {
            return Ok(false);
        }
        let scenes = self.cr.scene_mask != 0b1111;
        if scenes || self.cr.kernel.needs_encounter() {
            let enc = match self.line_enc.and_then(|le| le.get(row)) {
                Some(&e) if e != u32::MAX => e,
                _ => return Err(null_encounter(self.v, row, self.map, self.rule)),
            };
            let scene = self.encs.scene(enc);
            if scenes && scene != 0 && scene & self.cr.scene_mask == 0 {
                return Ok(false);
            }
        }
        if dated && time.is_none() {
            sink.unjudged(self.ri, "fee_ocur_time is null and the rule has effective dates");
            return Ok(false);
        }
        Ok(true)
    }

    fn line(&self, row: usize) -> LineAt<'_, '_> {
        LineAt { v: self.v, row, packed: pack_line(self.chunk, row), map: self.map }
    }
}

/// Runs a data-quality kernel over every line of a chunk.
pub(crate) fn scan(kernel: &Kernel, ctx: &ScanCtx, sink: &mut Sink) -> Result<()> {
    match kernel {
        Kernel::AmountMismatch(k) => k.scan(ctx, sink),
        Kernel::FeeTime(k) => k.scan(ctx, sink),
        _ => Ok(()),
    }
}

impl AmountMismatch {
    fn scan(&self, ctx: &ScanCtx, sink: &mut Sink) -> Result<()> {
        let v = ctx.v;
        let plain = ctx.cr.from == i64::MIN && ctx.cr.to == i64::MAX && ctx.cr.scene_mask == 0b1111;
        // Fast path: three Float64 columns without nulls, every line in scope: one tight loop.
        if let (true, Some(NumCol::F64(c)), Some(NumCol::F64(p)), Some(NumCol::F64(a))) =
            (plain, v.cnt, v.pric, v.det_item_fee_sumamt)
        {
            if c.null_count() == 0 && p.null_count() == 0 && a.null_count() == 0 {
                let tol = self.tol + 1e-9;
                for (row, ((c, p), a)) in c.values().iter().zip(p.values().iter()).zip(a.values().iter()).enumerate() {
                    if (a - c * p).abs() > tol || !(a - c * p).is_finite() {
                        self.eval(ctx.rule, ctx.ri, &ctx.line(row), sink)?;
                    }
                }
                return Ok(());
            }
        }
        for row in 0..v.rows {
            if ctx.applies(row, sink)? {
                self.eval(ctx.rule, ctx.ri, &ctx.line(row), sink)?;
            }
        }
        Ok(())
    }
}

impl FeeTime {
    fn scan(&self, ctx: &ScanCtx, sink: &mut Sink) -> Result<()> {
        let dated = ctx.cr.from != i64::MIN || ctx.cr.to != i64::MAX;
        // Lines come grouped by encounter: read each encounter's times once per run of its lines,
        // and its whole row only when a line may fire.
        let mut cached: Option<(u32, EncRow)> = None;
        let mut row = 0;
        while row < ctx.v.rows {
            let enc = ctx.line_enc.and_then(|le| le.get(row)).copied().unwrap_or(u32::MAX);
            // The run of lines of this encounter; one line at a time when the encounters are not
            // known or the rule is dated (a line out of its dates is skipped before its
            // encounter is read).
            let run_end = match ctx.line_enc {
                Some(le) if !dated => {
                    le.get(row..).map_or(row + 1, |rest| row + rest.iter().take_while(|&&e| e == enc).count())
                }
                _ => row + 1,
            };
            let lines = row..run_end.max(row + 1);
            row = lines.end;
            if dated && !ctx.applies(lines.start, sink)? {
                continue;
            }
            let Some(stay) = ctx.encs.stay(enc) else {
                return Err(null_encounter(ctx.v, lines.start, ctx.map, ctx.rule));
            };
            if stay.scene != 0 && stay.scene & ctx.cr.scene_mask == 0 {
                continue;
            }
            // Usually no line of the run can fire: one loop over its times shows it.
            if let (true, Some((lo, hi)), Some(times)) = (stay.has_row, self.quiet(&stay), ctx.v.fee_ocur_time) {
                if times.all_within(lines.clone(), lo, hi) {
                    continue;
                }
            }
            for r in lines {
                // Only lines that may fire, or that cannot be judged, go through `eval`.
                if stay.has_row && !self.may_fire(ctx.v.fee_ocur_time.and_then(|c| c.get(r)), &stay) {
                    continue;
                }
                // Borrowed, not copied: an encounter row is a few hundred bytes.
                if cached.as_ref().is_none_or(|(e, _)| *e != enc) {
                    cached = Some((enc, ctx.encs.get(enc).unwrap_or_default()));
                }
                let Some((_, er)) = cached.as_ref() else { continue };
                self.eval(ctx.rule, ctx.ri, &ctx.line(r), enc, er, sink)?;
            }
        }
        Ok(())
    }

    /// False only when `eval` would certainly neither report the line nor count it unjudged.
    #[inline]
    fn may_fire(&self, t: Option<i64>, er: &Stay) -> bool {
        let Some(t) = t else { return true };
        self.quiet(er).is_none_or(|(lo, hi)| t < lo || t > hi)
    }

    /// The times (seconds) at which a line of stay `s` neither fires nor is unjudged: `None` when
    /// a null bound leaves that to `eval`.
    fn quiet(&self, s: &Stay) -> Option<(i64, i64)> {
        match self.check {
            Check::Outside => Some((s.begn?.saturating_sub(self.tol), s.end?.saturating_add(self.tol))),
            Check::AfterDischarge => Some((i64::MIN, s.end?.saturating_add(self.tol))),
            // day_of(t - tol) > day_of(die) exactly when t - tol reaches the next day's start.
            Check::AfterDeath => match s.die {
                None => Some((i64::MIN, i64::MAX)),
                Some(d) => {
                    let next = day_of(d).checked_add(1)?.checked_mul(DAY)?;
                    Some((i64::MIN, next.checked_add(self.tol)?.checked_sub(1)?))
                }
            },
        }
    }
}
