"""Triage: group classified patterns into findings, score them, and put root causes first.

Input is one `PatternFacts` per mined pattern (what the pattern set keeps) with its
classification (`detect.classify`) and anomaly signals (`detect.signals`). Patterns
that report a problem are grouped by (category, component); each group becomes a
finding with a stable fingerprint, evidence lines and a confidence. Ranking starts
from a score (severity, volume, signals, confidence) and then lifts every finding
that causes another above its effect, so a rare OOMKill ranks before the hundreds of
probe failures and 503s it set off.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loglens.detect.signals import Signal
from loglens.model import (
    SEVERITY_ORDER,
    Category,
    EvidenceLine,
    Finding,
    Level,
    Severity,
    format_ts,
)
from loglens.triage.attribute import attribute_process_kills
from loglens.triage.causal import category_causes
from loglens.triage.group import FindingGroup
from loglens.triage.merge import merge_cascades, rehome_dependencies, upstream_context

SEVERITY_WEIGHT = {
    Severity.INFO: 0.0,
    Severity.WARN: 15.0,
    Severity.ERROR: 30.0,
    Severity.CRITICAL: 45.0,
}
SIGNAL_WEIGHT = {
    Signal.NEW: 6.0,
    Signal.FIRST_IN_7D: 4.0,
    Signal.SPIKE: 5.0,
    Signal.BURST: 2.0,
    Signal.ERROR_RATE_UP: 3.0,
}
MAX_EVIDENCE = 5
MAX_ERROR_SIGNATURES = 5


@dataclass(slots=True)
class Example:
    """A real input line kept by the pattern set (already redacted)."""

    ts: int
    labels: Mapping[str, str]
    line: str


@dataclass(slots=True)
class PatternFacts:
    """What triage needs to know about one pattern."""

    id: str
    template: str
    count: int
    level: Level
    first_ts: int
    last_ts: int
    examples: Sequence[Example]
    labels: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(slots=True)
class Assessment:
    """A pattern with its classification and signals."""

    facts: PatternFacts
    severity: Severity
    category: Category
    component: str
    signature_id: str | None = None
    title: str | None = None
    root_cause: str | None = None
    action: str | None = None
    causes: Sequence[str] = ()
    caused_by: Sequence[str] = ()
    benign: bool = False
    signals: list[Signal] = field(default_factory=list)
    # "process" when the component is only a process name from a node-level line.
    component_source: str = "labels"

    @property
    def is_problem(self) -> bool:
        return (
            not self.benign
            and self.category is not Category.NONE
            and SEVERITY_ORDER[self.severity] >= SEVERITY_ORDER[Severity.WARN]
        )


def _confidence(group: FindingGroup) -> float:
    lead = group.lead
    base = 0.85 if lead.signature_id else (0.6 if lead.category is not Category.NONE else 0.4)
    if group.signals:
        base += 0.05
    return round(min(base, 0.95), 2)


def _score(group: FindingGroup) -> float:
    volume = 4.0 * math.log10(1 + group.count)
    signals = sum(SIGNAL_WEIGHT.get(signal, 0.0) for signal in group.signals)
    return SEVERITY_WEIGHT[group.severity] + volume + signals + 10.0 * _confidence(group)


def _component_mentioned(component: str, group: FindingGroup) -> bool:
    needles = {component, component.replace("_", "-"), component.replace("_", " ")}
    needles |= {part for part in component.split("_") if len(part) >= 5}
    for member in group.everything:
        text = (
            member.facts.template + " " + " ".join(e.line for e in member.facts.examples)
        ).lower()
        if any(needle in text for needle in needles):
            return True
    return False


# Causes whose effects reach whatever runs on the same node.
NODE_WIDE = frozenset({Category.NODE, Category.RESOURCE_PRESSURE})


def _linked(cause: FindingGroup, effect: FindingGroup) -> bool:
    """Is there a concrete link from `cause` to `effect`, beyond the kinds of failure?

    The same workload; the effect's failing calls go to the cause's component, or its
    lines name it; or a node-wide cause on the effect's node. Sharing a namespace or a
    node is not enough: a retrying HTTP client in `apps` does not break its neighbours.
    """
    if cause.component == "unknown":
        return False
    if cause.component == effect.component or effect.upstream == cause.component:
        return True
    if cause.category in NODE_WIDE and cause.labels("node") & effect.labels("node"):
        return True
    return _component_mentioned(cause.component, effect)


def _causes(cause: FindingGroup, effect: FindingGroup, slack_ns: int) -> bool:
    """Is `cause` a plausible root cause of `effect`?

    The cause must start first (within `slack_ns`), except for probe failures of the
    same workload: probes fail as soon as its container stops answering, before the
    restart back-off or anything else about the failure is logged.
    """
    if cause is effect:
        return False
    probe_of_same = (
        effect.category is Category.PROBE_FAILURE and cause.component == effect.component
    )
    if not probe_of_same and cause.first_ts > effect.first_ts + slack_ns:
        return False
    hinted = any(
        sig in cause_member.causes
        for cause_member in cause.everything
        for sig in effect.signature_ids
    ) or any(
        sig in effect_member.caused_by
        for effect_member in effect.everything
        for sig in cause.signature_ids
    )
    if hinted:
        return True
    return category_causes(cause.category, effect.category) and _linked(cause, effect)


Edge = tuple[FindingGroup, FindingGroup]


def _cause_edges(groups: list[FindingGroup], slack_ns: int) -> list[Edge]:
    """(cause, effect) pairs; a pair that could go either way is no edge."""
    return [
        (cause, effect)
        for cause in groups
        for effect in groups
        if _causes(cause, effect, slack_ns) and not _causes(effect, cause, -1)
    ]


def _lift_causes(groups: list[FindingGroup], edges: list[Edge]) -> None:
    """Give every cause a score just above the highest-scoring effect it explains."""
    for _ in range(len(groups)):
        changed = False
        for cause, effect in edges:
            if cause.score <= effect.score:
                cause.score = effect.score + 1.0
                changed = True
        if not changed:
            break


def fingerprint(category: Category, component: str, signature_id: str | None) -> str:
    """Stable id of a finding: the same problem keeps it across runs and windows."""
    key = f"{category}|{component}|{signature_id or ''}"
    return "f-" + hashlib.blake2b(key.encode(), digest_size=4).hexdigest()


def _evidence_order(members: list[Assessment]) -> list[Assessment]:
    return sorted(
        members,
        key=lambda a: (-SEVERITY_ORDER[a.severity], a.signature_id is None, a.facts.first_ts),
    )


def _evidence(group: FindingGroup) -> list[EvidenceLine]:
    """The upstream's own context lines, then examples: the group's patterns before absorbed."""
    ordered = [*_evidence_order(group.members), *_evidence_order(group.absorbed)]
    picked: list[Example] = list(group.context[:MAX_EVIDENCE])
    # One example from each pattern first, then fill with more from the strongest ones.
    for round_index in range(MAX_EVIDENCE):
        for member in ordered:
            if len(picked) >= MAX_EVIDENCE:
                break
            if round_index < len(member.facts.examples):
                picked.append(member.facts.examples[round_index])
    picked.sort(key=lambda e: e.ts)
    return [EvidenceLine(ts=format_ts(e.ts), labels=dict(e.labels), line=e.line) for e in picked]


def _group_fingerprint(group: FindingGroup) -> str:
    return fingerprint(group.category, group.component, group.lead.signature_id)


def _to_finding(group: FindingGroup, rank: int, symptom_of: list[str]) -> Finding:
    lead = group.lead
    component = group.component
    title = lead.title or f"{component}: {lead.category.value.replace('_', ' ')}"
    members = sorted(group.everything, key=lambda a: (-SEVERITY_ORDER[a.severity], -a.facts.count))
    return Finding(
        rank=rank,
        fingerprint=_group_fingerprint(group),
        category=group.category,
        severity=group.severity,
        component=component,
        title=title,
        root_cause=_root_cause(group),
        action=lead.action or _generic_action(group.category),
        error_signatures=[m.facts.template for m in members[:MAX_ERROR_SIGNATURES]],
        signature=lead.signature_id,
        count=group.count,
        first_seen=format_ts(group.first_ts),
        last_seen=format_ts(group.last_ts),
        patterns=[m.facts.id for m in members],
        evidence=_evidence(group),
        explained_by="rules",
        confidence=_confidence(group),
        signals=[str(signal) for signal in group.signals],
        symptom_of=symptom_of,
    )


MAX_QUOTE_CHARS = 160
MAX_QUOTED_PATTERNS = 2
# Stack frames and dump lines say where, not what: never quoted.
_FRAME_PREFIXES = ("at ", "File ", "...", "goroutine ", "created by ", "Traceback ")


def _clip(text: str) -> str:
    text = " ".join(text.replace("<*>", "…").split())
    return text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…"


def _what_it_says(member: Assessment) -> list[str]:
    """The pattern's message, and for a multi-line event its last words (the exception)."""
    quotes = [_clip(member.facts.template)]
    if member.facts.examples:
        lines = member.facts.examples[0].line.splitlines()[1:]
        words = [
            ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith(_FRAME_PREFIXES)
        ]
        if words and words[-1] not in member.facts.template:
            quotes.append(_clip(words[-1]))
    return quotes


