"""Template mining: log records in, a `PatternSet` (and per-record pattern ids) out.

Two stages, both per source stream (namespace + container), because one shared
miner slows down and mixes events as it fills with unrelated sources:

1. **Groups** (hot path). A message is masked (`masking.Masker`) and grouped by its
   masked form. Two caches make repeated work one dict lookup: raw message → group
   and masked form → group. Runs of variables collapse (`a <*> <*> b` → `a <*> b`),
   so one event is not split because a variable spans a varying number of words.
2. **Clusters** (when a pattern set is asked for). Groups of one stream that differ
   in one word only are merged, that word becoming `<*>`, when at least
   `merge_min_values` distinct words were seen in that place (or one group already
   has `<*>` there). Repeat until nothing changes. Two or three values in one place
   (`VM Started` / `VM Paused`) stay apart: they usually mean different events.
   Stage 2 depends on the set of groups, not on arrival order, so the same lines give
   the same templates and ids in any order, process or machine.

Per record the miner stores one small int (the group); ids are resolved at the end.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, MutableSequence, Sequence
from dataclasses import dataclass, field

from loglens.model import Level, LogRecord
from loglens.patterns.masking import (
    WILDCARD,
    Masker,
    collapse_wildcard_runs,
    is_word,
    tokenize,
)
from loglens.patterns.overrides import OverrideAction, Overrides, PatternRule
from loglens.patterns.patternset import LABEL_KEYS, Pattern, PatternSet, pattern_id

_NS = 1_000_000_000
# Participles name what happened (Started, Paused, failed, running): events, not values.
_MAX_LABEL_DICTS = 10_000
_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
_DIGIT = re.compile(r"\d")
_STATE_WORD = re.compile(r"[A-Za-z]+(?:ed|ing)")
# Names with one trailing digit (eth0, ee0, alt0, sda1) that masking kept as constants.
_NUMBERED_NAME = re.compile(r"[A-Za-z]{2,}\d")
_FAMILY_STEM = 3
# A run of non-space characters up to `=`, `,`, `;` or `"`: one value if it holds `<*>`.
_VALUE_SPAN = re.compile(r'([^\s=,;"]+)')
_NICE_BUCKETS_S = (1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


def bucket_ns_for_window(window_ns: int, target_buckets: int = 60) -> int:
    """A round bucket size giving about `target_buckets` buckets over a window."""
    wanted = window_ns / target_buckets
    for seconds in _NICE_BUCKETS_S:
        if seconds * _NS >= wanted:
            return seconds * _NS
    return _NICE_BUCKETS_S[-1] * _NS


@dataclass(frozen=True, slots=True)
class MinerConfig:
    """Miner settings: one generic configuration serves every kind of log."""

    # Distinct words seen in one place before that place becomes a variable. Two values
    # stay apart (VM Started / VM Paused); three or more are taken as a variable.
    merge_min_values: int = 3
    # ... unless each value is seen more than this many times (median): then the few
    # values are read as distinct events (VM Started / Paused / Resumed / Stopped) ...
    max_lines_per_value: float = 1000000
    # ... but this many distinct values in one place always make a variable.
    always_merge_values: int = 10
    # A merge must leave at least this share of the words constant (no `<*> <*>`).
    min_constant_share: float = 0.5
    # Raw messages remembered per stream: repeated lines then cost one dict lookup.
    cache_size: int = 100_000
    # Time bucket size for the per-pattern histogram (see bucket_ns_for_window).
    bucket_ns: int = 60 * _NS
    max_examples: int = 3
    max_label_values: int = 20
    # Labels that identify a stream; a miner per stream and part of each pattern id.
    stream_labels: tuple[str, ...] = ("namespace", "container")
    overrides: Overrides = field(default_factory=Overrides)


@dataclass(slots=True)
class _Stream:
    """One source stream: its identity, caches and the groups it created."""

    identity: str
    index: int
    raw_cache: dict[str, int] = field(default_factory=dict)
    # Message with every digit turned into 0 → group (see PatternMiner._group_for).
    shape_cache: dict[str, int] = field(default_factory=dict)
    masked_to_group: dict[str, int] = field(default_factory=dict)
    groups: list[int] = field(default_factory=list)


class _Groups:
    """Per-group counters, as parallel lists indexed by group number (cheap to update)."""

    def __init__(self) -> None:
        self.stream: list[int] = []
        self.key_tokens: list[tuple[str, ...]] = []
        self.display: list[str] = []
        self.counts: list[int] = []
        self.first: list[int] = []
        self.last: list[int] = []
        self.levels: list[dict[str, int]] = []
        self.buckets: list[dict[int, int]] = []
        self.examples: list[list[str]] = []
        self.labels: list[dict[str, set[str]]] = []
        self.last_labels: list[dict[str, str] | None] = []

    def new(self, stream: int, key: str, display: str) -> int:
        self.stream.append(stream)
        self.key_tokens.append(tokenize(key))
        self.display.append(display)
        self.counts.append(0)
        self.first.append(-1)
        self.last.append(-1)
        self.levels.append({})
        self.buckets.append({})
        self.examples.append([])
        self.labels.append({})
        self.last_labels.append(None)
        return len(self.counts) - 1


class PatternMiner:
    """Mine patterns from record batches; `pattern_set()` gives the result so far."""

    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self._masker = Masker(self.config.overrides.masks)
        # Default rules treat all digits alike; a user's regex might not.
        self._shape_cache_ok = not self.config.overrides.masks
        self._streams: list[_Stream] = []
        self._stream_index: dict[tuple[str, ...], int] = {}
        self._groups = _Groups()
        self._by_labels: dict[int, tuple[dict[str, str], _Stream]] = {}
        self._group_pattern: list[str] = []
        self._resolved_groups = -1

    # ---------------------------------------------------------------- hot path

    def add_batch(
        self, batch: Sequence[LogRecord], *, assignments: MutableSequence[int] | None = None
    ) -> None:
        """Count each record in its group; append each record's group number to `assignments`."""
        groups = self._groups
        counts, first, last = groups.counts, groups.first, groups.last
        levels, buckets, examples = groups.levels, groups.buckets, groups.examples
        max_examples = self.config.max_examples
        bucket_ns = self.config.bucket_ns
        last_labels: dict[str, str] | None = None
        stream: _Stream | None = None
        by_labels = self._by_labels
        for record in batch:
            labels = record.labels
            if labels is not last_labels or stream is None:
                seen = by_labels.get(id(labels))
                if seen is None or seen[0] is not labels:
                    seen = self._remember_labels(labels)
                stream = seen[1]
                last_labels = labels
            text = record.message or record.line
            group = stream.raw_cache.get(text)
            if group is None:
                group = self._group_for(stream, text)
            count = counts[group] = counts[group] + 1
            if assignments is not None:
                assignments.append(group)
            ts = record.ts
            if count == 1 or ts < first[group]:
                first[group] = ts
            if ts > last[group]:
                last[group] = ts
            level_counts = levels[group]
            level_counts[record.level] = level_counts.get(record.level, 0) + 1
            bucket_counts = buckets[group]
            bucket = ts // bucket_ns
            bucket_counts[bucket] = bucket_counts.get(bucket, 0) + 1
            if count <= max_examples:
                examples[group].append(record.line)
            if labels is not groups.last_labels[group]:
                self._note_labels(group, labels)

    def add_messages(
        self, messages: Iterable[str], *, assignments: MutableSequence[int] | None = None
    ) -> None:
        """Count plain messages (no labels, no time, no level): the benchmark's and `--format plain`'s path."""
        stream = self._stream_for({})
        cache = stream.raw_cache
        groups = self._groups
        counts, examples = groups.counts, groups.examples
        max_examples = self.config.max_examples
        for message in messages:
            group = cache.get(message)
            if group is None:
                group = self._group_for(stream, message)
            count = counts[group] = counts[group] + 1
            if count <= max_examples:
                examples[group].append(message)
            if assignments is not None:
                assignments.append(group)

    def _remember_labels(self, labels: dict[str, str]) -> tuple[dict[str, str], _Stream]:
        """Map a labels dict (shared by a stream's records) to its stream, by identity.

        The entry holds the dict itself, so its id cannot be reused while remembered.
        """
        if len(self._by_labels) >= _MAX_LABEL_DICTS:
            self._by_labels.clear()
        entry = (labels, self._stream_for(labels))
        self._by_labels[id(labels)] = entry
        return entry

    def _stream_for(self, labels: dict[str, str]) -> _Stream:
        key = tuple(labels.get(name, "") for name in self.config.stream_labels)
        index = self._stream_index.get(key)
        if index is None:
            identity = "/".join(key) if any(key) else ""
            index = len(self._streams)
            self._streams.append(_Stream(identity, index))
            self._stream_index[key] = index
        return self._streams[index]

    def _group_for(self, stream: _Stream, text: str) -> int:
        shape = text.translate(_DIGITS_TO_ZERO) if self._shape_cache_ok else ""
        group = stream.shape_cache.get(shape) if shape else None
        if group is None:
            group = self._mask_and_group(stream, text)
            # Lines alike but for their digits mask alike, unless a digit survives masking.
            if shape and not _DIGIT.search(self._groups.display[group]):
                stream.shape_cache[shape] = group
        cache = stream.raw_cache
        if len(cache) >= self.config.cache_size:
            cache.clear()
            stream.shape_cache.clear()
        cache[text] = group
        return group

    def _mask_and_group(self, stream: _Stream, text: str) -> int:
        masked = self._masker.mask(text)
        key = collapse_wildcard_runs(masked)
        group = stream.masked_to_group.get(key)
        if group is None:
            group = self._groups.new(stream.index, key, masked)
            stream.masked_to_group[key] = group
            stream.groups.append(group)
        elif self._groups.display[group] != masked and self._groups.display[group] != key:
            # Same event with a varying number of variable words: show the collapsed form.
            self._groups.display[group] = key
        return group

    def _note_labels(self, group: int, labels: dict[str, str]) -> None:
        self._groups.last_labels[group] = labels
        sets = self._groups.labels[group]
        cap = self.config.max_label_values
        for key in LABEL_KEYS:
            value = labels.get(key)
            if value:
                values = sets.setdefault(key, set())
                if len(values) < cap:
                    values.add(value)

    # ---------------------------------------------------------------- results

    @property
    def group_count(self) -> int:
        return len(self._groups.counts)

    def pattern_set(self) -> PatternSet:
        """Cluster the groups of every stream and build the patterns with their counts."""
        result = PatternSet(
            bucket_ns=self.config.bucket_ns,
            max_examples=self.config.max_examples,
            max_label_values=self.config.max_label_values,
        )
        self._group_pattern = [""] * self.group_count
        for stream in self._streams:
            for template, members in self._clusters(stream):
                pattern = self._pattern(stream.identity, template, members)
                result.add(pattern)
                for group in members:
                    self._group_pattern[group] = pattern.id
        self._resolved_groups = self.group_count
        return result

    def pattern_ids(self, assignments: Iterable[int]) -> list[str]:
        """Final pattern ids for group numbers collected by `add_batch(assignments=...)`."""
        if self._resolved_groups != self.group_count:
            self.pattern_set()
        group_pattern = self._group_pattern
        return [group_pattern[group] for group in assignments]

    def _pattern(self, source: str, template: str, members: list[int]) -> Pattern:
        groups = self._groups
        pid = pattern_id(source, template)
        pattern = Pattern(id=pid, template=template, source=source)
        pattern.name = self.config.overrides.name_for(pid, template)
        for group in sorted(members, key=lambda g: -groups.counts[g]):
            pattern.absorb(
                Pattern(
                    id=pid,
                    template=template,
                    count=groups.counts[group],
                    levels={str(k): v for k, v in groups.levels[group].items()},
                    buckets=groups.buckets[group],
                    first_seen_ns=groups.first[group] if groups.buckets[group] else None,
                    last_seen_ns=groups.last[group] if groups.buckets[group] else None,
                    labels=groups.labels[group],
                    examples=groups.examples[group],
                ),
                max_examples=self.config.max_examples,
                max_label_values=self.config.max_label_values,
            )
        if not pattern.levels and pattern.count:
            pattern.levels = {Level.UNKNOWN.value: pattern.count}
        return pattern

    def _clusters(self, stream: _Stream) -> list[tuple[str, list[int]]]:
        """Stage 2: merge the stream's groups into clusters; (template, member groups)."""
        groups = self._groups
        clusters: dict[tuple[str, ...], list[int]] = {}
        for group in stream.groups:
            clusters.setdefault(groups.key_tokens[group], []).append(group)
        clusters = merge_differing_words(clusters, self.config, groups.counts)
        if merge_compound_values(clusters, self.config):
            clusters = merge_differing_words(clusters, self.config, groups.counts)
        clusters = merge_empty_values(clusters)
        clusters = _apply_merge_rules(clusters, self.config.overrides)
        out = []
        for tokens, members in clusters.items():
            template = groups.display[members[0]] if len(members) == 1 else "".join(tokens)
            out.append((template, members))
        return out


