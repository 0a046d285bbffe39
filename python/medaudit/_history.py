"""Patient history across encounters (issue 3): the streaming :class:`Auditor` and :func:`partition_claims`.

History rules (payment course, readmission, duplicate trace codes, …) look across a person's encounters or
across every line carrying one drug trace code. :meth:`medaudit.Engine.check` judges them over all the
claims it is given; an :class:`Auditor` takes the claims batch by batch (a HIS day by day, a nightly job),
returns findings as soon as they are certain, and saves its state as bytes; :func:`partition_claims` cuts
claims by person or trace code so that checks per partition give exactly the findings of one check (the
cut :mod:`medaudit.spark` uses). This module never judges itself: the core does.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _medaudit

__all__ = ["Auditor", "partition_claims"]


def _engine_of(pack_or_engine: Any, knowledge: Optional[Mapping[str, Any]], drg_schemes: Any, dip_catalogues: Any) -> Any:
    from . import Engine, RulePack

    if isinstance(pack_or_engine, Engine):
        if knowledge is not None or drg_schemes is not None or dip_catalogues is not None:
            raise TypeError("knowledge, drg_schemes, dip_catalogues: give them to the Engine, not with an Engine")
        return pack_or_engine
    if isinstance(pack_or_engine, RulePack):
        return Engine(pack_or_engine, knowledge, drg_schemes=drg_schemes, dip_catalogues=dip_catalogues)
    raise TypeError(f"expected a medaudit.RulePack or medaudit.Engine, got {type(pack_or_engine).__name__}")


def _seconds(lateness: Union[int, float, _dt.timedelta]) -> int:
    if isinstance(lateness, _dt.timedelta):
        return int(lateness.total_seconds())
    if isinstance(lateness, bool) or not isinstance(lateness, (int, float)):
        raise TypeError(f"lateness: expected seconds or a datetime.timedelta, got {type(lateness).__name__}")
    return int(lateness)


class Auditor:
    """Checks the history rules of a pack on claims that arrive batch by batch, in time order.

    Args:
        pack: a :class:`medaudit.RulePack` (compiled here with ``knowledge``, ``drg_schemes``,
            ``dip_catalogues``) or an already built :class:`medaudit.Engine`.
        lateness: how late an event may arrive (seconds or ``datetime.timedelta``): an encounter is an event at
            its ``begntime``, a fee line at its ``fee_ocur_time``. An inpatient stay settled at discharge
            arrives late by its length, so cover the longest stay whose overlaps you want judged.
        stage, rule_ids: run only these history rules, as for :meth:`medaudit.Engine.check`.

    Findings of all :meth:`push` calls and :meth:`finish` together equal those of one
    :meth:`medaudit.Engine.check` over all batches at once (history rules only; line and encounter rules
    are the engine's). State is bounded (what later events need) and saved with :meth:`export_state`.

    Raises:
        ArgumentError: a negative lateness, an unknown rule id or stage.
    """

    def __init__(
        self,
        pack: Any,
        *,
        lateness: Union[int, float, _dt.timedelta] = 0,
        knowledge: Optional[Mapping[str, Any]] = None,
        drg_schemes: Optional[Sequence[Any]] = None,
        dip_catalogues: Optional[Sequence[Any]] = None,
        stage: Optional[str] = None,
        rule_ids: Optional[Sequence[str]] = None,
    ) -> None:
        self._engine = _engine_of(pack, knowledge, drg_schemes, dip_catalogues)
        if isinstance(rule_ids, str):
            raise TypeError("rule_ids: expected a sequence of rule ids, got a str")
        ids = None if rule_ids is None else [str(r) for r in rule_ids]
        self._native = _medaudit.Auditor(self._engine._native, _seconds(lateness), stage, ids)

    @property
    def engine(self) -> Any:
        """The :class:`medaudit.Engine` the auditor runs."""
        return self._engine

    def push(
        self,
        fee_details: Any = None,
        mdtrt: Any = None,
        diagnoses: Any = None,
        operations: Any = None,
        *,
        column_map: Optional[Mapping[str, Mapping[str, str]]] = None,
    ) -> pa.Table:
        """Takes one batch of claims; returns the findings that became certain (a findings table).

        Each batch must hold, for every fee line, its encounter's ``mdtrt`` row when a rule needs the person,
        facility or scene and the line does not carry ``psn_no``. Tables are read without copying.

        Raises:
            ArgumentError: an event earlier than what the auditor has already judged (the message names the
                rule, time and ``mdtrt_id``); the auditor is unchanged.
            ClaimsError: a missing or mistyped column.
        """
        from . import TABLES, _arrow_source, _findings_table

        src = [_arrow_source(x, n) for x, n in zip((fee_details, mdtrt, diagnoses, operations), TABLES)]
        cmap = None if column_map is None else json.dumps(column_map)
        return _findings_table(self._native.push(src[0], src[1], src[2], src[3], column_map=cmap))

    def finish(self) -> pa.Table:
        """Judges every waiting event (the end of the stream, or of a period) and returns its findings.

        Later batches must then start after the latest event seen."""
        from . import _findings_table

        return _findings_table(self._native.finish())

    def export_state(self) -> bytes:
        """The whole state as bytes (``MDAHIST\\0``, a format version, then JSON); see :meth:`import_state`."""
        return self._native.export_state()

    @classmethod
    def import_state(
        cls,
        pack: Any,
        state: bytes,
        *,
        knowledge: Optional[Mapping[str, Any]] = None,
        drg_schemes: Optional[Sequence[Any]] = None,
        dip_catalogues: Optional[Sequence[Any]] = None,
    ) -> "Auditor":
        """Resumes an auditor from :meth:`export_state` bytes, for the same pack (a pack or an engine).

        Raises:
            ArgumentError: bytes that are not auditor state, another format version, or state of another
                pack (the message says which).
        """
        engine = _engine_of(pack, knowledge, drg_schemes, dip_catalogues)
        resumed = cls.__new__(cls)
        resumed._engine = engine
        resumed._native = _medaudit.Auditor.import_state(engine._native, bytes(state))
        return resumed

    def stats(self) -> Dict[str, int]:
        """The size of the state: ``{"persons", "trace_codes", "buffered_events"}``."""
        persons, codes, buffered = self._native.stats()
        return {"persons": persons, "trace_codes": codes, "buffered_events": buffered}

    def __repr__(self) -> str:
        return f"medaudit.Auditor(pack={self._native.pack_id!r}, {self.stats()})"


def partition_claims(
    engine: Any,
    fee_details: Any = None,
    mdtrt: Any = None,
    diagnoses: Any = None,
    operations: Any = None,
    *,
    key: str = "person",
    parts: int = 4,
    column_map: Optional[Mapping[str, Mapping[str, str]]] = None,
) -> List[Dict[str, pa.Table]]:
    """Cuts claims into ``parts`` partitions so that checking each and concatenating the findings gives exactly
    the findings of one check (for the rules of that partition key; see :meth:`medaudit.Engine.partition_key`).

    Args:
        engine: a :class:`medaudit.Engine` (or a :class:`medaudit.RulePack`).
        key: ``"person"``: every table by ``psn_no`` (encounters stay whole, so line and encounter rules are
            exact too); ``"trace_code"``: only fee lines with trace codes, each sent to every partition owning
            one of its codes with ``drug_trac_codg`` rewritten (comma-joined) to that partition's codes, and
            the lines' ``mdtrt`` rows; only trace-code rules are exact on such partitions.
        parts: number of partitions (a key goes to ``FNV-1a-64(key) mod parts`` on every machine).

    Returns:
        one dict of the four tables (``fee_details``, ``mdtrt``, ``diagnoses``, ``operations``) per partition.

    Raises:
        ArgumentError: ``parts`` < 1 or an unknown key.
    """
    from . import TABLES, _arrow_source

    eng = _engine_of(engine, None, None, None)
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 0:
        raise TypeError(f"parts: expected a positive int, got {parts!r}")
    src = [_arrow_source(x, n) for x, n in zip((fee_details, mdtrt, diagnoses, operations), TABLES)]
    cmap = None if column_map is None else json.dumps(column_map)
    out = _medaudit.partition_claims(eng._native, str(key), parts, src[0], src[1], src[2], src[3], column_map=cmap)
    return [{name: pa.table(t) for name, t in zip(TABLES, part)} for part in out]
