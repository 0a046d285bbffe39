"""Type stubs of the native module ``medaudit._medaudit`` (pyo3). The public API is ``medaudit``."""

from os import PathLike
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

__version__: str

class Error(Exception):
    """Base class of every medaudit error; ``kind`` names its class."""

    kind: str

class RulePackError(Error):
    """A rule pack is invalid (``kind``: ``pack_json``, ``rule`` or ``pack``)."""

class KnowledgeError(Error):
    """A knowledge table is invalid (``kind``: ``knowledge``)."""

class ClaimsError(Error):
    """A claims column is missing or mistyped, or a value cannot be used (``kind``: ``column``/``value``)."""

class ArgumentError(Error):
    """An argument is invalid: unknown rule id, stage, column map (``kind``: ``argument``)."""

class SchemeError(Error):
    """A DRG scheme or DIP catalogue is invalid (``kind``: ``scheme``); the message names file, JSON path or line."""

class ArrowBatches:
    """Record batches exported through the Arrow PyCapsule protocol (zero copy)."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object:
        """An ``arrow_array_stream`` PyCapsule of the batches."""
    def __arrow_c_schema__(self) -> object:
        """An ``arrow_schema`` PyCapsule of the schema."""
    def __arrow_c_array__(self, requested_schema: Optional[object] = None) -> Tuple[object, object]:
        """``(arrow_schema, arrow_array)`` PyCapsules of the one batch (several batches: use the stream)."""
    def __len__(self) -> int:
        """Number of rows."""

class RulePack:
    """A validated rule pack (``medaudit-pack/1`` JSON); pickles as its JSON text."""

    @staticmethod
    def from_json(text: str) -> "RulePack":
        """Parses and validates a pack; raises :class:`RulePackError` with the core's message."""
    @staticmethod
    def load(path: Union[str, "PathLike[str]"]) -> "RulePack":
        """Reads and validates a pack file; raises ``OSError`` or :class:`RulePackError`."""
    @staticmethod
    def sample() -> "RulePack":
        """The sample pack bundled with the library (every template, real national codes)."""
    @staticmethod
    def history_sample() -> "RulePack":
        """The history sample pack (one rule per patient-history template)."""
    @staticmethod
    def drg_sample() -> "RulePack":
        """The DRG sample pack (six stay templates; needs the CHS-DRG 1.1 scheme and the sample DIP catalogue)."""
    @property
    def indicators(self) -> Optional[str]:
        """The pack's ``indicators`` section as JSON text, or ``None``."""
    @property
    def json(self) -> str:
        """The pack's JSON text."""
    @property
    def id(self) -> str:
        """Pack id."""
    @property
    def name(self) -> Optional[str]:
        """Pack name."""
    @property
    def version(self) -> Optional[str]:
        """Pack version."""
    @property
    def rule_ids(self) -> List[str]:
        """Rule ids in pack order."""
    @property
    def knowledge_tables(self) -> List[str]:
        """Names of the declared knowledge tables."""
    def rules(self) -> List[Tuple[str, Optional[str], str, str, str]]:
        """``(rule_id, official code, name, template, severity)`` of every rule, in pack order."""

class Engine:
    """The native engine; use :class:`medaudit.Engine`."""

    def __init__(
        self,
        pack: RulePack,
        knowledge: Optional[dict] = None,
        drg_schemes: Optional[Sequence["DrgScheme"]] = None,
        dip_catalogues: Optional[Sequence["DipCatalogue"]] = None,
    ) -> None: ...
    @property
    def pack_id(self) -> str:
        """Id of the pack the engine was built from."""
    def partition_key(self, rule_id: str) -> Optional[str]:
        """``"person"``, ``"trace_code"`` (history rules) or ``None`` (line and encounter rules)."""
    def _check(
        self,
        fee_details: Any,
        mdtrt: Any,
        diagnoses: Any = None,
        operations: Any = None,
        column_map: Optional[str] = None,
        stage: Optional[str] = None,
        rule_ids: Optional[Sequence[str]] = None,
        threads: int = 0,
        chunk_rows: int = 262144,
        progress: Optional[Callable[[int, int], Any]] = None,
    ) -> Tuple[ArrowBatches, List[Tuple[str, str, int]]]: ...
    def _time_rust_check(
        self,
        fee_details: Any,
        mdtrt: Any,
        diagnoses: Any = None,
        operations: Any = None,
        rule_ids: Optional[Sequence[str]] = None,
        threads: int = 0,
        repeats: int = 3,
    ) -> Tuple[float, int]:
        """Benchmarks: best seconds of direct Rust API calls on these tables, and the findings count."""

def findings_schema() -> ArrowBatches:
    """An empty findings table (its schema)."""

def synth_claims(
    encounters: int = 1000,
    seed: int = 1,
    violation_rate: float = 0.1,
    facilities: int = 50,
    days: int = 31,
    dictionary: bool = False,
    batch_rows: int = 0,
) -> Tuple[ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, int]:
    """Synthetic claims: ``(fee_details, mdtrt, diagnoses, operations, truth, lines)``."""

def claims_from_json(text: str, path: str = "$") -> Tuple[ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, Optional[str]]:
    """Claims from claims-JSON text: the four tables and the column map's JSON."""

