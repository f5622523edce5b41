"""The read → parse → join → window-filter loop every analysis shares, with stage timings.

Stages run interleaved over batches, so each is timed per call and summed; the
totals land in `Stats.stage_ms`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from loglens.model import Batch
from loglens.parsing.pipeline import parsed_batches
from loglens.sources.base import LogSource
from loglens.sources.window import TimeWindow


@dataclass(slots=True)
class Progress:
    """What a long read has done so far; handed to a progress callback after each batch."""

    stage: str
    lines: int = 0
    bytes: int = 0
    patterns: int = 0


ProgressCallback = Callable[[Progress], None]


@dataclass(slots=True)
class StageTimer:
    """Accumulates wall time per named stage, in seconds."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def as_ms(self) -> dict[str, float]:
        return {name: round(value * 1000, 1) for name, value in self.seconds.items()}


def _timed(
    iterator: Iterator[Batch], timer: StageTimer, name: str, *, inner: str | None = None
) -> Iterator[Batch]:
    """Yield from `iterator`, charging the time spent producing each item to `name`.

    With `inner`, `iterator` pulls from a stage timed as `inner`; that stage's time
    is taken out, so nested stages are not counted twice.
    """
    seconds = timer.seconds
    while True:
        started = time.perf_counter()
        inner_before = seconds.get(inner, 0.0) if inner else 0.0
        try:
            item = next(iterator)
        except StopIteration:
            item = None
        spent = time.perf_counter() - started
        if inner:
            spent -= seconds.get(inner, 0.0) - inner_before
        timer.add(name, spent)
        if item is None:
            return
        yield item


@dataclass(slots=True)
class WindowCounters:
    outside_window: int = 0
    first_ts: int | None = None
    last_ts: int | None = None


def read_window(
    source: LogSource,
    timer: StageTimer,
    *,
    window: TimeWindow | None = None,
    counters: WindowCounters | None = None,
    multiline: bool = True,
) -> Iterator[Batch]:
    """Parsed, multi-line-joined batches of the records inside `window` (all when None)."""
    counters = counters if counters is not None else WindowCounters()
    raw = _timed(iter(source.batches()), timer, "read")
    parsed = _timed(
        parsed_batches(raw, source.stats, multiline=multiline), timer, "parse", inner="read"
    )
    for batch in parsed:
        kept = _in_window(batch, window, counters)
        if kept:
            yield kept


def _in_window(batch: Batch, window: TimeWindow | None, counters: WindowCounters) -> Batch:
    """The records of `batch` inside `window`, counting the others and the time span."""
    if window is not None:
        kept = [record for record in batch if window.start_ns <= record.ts < window.end_ns]
        counters.outside_window += len(batch) - len(kept)
        batch = kept
    if batch:
        timestamps = [record.ts for record in batch]
        lo, hi = min(timestamps), max(timestamps)
        if counters.first_ts is None or lo < counters.first_ts:
            counters.first_ts = lo
        if counters.last_ts is None or hi > counters.last_ts:
            counters.last_ts = hi
    return batch