def merge_differing_words(
    clusters: dict[tuple[str, ...], list[int]], config: MinerConfig, counts: list[int]
) -> dict[tuple[str, ...], list[int]]:
    """Merge clusters of equal length that differ in one word, until nothing changes."""
    split_rules = config.overrides.of(OverrideAction.SPLIT)
    changed = True
    while changed:
        changed = False
        by_length: dict[int, list[tuple[str, ...]]] = {}
        for tokens in clusters:
            by_length.setdefault(len(tokens), []).append(tokens)
        for length, templates in sorted(by_length.items()):
            if len(templates) < 2:
                continue
            for position in range(length):
                templates = _merge_at(clusters, templates, position, config, split_rules, counts)
                changed |= len(templates) != len(by_length[length])
                by_length[length] = templates
    return clusters


def _merge_at(
    clusters: dict[tuple[str, ...], list[int]],
    templates: list[tuple[str, ...]],
    position: int,
    config: MinerConfig,
    split_rules: tuple[PatternRule, ...],
    counts: list[int],
) -> list[tuple[str, ...]]:
    """Merge the templates that differ only at `position`; the templates of this length after."""
    if len({tokens[position] for tokens in templates}) < 2:
        return templates
    by_rest: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for tokens in templates:
        if is_word(tokens[position]):
            by_rest.setdefault(tokens[:position] + tokens[position + 1 :], []).append(tokens)
    removed: set[tuple[str, ...]] = set()
    added: list[tuple[str, ...]] = []
    for rest, members in by_rest.items():
        if len(members) < 2:
            continue
        words = {tokens[position] for tokens in members}
        if WILDCARD not in words and not _looks_variable(
            words, position, members, clusters, counts, config
        ):
            continue
        merged = tokenize(
            collapse_wildcard_runs("".join((*rest[:position], WILDCARD, *rest[position:])))
        )
        if _constant_share(merged) < config.min_constant_share:
            continue
        if any(rule.matches("".join(merged)) for rule in split_rules):
            continue
        if merged not in clusters:
            clusters[merged] = []
            added.append(merged)
        target = clusters[merged]
        for tokens in members:
            if tokens != merged:
                target.extend(clusters.pop(tokens))
                removed.add(tokens)
    if not removed:
        return templates
    length = len(templates[0])
    kept = [tokens for tokens in templates if tokens not in removed]
    return kept + [tokens for tokens in added if len(tokens) == length]


