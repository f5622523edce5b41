"""Reading and mining one large input in several processes, a share of the streams each.

Parsing and mining cost a few microseconds per line in Python, so a million lines
keep one core busy for seconds. The work splits cleanly by stream: every stage
that carries state (multi-line joining, the miner's groups and clusters, per-slice
examples) keeps it per stream, and a stream's records keep their order inside the
share that owns them. So each worker reads every JSONL file, skips other shares'
streams from the raw bytes (`StreamShare`), and parses, joins and mines its own. A
file in another format (CRI, kubectl, plain) is one stream, named by its path
(`/var/log/pods/...` gives namespace and container), and is read whole by the worker
that owns that stream; so a directory of container logs splits across workers too.
The parent
merges the pattern sets (ids are content hashes, so a stream's patterns
get the same ids in any process) and the slices. The merged result is the one a
single process gets: `mine_window` puts both in one canonical order.

Streams are spread over the workers by their estimated work in a sample of the
input (costliest first, each to the least loaded worker); streams missing from the
sample go by a hash of their key. The parent runs share 0 itself.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import orjson

from loglens.analysis.pipeline import Progress, ProgressCallback, StageTimer, WindowCounters
from loglens.analysis.slices import Slice, SliceTracker
from loglens.config import Settings
from loglens.errors import LogLensError, MalformedInputError
from loglens.model import LEVEL_ORDER, Level, LogRecord, ReadStats
from loglens.parsing.formats import parse_batch
from loglens.patterns.miner import MinerConfig
from loglens.patterns.patternset import PatternSet
from loglens.sources.base import LogSource
from loglens.sources.files import (
    GZIP_MAGIC,
    MAX_SKIPPED_EXAMPLES,
    FileSource,
    detect_file_format,
    path_labels,
    sample_lines,
    sample_records,
)
from loglens.sources.shares import StreamShare
from loglens.sources.window import TimeWindow

# Auto mode uses at most this many processes: beyond it, reading the file in every
# worker and the memory of each outweigh the gain on the machines loglens targets.
MAX_AUTO_WORKERS = 4
# A gzip file holds about this many times its size in text (for the size threshold).
GZIP_TEXT_RATIO = 5
# A split whose largest share holds more of the work than this is not worth it.
MAX_LARGEST_SHARE = 0.9
# Estimated work of a line, in microseconds, to balance the shares: a fixed part, a part
# per character (parsing), and per character again for lines whose shape (digits aside)
# the miner has not seen, which it masks. Fitted on the demo cluster's streams, where
# one stream with many distinct lines (Loki's query logs) costs 4x an average one.
COST_BASE_US = 5.0
COST_PER_CHAR_US = 0.02
COST_MASK_PER_CHAR_US = 0.37
_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
# Seconds between progress updates while the parent waits for workers.
PROGRESS_POLL_S = 0.25


# --- planning ------------------------------------------------------------------------


def worker_count(settings: Settings) -> int:
    """Processes to use: the setting, or one per available CPU up to MAX_AUTO_WORKERS."""
    if settings.analyze_workers:
        return settings.analyze_workers
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_AUTO_WORKERS)


def plan_shares(source: LogSource, settings: Settings) -> list[StreamShare] | None:
    """The shares to split `source` into, or None to read it in one process."""
    workers = worker_count(settings)
    if workers < 2 or not isinstance(source, FileSource) or source.share is not None:
        return None
    if "-" in source.paths:
        return None
    if _text_bytes(source.paths) < settings.parallel_min_mb * 2**20:
        return None
    stream_labels = MinerConfig().stream_labels
    costs = _sampled_stream_costs(source.paths, stream_labels, fmt=source.fmt)
    if len(costs) < 2:
        return None
    assigned, loads = balance(costs, workers)
    if max(loads) > MAX_LARGEST_SHARE * sum(loads):
        return None
    return [StreamShare(index, workers, assigned, stream_labels) for index in range(workers)]


def _text_bytes(paths: Sequence[str]) -> int:
    total = 0
    for path in paths:
        with Path(path).open("rb") as handle:
            packed = handle.read(2) == GZIP_MAGIC
        size = Path(path).stat().st_size
        total += size * GZIP_TEXT_RATIO if packed else size
    return total


def _sampled_stream_costs(
    paths: Sequence[str], stream_labels: tuple[str, ...], *, fmt: str
) -> dict[tuple[str, ...], float]:
    """Estimated work per stream key, from samples of the files scaled to their sizes.

    A JSONL file's records name their own streams; a file in another format is one
    stream, the one its path names (`path_labels`).
    """
    costs: dict[tuple[str, ...], float] = {}
    for path in paths:
        lines = sample_lines(path)
        file_fmt = fmt if fmt != "auto" else detect_file_format(lines[:20])
        records: dict[tuple[str, ...], list[LogRecord]] = {}
        if file_fmt == "jsonl":
            for raw in lines:
                _add_sampled_record(records, raw, stream_labels)
        else:
            labels = path_labels(path)
            key = tuple(str(labels.get(name, "")) for name in stream_labels)
            records[key] = sample_records(path, lines, file_fmt)
        sampled = sum(len(raw) + 1 for raw in lines)
        scale = max(1.0, _text_bytes([path]) / sampled) if sampled else 1.0
        for key, stream in records.items():
            if stream:
                costs[key] = costs.get(key, 0.0) + _estimated_cost(stream) * scale
    return costs


def _add_sampled_record(
    records: dict[tuple[str, ...], list[LogRecord]], raw: bytes, stream_labels: tuple[str, ...]
) -> None:
    try:
        record = orjson.loads(raw)
        labels, line = record.get("labels") or {}, record["line"]
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
        return
    if isinstance(labels, dict) and isinstance(line, str):
        key = tuple(str(labels.get(name, "")) for name in stream_labels)
        records.setdefault(key, []).append(LogRecord(0, labels, line))


def _estimated_cost(records: list[LogRecord]) -> float:
    """Microseconds to parse and mine `records` (see the COST_* constants)."""
    parse_batch(records)
    chars = sum(len(record.line) for record in records)
    shapes = {(record.message or record.line).translate(_DIGITS_TO_ZERO) for record in records}
    unseen_share = len(shapes) / len(records)
    return (
        len(records) * COST_BASE_US
        + chars * COST_PER_CHAR_US
        + chars * unseen_share * COST_MASK_PER_CHAR_US
    )


def balance(
    costs: Mapping[tuple[str, ...], float], workers: int
) -> tuple[dict[tuple[str, ...], int], list[float]]:
    """Streams to workers, costliest first, each to the least loaded one; and the loads."""
    loads = [0.0] * workers
    assigned: dict[tuple[str, ...], int] = {}
    for key, cost in sorted(costs.items(), key=lambda item: (-item[1], item[0])):
        worker = loads.index(min(loads))
        assigned[key] = worker
        loads[worker] += cost
    return assigned, loads


# --- one share ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShareJob:
    """What every worker needs to read and mine its share (picklable)."""

    paths: list[str]
    fmt: str
    skip_bad: bool
    batch_size: int
    settings: Settings
    window: TimeWindow | None


@dataclass(slots=True)
class ShareError:
    """A LogLensError (or a crash) in a worker, in a form that crosses processes."""

    kind: str
    message: str
    hint: str | None = None
    path: str | None = None
    line_no: int | None = None


@dataclass(slots=True)
class ShareResult:
    """What one share mined: the parts of a `MinedWindow`, plus read counters."""

    pattern_set: PatternSet
    slices: dict[tuple[int, Level], Slice]
    group_ids: list[str]
    counters: WindowCounters
    stage_seconds: dict[str, float]
    stats: ReadStats
    formats: dict[str, str]
    skipped_at: list[tuple[int, int]]
    path_bytes: dict[str, int]


def mine_share(job: ShareJob, share: StreamShare, progress: ProgressCallback | None) -> ShareResult:
    """Read, parse and mine one share, as `mine_window` does for a whole input."""
    # analyze imports this module; importing it here keeps the import graph acyclic.
    from loglens.analysis.analyze import feed_source, miner_for

    source = FileSource(
        job.paths, fmt=job.fmt, skip_bad=job.skip_bad, batch_size=job.batch_size, share=share
    )
    miner = miner_for(job.settings, job.window)
    tracker, counters, timer = feed_source(source, miner, window=job.window, progress=progress)
    with timer.stage("mine"):
        pattern_set = miner.pattern_set()
        group_ids = miner.pattern_ids(range(miner.group_count))
    return ShareResult(
        pattern_set,
        tracker.slices,
        group_ids,
        counters,
        dict(timer.seconds),
        source.stats,
        source.formats,
        source.skipped_at,
        source.path_bytes,
    )


# --- running the shares -------------------------------------------------------------

ShareRunner = Callable[[StreamShare, ProgressCallback | None], ShareResult]


def _context() -> BaseContext:
    """fork where it is safe (no other threads to copy half-way), else spawn."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _child_main(run: ShareRunner, share: StreamShare, sender: Connection, counts: Any) -> None:
    """Entry point of a worker process: run the share, send its result or its error."""

    def report(progress: Progress) -> None:
        base = 3 * share.index
        counts[base : base + 3] = [progress.lines, progress.bytes, progress.patterns]

    try:
        outcome: ShareResult | ShareError = run(share, report)
    except LogLensError as exc:
        outcome = _share_error(exc)
    except BaseException:
        outcome = ShareError("crash", traceback.format_exc())
    sender.send(outcome)
    sender.close()


