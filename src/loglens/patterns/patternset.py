"""Pattern sets: the mined patterns of a window, with counts, and exact merging.

A `Pattern` carries its template, a stable id, counts (total, per level, per time
bucket), first/last seen, capped label sets and a few redacted examples. Two
pattern sets (two windows, two workers, two streams) merge exactly: counts add up,
and a pattern whose template is a special case of another pattern's template from
the same source is folded into it (templates generalise as more lines arrive).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from loglens.errors import InputError
from loglens.model import LEVEL_ORDER, Level, PatternOut, format_ts
from loglens.patterns.masking import WILDCARD, collapse_wildcard_runs, tokenize

_K = TypeVar("_K")

LABEL_KEYS: tuple[str, ...] = ("namespace", "pod", "container", "node")


def normalise_template(template: str) -> str:
    """Whitespace to single spaces and runs of wildcards to one: the form ids are made from."""
    return collapse_wildcard_runs(" ".join(template.split()))


def pattern_id(source: str, template: str) -> str:
    """Stable id: a hash of the source identity and the normalised template."""
    digest = hashlib.blake2b(
        f"{source}\x1f{normalise_template(template)}".encode(), digest_size=4
    ).hexdigest()
    return f"p-{digest}"


@dataclass(slots=True)
class Pattern:
    """One mined pattern and what was counted for it."""

    id: str
    template: str
    source: str = ""
    count: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    buckets: dict[int, int] = field(default_factory=dict)
    first_seen_ns: int | None = None
    last_seen_ns: int | None = None
    labels: dict[str, set[str]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    name: str | None = None

    @property
    def level(self) -> Level:
        """The most frequent known level; ties go to the more severe one."""
        known = [(count, LEVEL_ORDER[Level(lv)], lv) for lv, count in self.levels.items()]
        known = [item for item in known if item[2] != Level.UNKNOWN]
        return Level(max(known)[2]) if known else Level.UNKNOWN

    def absorb(self, other: Pattern, *, max_examples: int, max_label_values: int) -> None:
        """Add `other`'s counts, times, labels and examples to this pattern."""
        self.count += other.count
        _add_counts(self.levels, other.levels)
        _add_counts(self.buckets, other.buckets)
        self.first_seen_ns = _min_opt(self.first_seen_ns, other.first_seen_ns)
        self.last_seen_ns = _max_opt(self.last_seen_ns, other.last_seen_ns)
        for key, values in other.labels.items():
            mine = self.labels.setdefault(key, set())
            for value in sorted(values):
                if len(mine) >= max_label_values:
                    break
                mine.add(value)
        for example in other.examples:
            if len(self.examples) >= max_examples:
                break
            if example not in self.examples:
                self.examples.append(example)


