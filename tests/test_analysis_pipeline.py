"""The shared read loop: stage timing without double counting, relaxed garbage collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

from loglens.analysis.pipeline import StageTimer, WindowCounters, _timed, read_window
from loglens.model import Batch, LogRecord, ReadStats, SourceInfo
from loglens.parsing.pipeline import GC_THRESHOLD_WHILE_READING, relaxed_gc
from loglens.sources.window import TimeWindow


def test_outer_stage_time_leaves_out_the_inner_stage() -> None:
    timer = StageTimer()

    def inner() -> Iterator[Batch]:
        for _ in range(3):
            timer.add("read", 100.0)  # as if reading had taken 100 s per batch
            yield []

    outer = _timed(_timed(inner(), timer, "read"), timer, "parse", inner="read")
    assert len(list(outer)) == 3
    assert timer.seconds["read"] >= 300.0
    assert timer.seconds["parse"] < 1.0


def test_relaxed_gc_raises_the_threshold_and_restores_it_after_the_last_user() -> None:
    before = gc.get_threshold()
    with relaxed_gc():
        assert gc.get_threshold()[0] >= GC_THRESHOLD_WHILE_READING
        assert gc.get_freeze_count() > 0
        with relaxed_gc():
            pass
        assert gc.get_threshold()[0] >= GC_THRESHOLD_WHILE_READING
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


class _Records:
    def __init__(self, records: list[LogRecord]) -> None:
        self.records = records
        self.stats = ReadStats()

    def describe(self) -> SourceInfo:
        return SourceInfo(kind="inline", detail="test")

    def batches(self) -> Iterator[Batch]:
        yield self.records[:2]
        yield self.records[2:]


def test_read_window_keeps_the_window_and_counts_the_rest() -> None:
    labels = {"namespace": "a"}
    records = [LogRecord(ts, labels, f"level=info msg=m{ts} n={ts}") for ts in (5, 10, 15, 20)]
    counters = WindowCounters()
    window = TimeWindow(10, 20)
    batches = list(read_window(_Records(records), StageTimer(), window=window, counters=counters))
    assert [r.ts for batch in batches for r in batch] == [10, 15]
    assert (counters.outside_window, counters.first_ts, counters.last_ts) == (2, 10, 15)
    assert gc.get_freeze_count() == 0  # the read is over: nothing stays frozen


def test_analysing_records_in_memory_leaves_them_as_they_were() -> None:
    from loglens.analysis import analyze_records
    from loglens.config import Settings

    lines = [
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 3, in <module>',
        'ValueError: bad value "x"',
        "ERROR request failed",
    ]
    labels = {"namespace": "web", "container": "api"}
    records = [LogRecord(1_000 + i, labels, line) for i, line in enumerate(lines)]
    before = [(r.ts, r.line, r.level, r.message, r.attrs, r.fmt) for r in records]
    settings = Settings(record_history=False, retrieval="off")
    first = analyze_records(records, settings=settings)
    assert [(r.ts, r.line, r.level, r.message, r.attrs, r.fmt) for r in records] == before
    second = analyze_records(records, settings=settings)
    assert second.stats == first.stats.model_copy(update={"stage_ms": second.stats.stage_ms})
    assert [p.template for p in second.patterns] == [p.template for p in first.patterns]