def _share_error(exc: LogLensError) -> ShareError:
    if isinstance(exc, MalformedInputError):
        reason = exc.message.removeprefix(f"{exc.path}:{exc.line_no}: ")
        return ShareError("MalformedInputError", reason, exc.hint, exc.path, exc.line_no)
    return ShareError(type(exc).__name__, exc.message, exc.hint)


def run_shares(
    run: ShareRunner,
    shares: Sequence[StreamShare],
    progress: ProgressCallback | None,
    *,
    paths: Sequence[str] = (),
) -> list[ShareResult]:
    """Run share 0 here and the others in worker processes; results in share order.

    A worker's LogLensError is raised here again: for malformed input, the one
    earliest in the input (`paths` in reading order), as one process would raise.
    """
    context = _context()
    counts = context.Array("q", 3 * len(shares), lock=False)
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for share in shares[1:]:
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(  # type: ignore[attr-defined]
                target=_child_main, args=(run, share, sender, counts), daemon=True
            )
            process.start()
            sender.close()
            workers.append((process, receiver))
        own_progress = _ProgressSum(progress, counts) if progress is not None else None
        outcomes: list[ShareResult | ShareError] = [_run_here(run, shares[0], own_progress)]
        outcomes += [_receive(process, receiver, own_progress) for process, receiver in workers]
    finally:
        for process, receiver in workers:
            if process.is_alive():
                process.terminate()
            process.join()
            receiver.close()
    return _results_or_raise(outcomes, paths)


