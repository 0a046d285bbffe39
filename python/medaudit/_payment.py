"""DRG grouping schemes and DIP catalogues (issue 4): :class:`DrgScheme` and :class:`DipCatalogue`.

A scheme is data (``drg-scheme/1``: ``scheme.json`` and the CSV tables it declares, e.g. CHS-DRG 1.1); it
groups Arrow claims into a ``pyarrow.Table`` or one case into a dict, and an :class:`medaudit.Engine` given
``drg_schemes=[...]`` / ``dip_catalogues=[...]`` runs the DRG/DIP stay rules of a pack. This module never
groups itself: the core does, and its errors come through unchanged (:class:`medaudit.SchemeError`).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _medaudit

__all__ = ["DipCatalogue", "DrgScheme"]


class DrgScheme:
    """A compiled DRG grouping scheme (``drg-scheme/1``); immutable, shared by any number of engines.

    Load with :meth:`load`; group tables with :meth:`group` or one case with :meth:`group_case`.
    """

    def __init__(self, native: Any) -> None:
        if not isinstance(native, _medaudit.DrgScheme):
            raise TypeError("use medaudit.DrgScheme.load(folder_or_files)")
        self._native = native

    @staticmethod
    def load(dir_or_files: Union[str, "os.PathLike[str]", Mapping[str, str]]) -> "DrgScheme":
        """Loads a scheme from a folder holding ``scheme.json`` and the CSV files it declares (or the path of
        that ``scheme.json``), or from a dict ``{"scheme.json": text, "cc.csv": text, …}``.

        Raises:
            SchemeError: the scheme is invalid (the message names the file and JSON path or line).
            OSError: a file cannot be read (the message names it).
        """
        arg: Any = dict(dir_or_files) if isinstance(dir_or_files, Mapping) else os.fspath(dir_or_files)
        return DrgScheme(_medaudit.DrgScheme.load(arg))

    @property
    def id(self) -> str:
        """The scheme id (DRG rules name it in ``params.scheme``)."""
        return self._native.id

    @property
    def name(self) -> str:
        """The scheme name."""
        return self._native.name

    @property
    def version(self) -> str:
        """The scheme version."""
        return self._native.version

    def drg_codes(self) -> List[str]:
        """Every DRG code of the scheme."""
        return self._native.drg_codes()

    def group(
        self,
        mdtrt: Any,
        diagnoses: Any = None,
        operations: Any = None,
        *,
        trace: bool = True,
        reference: bool = False,
        code_mapping: Optional[bool] = None,
        column_map: Optional[Mapping[str, Mapping[str, str]]] = None,
    ) -> pa.Table:
        """Groups the encounters of ``mdtrt`` with their ``diagnoses`` and ``operations``; one row per ``mdtrt`` row.

        Columns: ``mdtrt_id``, ``status`` (grouped / ungroupable / invalid / ambiguous), ``status_code``
        (SUCCESS, FAIL, CHECK_FAILED, …), ``reason``, ``reason_text``, ``mdc``, ``adrg``, ``drg``, ``drg_name``,
        ``rule``, and with ``trace`` the walk (``trace``), the CC/MCC diagnoses counted (``cc_mcc``) and those the
        exclusion table cancelled (``cc_mcc_excluded``).

        Args:
            mdtrt, diagnoses, operations: Arrow tables (any PyCapsule producer) with the national columns
                (``gend``, ``age`` or ``brdy``, ``begntime``/``endtime`` or ``act_ipt_days``, ``diag_code``,
                ``maindiag_flag``, ``oprn_oprt_code``, …).
            trace: add the trace columns.
            reference: group exactly as the format's reference (OpenDRG): no unknown-code or sex checks.
            code_mapping: translate codes through the scheme's maps first (``None``: the scheme's default).
            column_map: your column names, as for :meth:`medaudit.Engine.check`.

        Raises:
            ClaimsError: a missing or mistyped column, or a diagnosis row of an unknown encounter.
        """
        from . import _arrow_source

        cmap = None if column_map is None else json.dumps(column_map)
        out = self._native.group(
            _arrow_source(mdtrt, "mdtrt"),
            _arrow_source(diagnoses, "diagnoses"),
            _arrow_source(operations, "operations"),
            trace=bool(trace),
            reference=bool(reference),
            code_mapping=code_mapping,
            column_map=cmap,
        )
        return pa.table(out)

    def group_case(
        self,
        diagnoses: Sequence[str],
        procedures: Sequence[str] = (),
        *,
        sex: Optional[int] = None,
        age: Optional[int] = None,
        age_days: Optional[int] = None,
        birth_weight_g: Optional[int] = None,
        los_days: Optional[int] = None,
        discharge_status: Optional[str] = None,
        dept: Optional[str] = None,
        reference: bool = False,
        code_mapping: Optional[bool] = None,
    ) -> Dict[str, Any]:
        """Groups one case (diagnoses with the principal first, procedures with the principal first).

        Returns a dict with ``status``, ``status_code``, ``reason``, ``reason_text``, ``mdc``, ``adrg``, ``drg``,
        ``drg_name``, ``rule`` and ``trace`` (one line: the MDCs tried, the split, CC/MCC counted and excluded)::

            scheme.group_case(["C61.x00"], ["60.5x02"], sex=1, age=65)["drg"]   # 'MA19'
        """
        if isinstance(diagnoses, str) or isinstance(procedures, str):
            raise TypeError("diagnoses, procedures: expected sequences of codes, got a str")
        return self._native.group_case(
            list(diagnoses),
            list(procedures),
            sex=sex,
            age=age,
            age_days=age_days,
            birth_weight_g=birth_weight_g,
            los_days=los_days,
            discharge_status=discharge_status,
            dept=dept,
            reference=bool(reference),
            code_mapping=code_mapping,
        )

    def __repr__(self) -> str:
        return f"medaudit.DrgScheme(id={self.id!r}, version={self.version!r})"


class DipCatalogue:
    """A compiled DIP catalogue (``dip-catalogue/1``: core and comprehensive groups, scores, adjustments)."""

    def __init__(self, native: Any) -> None:
        if not isinstance(native, _medaudit.DipCatalogue):
            raise TypeError("use medaudit.DipCatalogue.load(path), .from_json(text) or .sample()")
        self._native = native

    @staticmethod
    def from_json(text: str) -> "DipCatalogue":
        """Parses and validates a catalogue; raises :class:`medaudit.SchemeError` naming the JSON path."""
        return DipCatalogue(_medaudit.DipCatalogue.from_json(text))

    @staticmethod
    def load(path: Union[str, "os.PathLike[str]"]) -> "DipCatalogue":
        """Reads and validates a catalogue file; raises ``OSError`` or :class:`medaudit.SchemeError`."""
        return DipCatalogue(_medaudit.DipCatalogue.load(os.fspath(path)))

    @staticmethod
    def sample() -> "DipCatalogue":
        """The sample catalogue the DRG sample pack (:meth:`medaudit.RulePack.drg_sample`) names."""
        return DipCatalogue(_medaudit.DipCatalogue.sample())

    @property
    def id(self) -> str:
        """The catalogue id (``dip_cost_ratio`` rules name it in ``params.catalogue``)."""
        return self._native.id

    @property
    def name(self) -> str:
        """The catalogue name."""
        return self._native.name

    def match_case(
        self,
        principal: str,
        secondary: Sequence[str] = (),
        procedures: Sequence[str] = (),
        *,
        age: Optional[int] = None,
        los_days: Optional[int] = None,
    ) -> Optional[Dict[str, Any]]:
        """The DIP group of one case, or ``None`` when no group takes it.

        Returns ``{"group", "name", "core", "treatment", "score", "factor", "adjusted_score", "adjustments"}``.
        """
        return self._native.match_case(principal, list(secondary), list(procedures), age=age, los_days=los_days)

    def __repr__(self) -> str:
        return f"medaudit.DipCatalogue(id={self.id!r})"
