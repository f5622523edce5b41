"""What every log source provides: batches of raw records and counters.

A source yields `Batch`es (lists of `LogRecord` with `ts`, `labels` and `line`
set) in time order per stream, never the whole window at once. Parsing, multi-line
joining and redaction happen downstream (`loglens.parsing`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from loglens.model import Batch, ReadStats, SourceInfo


class LogSource(Protocol):
    """A readable window of logs."""

    stats: ReadStats

    def describe(self) -> SourceInfo:
        """Kind and a short human description (file names, Loki selector)."""
        ...

    def batches(self) -> Iterator[Batch]:
        """Yield record batches; may be called once."""
        ...