@dataclass(slots=True)
class PatternSet:
    """The patterns of one window (or several merged), keyed by id."""

    by_id: dict[str, Pattern] = field(default_factory=dict)
    bucket_ns: int = 60_000_000_000
    max_examples: int = 3
    max_label_values: int = 20
    # Ids folded into a more general pattern by a merge, mapped to the id that absorbed them.
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def patterns(self) -> list[Pattern]:
        """Patterns, most frequent first (ties by id, so the order is stable)."""
        return sorted(self.by_id.values(), key=lambda p: (-p.count, p.id))

    @property
    def total(self) -> int:
        return sum(p.count for p in self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def resolve(self, pid: str) -> str:
        """The id a pattern has now, following merges (assignments made before a merge)."""
        while pid in self.aliases:
            pid = self.aliases[pid]
        return pid

    def get(self, pid: str) -> Pattern | None:
        return self.by_id.get(self.resolve(pid))

    def merge(self, other: PatternSet) -> PatternSet:
        """A new set holding both: counts add up exactly, special cases fold into general ones."""
        if other.bucket_ns != self.bucket_ns:
            raise InputError(
                f"cannot merge pattern sets with time buckets of {self.bucket_ns} ns "
                f"and {other.bucket_ns} ns",
                hint="mine both windows with the same bucket size",
            )
        merged = PatternSet(
            bucket_ns=self.bucket_ns,
            max_examples=self.max_examples,
            max_label_values=self.max_label_values,
            aliases={**self.aliases, **other.aliases},
        )
        for pattern in [*self.by_id.values(), *other.by_id.values()]:
            merged.add(_copy(pattern))
        merged.fold_special_cases()
        return merged

    def add(self, pattern: Pattern) -> None:
        """Add a pattern, adding its counts to a pattern with the same id if present."""
        existing = self.by_id.get(pattern.id)
        if existing is None:
            self.by_id[pattern.id] = pattern
        else:
            existing.absorb(
                pattern, max_examples=self.max_examples, max_label_values=self.max_label_values
            )

    def fold_special_cases(self) -> None:
        """Fold each pattern whose template another one of its source generalises into that one."""
        by_shape: dict[tuple[str, int], list[tuple[tuple[str, ...], Pattern]]] = {}
        for pattern in self.by_id.values():
            tokens = tokenize(pattern.template)
            by_shape.setdefault((pattern.source, len(tokens)), []).append((tokens, pattern))
        for members in by_shape.values():
            if len(members) > 1:
                self._fold_within(members)

    def _fold_within(self, members: list[tuple[tuple[str, ...], Pattern]]) -> None:
        # Most general first, so a special case folds into the widest template.
        members.sort(key=lambda item: (-item[0].count(WILDCARD), item[1].id))
        for index, (general_tokens, general) in enumerate(members):
            if general.id not in self.by_id:
                continue
            for tokens, special in members[index + 1 :]:
                if special.id in self.by_id and _generalises(general_tokens, tokens):
                    general.absorb(
                        special,
                        max_examples=self.max_examples,
                        max_label_values=self.max_label_values,
                    )
                    del self.by_id[special.id]
                    self.aliases[special.id] = general.id

    def to_pattern_out(
        self,
        *,
        limit: int | None = None,
        window_start_ns: int | None = None,
        window_end_ns: int | None = None,
    ) -> list[PatternOut]:
        """The report form of the patterns, most frequent first, buckets over the window."""
        first_bucket, last_bucket = self._bucket_range(window_start_ns, window_end_ns)
        redact = _redactor()
        out = []
        for pattern in self.patterns[:limit]:
            buckets = (
                [pattern.buckets.get(b, 0) for b in range(first_bucket, last_bucket + 1)]
                if first_bucket is not None and last_bucket is not None
                else []
            )
            out.append(
                PatternOut(
                    id=pattern.id,
                    template=pattern.template,
                    count=pattern.count,
                    level=pattern.level.value,
                    first_seen=_fmt_opt(pattern.first_seen_ns),
                    last_seen=_fmt_opt(pattern.last_seen_ns),
                    labels={k: sorted(v) for k, v in sorted(pattern.labels.items()) if v},
                    examples=[redact(example) for example in pattern.examples],
                    levels=dict(sorted(pattern.levels.items())),
                    buckets=buckets,
                )
            )
        return out

    def _bucket_range(
        self, window_start_ns: int | None, window_end_ns: int | None
    ) -> tuple[int | None, int | None]:
        if window_start_ns is not None and window_end_ns is not None:
            return window_start_ns // self.bucket_ns, (window_end_ns - 1) // self.bucket_ns
        seen = [b for p in self.by_id.values() for b in p.buckets]
        return (min(seen), max(seen)) if seen else (None, None)


def _generalises(general: tuple[str, ...], special: tuple[str, ...]) -> bool:
    return general != special and all(
        g in (s, WILDCARD) for g, s in zip(general, special, strict=True)
    )


def _copy(pattern: Pattern) -> Pattern:
    return Pattern(
        id=pattern.id,
        template=pattern.template,
        source=pattern.source,
        count=pattern.count,
        levels=dict(pattern.levels),
        buckets=dict(pattern.buckets),
        first_seen_ns=pattern.first_seen_ns,
        last_seen_ns=pattern.last_seen_ns,
        labels={k: set(v) for k, v in pattern.labels.items()},
        examples=list(pattern.examples),
        name=pattern.name,
    )


def _add_counts(into: dict[_K, int], other: dict[_K, int]) -> None:
    for key, count in other.items():
        into[key] = into.get(key, 0) + count


def _min_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _fmt_opt(ts_ns: int | None) -> str | None:
    return None if ts_ns is None else format_ts(ts_ns)


def _redactor() -> Callable[[str], str]:
    """`loglens.parsing.redact`'s default redactor when that module exists, else identity."""
    try:
        module = importlib.import_module("loglens.parsing.redact")
    except ImportError:
        return _identity
    redact: Callable[[str], str] = module.default_redactor().redact
    return redact


def _identity(text: str) -> str:
    return text


def merge_all(sets: Iterable[PatternSet]) -> PatternSet:
    """Merge many pattern sets (workers, streams, windows) into one."""
    result: PatternSet | None = None
    for pattern_set in sets:
        result = pattern_set if result is None else result.merge(pattern_set)
    return result if result is not None else PatternSet()
