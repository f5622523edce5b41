"""Map process names from node-level lines to the workload they belong to.

The kernel OOM killer names a process (`Killed process 4462 (uvicorn)`), not the pod:
the journal line has no pod label, and the cgroup path holds only the pod's UID. An
on-call engineer links it the way the cluster shows it: the container that restarts,
crash-loops or fails its probes right after the kill, preferably on the same node, is
the one that was killed. When the process name already is a workload seen in the
window (`llama-server`), it stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from loglens.model import Category

if TYPE_CHECKING:
    from loglens.triage.rank import Assessment

PROCESS = "process"
# What a killed container shows next: a restart back-off, failing probes, an OOMKilled
# last state.
_AFTERMATH = frozenset({Category.CRASHLOOP, Category.PROBE_FAILURE, Category.OOM})
# A kill logged slightly after the kubelet noticed (clocks, batching) still counts.
_EARLY_SLACK_NS = 2 * 60 * 1_000_000_000


def _nodes(assessment: Assessment) -> set[str]:
    return set(assessment.facts.labels.get("node", ()))


def _aftermath_of(
    kill: Assessment, candidates: Sequence[Assessment], horizon_ns: int
) -> str | None:
    """The workload whose restart follows the kill most closely (same node first)."""
    start = kill.facts.first_ts - _EARLY_SLACK_NS
    kill_times = (kill.facts.first_ts, kill.facts.last_ts)
    nodes = _nodes(kill)
    best: tuple[bool, int] | None = None
    chosen: str | None = None
    for candidate in candidates:
        first = candidate.facts.first_ts
        if first < start:
            continue
        gaps = [first - t for t in kill_times if t - _EARLY_SLACK_NS <= first <= t + horizon_ns]
        if not gaps:
            continue
        rank = (not (nodes & _nodes(candidate)), min(abs(g) for g in gaps))
        if best is None or rank < best:
            best, chosen = rank, candidate.component
    return chosen


def attribute_process_kills(assessments: Sequence[Assessment], *, horizon_ns: int) -> None:
    """Give OOM kills that name only a process the component of the workload they hit."""
    kills = [
        a
        for a in assessments
        if a.component_source == PROCESS and a.category is Category.OOM and a.is_problem
    ]
    if not kills:
        return
    workloads = {a.component for a in assessments if a.component_source != PROCESS}
    candidates = [
        a
        for a in assessments
        if a.is_problem
        and a.category in _AFTERMATH
        and a.component_source != PROCESS
        and a.component != "unknown"
    ]
    resolved: dict[str, str] = {}
    for kill in sorted(kills, key=lambda a: a.facts.first_ts):
        if kill.component in workloads:
            continue
        owner = resolved.get(kill.component) or _aftermath_of(kill, candidates, horizon_ns)
        if owner is not None:
            resolved[kill.component] = owner
    # Every kill of the same process in the window belongs to the same workload.
    for kill in kills:
        owner = resolved.get(kill.component)
        if owner is not None:
            kill.component = owner