def _buffer_addresses(obj: Any) -> List[List[int]]:
    """Addresses of the buffers of each column of the first imported batch (to show no copy is made)."""

def synth_history(
    persons: int = 500,
    seed: int = 1,
    violation_rate: float = 0.3,
    facilities: int = 20,
    list_trace_codes: bool = False,
) -> Tuple[ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, int]:
    """Patient histories for the history sample pack: the four tables, the truth (with ``pattern``), lines."""

def synth_drg(
    encounters: int = 1000, seed: int = 1, violation_rate: float = 0.2
) -> Tuple[ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches, int]:
    """Inpatient stays for the DRG sample pack: the four tables, the truth, lines."""

def national_import(
    text: str,
    indications_tsv: Optional[str] = None,
    starter_indications: bool = True,
    std_prices: Optional[Dict[str, float]] = None,
    internet_med_types: Optional[List[str]] = None,
    pack_id: Optional[str] = None,
) -> Tuple[RulePack, str]:
    """NHSA knowledge-point records (JSON text) → ``(pack, coverage report JSON)``."""

def indicators(
    mdtrt: Any,
    fee_details: Any,
    diagnoses: Any = None,
    operations: Any = None,
    config_json: Optional[str] = None,
    pack: Optional[RulePack] = None,
    column_map: Optional[str] = None,
) -> ArrowBatches:
    """Provider indicators with peer flags (config: JSON text, else the pack's section, else defaults)."""

class DrgScheme:
    """A compiled ``drg-scheme/1`` scheme; use :class:`medaudit.DrgScheme`."""

    @staticmethod
    def load(dir_or_files: Union[str, Dict[str, str]]) -> "DrgScheme":
        """Loads a folder (scheme.json + declared CSVs) or a dict of file texts."""
    @property
    def id(self) -> str:
        """Scheme id."""
    @property
    def name(self) -> str:
        """Scheme name."""
    @property
    def version(self) -> str:
        """Scheme version."""
    def drg_codes(self) -> List[str]:
        """Every DRG code."""
    def group(
        self,
        mdtrt: Any,
        diagnoses: Any = None,
        operations: Any = None,
        trace: bool = True,
        reference: bool = False,
        code_mapping: Optional[bool] = None,
        column_map: Optional[str] = None,
    ) -> ArrowBatches:
        """Groups Arrow claims: one result row per ``mdtrt`` row."""
    def group_case(
        self,
        diagnoses: List[str],
        procedures: List[str] = ...,
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
        """Groups one case; a dict of the result and its trace."""

class DipCatalogue:
    """A compiled ``dip-catalogue/1`` catalogue; use :class:`medaudit.DipCatalogue`."""

    @staticmethod
    def from_json(text: str) -> "DipCatalogue":
        """Parses and validates a catalogue."""
    @staticmethod
    def load(path: Union[str, "PathLike[str]"]) -> "DipCatalogue":
        """Reads and validates a catalogue file."""
    @staticmethod
    def sample() -> "DipCatalogue":
        """The sample catalogue."""
    @property
    def id(self) -> str:
        """Catalogue id."""
    @property
    def name(self) -> str:
        """Catalogue name."""
    def match_case(
        self,
        principal: str,
        secondary: List[str] = ...,
        procedures: List[str] = ...,
        age: Optional[int] = None,
        los_days: Optional[int] = None,
    ) -> Optional[Dict[str, Any]]:
        """The DIP group of one case, or ``None``."""

class Auditor:
    """The native streaming auditor; use :class:`medaudit.Auditor`."""

    def __init__(self, engine: Engine, lateness_seconds: int, stage: Optional[str] = None, rule_ids: Optional[List[str]] = None) -> None: ...
    @staticmethod
    def import_state(engine: Engine, state: bytes) -> "Auditor":
        """Resumes from ``export_state`` bytes."""
    def push(
        self,
        fee_details: Any = None,
        mdtrt: Any = None,
        diagnoses: Any = None,
        operations: Any = None,
        column_map: Optional[str] = None,
    ) -> Tuple[ArrowBatches, List[Tuple[str, str, int]]]:
        """One batch; the findings that became certain and the unjudged counts."""
    def finish(self) -> Tuple[ArrowBatches, List[Tuple[str, str, int]]]:
        """Judges every waiting event."""
    def export_state(self) -> bytes:
        """The state as bytes."""
    def stats(self) -> Tuple[int, int, int]:
        """``(persons, trace_codes, buffered_events)``."""
    @property
    def pack_id(self) -> str:
        """The engine's pack id."""

def partition_claims(
    engine: Engine,
    key: str,
    parts: int,
    fee_details: Any = None,
    mdtrt: Any = None,
    diagnoses: Any = None,
    operations: Any = None,
    column_map: Optional[str] = None,
) -> List[Tuple[ArrowBatches, ArrowBatches, ArrowBatches, ArrowBatches]]:
    """Claims cut by ``"person"`` or ``"trace_code"`` into ``parts`` partitions."""

def validate_expr(rule_id: str, text: str) -> str:
    """``"line"`` or ``"encounter"``: the scope of a valid ``expr`` condition; raises :class:`RulePackError` otherwise."""