def _run_here(
    run: ShareRunner, share: StreamShare, progress: ProgressCallback | None
) -> ShareResult | ShareError:
    try:
        return run(share, progress)
    except LogLensError as exc:
        return _share_error(exc)


class _ProgressSum:
    """Share 0's progress plus what the workers last wrote into the shared `counts`."""

    def __init__(self, progress: ProgressCallback, counts: Any) -> None:
        self.progress = progress
        self.counts = counts
        self.own = Progress(stage="mining")

    def __call__(self, own: Progress | None = None) -> None:
        if own is not None:
            self.own = own
        values = list(self.counts)
        self.progress(
            Progress(
                stage=self.own.stage,
                lines=self.own.lines + sum(values[0::3]),
                bytes=max(self.own.bytes, *values[1::3]),
                patterns=self.own.patterns + sum(values[2::3]),
            )
        )


def _receive(
    process: multiprocessing.process.BaseProcess,
    receiver: Connection,
    progress: _ProgressSum | None,
) -> ShareResult | ShareError:
    while not receiver.poll(PROGRESS_POLL_S):
        if progress is not None:
            progress()
        if not process.is_alive() and not receiver.poll():
            return ShareError("died", f"a worker process exited with code {process.exitcode}")
    try:
        outcome: ShareResult | ShareError = receiver.recv()
    except EOFError:
        process.join()
        return ShareError("died", f"a worker process exited with code {process.exitcode}")
    return outcome


def _results_or_raise(
    outcomes: Sequence[ShareResult | ShareError], paths: Sequence[str]
) -> list[ShareResult]:
    errors = [outcome for outcome in outcomes if isinstance(outcome, ShareError)]
    if not errors:
        return [outcome for outcome in outcomes if isinstance(outcome, ShareResult)]
    crashes = [error for error in errors if error.kind == "crash"]
    if crashes:
        raise RuntimeError(f"an analysis worker failed:\n{crashes[0].message}")
    died = [error for error in errors if error.kind == "died"]
    if died:
        raise LogLensError(
            f"{died[0].message} (killed, perhaps for lack of memory)",
            hint="set LOGLENS_ANALYZE_WORKERS=1 to analyse in one process",
        )
    malformed = [error for error in errors if error.kind == "MalformedInputError"]
    if malformed:
        order = {path: index for index, path in enumerate(paths)}
        first = min(malformed, key=lambda e: (order.get(e.path or "", 0), e.line_no or 0))
        raise MalformedInputError(
            first.message, path=first.path or "", line_no=first.line_no or 0, hint=first.hint
        )
    raise _rebuilt(errors[0])


def _rebuilt(error: ShareError) -> LogLensError:
    kinds = {cls.__name__: cls for cls in _subclasses(LogLensError)}
    cls = kinds.get(error.kind, LogLensError)
    try:
        return cls(error.message, hint=error.hint)
    except TypeError:
        return LogLensError(error.message, hint=error.hint)


