"""Type stubs of the native module ``medaudit._medaudit`` (pyo3). The public API is ``medaudit``."""

from os import PathLike
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

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

    def __init__(self, pack: RulePack, knowledge: Optional[dict] = None) -> None: ...
    @property
    def pack_id(self) -> str:
        """Id of the pack the engine was built from."""
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