def merge_compound_values(clusters: dict[tuple[str, ...], list[int]], config: MinerConfig) -> bool:
    """`synchronized to LOCAL(<*>)` joins `synchronized to <*>`; whether anything merged.

    A span holding a variable (`LOCAL(<*>)`, `WorkSource{<*>}`, `host:<*>`) is one value
    where another cluster, alike but for such spans, has a bare `<*>` in that place.
    """
    by_coarse: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
    for tokens in clusters:
        template = "".join(tokens)
        if WILDCARD not in template:
            continue
        spans = _VALUE_SPAN.split(template)
        coarse = "".join(
            _coarse_span(span) if index % 2 else span for index, span in enumerate(spans)
        )
        by_coarse.setdefault(coarse, []).append((tokens, spans[1::2]))
    split_rules = config.overrides.of(OverrideAction.SPLIT)
    merged_any = False
    for coarse, members in by_coarse.items():
        if len(members) < 2 or not _bare_where_differing([spans for _, spans in members]):
            continue
        if any(rule.matches(coarse) for rule in split_rules):
            continue
        target_key = tokenize(coarse)
        if _constant_share(target_key) < config.min_constant_share:
            continue
        target = clusters.setdefault(target_key, [])
        for tokens, _ in members:
            if tokens != target_key:
                target.extend(clusters.pop(tokens))
        merged_any = True
    return merged_any


