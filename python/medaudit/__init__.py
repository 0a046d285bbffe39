"""medaudit: China's national medical-insurance supervision rules (医保基金智能监管 “两库”) over Apache Arrow.

Load a rule pack, build an :class:`Engine`, and check claims held in pyarrow, polars, pandas or DuckDB
(anything exporting the Arrow PyCapsule interface); the findings come back as a ``pyarrow.Table``::

    import medaudit
    engine = medaudit.Engine(medaudit.RulePack.sample())
    claims = medaudit.synth.claims(encounters=10_000, seed=1)
    findings = engine.check(**claims.tables)
    medaudit.summarize(findings)          # renders as HTML in Jupyter

The input is read without copying and the GIL is released while the engine works; Ctrl-C stops a long
check. :func:`what_if` shows what a rule change would flag before it is deployed, and
:mod:`medaudit.spark` runs the same engine over a PySpark DataFrame.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _medaudit
from ._medaudit import (
    ArgumentError,
    ClaimsError,
    Error,
    KnowledgeError,
    RulePack,
    RulePackError,
    __version__,
)
from ._progress import set_progress, _progress_callback
from ._report import Summary, WhatIf, summarize, what_if
from . import synth

__all__ = [
    "ArgumentError",
    "ClaimsError",
    "Engine",
    "Error",
    "KnowledgeError",
    "RulePack",
    "RulePackError",
    "Summary",
    "TABLES",
    "WhatIf",
    "__version__",
    "claims_from_json",
    "findings_schema",
    "set_progress",
    "summarize",
    "synth",
    "unjudged",
    "what_if",
]

TABLES = ("fee_details", "mdtrt", "diagnoses", "operations")
"""The four national claims tables, in the order :meth:`Engine.check` takes them."""

_UNJUDGED_KEY = b"medaudit.unjudged"


def _arrow_source(obj: Any, name: str) -> Any:
    """Returns something exporting the Arrow PyCapsule interface for ``obj`` (``None`` stays ``None``).

    pyarrow, polars, pandas ≥ 2.2, DuckDB relations and nanoarrow export it themselves and are passed as
    they are (no copy). Older pandas DataFrames go through ``pyarrow.Table.from_pandas`` (pandas' own
    columns are not Arrow, so this converts, as any Arrow consumer must); objects with an ``.arrow()``
    method (older DuckDB relations) are asked for their Arrow table.
    """
    if obj is None or hasattr(obj, "__arrow_c_stream__") or hasattr(obj, "__arrow_c_array__"):
        return obj
    module = type(obj).__module__ or ""
    if module.startswith("pandas") and hasattr(obj, "columns"):
        return pa.Table.from_pandas(obj, preserve_index=False)
    if callable(getattr(obj, "arrow", None)):
        return obj.arrow()
    return obj  # the native layer raises a TypeError naming the argument


class Engine:
    """A rule pack compiled with its knowledge: immutable, safe to share between threads.

    Args:
        pack: the :class:`RulePack`.
        knowledge: optional knowledge tables by name, each an Arrow table (anything exporting the
            PyCapsule interface: pyarrow, polars, …) or a list of row dicts. A given table replaces the
            pack's inline rows of the same name; every name must be declared in the pack.

    Raises:
        KnowledgeError: a knowledge table is invalid (the message names table, column and row).
        ArgumentError: a table name the pack does not declare.
    """

    def __init__(self, pack: RulePack, knowledge: Optional[Mapping[str, Any]] = None) -> None:
        if not isinstance(pack, RulePack):
            raise TypeError(f"pack: expected a medaudit.RulePack, got {type(pack).__name__}")
        tables = None
        if knowledge is not None:
            tables = {k: (v if isinstance(v, list) else _arrow_source(v, f"knowledge {k!r}")) for k, v in knowledge.items()}
        self._native = _medaudit.Engine(pack, tables)
        self._pack = pack

    @property
    def pack(self) -> RulePack:
        """The pack this engine was built from."""
        return self._pack

    def check(
        self,
        fee_details: Any = None,
        mdtrt: Any = None,
        diagnoses: Any = None,
        operations: Any = None,
        *,
        stage: Optional[str] = None,
        rule_ids: Optional[Sequence[str]] = None,
        column_map: Optional[Mapping[str, Mapping[str, str]]] = None,
        threads: int = 0,
        progress: Union[None, bool, Callable[[int, int], Any]] = None,
        chunk_rows: int = 262_144,
    ) -> pa.Table:
        """Checks claims and returns the findings as a ``pyarrow.Table`` (schema :func:`findings_schema`).

        Args:
            fee_details: fee lines (费用明细), one row per ``feedetl_sn``.
            mdtrt: encounters (就诊/结算), one row per ``mdtrt_id``.
            diagnoses: diagnoses, any number per encounter (optional).
            operations: operations, any number per encounter (optional).
            stage: run only the rules of this stage: ``"事前"``/``"pre"``, ``"事中"``/``"during"``,
                ``"事后"``/``"post"``; all rules when ``None``.
            rule_ids: run only these rules (each must exist in the pack).
            column_map: where your column names differ from the national ones, per table:
                ``{"fee_details": {"hilist_code": "med_list_codg"}}``.
            threads: threads to check on (0 or 1: one); more are used only for lines grouped by
                encounter in increasing ``mdtrt_id`` order, with the same findings.
            progress: ``True`` for a tqdm bar, ``False`` for none, a callable ``f(done_lines,
                total_lines)``, or ``None`` for the default of :func:`set_progress` (a bar on inputs of a
                million lines or more when tqdm is installed).
            chunk_rows: the fee lines are checked in zero-copy slices of this many rows; progress and
                Ctrl-C are handled between slices. Never changes the findings.

        Each table may be a pyarrow Table, RecordBatch or RecordBatchReader, a polars DataFrame, a
        pandas DataFrame, a DuckDB relation, a nanoarrow stream, or any object with
        ``__arrow_c_stream__`` / ``__arrow_c_array__``. Nothing is copied. The lines or encounters rules
        could not judge (a null attribute, …) are in the table's schema metadata: see :func:`unjudged`.

        Raises:
            ClaimsError: a column is missing or has a type the engine cannot read, or a value a rule
                needs is null or unknown (the message names table, column, row and rule).
            ArgumentError: an unknown rule id, stage or column map entry.
            TypeError: an input that is not an Arrow table.
            KeyboardInterrupt: Ctrl-C during the check (the check stops cleanly).
        """
        sources = [_arrow_source(x, n) for x, n in zip((fee_details, mdtrt, diagnoses, operations), TABLES)]
        if stage is not None and not isinstance(stage, str):
            raise TypeError(f"stage: expected a str, got {type(stage).__name__}")
        if isinstance(rule_ids, str):
            raise TypeError("rule_ids: expected a sequence of rule ids, got a str")
        ids = None if rule_ids is None else [str(r) for r in rule_ids]
        cmap = None if column_map is None else json.dumps(column_map)
        native, unj = self._native._check(
            sources[0],
            sources[1],
            sources[2],
            sources[3],
            column_map=cmap,
            stage=stage,
            rule_ids=ids,
            threads=int(threads),
            chunk_rows=int(chunk_rows),
            progress=_progress_callback(progress),
        )
        table = pa.table(native)
        meta = {_UNJUDGED_KEY: json.dumps([{"rule_id": r, "reason": why, "count": n} for r, why, n in unj], ensure_ascii=False)}
        return table.replace_schema_metadata(meta)

    def __repr__(self) -> str:
        return f"medaudit.Engine(pack={self._pack.id!r}, rules={len(self._pack.rule_ids)})"


def unjudged(findings: pa.Table) -> List[Dict[str, Any]]:
    """The lines or encounters rules could not judge in the check that returned ``findings``.

    Returns a list of ``{"rule_id", "reason", "count"}`` dicts (empty when every line was judged).
    Nothing is passed silently: a null patient attribute or time is counted here, never treated as fine.
    """
    meta = findings.schema.metadata or {}
    raw = meta.get(_UNJUDGED_KEY)
    return json.loads(raw) if raw else []


def findings_schema() -> pa.Schema:
    """The Arrow schema of the findings table :meth:`Engine.check` returns."""
    return pa.schema(_medaudit.findings_schema())


def claims_from_json(claims: Union[str, Mapping[str, Any]], path: str = "$") -> Dict[str, Any]:
    """Reads claims from the claims-JSON form (rows per table, optional ``types`` and ``column_map``).

    Returns ``{"fee_details": pa.Table, "mdtrt": …, "diagnoses": …, "operations": …, "column_map": dict|None}``;
    pass it on as ``engine.check(**result)``. This is the language-neutral form of the conformance vectors
    and of callers without Arrow. ``path`` prefixes the JSON paths in error messages (``"$.claims"``).

    Raises:
        ArgumentError: a value or table that cannot be read (the message names its JSON path).
    """
    text = claims if isinstance(claims, str) else json.dumps(claims, ensure_ascii=False)
    fee, mdtrt, diag, oprn, cmap = _medaudit.claims_from_json(text, path)
    return {
        "fee_details": pa.table(fee),
        "mdtrt": pa.table(mdtrt),
        "diagnoses": pa.table(diag),
        "operations": pa.table(oprn),
        "column_map": None if cmap is None else json.loads(cmap),
    }
