"""Cascade merging: one incident told by several components or several lines is one finding.

Grouping by (category, component) splits some incidents that an engineer sees as one:

- **Infrastructure and its consumers.** When etcd is slow, the API server times out
  and the scheduler loses its lease: three control-plane groups, one problem, whose
  root is the most basic provider (etcd). Likewise CoreDNS failing upstream and the
  clients' failed lookups (DNS), a CNI daemon and the timeouts it causes (network),
  the container runtime and the kubelet (node), and a node under memory pressure and
  the pods evicted from it (resource pressure). A group of a lower tier folds into
  the highest-tier provider of the same category that started no later than it.
- **One program, one failure, several lines.** A program that fails a request or its
  start-up logs the cause and then its consequences within milliseconds (a
  `could not acquire connection` error followed by its own `503` access line;
  `cudaMalloc failed` followed by `failed to load model`). Groups told by the same
  workload's own lines whose first lines fall within `BURST_NS` fold into the one that
  tells the cause: a specific failure rather than a generic application error, else
  the earliest.

Merged groups keep the lines, counts and severity of what they absorbed, so evidence
shows both the cause and its consequences.

Dependency findings get two more treatments: when the upstream has a finding of its
own (Postgres' disk is full), the callers' failing calls become each caller's
dependency finding (`rehome_dependencies`); when it has none, the finding cites the
upstream's own rare lines from just before the first failure (`upstream_context`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from loglens.detect.classify import component_from_labels
from loglens.model import Category
from loglens.triage.causal import category_causes
from loglens.triage.group import FindingGroup

if TYPE_CHECKING:
    from loglens.triage.rank import Assessment

C = Category

# Per category, how basic a component is: a higher tier serves the lower ones.
PROVIDER_TIERS: dict[Category, dict[str, int]] = {
    C.CONTROL_PLANE: {
        "etcd": 3,
        "kube_apiserver": 2,
        "kube_scheduler": 1,
        "kube_controller_manager": 1,
        "cloud_controller_manager": 1,
    },
    C.DNS: {"coredns": 1, "kube_dns": 1, "node_local_dns": 1, "nodelocaldns": 1},
    C.NETWORK: {
        "flannel": 2,
        "kube_flannel": 2,
        "calico": 2,
        "calico_node": 2,
        "cilium": 2,
        "cilium_agent": 2,
        "canal": 2,
        "weave": 2,
        "kube_router": 2,
        "multus": 2,
        "kube_proxy": 1,
    },
    C.NODE: {"containerd": 2, "crio": 2, "cri_o": 2, "docker": 2, "kubelet": 1},
    C.RESOURCE_PRESSURE: {"kubelet": 1},
}
# Categories whose providers serve one node: consumers must be on the same node.
NODE_SCOPED = frozenset({C.NODE, C.RESOURCE_PRESSURE})
# "Within milliseconds" with room for slow writers and coarse timestamps.
BURST_NS = 5 * 1_000_000_000


def _tier(group: FindingGroup) -> int:
    return PROVIDER_TIERS.get(group.category, {}).get(group.component, 0)


def _same_node(a: FindingGroup, b: FindingGroup) -> bool:
    return bool(a.labels("node") & b.labels("node"))


def _provider_of(
    group: FindingGroup, candidates: Iterable[FindingGroup], slack_ns: int
) -> FindingGroup | None:
    """The most basic provider of `group`'s category that plausibly caused it."""
    tier = _tier(group)
    best: FindingGroup | None = None
    for other in candidates:
        if other is group or other.category is not group.category or _tier(other) <= tier:
            continue
        if other.first_ts > group.first_ts + slack_ns:
            continue
        if group.category in NODE_SCOPED and not _same_node(other, group):
            continue
        if best is None or (_tier(other), -other.first_ts) > (_tier(best), -best.first_ts):
            best = other
    return best


def merge_providers(groups: list[FindingGroup], slack_ns: int) -> list[FindingGroup]:
    """Fold consumers into the infrastructure provider of the same category."""
    targets = {id(g): _provider_of(g, groups, slack_ns) for g in groups}

    def final(group: FindingGroup) -> FindingGroup:
        seen = {id(group)}
        while (target := targets[id(group)]) is not None and id(target) not in seen:
            seen.add(id(target))
            group = target
        return group

    kept: list[FindingGroup] = []
    for group in groups:
        root = final(group)
        if root is group:
            kept.append(group)
        else:
            root.absorbed.extend(group.everything)
    return kept


def member_origin(member: Assessment) -> str | None:
    """The workload whose own log holds the pattern's lines (None if several or unknown)."""
    names = {component_from_labels(example.labels) for example in member.facts.examples}
    return names.pop() if len(names) == 1 else None