def _root_cause(group: FindingGroup) -> str:
    """The signature's explanation, then what this window's lines actually say."""
    lead = group.lead
    if not lead.root_cause:
        return _generic_root_cause(lead)
    members = [lead, *(m for m in _evidence_order(group.members) if m is not lead)]
    quotes: list[str] = []
    for member in members[:MAX_QUOTED_PATTERNS]:
        quotes.extend(q for q in _what_it_says(member) if q not in quotes)
    said = "; ".join(f'"{quote}"' for quote in quotes)
    return f"{lead.root_cause} The logs say: {said}."


def _generic_root_cause(lead: Assessment) -> str:
    what = lead.category.value.replace("_", " ")
    return (
        f"{lead.facts.count} {lead.severity.value}-level lines from {lead.component} point to a "
        f"{what} problem: {lead.facts.template[:200]}"
    )


GENERIC_ACTIONS: dict[Category, str] = {
    Category.OOM: "Check the container's memory limit against its real usage; raise the limit or lower the load.",
    Category.CRASHLOOP: "Read the previous container's logs (kubectl logs --previous) for the exit reason.",
    Category.IMAGE_PULL: "Check the image name, tag and registry credentials (imagePullSecrets).",
    Category.PROBE_FAILURE: "Check the probe's path, port and timeouts against how long the app takes to become ready.",
    Category.SCHEDULING: "Compare the pod's requests, node selectors and tolerations with free node capacity.",
    Category.STORAGE: "Check the volume, PVC and the node's free disk space.",
    Category.NETWORK: "Check that the target service is up and reachable (endpoints, network policies, ports).",
    Category.DNS: "Check CoreDNS health and upstream resolvers, and the name being looked up.",
    Category.TLS: "Check certificate validity dates, the CA bundle and the server name.",
    Category.AUTH: "Check credentials, tokens and RBAC permissions of the caller.",
    Category.CONFIG: "Check the configuration, flags, ConfigMaps and Secrets the component reads.",
    Category.DEPENDENCY: "Check the health of the upstream service named in the errors.",
    Category.RESOURCE_PRESSURE: "Free node resources (disk, memory, PIDs) or move workloads off the node.",
    Category.LIMIT_EXCEEDED: "Compare request sizes and rates with the configured limits; raise the limit or shrink the requests.",
    Category.NODE: "Check the node's kubelet and container runtime (journalctl -u kubelet) and its conditions.",
    Category.CONTROL_PLANE: "Check the health of the API server, etcd and their disks; look for leader changes.",
    Category.DEPLOYMENT: "Inspect the failed rollout or HelmRelease (flux get helmreleases, kubectl rollout status).",
    Category.APPLICATION_ERROR: "Read the stack trace or error and fix the application code or its input.",
    Category.NONE: "No action needed.",
}


