"""Run the engine over PySpark DataFrames with ``mapInArrow``: one province's year of claims on a cluster,
with the same findings as one process.

The four claims tables are tagged, unioned into one DataFrame and hash-partitioned by encounter
(``mdtrt_id``), so every encounter's fee lines, its ``mdtrt`` row, diagnoses and operations land in the same
partition; each partition is checked by the same engine (built once per Python worker from the pack's
JSON) and its findings are returned as Arrow batches. Rules of this engine look at one encounter at a time,
so partitioning by encounter gives exactly the findings of one process (patient-history rules will
partition by ``psn_no`` or trace code when they land).

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


def _partition_fn(token: str, pack_json: str, knowledge: Any, options: Dict[str, Any]):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        batches = list(batches)
        if not batches:
            return
        whole = pa.Table.from_batches(batches)
        if whole.num_rows == 0:
            return
        tables = {t: _split(whole, t) for t in _TABLES if any(n.startswith(t + _SEP) for n in whole.column_names)}
        out = _engine(token, pack_json, knowledge).check(**tables, **options, progress=False)
        out = out.set_column(out.schema.get_field_index("warn_level"), "warn_level", out["warn_level"].cast(pa.int32()))
        yield from out.replace_schema_metadata(None).to_batches()

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
    (sort by ``mdtrt_id, feedetl_sn`` if you need the engine's order).
    """
    from pyspark.sql import functions as F

    from . import Engine

    cmap = {k: dict(v) for k, v in (column_map or {}).items()}
    options: Dict[str, Any] = {"stage": stage, "rule_ids": None if rule_ids is None else list(rule_ids)}
    if column_map is not None:
        options["column_map"] = cmap
    # Fail on the driver, now, for a bad pack, knowledge, rule id, stage or column map.
    Engine(pack, knowledge).check(**options, progress=False)
    parts = []
    for name, df in zip(_TABLES, (fee_details, mdtrt, diagnoses, operations)):
        if df is None:
            continue
        key = cmap.get(name, {}).get("mdtrt_id", "mdtrt_id")
        if key not in df.columns:
            from . import ClaimsError

            raise ClaimsError(f'claims table {name}: column "{key}": missing; it is required (Spark DataFrame)')
        cols = [F.lit(name).alias(_TAG), F.col(f"`{key}`").cast("string").alias(_KEY)]
        cols += [F.col(f"`{c}`").alias(f"{name}{_SEP}{c}") for c in df.columns]
        parts.append(df.select(*cols))
    union = parts[0]
    for p in parts[1:]:
        union = union.unionByName(p, allowMissingColumns=True)
    union = union.repartition(partitions, _KEY) if partitions else union.repartition(_KEY)
    token = hashlib.sha256((pack.json + json.dumps(options, sort_keys=True, ensure_ascii=False)).encode()).hexdigest()
    token += f"-{id(knowledge)}"
    return union.mapInArrow(_partition_fn(token, pack.json, knowledge, options), findings_spark_schema())
