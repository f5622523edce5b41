"""`analyze(window) -> Report`: the main job, as one library call.

The CLI (`loglens analyze`, `loglens demo`), the HTTP API and the evaluation
runner all call `analyze` (or `analyze_records` for records in memory).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from loglens.analysis.pipeline import (
    Progress,
    ProgressCallback,
    StageTimer,
    WindowCounters,
    read_window,
)
from loglens.config import Settings
from loglens.model import LogRecord, Report, SourceInfo, Stats, Window, format_ts
from loglens.sources.base import LogSource
from loglens.sources.memory import RecordsSource
from loglens.sources.window import TimeWindow


def analyze(
    source: LogSource,
    *,
    settings: Settings,
    window: TimeWindow | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Read `source` (restricted to `window` when given) and build the report."""
    started = time.perf_counter()
    timer = StageTimer()
    counters = WindowCounters()
    read_stats = source.stats
    for _batch in read_window(source, timer, window=window, counters=counters):
        if progress is not None:
            progress(Progress(stage="read", lines=read_stats.lines, bytes=read_stats.bytes))
    timer.add("total", time.perf_counter() - started)
    report_window = (
        window.to_model()
        if window is not None
        else Window(
            start=format_ts(counters.first_ts) if counters.first_ts is not None else None,
            end=format_ts(counters.last_ts) if counters.last_ts is not None else None,
        )
    )
    stats = Stats(
        lines=read_stats.lines,
        bytes=read_stats.bytes,
        skipped=read_stats.skipped,
        outside_window=counters.outside_window,
        formats=dict(read_stats.formats),
        levels=dict(read_stats.levels),
        stage_ms=timer.as_ms(),
    )
    return Report(window=report_window, source=source.describe(), stats=stats)


def analyze_records(
    records: Iterable[LogRecord],
    *,
    settings: Settings,
    window: TimeWindow | None = None,
    source: SourceInfo | None = None,
) -> Report:
    """`analyze` over records already in memory (golden cases, API bodies)."""
    memory = RecordsSource(records, info=source, batch_size=settings.batch_size)
    return analyze(memory, settings=settings, window=window)