def _generic_action(category: Category) -> str:
    return GENERIC_ACTIONS[category]


def rank_findings(
    assessments: Sequence[Assessment],
    *,
    window_span_ns: int,
    max_findings: int = 20,
) -> list[Finding]:
    """Findings from the problem patterns, most urgent (root cause first) at rank 1."""
    attribute_process_kills(
        assessments, horizon_ns=max(15 * 60 * 1_000_000_000, window_span_ns // 12)
    )
    slack_ns = max(60 * 1_000_000_000, window_span_ns // 50)
    ordered = merge_cascades(rehome_dependencies(_group(assessments)), slack_ns)
    upstream_context(ordered, assessments, slack_ns)
    for group in ordered:
        group.score = _score(group)
    edges = _cause_edges(ordered, slack_ns)
    _lift_causes(ordered, edges)
    ordered.sort(key=lambda g: (-g.score, g.first_ts, g.category.value, g.component))
    kept = ordered[:max_findings]
    causes_of: dict[int, list[str]] = {}
    for cause, effect in edges:
        causes_of.setdefault(id(effect), []).append(_group_fingerprint(cause))
    return [
        _to_finding(group, rank, sorted(set(causes_of.get(id(group), []))))
        for rank, group in enumerate(kept, start=1)
    ]


def _group(assessments: Sequence[Assessment]) -> list[FindingGroup]:
    """Problem patterns grouped by (category, component)."""
    groups: dict[tuple[Category, str], FindingGroup] = {}
    for assessment in assessments:
        if not assessment.is_problem:
            continue
        key = (assessment.category, assessment.component)
        group = groups.get(key)
        if group is None:
            group = groups[key] = FindingGroup(assessment.category, assessment.component)
        group.members.append(assessment)
    return list(groups.values())
