"""`analyze(window) -> Report`: the main job, as one library call.

read → parse → join multi-line → mine patterns → classify slices → signals → rank.
The CLI (`loglens analyze`, `loglens demo`), the HTTP API and the evaluation runner
all call `analyze` (or `analyze_records` for records in memory).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from loglens.analysis.assess import LastSeen, assess_slices
from loglens.analysis.enrich import TokenCallback, enrich_report
from loglens.analysis.history import PatternHistory
from loglens.analysis.parallel import (
    canonical_counts,
    canonical_pattern_set,
    canonical_slices,
    mine_in_shares,
    plan_shares,
)
from loglens.analysis.pipeline import (
    Progress,
    ProgressCallback,
    StageTimer,
    WindowCounters,
    read_window,
)
from loglens.analysis.slices import SliceTracker
from loglens.analysis.summary import summarize_findings
from loglens.config import Settings
from loglens.model import LogRecord, Report, SourceInfo, Stats, Window, format_ts
from loglens.patterns.miner import MinerConfig, PatternMiner, bucket_ns_for_window
from loglens.patterns.overrides import load_overrides
from loglens.patterns.patternset import PatternSet
from loglens.sources.base import LogSource
from loglens.sources.files import FileSource
from loglens.sources.memory import RecordsSource
from loglens.sources.window import TimeWindow
from loglens.triage.rank import rank_findings

# Bucket size when the window is not known up front (files without --since/--from).
DEFAULT_BUCKET_NS = 60 * 1_000_000_000


@dataclass(slots=True)
class MinedWindow:
    """Everything mining a window produced, before findings are ranked."""

    pattern_set: PatternSet
    slices: SliceTracker
    group_ids: list[str]
    counters: WindowCounters
    timer: StageTimer
    source: LogSource


def miner_for(settings: Settings, window: TimeWindow | None) -> PatternMiner:
    bucket_ns = bucket_ns_for_window(window.duration_ns) if window else DEFAULT_BUCKET_NS
    if settings.config_file:
        return PatternMiner(
            MinerConfig(bucket_ns=bucket_ns, overrides=load_overrides(settings.config_file))
        )
    return PatternMiner(MinerConfig(bucket_ns=bucket_ns))


def feed_source(
    source: LogSource,
    miner: PatternMiner,
    *,
    window: TimeWindow | None,
    progress: ProgressCallback | None = None,
) -> tuple[SliceTracker, WindowCounters, StageTimer]:
    """Read, parse and mine one source into `miner`; slices and counters are per source."""
    timer = StageTimer()
    counters = WindowCounters()
    tracker = SliceTracker()
    stats = source.stats
    for batch in read_window(source, timer, window=window, counters=counters):
        groups: list[int] = []
        with timer.stage("mine"):
            miner.add_batch(batch, assignments=groups)
        with timer.stage("detect"):
            tracker.add(batch, groups)
        if progress is not None:
            progress(
                Progress(
                    stage="mining",
                    lines=stats.lines,
                    bytes=stats.bytes,
                    patterns=miner.group_count,
                )
            )
    return tracker, counters, timer


def mine_window(
    source: LogSource,
    *,
    settings: Settings,
    window: TimeWindow | None = None,
    progress: ProgressCallback | None = None,
) -> MinedWindow:
    """Read and mine a window, keeping per-slice examples for triage.

    A large JSONL input is mined in several processes (`loglens.analysis.parallel`);
    either way the result comes out in one canonical order, so it is the same.
    """
    shares = plan_shares(source, settings)
    if shares is not None and isinstance(source, FileSource):
        merged = mine_in_shares(source, shares, settings=settings, window=window, progress=progress)
        pattern_set, tracker, group_ids = merged.pattern_set, merged.slices, merged.group_ids
        counters, timer = merged.counters, merged.timer
    else:
        miner = miner_for(settings, window)
        tracker, counters, timer = feed_source(source, miner, window=window, progress=progress)
        with timer.stage("mine"):
            pattern_set = miner.pattern_set()
            group_ids = miner.pattern_ids(range(miner.group_count))
    tracker.slices = canonical_slices(tracker.slices, group_ids)
    source.stats.formats = canonical_counts(source.stats.formats)
    source.stats.levels = canonical_counts(source.stats.levels)
    return MinedWindow(
        canonical_pattern_set(pattern_set), tracker, group_ids, counters, timer, source
    )


def _window_bounds(mined: MinedWindow, window: TimeWindow | None) -> tuple[int, int]:
    if window is not None:
        return window.start_ns, window.end_ns
    first = mined.counters.first_ts or 0
    last = mined.counters.last_ts if mined.counters.last_ts is not None else first
    return first, last + 1


def report_from_mined(
    mined: MinedWindow,
    *,
    settings: Settings,
    window: TimeWindow | None,
    last_seen: LastSeen | None = None,
    started: float | None = None,
) -> Report:
    """Classify, rank and assemble the report of a mined window."""
    timer = mined.timer
    start_ns, end_ns = _window_bounds(mined, window)
    with timer.stage("detect"):
        slices = mined.slices.by_pattern(mined.group_ids)
        assessments = assess_slices(
            mined.pattern_set,
            slices,
            window_start_ns=start_ns,
            window_end_ns=end_ns,
            last_seen=last_seen,
        )
    with timer.stage("rank"):
        findings = rank_findings(
            assessments, window_span_ns=end_ns - start_ns, max_findings=settings.max_findings
        )
    with timer.stage("report"):
        patterns = mined.pattern_set.to_pattern_out(
            limit=settings.max_report_patterns, window_start_ns=start_ns, window_end_ns=end_ns
        )
    if started is not None:
        timer.add("total", time.perf_counter() - started)
    read_stats = mined.source.stats
    stats = Stats(
        lines=read_stats.lines,
        bytes=read_stats.bytes,
        patterns=len(mined.pattern_set),
        skipped=read_stats.skipped,
        outside_window=mined.counters.outside_window,
        formats=dict(read_stats.formats),
        levels=dict(read_stats.levels),
        stage_ms=timer.as_ms(),
    )
    report_window = (
        window.to_model()
        if window is not None
        else Window(
            start=format_ts(start_ns) if mined.counters.first_ts is not None else None,
            end=format_ts(end_ns - 1) if mined.counters.last_ts is not None else None,
        )
    )
    return Report(
        window=report_window,
        source=mined.source.describe(),
        stats=stats,
        findings=findings,
        patterns=patterns,
        summary=summarize_findings(findings, stats),
    )


def analyze(
    source: LogSource,
    *,
    settings: Settings,
    window: TimeWindow | None = None,
    progress: ProgressCallback | None = None,
    history: PatternHistory | None = None,
    on_summary_token: TokenCallback | None = None,
) -> Report:
    """Read `source` (restricted to `window` when given) and build the report.

    With `history`, patterns get novelty signals against earlier windows and this
    window is recorded afterwards. Retrieval and the LLM run last (`enrich_report`);
    `on_summary_token` receives an LLM-written summary as it streams.
    """
    started = time.perf_counter()
    mined = mine_window(source, settings=settings, window=window, progress=progress)
    start_ns, end_ns = _window_bounds(mined, window)
    last_seen = history.last_seen(start_ns) if history is not None else None
    report = report_from_mined(
        mined, settings=settings, window=window, last_seen=last_seen, started=started
    )
    if history is not None:
        info = report.source
        history.record(mined.pattern_set, start_ns, end_ns, f"{info.kind}:{info.detail}")
        report.warnings.extend(history.warnings)
    read_stats = source.stats
    if read_stats.skipped:
        report.warnings.append(
            f"skipped {read_stats.skipped:,} malformed records: "
            + "; ".join(read_stats.skipped_examples)
        )
    for warning in getattr(source, "warnings", []):
        report.warnings.append(str(warning))
    enrich_report(report, settings=settings, on_summary_token=on_summary_token)
    return report


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
