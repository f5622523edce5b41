"""A seeded, reproducible two-node homelab cluster as a log source (`loglens demo`).

`DemoSource` writes the raw logs of node-1 (control plane, Flux, Grafana, the
loglens API) and node-2 (llama-server, Loki, Qdrant, Postgres, Alloy), each in
its real format, plus the Kubernetes event stream, with a few incidents from
`SCENARIOS` injected. Its `incidents` are the ground truth.

Records come lazily, in global time order, one time slice at a time: per slice the
scheduler draws the slice's timestamps and, in one weighted draw, which stream
writes each line; only a slice is ever in memory, so ten million lines cost no
more memory than ten thousand. Everything derives from `random.Random(seed)`:
the same arguments give the same records, byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import IO, cast

import orjson

from loglens.errors import InputError
from loglens.model import Batch, LogRecord, ReadStats, SourceInfo, format_ts
from loglens.sources.demo_cluster import NS, Clock, Emitter, Stream, build_cluster
from loglens.sources.demo_incidents import (
    DemoIncident,
    Override,
    Scenario,
    Script,
    ScriptedRecord,
)
from loglens.sources.demo_scenarios import SCENARIOS, list_scenarios
from loglens.sources.demo_services import background_streams

__all__ = [
    "DEFAULT_START_NS",
    "SCENARIOS",
    "DemoIncident",
    "DemoSource",
    "Scenario",
    "list_scenarios",
    "write_jsonl",
    "write_plain",
]

DEFAULT_START_NS = int(datetime(2026, 11, 20, 10, 0, tzinfo=UTC).timestamp()) * NS
DEFAULT_INCIDENT_COUNT = 3
# About this many seconds per slice: fine enough that an incident's overrides start
# and stop close to its ground-truth times, coarse enough to keep per-slice work small.
_SLICE_SECONDS = 5
# Scripted incident lines may take at most this share of a tiny run.
_SCRIPTED_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class _Plan:
    streams: list[Stream]
    overrides: list[Override]
    scripted: list[ScriptedRecord]
    incidents: list[DemoIncident]


class DemoSource:
    """The demo cluster's logs for one window, as a `LogSource`."""

    def __init__(
        self,
        *,
        lines: int = 20_000,
        seed: int = 42,
        start_ns: int | None = None,
        duration_s: int = 3600,
        incidents: Sequence[str] | None = None,
        batch_size: int = 4096,
    ) -> None:
        if lines < 0:
            raise InputError(f"lines must be 0 or more, got {lines}")
        if duration_s <= 0:
            raise InputError(f"duration_s must be positive, got {duration_s}")
        if batch_size <= 0:
            raise InputError(f"batch_size must be positive, got {batch_size}")
        self.lines = lines
        self.seed = seed
        self.start_ns = DEFAULT_START_NS if start_ns is None else start_ns
        self.end_ns = self.start_ns + duration_s * NS
        self.batch_size = batch_size
        self.stats = ReadStats()
        self._incident_names = incidents
        self._plan = _make_plan(seed, lines, self.start_ns, self.end_ns, incidents)

    @property
    def incidents(self) -> list[DemoIncident]:
        """Ground truth: the injected incidents, by start time."""
        return list(self._plan.incidents)

    def describe(self) -> SourceInfo:
        names = ",".join(i.name for i in self._plan.incidents) or "none"
        return SourceInfo(
            kind="demo", detail=f"seed={self.seed} lines={self.lines} incidents={names}"
        )

    def batches(self) -> Iterator[Batch]:
        """Yield `batch_size` records at a time (the last batch may be smaller), in time order.

        Each call starts afresh (emitters keep per-run state, e.g. llama-server task ids),
        so a second call yields the same records again.
        """
        self._plan = _make_plan(
            self.seed, self.lines, self.start_ns, self.end_ns, self._incident_names
        )
        buffer: Batch = []
        for records in self._slices():
            buffer.extend(records)
            while len(buffer) >= self.batch_size:
                batch, buffer = buffer[: self.batch_size], buffer[self.batch_size :]
                self._count(batch)
                yield batch
        if buffer:
            self._count(buffer)
            yield buffer

    def _count(self, batch: Batch) -> None:
        self.stats.lines += len(batch)
        self.stats.bytes += sum(len(record.line) for record in batch) + len(batch)

    def _slices(self) -> Iterator[Batch]:
        plan = self._plan
        background = self.lines - len(plan.scripted)
        if background <= 0:
            if plan.scripted:
                yield [LogRecord(s.ts, s.labels, s.line) for s in plan.scripted]
            return
        duration_ns = self.end_ns - self.start_ns
        per_slice = min(
            self.batch_size, max(1, round(background * _SLICE_SECONDS * NS / duration_ns))
        )
        slice_count = math.ceil(background / per_slice)
        rng = random.Random(self.seed)
        clock = Clock()
        jitter = [1.0] * len(plan.streams)
        scripted = plan.scripted
        next_scripted = 0
        for k in range(slice_count):
            lo = self.start_ns + duration_ns * k // slice_count
            hi = self.start_ns + duration_ns * (k + 1) // slice_count
            count = background * (k + 1) // slice_count - background * k // slice_count
            _drift(rng, jitter)
            labels_and_emitters, cum_weights = _mix(plan, jitter, (lo + hi) // 2)
            records = _draw(rng, clock, lo, hi, count, labels_and_emitters, cum_weights)
            first_scripted = next_scripted
            while next_scripted < len(scripted) and (
                scripted[next_scripted].ts < hi or k == slice_count - 1
            ):
                next_scripted += 1
            if next_scripted > first_scripted:
                records.extend(
                    LogRecord(s.ts, s.labels, s.line)
                    for s in scripted[first_scripted:next_scripted]
                )
                records.sort(key=attrgetter("ts"))
            yield records


def _drift(rng: random.Random, jitter: list[float]) -> None:
    """Let each stream's rate wander (no daily cycle, just noise), within 0.5x to 2x."""
    for i, value in enumerate(jitter):
        jitter[i] = min(2.0, max(0.5, value * math.exp(rng.gauss(0.0, 0.15))))


def _mix(
    plan: _Plan, jitter: list[float], at_ns: int
) -> tuple[list[tuple[dict[str, str], Emitter]], list[float]]:
    """Every (labels, emitter) pair that may write a line now, with cumulative weights."""
    active = {o.stream_key: o for o in plan.overrides if o.start_ns <= at_ns < o.end_ns}
    choices: list[tuple[dict[str, str], Emitter]] = []
    cum_weights: list[float] = []
    total = 0.0
    for stream, factor in zip(plan.streams, jitter, strict=True):
        rate = stream.rate * factor
        override = active.get(stream.key)
        entries: list[tuple[float, Emitter]] = list(stream.emitters)
        if override is not None:
            rate *= override.rate_factor
            own = sum(w for w, _ in stream.emitters)
            extra = sum(w for w, _ in override.emitters) or 1.0
            entries = [(w / own * (1 - override.share), e) for w, e in stream.emitters]
            entries += [(w / extra * override.share, e) for w, e in override.emitters]
        else:
            own = sum(w for w, _ in entries)
            entries = [(w / own, e) for w, e in entries]
        for weight, emitter in entries:
            if weight * rate > 0:
                total += weight * rate
                choices.append((stream.labels, emitter))
                cum_weights.append(total)
    return choices, cum_weights


def _draw(
    rng: random.Random,
    clock: Clock,
    lo: int,
    hi: int,
    count: int,
    choices: list[tuple[dict[str, str], Emitter]],
    cum_weights: list[float],
) -> Batch:
    width = hi - lo
    rand = rng.random
    times = sorted([lo + int(rand() * width) for _ in range(count)])
    picks = rng.choices(choices, cum_weights=cum_weights, k=count)
    records: Batch = []
    append = records.append
    set_clock = clock.set
    for ts, (labels, emit) in zip(times, picks, strict=True):
        set_clock(ts)
        append(LogRecord(ts, labels, emit(rng, clock)))
    return records


def _make_plan(
    seed: int, lines: int, start_ns: int, end_ns: int, names: Sequence[str] | None
) -> _Plan:
    cluster = build_cluster(random.Random(seed))
    streams = background_streams(cluster)
    chosen = _choose_scenarios(seed, names)
    placed = _place(seed, chosen, start_ns, end_ns)
    scripts: list[tuple[DemoIncident, Script]] = []
    for scenario, (inc_start, inc_end) in placed:
        script = Script(cluster, random.Random(f"{seed}:{scenario.name}"), inc_start, inc_end)
        scenario.build(script)
        script.records = [r for r in script.records if start_ns <= r.ts < end_ns]
        scripts.append((scenario.incident(inc_start, inc_end), script))
    scripts = _fit(scripts, lines)
    scripted = _thin(seed, [r for _, s in scripts for r in s.records], lines)
    return _Plan(
        streams=streams,
        overrides=[o for _, s in scripts for o in s.overrides],
        scripted=scripted,
        incidents=sorted((i for i, _ in scripts), key=attrgetter("start_ns")),
    )


def _choose_scenarios(seed: int, names: Sequence[str] | None) -> list[Scenario]:
    if names is None:
        rng = random.Random(f"{seed}:choose")
        return rng.sample(list(SCENARIOS.values()), DEFAULT_INCIDENT_COUNT)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise InputError(
            f"unknown demo incident(s): {', '.join(unknown)}",
            hint=f"choose from {', '.join(SCENARIOS)}",
        )
    return [SCENARIOS[n] for n in dict.fromkeys(names)]


def _place(
    seed: int, chosen: list[Scenario], start_ns: int, end_ns: int
) -> list[tuple[Scenario, tuple[int, int]]]:
    """Start each incident somewhere in the window's middle, leaving a calm lead-in."""
    rng = random.Random(f"{seed}:place")
    window = end_ns - start_ns
    placed = []
    for scenario in chosen:
        duration = min(scenario.duration_s * NS, window * 2 // 5)
        earliest = start_ns + window // 10
        latest = max(earliest, end_ns - duration - window // 20)
        begin = earliest + int(rng.random() * (latest - earliest))
        placed.append((scenario, (begin, min(end_ns, begin + duration))))
    return placed


def _fit(
    scripts: list[tuple[DemoIncident, Script]], lines: int
) -> list[tuple[DemoIncident, Script]]:
    """Drop incidents whose essential lines cannot fit in a tiny run."""
    budget = int(lines * _SCRIPTED_SHARE)
    kept = []
    used = 0
    for incident, script in scripts:
        essential = sum(1 for r in script.records if r.essential)
        if used + essential <= budget:
            kept.append((incident, script))
            used += essential
    return kept


def _thin(seed: int, records: list[ScriptedRecord], lines: int) -> list[ScriptedRecord]:
    """Keep every essential record and as many others as the budget allows, in time order."""
    budget = int(lines * _SCRIPTED_SHARE)
    if len(records) > budget:
        essential = [r for r in records if r.essential]
        others = [r for r in records if not r.essential]
        keep = random.Random(f"{seed}:thin").sample(others, budget - len(essential))
        records = essential + keep
    return sorted(records, key=attrgetter("ts"))


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "wb", compresslevel=5))
    return path.open("wb")


def write_jsonl(
    path: str | Path,
    *,
    lines: int = 20_000,
    seed: int = 42,
    start_ns: int | None = None,
    duration_s: int = 3600,
    incidents: Sequence[str] | None = None,
) -> int:
    """Write the demo records as JSON Lines (`{"ts", "labels", "line"}`, gzipped for `.gz`).

    Returns the number of records written.
    """
    source = DemoSource(
        lines=lines, seed=seed, start_ns=start_ns, duration_s=duration_s, incidents=incidents
    )
    labels_json: dict[int, bytes] = {}
    second = -1
    prefix = b""
    written = 0
    with _open(Path(path)) as out:
        for batch in source.batches():
            chunk = []
            for record in batch:
                sec, nanos = divmod(record.ts, NS)
                if sec != second:
                    second = sec
                    stamp = datetime.fromtimestamp(sec, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
                    prefix = b'{"ts":"' + stamp.encode() + b"."
                labels = labels_json.get(id(record.labels))
                if labels is None:
                    labels = labels_json[id(record.labels)] = orjson.dumps(record.labels)
                chunk.append(
                    b'%s%09dZ","labels":%s,"line":%s}\n'
                    % (prefix, nanos, labels, orjson.dumps(record.line))
                )
            out.write(b"".join(chunk))
            written += len(batch)
    return written


def write_plain(
    path: str | Path,
    *,
    lines: int = 20_000,
    seed: int = 42,
    start_ns: int | None = None,
    duration_s: int = 3600,
    incidents: Sequence[str] | None = None,
) -> int:
    """Write only the raw lines, one per line (as `kubectl logs` of every pod interleaved)."""
    source = DemoSource(
        lines=lines, seed=seed, start_ns=start_ns, duration_s=duration_s, incidents=incidents
    )
    written = 0
    with _open(Path(path)) as out:
        for batch in source.batches():
            out.write("".join([record.line + "\n" for record in batch]).encode())
            written += len(batch)
    return written


def write_kubelet_logs(
    root: str | Path,
    *,
    lines: int = 20_000,
    seed: int = 42,
    start_ns: int | None = None,
    duration_s: int = 3600,
) -> list[Path]:
    """Write the demo records as a node's kubelet would: one CRI file per container.

    Files go to `<root>/pods/<namespace>_<pod>_<uid>/<container>/0.log` (records without
    those labels, such as node-level streams, are left out). Returns the paths written.
    """
    source = DemoSource(lines=lines, seed=seed, start_ns=start_ns, duration_s=duration_s)
    by_container: dict[tuple[str, str, str], list[bytes]] = {}
    for batch in source.batches():
        for record in batch:
            labels = record.labels
            namespace, pod = labels.get("namespace"), labels.get("pod")
            container = labels.get("container")
            if namespace and pod and container:
                entry = f"{format_ts(record.ts)} stdout F {record.line}\n".encode()
                by_container.setdefault((namespace, pod, container), []).append(entry)
    paths = []
    for (namespace, pod, container), entries in sorted(by_container.items()):
        uid = hashlib.sha1(f"{namespace}/{pod}".encode()).hexdigest()[:32]
        path = Path(root) / "pods" / f"{namespace}_{pod}_{uid}" / container / "0.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(entries))
        paths.append(path)
    return paths
