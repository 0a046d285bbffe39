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

Also: :func:`national_import` turns the NHSA knowledge-point records into a rule pack with a coverage
report; :func:`indicators` computes provider indicators (药占比, 次均费用, …) flagged against peers;
:class:`DrgScheme` / :class:`DipCatalogue` group stays and feed the DRG/DIP rules of an engine; the
:class:`Auditor` checks patient-history rules on claims arriving batch by batch, and
:func:`partition_claims` cuts claims by person or trace code for scale-out.
"""

from __future__ import annotations

import json
import os
import pathlib
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
    SchemeError,
    __version__,
)
from ._progress import set_progress, _progress_callback
from ._report import Summary, WhatIf, summarize, what_if
from ._payment import DipCatalogue, DrgScheme
from ._history import Auditor, partition_claims
from . import synth

__all__ = [
    "ArgumentError",
    "Auditor",
    "ClaimsError",
    "DipCatalogue",
    "DrgScheme",
    "Engine",
    "Error",
    "KnowledgeError",
    "RulePack",
    "RulePackError",
    "SchemeError",
    "Summary",
    "TABLES",
    "WhatIf",
    "__version__",
    "claims_from_json",
    "findings_schema",
    "indicators",
    "national_import",
    "partition_claims",
    "set_progress",
    "summarize",
    "synth",
    "unjudged",
    "validate_expr",
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
        drg_schemes: :class:`DrgScheme` objects the pack's DRG rules name by id (``params.scheme``).
        dip_catalogues: :class:`DipCatalogue` objects its ``dip_cost_ratio`` rules name (``params.catalogue``).

    Raises:
        KnowledgeError: a knowledge table is invalid (the message names table, column and row).
        ArgumentError: a table name the pack does not declare.
        RulePackError: a rule names a DRG scheme or DIP catalogue that was not given.
    """

    def __init__(
        self,
        pack: RulePack,
        knowledge: Optional[Mapping[str, Any]] = None,
        *,
        drg_schemes: Optional[Sequence[DrgScheme]] = None,
        dip_catalogues: Optional[Sequence[DipCatalogue]] = None,
    ) -> None:
        if not isinstance(pack, RulePack):
            raise TypeError(f"pack: expected a medaudit.RulePack, got {type(pack).__name__}")
        tables = None
        if knowledge is not None:
            tables = {k: (v if isinstance(v, list) else _arrow_source(v, f"knowledge {k!r}")) for k, v in knowledge.items()}
        schemes = []
        for s in drg_schemes or ():
            if not isinstance(s, DrgScheme):
                raise TypeError(f"drg_schemes: expected medaudit.DrgScheme objects, got {type(s).__name__}")
            schemes.append(s._native)
        cats = []
        for c in dip_catalogues or ():
            if not isinstance(c, DipCatalogue):
                raise TypeError(f"dip_catalogues: expected medaudit.DipCatalogue objects, got {type(c).__name__}")
            cats.append(c._native)
        self._native = _medaudit.Engine(pack, tables, schemes, cats)
        self._pack = pack
        self._drg_schemes = list(drg_schemes or ())
        self._dip_catalogues = list(dip_catalogues or ())

    def partition_key(self, rule_id: str) -> Optional[str]:
        """How claims must be partitioned for rule ``rule_id`` so that per-partition checks equal one check:
        ``"person"`` (patient history: by ``psn_no``), ``"trace_code"`` (duplicate trace codes: by
        ``drug_trac_codg``), or ``None`` for line and encounter rules (any split keeping encounters whole)."""
        return self._native.partition_key(rule_id)

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
        native = self._native._check(
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
        return _findings_table(native)

    def __repr__(self) -> str:
        return f"medaudit.Engine(pack={self._pack.id!r}, rules={len(self._pack.rule_ids)})"


def _findings_table(native: Any) -> pa.Table:
    """The findings as a pyarrow Table; the core put the unjudged report in its schema metadata."""
    return pa.table(native)


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


def national_import(
    path_or_text: Union[str, "os.PathLike[str]"],
    *,
    indications_tsv: Optional[str] = None,
    starter_indications: bool = True,
    std_prices: Optional[Mapping[str, float]] = None,
    internet_med_types: Optional[Sequence[str]] = None,
    pack_id: Optional[str] = None,
) -> "tuple[RulePack, Dict[str, Any]]":
    """Imports the NHSA knowledge-point records (两库知识点, as published: one JSON object per point) into a
    rule pack, and reports what was interpreted.

    Args:
        path_or_text: the records file (a path), or its JSON text (a str starting with ``[`` or ``{``).
        indications_tsv: more indication mappings, TSV text ``<indication text>\t<ICD-10 patterns>\t<label>``
            per line (or a path to such a file).
        starter_indications: keep the bundled starter mapping (``False``: only ``indications_tsv``).
        std_prices: operation code → standard (undiscounted) price, for the same-incision discount.
        internet_med_types: the region's ``med_type`` codes of internet encounters (none by default).
        pack_id: the pack's id (default ``nhsa-liangku``).

    The option names are those of the C ABI (``medaudit_national_import_file``).

    Returns:
        ``(pack, coverage)``: the validated :class:`RulePack` (knowledge inline; ``pack.json`` to store it) and
        the coverage report as a dict: ``total``, ``interpreted``, ``awaiting_mapping``, ``not_interpreted``,
        ``interpreted_share``, ``judging_share``, ``classes`` (per rule class, with every point not interpreted
        and why) and ``warnings``.

    Raises:
        KnowledgeError: a malformed record (the message names its JSON path, e.g. ``$[0].kp_id``).
        OSError: the file cannot be read.
    """
    if isinstance(path_or_text, str) and path_or_text.lstrip()[:1] in ("[", "{"):
        text = path_or_text
    else:
        text = pathlib.Path(os.fspath(path_or_text)).read_text(encoding="utf-8")
    if indications_tsv is not None and not isinstance(indications_tsv, str):
        indications_tsv = pathlib.Path(os.fspath(indications_tsv)).read_text(encoding="utf-8")
    prices = None if std_prices is None else {str(k): float(v) for k, v in std_prices.items()}
    if isinstance(internet_med_types, str):
        raise TypeError("internet_med_types: expected a sequence of med_type codes, got a str")
    types = None if internet_med_types is None else [str(t) for t in internet_med_types]
    pack, coverage = _medaudit.national_import(
        text,
        indications_tsv=indications_tsv,
        starter_indications=bool(starter_indications),
        std_prices=prices,
        internet_med_types=types,
        pack_id=pack_id,
    )
    return pack, json.loads(coverage)


def indicators(
    mdtrt: Any,
    fee_details: Any,
    *,
    config: Union[None, str, Mapping[str, Any], RulePack] = None,
    diagnoses: Any = None,
    operations: Any = None,
    column_map: Optional[Mapping[str, Mapping[str, str]]] = None,
) -> pa.Table:
    """Provider indicators (药占比, 检查检验占比, 次均费用, 住院率, 自费率, 15/31-day readmission, …) per facility and
    dimension, with z-scores and flags against peers, ranked for inspection (rank 1 first).

    Args:
        mdtrt: encounters (``mdtrt_id``, ``psn_no``, ``fixmedins_code``, ``hosp_lv``, ``med_type``,
            ``begntime``/``endtime``, ``medfee_sumamt``, ``fulamt_ownpay_amt``, …).
        fee_details: fee lines (``mdtrt_id``, ``det_item_fee_sumamt``, ``med_chrgitm_type``, ``hilist_code``, …).
        config: the ``indicators`` section of a rule pack, as a dict or JSON text (dimensions, peer keys,
            item classes, flag thresholds), or a :class:`RulePack` whose section to use; ``None``: defaults.
        diagnoses, operations: optional, as for :meth:`Engine.check`.
        column_map: your column names, as for :meth:`Engine.check`.

    Returns:
        a ``pyarrow.Table``: ``rank``, ``fixmedins_code``, the dimensions and peer keys, ``encounters``,
        ``persons``, ``total_fee``, each indicator (``drug_share`` 药占比, ``avg_cost`` 次均费用, …) with its
        ``<name>_z``, ``flag_count``, ``flags`` and ``score``.

    Raises:
        RulePackError: an invalid config (the message names its JSON path: ``$.peer_keys[0]: unknown peer key``).
        ClaimsError: a missing column an indicator needs, a null facility or amount, a line of an unknown
            encounter, a duplicate ``mdtrt_id`` (the message names table, column and row).
    """
    pack = None
    cfg = None
    if isinstance(config, RulePack):
        pack = config
    elif isinstance(config, str):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = json.dumps(config, ensure_ascii=False)
    elif config is not None:
        raise TypeError(f"config: expected None, a dict, JSON text or a medaudit.RulePack, got {type(config).__name__}")
    cmap = None if column_map is None else json.dumps(column_map)
    out = _medaudit.indicators(
        _arrow_source(mdtrt, "mdtrt"),
        _arrow_source(fee_details, "fee_details"),
        _arrow_source(diagnoses, "diagnoses"),
        _arrow_source(operations, "operations"),
        config_json=cfg,
        pack=pack,
        column_map=cmap,
    )
    return pa.table(out)


def validate_expr(rule_id: str, text: str) -> str:
    """Checks an analyst's rule condition (template ``expr``, ``params.expr``) as the pack loader would, without a
    pack; returns its scope: ``"line"`` (one verdict per fee line) or ``"encounter"``.

    Raises:
        RulePackError: a syntax or type error; the message names the rule, ``params.expr``, ``line:column`` and
            shows the line with a caret (``rule pack: rule "R1": params.expr: 1:1: unknown column line.prd_dayz; …``).
    """
    return _medaudit.validate_expr(str(rule_id), str(text))
