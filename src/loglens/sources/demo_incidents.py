"""The catalogue of incidents the demo cluster can suffer, each in the real programs' wording.

An incident has two parts. Scripted records are the few lines a real failure writes
at known moments (the kernel's OOM kill, an event, a kubelet back-off); they are
built up front, so they must stay few. Overrides change a background stream for a
time span (llama-server goes quiet, the loglens API answers 503, CoreDNS logs
timeouts) and so scale with the requested volume at no memory cost: the root cause
stays rare while the symptoms are many.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from loglens.model import Category, Severity
from loglens.sources.demo_cluster import (
    NS,
    Clock,
    Cluster,
    Emitter,
)


@dataclass(frozen=True, slots=True)
class DemoIncident:
    """Ground truth for one injected incident: what broke, when, and lines that prove it."""

    name: str
    title: str
    category: Category
    severity: Severity
    component: str
    root_cause: str
    start_ns: int
    end_ns: int
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Override:
    """For [start_ns, end_ns), scale a background stream's rate and mix in incident lines.

    `share` of the stream's lines come from `emitters` (weighted), the rest are its
    usual lines; `rate_factor` 0 silences the stream (a dead process).
    """

    stream_key: str
    start_ns: int
    end_ns: int
    rate_factor: float
    emitters: tuple[tuple[float, Emitter], ...]
    share: float


@dataclass(slots=True)
class ScriptedRecord:
    ts: int
    labels: dict[str, str]
    line: str
    essential: bool


@dataclass(slots=True)
class Script:
    """What a scenario builder writes into: scripted records and overrides."""

    cluster: Cluster
    rng: random.Random
    start_ns: int
    end_ns: int
    records: list[ScriptedRecord] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    _clock: Clock = field(default_factory=Clock)

    def clock(self, ts: int) -> Clock:
        """The shared clock set to `ts`, for lines that print their own time."""
        self._clock.set(ts)
        return self._clock

    def add(self, ts: int, labels: dict[str, str], line: str, *, essential: bool = False) -> None:
        """Add one scripted record; essential ones carry the evidence and are never thinned."""
        self.records.append(ScriptedRecord(ts, labels, line, essential))

    def every(
        self, period_s: float, *, start: int | None = None, end: int | None = None
    ) -> Iterator[int]:
        """Times from start to end, `period_s` apart with ±10% jitter (a probe, a retry loop)."""
        ts = self.start_ns if start is None else start
        stop = self.end_ns if end is None else end
        while ts < stop:
            yield ts
            ts += int(period_s * NS * (0.9 + 0.2 * self.rng.random()))

    def override(
        self,
        stream_key: str,
        *,
        rate_factor: float = 1.0,
        emitters: tuple[tuple[float, Emitter], ...] = (),
        share: float = 0.0,
        start: int | None = None,
        end: int | None = None,
    ) -> None:
        self.overrides.append(
            Override(
                stream_key,
                self.start_ns if start is None else start,
                self.end_ns if end is None else end,
                rate_factor,
                emitters,
                share,
            )
        )

    def offset(self, seconds: float) -> int:
        return self.start_ns + int(seconds * NS)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One kind of incident: its ground-truth description and the builder that writes it."""

    name: str
    title: str
    category: Category
    severity: Severity
    component: str
    root_cause: str
    evidence: tuple[str, ...]
    duration_s: int
    build: Callable[[Script], None]

    def incident(self, start_ns: int, end_ns: int) -> DemoIncident:
        return DemoIncident(
            self.name,
            self.title,
            self.category,
            self.severity,
            self.component,
            self.root_cause,
            start_ns,
            end_ns,
            self.evidence,
        )


def backoffs(script: Script, first_s: float) -> Iterator[tuple[int, str]]:
    """Kubelet's crash-loop back-off delays (10s doubling to 5m) from `first_s` on."""
    delay = 10
    ts = script.offset(first_s)
    while ts < script.end_ns:
        label = f"{delay}s" if delay < 300 else "5m0s"
        yield ts, label
        ts += delay * NS + int(script.rng.random() * 2 * NS)
        delay = min(delay * 2, 300)