def _origin(group: FindingGroup) -> str | None:
    """The one workload whose own lines tell the whole group, if there is one."""
    names = {member_origin(member) for member in group.everything}
    return names.pop() if len(names) == 1 else None


def _burst_rank(group: FindingGroup) -> tuple[bool, int, int]:
    """Which of a burst's groups tells the cause: a specific failure before a generic
    application error (exceptions, 5xx), then the earliest, then the more basic kind."""
    basic = -sum(category_causes(group.category, other) for other in Category)
    return group.category is C.APPLICATION_ERROR, group.first_ts, basic


def _burst_cause(
    group: FindingGroup, candidates: Iterable[FindingGroup], origin: str
) -> FindingGroup | None:
    """The group whose failure `group` (the program's own report) belongs to, if any."""
    burst = [
        other
        for other in candidates
        if other is not group
        and _origin(other) == origin
        and abs(group.first_ts - other.first_ts) <= BURST_NS
    ]
    if not burst:
        return None
    cause = min(burst, key=_burst_rank)
    return cause if _burst_rank(cause) < _burst_rank(group) else None


def merge_bursts(groups: list[FindingGroup]) -> list[FindingGroup]:
    """Fold a program's consequential errors into the failure it logged with them."""
    absorbed: set[int] = set()
    for group in sorted(groups, key=_burst_rank, reverse=True):
        origin = _origin(group)
        if origin is None or origin != group.component:
            continue
        live = (g for g in groups if id(g) not in absorbed)
        cause = _burst_cause(group, live, origin)
        if cause is not None:
            cause.absorb(group)
            absorbed.add(id(group))
    return [g for g in groups if id(g) not in absorbed]


def merge_cascades(groups: list[FindingGroup], slack_ns: int) -> list[FindingGroup]:
    """Both merges: providers first (they span workloads), then per-program bursts."""
    return merge_bursts(merge_providers(groups, slack_ns))


# ----------------------------------------------------------------------------------------
# Dependencies: whose problem is it?
# ----------------------------------------------------------------------------------------


def _own_failure(groups: Sequence[FindingGroup], component: str) -> FindingGroup | None:
    """The upstream's own problem that makes it unavailable (disk full, OOM, crash loop)."""
    candidates = [
        g
        for g in groups
        if g.component == component
        and g.category is not C.DEPENDENCY
        and category_causes(g.category, C.DEPENDENCY)
    ]
    return min(candidates, key=lambda g: g.first_ts, default=None)


def rehome_dependencies(groups: list[FindingGroup]) -> list[FindingGroup]:
    """When an upstream has its own finding, its callers' failures are the callers' problem.

    "Postgres is unavailable" is the finding while nothing else is known about Postgres.
    Once Postgres has a finding of its own (its disk is full), that is the root cause:
    Postgres' own refusals join it, and each caller's failing calls become a dependency
    finding of that caller (orders-api's database calls fail).
    """
    by_key = {(g.category, g.component): g for g in groups}
    out: list[FindingGroup] = []
    for group in groups:
        root = _own_failure(groups, group.component) if group.category is C.DEPENDENCY else None
        if root is None:
            out.append(group)
            continue
        for member in group.members:
            origin = member_origin(member)
            if origin == group.component:
                root.absorbed.append(member)
                continue
            caller = origin or group.component
            target = by_key.get((C.DEPENDENCY, caller))
            if target is None or target is group:
                target = by_key[(C.DEPENDENCY, caller)] = FindingGroup(C.DEPENDENCY, caller)
                out.append(target)
            target.upstream = group.component
            target.members.append(member)
    return out


MAX_CONTEXT_LINES = 2
# A line the upstream wrote once or twice (a shutdown, a restart), not its steady traffic.
MAX_CONTEXT_COUNT = 5


def upstream_context(
    groups: Sequence[FindingGroup], assessments: Sequence[Assessment], slack_ns: int
) -> None:
    """Cite what an unavailable upstream itself logged just before its callers failed.

    A dependency finding told only by callers ("connection refused" to Postgres) is
    explained by the upstream's own rare lines around the first failure (Postgres:
    "received fast shutdown request"), whatever their level.
    """
    for group in groups:
        if group.category is not C.DEPENDENCY or any(
            member_origin(m) == group.component for m in group.everything
        ):
            continue
        start, end = group.first_ts - slack_ns, group.first_ts + BURST_NS
        lines = sorted(
            (
                example
                for a in assessments
                if a.facts.count <= MAX_CONTEXT_COUNT
                and start <= a.facts.first_ts <= end
                and member_origin(a) == group.component
                for example in a.facts.examples[:1]
            ),
            key=lambda example: example.ts,
        )
        group.context = lines[:MAX_CONTEXT_LINES]
