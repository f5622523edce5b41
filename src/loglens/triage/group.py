"""A finding under construction: the patterns of one problem, before it is ranked.

Triage first groups problem patterns by (category, component); cascade merging
(`triage.merge`) may then fold other groups into one as `absorbed` members: their
lines, counts and severity count for the finding, but the group's own members still
speak for it (lead, title, root cause, fingerprint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loglens.detect.signals import Signal
from loglens.model import SEVERITY_ORDER, Category, Severity

if TYPE_CHECKING:
    from loglens.triage.rank import Assessment, Example


@dataclass(slots=True, eq=False)
class FindingGroup:
    """Problem patterns of one (category, component), plus any groups merged into it."""

    category: Category
    component: str
    members: list[Assessment] = field(default_factory=list)
    absorbed: list[Assessment] = field(default_factory=list)
    # For a dependency group re-homed to its caller: the upstream whose calls fail.
    upstream: str | None = None
    # Lines that explain the group without being part of it (the upstream's own log).
    context: list[Example] = field(default_factory=list)
    score: float = 0.0

    @property
    def everything(self) -> list[Assessment]:
        """Own members first, then absorbed ones."""
        return [*self.members, *self.absorbed]

    @property
    def lead(self) -> Assessment:
        """The member that speaks for the group: signature first, then severity, then earliest."""
        return min(
            self.members,
            key=lambda a: (
                a.signature_id is None,
                -SEVERITY_ORDER[a.severity],
                a.facts.first_ts,
                -a.facts.count,
            ),
        )

    @property
    def severity(self) -> Severity:
        return max((a.severity for a in self.everything), key=SEVERITY_ORDER.__getitem__)

    @property
    def first_ts(self) -> int:
        return min(a.facts.first_ts for a in self.everything)

    @property
    def last_ts(self) -> int:
        return max(a.facts.last_ts for a in self.everything)

    @property
    def count(self) -> int:
        return sum(a.facts.count for a in self.everything)

    @property
    def signature_ids(self) -> set[str]:
        return {a.signature_id for a in self.everything if a.signature_id}

    @property
    def signals(self) -> list[Signal]:
        seen: dict[Signal, None] = {}
        for member in self.everything:
            for signal in member.signals:
                seen[signal] = None
        return list(seen)

    def labels(self, key: str) -> set[str]:
        """Every value of label `key` over the group's patterns."""
        return {value for m in self.everything for value in m.facts.labels.get(key, ())}

    def absorb(self, other: FindingGroup) -> None:
        """Fold `other` (a symptom told by other patterns) into this group."""
        self.absorbed.extend(other.everything)