def _subclasses(cls: type[LogLensError]) -> list[type[LogLensError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


# --- merging ------------------------------------------------------------------------


@dataclass(slots=True)
class MergedShares:
    """The shares' results as one window's: what `MinedWindow` holds."""

    pattern_set: PatternSet
    slices: SliceTracker
    group_ids: list[str]
    counters: WindowCounters
    timer: StageTimer = field(default_factory=StageTimer)


def mine_in_shares(
    source: FileSource,
    shares: Sequence[StreamShare],
    *,
    settings: Settings,
    window: TimeWindow | None,
    progress: ProgressCallback | None,
) -> MergedShares:
    """Mine `source` split into `shares`; its `stats` end up as if it had been read whole."""
    job = ShareJob(
        list(source.paths), source.fmt, source.skip_bad, source.batch_size, settings, window
    )
    results = run_shares(functools.partial(mine_share, job), shares, progress, paths=source.paths)
    merged = merge_results(results)
    _merge_read_stats(source, results)
    return merged


def merge_results(results: Sequence[ShareResult]) -> MergedShares:
    """One pattern set, slice tracker and group list from the shares' (streams disjoint)."""
    first = results[0].pattern_set
    pattern_set = PatternSet(
        bucket_ns=first.bucket_ns,
        max_examples=first.max_examples,
        max_label_values=first.max_label_values,
    )
    tracker = SliceTracker()
    group_ids: list[str] = []
    timer = StageTimer()
    for result in results:
        for pattern in result.pattern_set.by_id.values():
            pattern_set.add(pattern)
        offset = len(group_ids)
        group_ids.extend(result.group_ids)
        for (group, level), part in result.slices.items():
            tracker.slices[(group + offset, level)] = part
        for stage, seconds in result.stage_seconds.items():
            # Shares run side by side: a stage took as long as its slowest share.
            timer.seconds[stage] = max(timer.seconds.get(stage, 0.0), seconds)
    counters = _merge_counters([result.counters for result in results])
    return MergedShares(pattern_set, tracker, group_ids, counters, timer)


def _merge_counters(parts: Sequence[WindowCounters]) -> WindowCounters:
    firsts = [part.first_ts for part in parts if part.first_ts is not None]
    lasts = [part.last_ts for part in parts if part.last_ts is not None]
    return WindowCounters(
        outside_window=sum(part.outside_window for part in parts),
        first_ts=min(firsts) if firsts else None,
        last_ts=max(lasts) if lasts else None,
    )


def _merge_read_stats(source: FileSource, results: Sequence[ShareResult]) -> None:
    stats = source.stats
    stats.lines = sum(result.stats.lines for result in results)
    # Every share reads every JSONL file; a file of another format only its owner reads.
    read: dict[str, int] = {}
    for result in results:
        for name, size in result.path_bytes.items():
            read[name] = max(read.get(name, 0), size)
    stats.bytes = sum(read.values())
    stats.skipped = sum(result.stats.skipped for result in results)
    for result in results:
        _add_counts(stats.formats, result.stats.formats)
        _add_counts(stats.levels, result.stats.levels)
        for name, fmt in result.formats.items():
            source.formats.setdefault(name, fmt)
    skipped = sorted(
        (at, example)
        for result in results
        for at, example in zip(result.skipped_at, result.stats.skipped_examples, strict=True)
    )[:MAX_SKIPPED_EXAMPLES]
    stats.skipped_examples = [example for _, example in skipped]
    source.skipped_at = [at for at, _ in skipped]


def _add_counts(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, count in counts.items():
        into[key] = into.get(key, 0) + count


# --- one canonical order ------------------------------------------------------------


def canonical_slices(
    slices: dict[tuple[int, Level], Slice], group_ids: Sequence[str]
) -> dict[tuple[int, Level], Slice]:
    """Slices earliest first (then by pattern id and level): the same order from any split.

    Triage reads slices in this order, so ties between findings break the same way
    whether the input was mined in one process or several.
    """
    return dict(
        sorted(
            slices.items(),
            key=lambda item: (item[1].first_ts, group_ids[item[0][0]], LEVEL_ORDER[item[0][1]]),
        )
    )


def canonical_pattern_set(pattern_set: PatternSet) -> PatternSet:
    """The same patterns, most frequent first (ties by id): the order of `patterns`."""
    ordered = PatternSet(
        bucket_ns=pattern_set.bucket_ns,
        max_examples=pattern_set.max_examples,
        max_label_values=pattern_set.max_label_values,
        aliases=dict(pattern_set.aliases),
    )
    ordered.by_id = {pattern.id: pattern for pattern in pattern_set.patterns}
    return ordered


def canonical_counts(counts: dict[str, int]) -> dict[str, int]:
    """Counts largest first, ties by name."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
