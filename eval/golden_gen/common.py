"""Shared building blocks of the golden-dataset generator.

Time stamps, Kubernetes-style names, the workloads (label sets) that emit lines,
the per-case context that incidents and background emitters write records into,
and the JSON writer that keeps case files readable (one compact record per line).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SEED = 20261120
NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S
BASE_DAY_NS = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp()) * NS_PER_S

# Kubernetes' rand.String alphabet: no vowels, no 0/1/3 to avoid words and confusion.
K8S_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
HEX = "0123456789abcdef"

SEVERITY_RANK = {"info": 0, "warn": 1, "error": 2, "critical": 3}

Record = tuple[int, dict[str, str], str]
Finding = dict[str, Any]


def case_rng(case_id: str) -> random.Random:
    """A generator seeded from the global seed and the case id, so cases are independent."""
    return random.Random(f"{SEED}/{case_id}")


def rand_str(r: random.Random, n: int, alphabet: str = K8S_ALPHABET) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def uid(r: random.Random) -> str:
    parts = [rand_str(r, n, HEX) for n in (8, 4, 4, 4, 12)]
    return "-".join(parts)


def pod_ip(r: random.Random) -> str:
    return f"10.42.{r.randint(0, 3)}.{r.randint(2, 250)}"


def svc_ip(r: random.Random) -> str:
    return f"10.43.{r.randint(0, 255)}.{r.randint(1, 254)}"


def dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts // NS_PER_S, UTC)


def rfc3339(ts: int, digits: int = 9) -> str:
    frac = f"{ts % NS_PER_S:09d}"[:digits]
    return dt(ts).strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"


def klog(ts: int, level: str, tid: int, where: str, msg: str) -> str:
    """A klog header line: `I1120 10:00:01.123456       1 file.go:12] msg`."""
    d = dt(ts)
    micros = (ts % NS_PER_S) // 1000
    return f"{level}{d:%m%d %H:%M:%S}.{micros:06d} {tid:>7} {where}] {msg}"


def pg_ts(ts: int) -> str:
    return f"{dt(ts):%Y-%m-%d %H:%M:%S}.{(ts % NS_PER_S) // 1_000_000:03d} UTC"


def py_ts(ts: int) -> str:
    return f"{dt(ts):%Y-%m-%d %H:%M:%S},{(ts % NS_PER_S) // 1_000_000:03d}"


def spring_ts(ts: int) -> str:
    return f"{dt(ts):%Y-%m-%d %H:%M:%S}.{(ts % NS_PER_S) // 1_000_000:03d}"


def clf_ts(ts: int) -> str:
    return f"{dt(ts):%d/%b/%Y:%H:%M:%S} +0000"


def jdump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Workload:
    """One log stream: the labels Loki would attach to a container's lines."""

    namespace: str
    pod: str
    container: str
    node: str
    app: str
    extra: tuple[tuple[str, str], ...] = ()

    def labels(self) -> dict[str, str]:
        named = (("namespace", self.namespace), ("pod", self.pod), ("container", self.container))
        labels = {k: v for k, v in named if v}
        if self.node:
            labels["node"] = self.node
        labels.update(dict(self.extra))
        return labels


def deployment_pod(r: random.Random, app: str) -> str:
    return f"{app}-{rand_str(r, r.choice((9, 10)))}-{rand_str(r, 5)}"


def daemonset_pod(r: random.Random, app: str) -> str:
    return f"{app}-{rand_str(r, 5)}"


def journal(node: str, unit: str) -> Workload:
    """A node journal stream (kubelet, containerd, kernel) as Alloy ships it."""
    return Workload("", "", "", node, unit, (("job", "node/journal"), ("unit", unit)))


@dataclass
class Incident:
    """What an injected incident expects, beside the records it wrote."""

    findings: list[Finding]
    summary: str
    facts: list[list[str]]
    tags: list[str] = field(default_factory=list)


def finding(
    category: str,
    severity: str,
    component: str,
    aliases: Sequence[str],
    root_cause: str,
    keywords: Sequence[str],
    evidence: Sequence[str],
) -> Finding:
    return {
        "category": category,
        "severity": severity,
        "component": component,
        "component_aliases": list(aliases),
        "root_cause": root_cause,
        "keywords": list(keywords),
        "evidence": list(evidence),
    }


@dataclass
class Ctx:
    """A window under construction: its clock, its streams and the records so far."""

    r: random.Random
    start: int
    end: int
    nodes: list[str]
    records: list[Record] = field(default_factory=list)
    workloads: dict[str, Workload] = field(default_factory=dict)

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / NS_PER_MIN

    def at(self, frac: float) -> int:
        """A time at a fraction of the window, with sub-second noise."""
        return self.start + int((self.end - self.start) * frac) + self.r.randint(0, NS_PER_S - 1)

    def uniform_times(self, n: int, lo: float = 0.0, hi: float = 1.0) -> list[int]:
        return sorted(self.at(self.r.uniform(lo, hi * 0.999)) for _ in range(n))

    def spread(self, n: int, lo: float, hi: float) -> list[int]:
        """n times spread evenly (with jitter) between two fractions of the window."""
        step = (hi - lo) / max(n, 1)
        return [self.at(lo + step * i + self.r.uniform(0, step * 0.8)) for i in range(n)]

    def node(self) -> str:
        return self.r.choice(self.nodes)

    def workload(self, key: str, make: Callable[[Ctx], Workload]) -> Workload:
        if key not in self.workloads:
            self.workloads[key] = make(self)
        return self.workloads[key]

    def add(self, ts: int, w: Workload, line: str) -> None:
        self.records.append((ts, w.labels(), line))

    def add_block(self, ts: int, w: Workload, lines: Sequence[str]) -> None:
        """Multi-line output (tracebacks): one record per line, microseconds apart."""
        for i, line in enumerate(lines):
            self.records.append((ts + i * self.r.randint(3_000, 40_000), w.labels(), line))

    def sorted_records(self) -> list[Record]:
        return sorted(self.records, key=lambda rec: rec[0])


def record_json(rec: Record) -> dict[str, Any]:
    ts, labels, line = rec
    return {"ts": rfc3339(ts), "labels": labels, "line": line}


def window_json(start: int, end: int) -> dict[str, str]:
    return {"start": rfc3339(start, 0), "end": rfc3339(end, 0)}


def dump_case(case: dict[str, Any]) -> str:
    """Pretty JSON, except that log records stay compact, one per line."""
    blocks: list[str] = []

    def placeholder(records: list[dict[str, Any]]) -> list[str]:
        blocks.append(",\n    ".join(jdump(rec) for rec in records))
        return [f"@@BLOCK{len(blocks) - 1}@@"]

    shaped = dict(case)
    if isinstance(shaped.get("logs"), list):
        shaped["logs"] = placeholder(shaped["logs"])
    for side in ("before", "after"):
        if side in shaped and isinstance(shaped[side].get("logs"), list):
            shaped[side] = {**shaped[side], "logs": placeholder(shaped[side]["logs"])}
    text = json.dumps(shaped, indent=2, ensure_ascii=False)
    for i, block in enumerate(blocks):
        text = text.replace(f'"@@BLOCK{i}@@"', block, 1)
    return text + "\n"