def _coarse_span(span: str) -> str:
    """A span holding a variable becomes `<*>`, keeping a trailing `.` or `:`."""
    if WILDCARD not in span:
        return span
    return WILDCARD + span[len(span.rstrip(".:")) :]


def _bare_where_differing(span_lists: list[list[str]]) -> bool:
    """Where the members' spans differ, one of them is a bare `<*>` (plus `.` or `:`)."""
    for spans in zip(*span_lists, strict=True):
        if len(set(spans)) > 1 and not any(span.rstrip(".:") == WILDCARD for span in spans):
            return False
    return True


def merge_empty_values(
    clusters: dict[tuple[str, ...], list[int]],
) -> dict[tuple[str, ...], list[int]]:
    """`from <*> () at` joins `from <*> (<*>) at`: a variable that was empty in some lines."""
    for tokens in sorted(clusters, key=len, reverse=True):
        if tokens not in clusters:
            continue
        for position, token in enumerate(tokens):
            if token == WILDCARD:
                shorter = tokens[:position] + tokens[position + 1 :]
                if shorter in clusters and shorter != tokens:
                    clusters[tokens].extend(clusters.pop(shorter))
    return clusters


def _looks_variable(
    words: set[str],
    position: int,
    members: list[tuple[str, ...]],
    clusters: dict[tuple[str, ...], list[int]],
    counts: list[int],
    config: MinerConfig,
) -> bool:
    """Many distinct words, each seen a few times: a variable. Few, each seen often: events."""
    if len(words) < config.merge_min_values:
        return False
    if len(words) >= config.always_merge_values:
        return True
    if sum(1 for word in words if _STATE_WORD.fullmatch(word)) * 2 >= len(words):
        return False
    if all(_NUMBERED_NAME.fullmatch(word) for word in words) and not _one_family(words):
        return False
    per_word: dict[str, int] = {}
    for tokens in members:
        word = tokens[position]
        per_word[word] = per_word.get(word, 0) + sum(counts[g] for g in clusters[tokens])
    return statistics.median(per_word.values()) <= config.max_lines_per_value


