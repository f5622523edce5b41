"""Per-pattern, per-level slices: what triage needs beyond the pattern set.

A pattern's lines can differ in level where the variable part carries the meaning
(`"GET /v1 HTTP/1.1" <*>` holds both 200s and 503s). Triage therefore looks at each
(pattern, level) slice on its own, with real example records (time, labels, line)
to cite as evidence. Tracking costs one dict update per record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loglens.model import Level, LogRecord

MAX_SLICE_EXAMPLES = 3


@dataclass(slots=True)
class Slice:
    count: int = 0
    first_ts: int = 0
    last_ts: int = 0
    examples: list[LogRecord] = field(default_factory=list)


class SliceTracker:
    """Counts, first/last time and a few example records per (miner group, level)."""

    def __init__(self, max_examples: int = MAX_SLICE_EXAMPLES) -> None:
        self.max_examples = max_examples
        self.slices: dict[tuple[int, Level], Slice] = {}

    def add(self, batch: Sequence[LogRecord], groups: Sequence[int]) -> None:
        slices = self.slices
        max_examples = self.max_examples
        for record, group in zip(batch, groups, strict=True):
            key = (group, record.level)
            ts = record.ts
            entry = slices.get(key)
            if entry is None:
                slices[key] = Slice(1, ts, ts, [record])
                continue
            entry.count += 1
            if ts < entry.first_ts:
                entry.first_ts = ts
            elif ts > entry.last_ts:
                entry.last_ts = ts
            if len(entry.examples) < max_examples:
                entry.examples.append(record)

    def by_pattern(self, group_ids: Sequence[str]) -> dict[tuple[str, Level], Slice]:
        """Fold group slices into (pattern id, level) slices; `group_ids[g]` is g's pattern."""
        out: dict[tuple[str, Level], Slice] = {}
        for (group, level), entry in self.slices.items():
            key = (group_ids[group], level)
            merged = out.get(key)
            if merged is None:
                out[key] = Slice(entry.count, entry.first_ts, entry.last_ts, list(entry.examples))
                continue
            merged.count += entry.count
            merged.first_ts = min(merged.first_ts, entry.first_ts)
            merged.last_ts = max(merged.last_ts, entry.last_ts)
            merged.examples.extend(entry.examples)
        for merged in out.values():
            # Earliest first, whatever order the groups were created in: the head example
            # decides the slice's classification, so it must not depend on arrival order.
            merged.examples.sort(key=lambda record: (record.ts, record.line))
            del merged.examples[self.max_examples :]
        return out
