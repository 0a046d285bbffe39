"""Seeded synthetic claims with injected violations and their ground truth.

The same generator as the Rust demo and benchmarks (``medaudit_core::synth``): national-looking codes
and dictionaries, clean encounters that break no rule of the sample pack, and a known share of encounters
that each break exactly one rule, recorded in :attr:`SynthClaims.truth`. The same arguments give the same
data on every machine. This module only generates; it never checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

import pyarrow as pa

from . import _medaudit

__all__ = ["SynthClaims", "claims", "drg", "history"]


@dataclass(frozen=True)
class SynthClaims:
    """Generated claims: the four national tables, the ground truth and the number of fee lines."""

    fee_details: pa.Table
    """Fee lines (费用明细), grouped by encounter in increasing ``mdtrt_id`` order."""
    mdtrt: pa.Table
    """Encounters (就诊/结算)."""
    diagnoses: pa.Table
    """Diagnoses."""
    operations: pa.Table
    """Operations."""
    truth: pa.Table
    """Every finding the sample pack must give: ``rule_id``, ``mdtrt_id``, ``feedetl_sn`` (null for encounter findings)."""
    lines: int
    """Number of fee lines."""

    @property
    def tables(self) -> Dict[str, pa.Table]:
        """The four tables by name, for ``engine.check(**claims.tables)``."""
        return {"fee_details": self.fee_details, "mdtrt": self.mdtrt, "diagnoses": self.diagnoses, "operations": self.operations}


def claims(
    encounters: int = 1000,
    seed: int = 1,
    *,
    violation_rate: float = 0.1,
    facilities: int = 50,
    days: int = 31,
    dictionary: bool = False,
    batch_rows: int = 0,
) -> SynthClaims:
    """Generates one period of claims for a city.

    Args:
        encounters: number of encounters (about 9 fee lines each).
        seed: random seed; the same seed gives the same claims everywhere.
        violation_rate: share of encounters that get one injected violation (0–1).
        facilities: number of facilities (at least 4 are generated).
        days: days in the period (from 2026-03-01).
        dictionary: dictionary-encode the string columns of ``fee_details``.
        batch_rows: split ``fee_details`` into batches of at most this many rows (0: one batch).

    Raises:
        ValueError: a rate outside [0, 1] or fewer than one day.
    """
    if encounters < 0 or seed < 0 or facilities < 0 or batch_rows < 0:
        raise ValueError("encounters, seed, facilities and batch_rows must not be negative")
    fee, mdtrt, diag, oprn, truth, lines = _medaudit.synth_claims(
        encounters, seed, violation_rate, facilities, days, dictionary, batch_rows
    )
    return SynthClaims(pa.table(fee), pa.table(mdtrt), pa.table(diag), pa.table(oprn), pa.table(truth), lines)


def history(
    persons: int = 500,
    seed: int = 1,
    *,
    violation_rate: float = 0.3,
    facilities: int = 20,
    list_trace_codes: bool = False,
) -> SynthClaims:
    """Generates patient histories (about 4 encounters and 12 fee lines per person over ~300 days from
    2026-01-01) with injected cross-encounter patterns for :meth:`medaudit.RulePack.history_sample`.

    ``truth`` holds every finding the history sample pack must give (``rule_id``, ``mdtrt_id``,
    ``feedetl_sn``, and ``pattern`` for trace-code findings: 串换, 回流药, 假药). Tables are sorted by encounter
    time. ``list_trace_codes`` writes ``drug_trac_codg`` as a list of strings instead of a comma-joined string.

    Raises:
        ValueError: a rate outside [0, 1].
    """
    if persons < 0 or seed < 0 or facilities < 0:
        raise ValueError("persons, seed and facilities must not be negative")
    fee, mdtrt, diag, oprn, truth, lines = _medaudit.synth_history(persons, seed, violation_rate, facilities, list_trace_codes)
    return SynthClaims(pa.table(fee), pa.table(mdtrt), pa.table(diag), pa.table(oprn), pa.table(truth), lines)


def drg(encounters: int = 1000, seed: int = 1, *, violation_rate: float = 0.2) -> SynthClaims:
    """Generates inpatient stays in CHS-DRG 1.1 shapes with injected marks (up-coded diagnoses and procedures,
    cost outliers, low-standard admissions, split stays, shifted costs) for :meth:`medaudit.RulePack.drg_sample`.

    ``truth`` holds every finding the DRG sample pack must give with the CHS-DRG 1.1 scheme and
    :meth:`medaudit.DipCatalogue.sample`.

    Raises:
        ValueError: a rate outside [0, 1].
    """
    if encounters < 0 or seed < 0:
        raise ValueError("encounters and seed must not be negative")
    fee, mdtrt, diag, oprn, truth, lines = _medaudit.synth_drg(encounters, seed, violation_rate)
    return SynthClaims(pa.table(fee), pa.table(mdtrt), pa.table(diag), pa.table(oprn), pa.table(truth), lines)