def _one_family(words: set[str]) -> bool:
    """Names of one family share a stem: eth0 / eth1, aadmin1 / badmin1; not ee0 / alt0."""
    return max(_shared_start(words), _shared_start({w[::-1] for w in words})) >= _FAMILY_STEM


def _shared_start(words: set[str]) -> int:
    """Length of the start that all words share."""
    first, last = min(words), max(words)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return size


def _constant_share(tokens: tuple[str, ...]) -> float:
    words = [token for token in tokens if is_word(token)]
    constants = sum(1 for token in words if WILDCARD not in token)
    return constants / len(words) if words else 0.0


def _apply_merge_rules(
    clusters: dict[tuple[str, ...], list[int]], overrides: Overrides
) -> dict[tuple[str, ...], list[int]]:
    rules = overrides.of(OverrideAction.MERGE)
    if not rules:
        return clusters
    out: dict[tuple[str, ...], list[int]] = {}
    for tokens, members in clusters.items():
        template = "".join(tokens)
        rule = next((r for r in rules if r.matches(template)), None)
        key = tokenize(rule.template) if rule is not None and rule.template else tokens
        out.setdefault(key, []).extend(members)
    return out


def mine_messages(
    messages: Iterable[str], config: MinerConfig | None = None
) -> tuple[PatternSet, list[str]]:
    """Mine plain messages; the pattern set and each message's pattern id, in input order."""
    miner = PatternMiner(config)
    assignments: list[int] = []
    miner.add_messages(messages, assignments=assignments)
    pattern_set = miner.pattern_set()
    return pattern_set, miner.pattern_ids(assignments)
