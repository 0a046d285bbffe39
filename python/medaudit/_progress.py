"""Progress bars for long checks: tqdm when installed, silent otherwise, switchable.

The engine reports lines checked after each slice of fee lines; this module turns that into a tqdm bar
(or calls the user's callable). It never prints anything when tqdm is missing or the bar is off.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

_default: Optional[bool] = None  # None: automatic
AUTO_MIN_LINES = 1_000_000
"""With the automatic setting, a bar is shown for checks of at least this many fee lines."""


def set_progress(enabled: Optional[bool]) -> None:
    """Sets the default progress display of :meth:`medaudit.Engine.check`.

    ``True``: always a bar (when tqdm is installed); ``False``: never; ``None``: automatic (a bar for
    inputs of :data:`AUTO_MIN_LINES` fee lines or more, when tqdm is installed).
    """
    global _default
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f"set_progress: expected True, False or None, got {enabled!r}")
    _default = enabled


class _Bar:
    """Calls back from the engine (done, total) → a tqdm bar, created on the first call."""

    def __init__(self, always: bool) -> None:
        self._always = always
        self._bar: Any = None
        self._off = False

    def __call__(self, done: int, total: int) -> None:
        if self._off:
            return
        if self._bar is None:
            if not self._always and total < AUTO_MIN_LINES:
                self._off = True
                return
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self._off = True
                return
            self._bar = tqdm(total=total, unit=" lines", unit_scale=True, desc="medaudit check")
        self._bar.n = done
        self._bar.refresh()
        if done >= total:
            self._bar.close()
            self._off = True

    def __del__(self) -> None:
        if self._bar is not None and not self._off:
            self._bar.close()


def _progress_callback(progress: Union[None, bool, Callable[[int, int], Any]]) -> Optional[Callable[[int, int], Any]]:
    """The callable the native check calls with (done_lines, total_lines), or None for no progress."""
    if callable(progress) and not isinstance(progress, bool):
        return progress
    if progress is None:
        progress = _default
    if progress is False:
        return None
    return _Bar(always=progress is True)
