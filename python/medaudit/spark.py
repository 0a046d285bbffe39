"""Run the engine over PySpark DataFrames with ``mapInArrow``: one province's year of claims on a cluster,
with the same findings as one process.

The four claims tables are tagged, unioned into one DataFrame and hash-partitioned by encounter
(``mdtrt_id``), so every encounter's fee lines, its ``mdtrt`` row, diagnoses and operations land in the same
partition; each partition is checked by the same engine (built once per Python worker from the pack's
JSON) and its findings are returned as Arrow batches. Line and encounter rules look at one encounter at a
time, so partitioning by encounter gives exactly the findings of one process.

Patient-history rules need more than one encounter: when the pack (or the selected rules) has any, the rows
are routed a second time by the rules' partition key (:meth:`medaudit.Engine.partition_key`) with the
core's own cut, :func:`medaudit.partition_claims`: on each encounter partition, the claims are cut by person
(``psn_no``) and, for trace-code rules, by drug trace code, into the same numbered partitions on every
worker (FNV-1a of the key); the pieces are shuffled by that number, and each is checked with the rules of
its key (person pieces: every rule but the trace-code ones; trace-code pieces: the trace-code rules). Trace
codes given as a Spark array are joined with commas first (the form the cut writes).

Spark's timestamps are instants; they are handed to the engine as wall-clock times in the Spark session's
time zone (``spark.sql.session.timeZone``), the clock a user sees in Spark. This module never collects
data to the driver.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Dict, Iterator, Mapping, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame

    from . import RulePack

__all__ = ["check", "findings_spark_schema"]

_TAG = "__medaudit_table"
_KEY = "__medaudit_key"
_SEP = "__"
_PART = "__medaudit_part"
_TABLES = ("fee_details", "mdtrt", "diagnoses", "operations")
_ENGINES: Dict[str, Any] = {}


def findings_spark_schema() -> Any:
    """The Spark schema of the findings DataFrame (the findings table with ``warn_level`` as int)."""
    from pyspark.sql import types as T

    from . import findings_schema

    fields = []
    for f in findings_schema():
        if pa.types.is_string(f.type):
            t: Any = T.StringType()
        elif pa.types.is_floating(f.type):
            t = T.DoubleType()
        else:
            t = T.IntegerType()
        fields.append(T.StructField(f.name, t, f.nullable))
    return T.StructType(fields)


def _engine(token: str, pack_json: str, knowledge: Optional[Mapping[str, Any]]) -> Any:
    """This worker's engine for the job `token` (built once per Python worker)."""
    eng = _ENGINES.get(token)
    if eng is None:
        from . import Engine, RulePack

        eng = Engine(RulePack.from_json(pack_json), knowledge)
        _ENGINES.clear()
        _ENGINES[token] = eng
    return eng


def _wall_clock(col: Any) -> Any:
    """Zoned timestamps (Spark's instants) as naive wall-clock times in their zone."""
    if pa.types.is_timestamp(col.type) and col.type.tz is not None:
        return pc.local_timestamp(col)
    return col


def _split(batch_table: pa.Table, table: str) -> pa.Table:
    rows = batch_table.filter(pc.equal(batch_table[_TAG], table))
    prefix = table + _SEP
    names = [n for n in batch_table.column_names if n.startswith(prefix)]
    cols = [_wall_clock(rows[n].combine_chunks()) for n in names]
    return pa.table(cols, names=[n[len(prefix):] for n in names])


def _rows(batches: Iterator[pa.RecordBatch]) -> Optional[pa.Table]:
    """The batches of one Spark partition as a table, or None when it has no rows."""
    batches = list(batches)
    if not batches:
        return None
    whole = pa.Table.from_batches(batches)
    return whole if whole.num_rows else None


def _claims(rows: pa.Table) -> Dict[str, pa.Table]:
    """The claims tables present in union rows."""
    return {t: _split(rows, t) for t in _TABLES if any(n.startswith(t + _SEP) for n in rows.column_names)}


def _spark_findings(out: pa.Table) -> Iterator[pa.RecordBatch]:
    """Findings as batches of :func:`findings_spark_schema`."""
    out = out.set_column(out.schema.get_field_index("warn_level"), "warn_level", out["warn_level"].cast(pa.int32()))
    yield from out.replace_schema_metadata(None).to_batches()


def _partition_fn(token: str, pack_json: str, knowledge: Any, options: Dict[str, Any]):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        whole = _rows(batches)
        if whole is not None:
            yield from _spark_findings(_engine(token, pack_json, knowledge).check(**_claims(whole), **options, progress=False))

    return run


def _instants(col: Any, like: pa.DataType) -> Any:
    """Wall-clock times (as the engine reads them) back to Spark's instants of type ``like``."""
    if pa.types.is_timestamp(like) and like.tz is not None and pa.types.is_timestamp(col.type) and col.type.tz is None:
        col = pc.assume_timezone(col, like.tz, ambiguous="earliest", nonexistent="earliest")
    return col.cast(like)


