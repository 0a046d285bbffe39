"""Findings for people: summaries by rule, facility and department (HTML in Jupyter), and what-if.

This module only aggregates findings the engine returned (with pyarrow compute); it never decides
whether something is a violation.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # pragma: no cover
    from . import RulePack

__all__ = ["Summary", "WhatIf", "summarize", "what_if"]

_DIMENSIONS = {
    "rule": ["rule_id", "rule_name", "severity"],
    "facility": ["fixmedins_code"],
    "department": ["bilg_dept_codg"],
}


def _group(findings: pa.Table, keys: List[str]) -> pa.Table:
    """findings, amount (sum, nulls as 0), encounters per key, sorted by amount then findings, descending."""
    if findings.num_rows == 0:
        fields = [findings.schema.field(k) for k in keys]
        fields += [pa.field("findings", pa.int64()), pa.field("amount", pa.float64()), pa.field("encounters", pa.int64())]
        return pa.schema(fields).empty_table()
    t = findings.select(keys + ["finding_id", "amount", "mdtrt_id"])
    t = t.set_column(t.schema.get_field_index("amount"), "amount", pc.fill_null(t["amount"], 0.0))
    g = t.group_by(keys, use_threads=False).aggregate(
        [("finding_id", "count"), ("amount", "sum"), ("mdtrt_id", "count_distinct")]
    )
    # Select by the aggregate names: pyarrow versions differ in where they put the keys.
    cols = {"findings": "finding_id_count", "amount": "amount_sum", "encounters": "mdtrt_id_count_distinct"}
    out = pa.table({**{k: g[k] for k in keys}, **{new: g[old] for new, old in cols.items()}})
    return out.sort_by([("amount", "descending"), ("findings", "descending")] + [(k, "ascending") for k in keys])


def _html_table(t: pa.Table, limit: int = 20) -> str:
    head = "".join(f"<th>{html.escape(n)}</th>" for n in t.column_names)
    rows = []
    for r in t.slice(0, limit).to_pylist():
        cells = []
        for n in t.column_names:
            v = r[n]
            if isinstance(v, float):
                cells.append(f'<td style="text-align:right">{v:,.2f}</td>')
            elif isinstance(v, int):
                cells.append(f'<td style="text-align:right">{v:,}</td>')
            else:
                cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p>… {t.num_rows - limit:,} more rows</p>" if t.num_rows > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


class Summary:
    """Counts and amounts at risk of a findings table, by rule, by facility and by department.

    Renders as HTML in Jupyter; each breakdown is a ``pyarrow.Table`` sorted by amount, descending.
    """

    def __init__(self, findings: pa.Table) -> None:
        missing = [c for c in ("finding_id", "rule_id", "amount", "mdtrt_id") if c not in findings.column_names]
        if missing:
            raise ValueError(f"summarize: not a findings table (missing columns {missing})")
        self.findings = findings
        """The findings summarised."""
        self.by_rule = _group(findings, _DIMENSIONS["rule"])
        """Findings, amount at risk and encounters per rule."""
        self.by_facility = _group(findings, _DIMENSIONS["facility"])
        """Findings, amount at risk and encounters per facility (fixmedins_code)."""
        self.by_department = _group(findings, _DIMENSIONS["department"])
        """Findings, amount at risk and encounters per billing department (bilg_dept_codg)."""

    @property
    def total_findings(self) -> int:
        """Number of findings."""
        return self.findings.num_rows

    @property
    def total_amount(self) -> float:
        """Sum of the amounts at risk (可疑金额); null amounts count as 0."""
        s = pc.sum(self.findings["amount"]).as_py() if self.findings.num_rows else None
        return float(s or 0.0)

    def _repr_html_(self) -> str:
        parts = [
            f"<h4>medaudit findings: {self.total_findings:,} findings, amount at risk {self.total_amount:,.2f}</h4>",
            "<h5>By rule</h5>",
            _html_table(self.by_rule),
            "<h5>By facility</h5>",
            _html_table(self.by_facility),
            "<h5>By department</h5>",
            _html_table(self.by_department),
        ]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"Summary({self.total_findings} findings, amount {self.total_amount:.2f}, {self.by_rule.num_rows} rules, {self.by_facility.num_rows} facilities)"


def summarize(findings: pa.Table) -> Summary:
    """A :class:`Summary` of a findings table (from :meth:`medaudit.Engine.check`)."""
    return Summary(findings)


def _compare(current: pa.Table, candidate: pa.Table, keys: List[str]) -> pa.Table:
    a, b = _group(current, keys), _group(candidate, keys)
    rows: Dict[tuple, Dict[str, Any]] = {}
    for side, t in (("current", a), ("candidate", b)):
        for r in t.to_pylist():
            k = tuple(r[x] for x in keys)
            d = rows.setdefault(k, {**{x: r[x] for x in keys}, "current_findings": 0, "candidate_findings": 0,
                                    "current_amount": 0.0, "candidate_amount": 0.0})
            d[f"{side}_findings"] = r["findings"]
            d[f"{side}_amount"] = r["amount"]
    out = []
    for d in rows.values():
        d["delta_findings"] = d["candidate_findings"] - d["current_findings"]
        d["delta_amount"] = d["candidate_amount"] - d["current_amount"]
        out.append(d)
    out.sort(key=lambda d: (-abs(d["delta_amount"]), -abs(d["delta_findings"]), [str(d[k]) for k in keys]))
    schema = pa.schema([current.schema.field(k).with_nullable(True) for k in keys] + [
        pa.field("current_findings", pa.int64()), pa.field("candidate_findings", pa.int64()),
        pa.field("delta_findings", pa.int64()), pa.field("current_amount", pa.float64()),
        pa.field("candidate_amount", pa.float64()), pa.field("delta_amount", pa.float64())])
    return pa.Table.from_pylist(out, schema=schema)


class WhatIf:
    """What a candidate pack would flag compared with the current one, on the same claims.

    ``added`` are findings only the candidate gives, ``removed`` only the current; ``by_rule`` and
    ``by_facility`` compare counts and amounts. Renders as HTML in Jupyter.
    """

    def __init__(self, current: pa.Table, candidate: pa.Table) -> None:
        self.current = current
        """Findings of the current pack."""
        self.candidate = candidate
        """Findings of the candidate pack."""
        cur_ids = current["finding_id"]
        cand_ids = candidate["finding_id"]
        self.added = candidate.filter(pc.invert(pc.is_in(cand_ids, value_set=cur_ids.combine_chunks())))
        """Findings the candidate gives and the current pack does not."""
        self.removed = current.filter(pc.invert(pc.is_in(cur_ids, value_set=cand_ids.combine_chunks())))
        """Findings the current pack gives and the candidate does not."""
        self.by_rule = _compare(current, candidate, ["rule_id", "rule_name"])
        """Per rule: findings and amounts under each pack and the difference."""
        self.by_facility = _compare(current, candidate, ["fixmedins_code"])
        """Per facility: findings and amounts under each pack and the difference."""

    def _repr_html_(self) -> str:
        return "\n".join([
            f"<h4>medaudit what-if: {self.added.num_rows:,} findings added, {self.removed.num_rows:,} removed</h4>",
            "<h5>By rule</h5>", _html_table(self.by_rule),
            "<h5>By facility</h5>", _html_table(self.by_facility),
        ])

    def __repr__(self) -> str:
        return f"WhatIf(added={self.added.num_rows}, removed={self.removed.num_rows})"


def _claims_tables(claims: Any) -> Dict[str, Any]:
    if hasattr(claims, "tables") and isinstance(claims.tables, Mapping):
        return dict(claims.tables)
    if isinstance(claims, Mapping):
        unknown = set(claims) - {"fee_details", "mdtrt", "diagnoses", "operations", "column_map"}
        if unknown:
            raise ValueError(f"what_if: unknown claims tables {sorted(unknown)}")
        return dict(claims)
    raise TypeError("what_if: claims must be a medaudit.synth.SynthClaims or a dict of tables by name")


def what_if(
    current_pack: "RulePack",
    candidate_pack: "RulePack",
    claims: Any,
    *,
    knowledge: Optional[Mapping[str, Any]] = None,
    candidate_knowledge: Optional[Mapping[str, Any]] = None,
    stage: Optional[str] = None,
    threads: int = 0,
) -> WhatIf:
    """Checks the same claims with the current and a candidate pack and shows what the change flags.

    Args:
        current_pack: the pack in force.
        candidate_pack: the pack you consider deploying (changed rules, parameters or knowledge).
        claims: a :class:`medaudit.synth.SynthClaims`, or a dict of tables by name
            (``fee_details``, ``mdtrt``, ``diagnoses``, ``operations``, optional ``column_map``).
        knowledge: knowledge tables for the current pack (see :class:`medaudit.Engine`).
        candidate_knowledge: knowledge tables for the candidate (default: the same as ``knowledge``).
        stage: run only the rules of this stage.
        threads: threads per check.

    Findings are matched by ``finding_id`` (a hash of rule id, encounter, line, related line and
    knowledge point), so a rule kept under the same id is compared with itself.
    """
    from . import Engine

    tables = _claims_tables(claims)
    cur = Engine(current_pack, knowledge).check(**tables, stage=stage, threads=threads, progress=False)
    cand_k = knowledge if candidate_knowledge is None else candidate_knowledge
    cand = Engine(candidate_pack, cand_k).check(**tables, stage=stage, threads=threads, progress=False)
    return WhatIf(cur, cand)