def _tag_rows(part: str, tables: Dict[str, pa.Table], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The rows of one piece of the cut, in the union's layout, tagged with the piece's name."""
    for name, t in tables.items():
        if t.num_rows == 0:
            continue
        cols = []
        for f in schema:
            src = None
            if f.name == _TAG:
                src = pa.array([name] * t.num_rows, pa.string()).cast(f.type)
            elif f.name == _PART:
                src = pa.array([part] * t.num_rows, pa.string()).cast(f.type)
            elif f.name.startswith(name + _SEP) and f.name[len(name) + len(_SEP):] in t.column_names:
                src = _instants(t[f.name[len(name) + len(_SEP):]].combine_chunks(), f.type)
            cols.append(src if src is not None else pa.nulls(t.num_rows, f.type))
        yield from pa.Table.from_arrays(cols, schema=schema).to_batches()


def _cut_fn(token: str, pack_json: str, knowledge: Any, groups: Dict[str, Any], parts: int):
    """Stage 1: each encounter partition cut by person / trace code with the core's partition_claims; the
    pieces come out in the layout (and Arrow types) the rows came in."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from . import partition_claims

        whole = _rows(batches)
        if whole is None:
            return
        tables = _claims(whole)
        engine = _engine(token, pack_json, knowledge)
        cmap = groups["column_map"]
        for key, prefix in (("person", "p"), ("trace_code", "t")):
            if not groups[key]:
                continue
            for i, piece in enumerate(partition_claims(engine, **tables, key=key, parts=parts, column_map=cmap)):
                yield from _tag_rows(f"{prefix}{i}", piece, whole.schema)

    return run


def _check_pieces_fn(token: str, pack_json: str, knowledge: Any, groups: Dict[str, Any], options: Dict[str, Any]):
    """Stage 2: each piece of the cut checked with the rules of its key."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        whole = _rows(batches)
        if whole is None:
            return
        engine = _engine(token, pack_json, knowledge)
        for part in sorted(set(whole[_PART].to_pylist())):
            rows = whole.filter(pc.equal(whole[_PART], part))
            rules = groups["person" if part.startswith("p") else "trace_code"]
            yield from _spark_findings(engine.check(**_claims(rows), **dict(options, rule_ids=rules), progress=False))

    return run


def check(
    pack: "RulePack",
    fee_details: "DataFrame",
    mdtrt: "DataFrame",
    diagnoses: Optional["DataFrame"] = None,
    operations: Optional["DataFrame"] = None,
    *,
    knowledge: Optional[Mapping[str, Any]] = None,
    stage: Optional[str] = None,
    rule_ids: Optional[Sequence[str]] = None,
    column_map: Optional[Mapping[str, Mapping[str, str]]] = None,
    partitions: Optional[int] = None,
) -> "DataFrame":
    """Checks claims held in Spark DataFrames; returns the findings as a Spark DataFrame (lazily).

    Args:
        pack: the rule pack (shipped to the workers as JSON; each Python worker compiles it once).
        fee_details, mdtrt, diagnoses, operations: the claims tables as Spark DataFrames, with the
            national column names (or names mapped by ``column_map``).
        knowledge: knowledge tables for the engine, as for :class:`medaudit.Engine` (pyarrow tables or row
            lists; they are pickled to the workers).
        stage, rule_ids, column_map: as for :meth:`medaudit.Engine.check`.
        partitions: number of partitions to hash the encounters into (default: Spark's
            ``spark.sql.shuffle.partitions``).

    The workers need ``medaudit`` installed in the Python Spark runs them with. Findings are the same
    rows as one process's ``Engine.check`` on the same data; their order across partitions is Spark's
    (sort by ``mdtrt_id, feedetl_sn`` if you need the engine's order). With patient-history rules the rows
    are cut a second time by person and trace code (see the module docs); ``partitions`` is then also the
    number of pieces of that cut.
    """
    from pyspark.sql import functions as F

    from . import Engine

    cmap = {k: dict(v) for k, v in (column_map or {}).items()}
    options: Dict[str, Any] = {"stage": stage, "rule_ids": None if rule_ids is None else list(rule_ids)}
    if column_map is not None:
        options["column_map"] = cmap
    # Fail on the driver, now, for a bad pack, knowledge, rule id, stage or column map.
    engine = Engine(pack, knowledge)
    engine.check(**options, progress=False)
    selected = list(rule_ids) if rule_ids is not None else pack.rule_ids
    keys = {r: engine.partition_key(r) for r in selected}
    history = any(k is not None for k in keys.values())
    parts = []
    for name, df in zip(_TABLES, (fee_details, mdtrt, diagnoses, operations)):
        if df is None:
            continue
        key = cmap.get(name, {}).get("mdtrt_id", "mdtrt_id")
        if key not in df.columns:
            from . import ClaimsError

            raise ClaimsError(f'claims table {name}: column "{key}": missing; it is required (Spark DataFrame)')
        cols = [F.lit(name).alias(_TAG), F.col(f"`{key}`").cast("string").alias(_KEY)]
        trace = cmap.get(name, {}).get("drug_trac_codg", "drug_trac_codg")
        for c in df.columns:
            col = F.col(f"`{c}`")
            if history and name == "fee_details" and c == trace and df.schema[c].dataType.typeName() == "array":
                col = F.concat_ws(",", col)  # the cut writes trace codes comma-joined
            cols.append(col.alias(f"{name}{_SEP}{c}"))
        parts.append(df.select(*cols))
    union = parts[0]
    for p in parts[1:]:
        union = union.unionByName(p, allowMissingColumns=True)
    union = union.repartition(partitions, _KEY) if partitions else union.repartition(_KEY)
    token = hashlib.sha256((pack.json + json.dumps(options, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()
    token += f"-{id(knowledge)}"
    if not history:
        return union.mapInArrow(_partition_fn(token, pack.json, knowledge, options), findings_spark_schema())
    n = partitions or int(union.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    groups: Dict[str, Any] = {
        "person": [r for r in selected if keys[r] != "trace_code"],
        "trace_code": [r for r in selected if keys[r] == "trace_code"],
        "column_map": cmap if column_map is not None else None,
    }
    tagged = union.drop(_KEY).withColumn(_PART, F.lit(None).cast("string"))
    pieces = tagged.mapInArrow(_cut_fn(token, pack.json, knowledge, groups, n), tagged.schema)
    pieces = pieces.repartition(n, _PART)
    return pieces.mapInArrow(_check_pieces_fn(token, pack.json, knowledge, groups, options), findings_spark_schema())

