"""`compare(before, after) -> Diff`: what changed between two windows.

Both windows go through one miner, so a pattern has the same id and template on
both sides. Each pattern's counts are then compared as rates with
`detect.rates.compare_rates` (significant *and* large), and findings are ranked per
side: those whose fingerprint appears only in the later window are reported.

Each heading lists changes, not raw patterns: patterns that belong to one problem
(one finding of the side where they occur, or findings triage judged to be its
symptoms) and changed the same way are one entry, led by the problem's own pattern,
with the others under `related` and a line of each among its examples. An incident
that starts is one "new" entry, not a dozen (OOM kill, back-offs, probe failures,
503s at the gateway).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from loglens.analysis.analyze import feed_source, miner_for
from loglens.analysis.assess import assess_slices
from loglens.analysis.enrich import TokenCallback, enrich_diff
from loglens.analysis.pipeline import StageTimer, WindowCounters
from loglens.analysis.slices import Slice, SliceTracker
from loglens.analysis.summary import summarize_diff
from loglens.config import Settings
from loglens.detect.rates import Change, RateChange, compare_rates
from loglens.model import (
    SEVERITY_ORDER,
    Diff,
    DiffPattern,
    DiffSide,
    Finding,
    Level,
    LogRecord,
    Severity,
    SourceInfo,
    Stats,
    Window,
    format_ts,
)
from loglens.parsing.redact import default_redactor
from loglens.patterns.patternset import PatternSet
from loglens.sources.base import LogSource
from loglens.sources.memory import RecordsSource
from loglens.sources.window import TimeWindow
from loglens.triage.rank import Assessment, rank_findings

MAX_DIFF_EXAMPLES = 3
# An error that stops counts as gone when its old rate predicted at least this many.
MIN_EXPECTED_GONE = 3.0
MAX_RELATED_EXAMPLES = 8
MAX_PER_HEADING = 100


@dataclass(slots=True)
class _Side:
    source: LogSource
    window: TimeWindow | None
    slices: dict[tuple[str, Level], Slice]
    counters: WindowCounters
    timer: StageTimer
    by_pattern: dict[str, list[tuple[Level, Slice]]] = field(default_factory=dict)

    @property
    def bounds(self) -> tuple[int, int]:
        if self.window is not None:
            return self.window.start_ns, self.window.end_ns
        first = self.counters.first_ts or 0
        last = self.counters.last_ts if self.counters.last_ts is not None else first
        return first, last + 1

    @property
    def seconds(self) -> float:
        start, end = self.bounds
        return max((end - start) / 1e9, 1.0)

    def __post_init__(self) -> None:
        # Each pattern's slices, indexed once: the lookups below run for every pattern.
        for (pid, level), part in self.slices.items():
            self.by_pattern.setdefault(pid, []).append((level, part))

    def counts(self) -> dict[str, int]:
        return {pid: sum(part.count for _, part in parts) for pid, parts in self.by_pattern.items()}

    def examples(self, pid: str) -> list[str]:
        redact = default_redactor().redact
        lines = [redact(r.line) for _, part in self.by_pattern.get(pid, ()) for r in part.examples]
        return lines[:MAX_DIFF_EXAMPLES]

    def to_model(self, pattern_count: int) -> DiffSide:
        start, end = self.bounds
        stats = self.source.stats
        window = (
            self.window.to_model()
            if self.window is not None
            else Window(start=format_ts(start), end=format_ts(end - 1))
        )
        return DiffSide(
            window=window,
            stats=Stats(
                lines=stats.lines,
                bytes=stats.bytes,
                patterns=pattern_count,
                skipped=stats.skipped,
                outside_window=self.counters.outside_window,
                formats=dict(stats.formats),
                levels=dict(stats.levels),
                stage_ms=self.timer.as_ms(),
            ),
        )


def _heading(
    change: RateChange,
    n_before: int,
    n_after: int,
    urgency: Severity | None,
    *,
    after_share: float = 1.0,
) -> RateChange:
    """Where a pattern goes: problem patterns appear and vanish; ordinary lines only change rate.

    Info lines starting or stopping (a job, a request type) are ordinary churn, so only
    patterns that report a problem (`urgency` not None) are listed as new or gone. An
    error that never occurred before is new however rare: one OOM kill is news. An
    error that stops is gone once its old rate would have shown it at least
    `MIN_EXPECTED_GONE` times in the later window (`after_share`: after/before length).
    """
    if change.change in (Change.NEW, Change.GONE) and urgency is None:
        return replace(change, change=Change.UNCHANGED)
    if change.change is not Change.UNCHANGED or urgency is None:
        return change
    if SEVERITY_ORDER[urgency] < SEVERITY_ORDER[Severity.ERROR]:
        return change
    if n_before == 0 and n_after > 0:
        return replace(change, change=Change.NEW)
    if n_after == 0 and n_before * after_share >= MIN_EXPECTED_GONE:
        return replace(change, change=Change.GONE)
    return change


def _root_of(finding: Finding, by_print: dict[str, Finding], present: set[str]) -> Finding:
    """The most basic cause of `finding` that changed too (follows `symptom_of`)."""
    seen = {finding.fingerprint}
    while True:
        causes = [
            by_print[fp]
            for fp in finding.symptom_of
            if fp in by_print and fp in present and fp not in seen
        ]
        if not causes:
            return finding
        finding = min(causes, key=lambda f: f.rank)
        seen.add(finding.fingerprint)


def fold_by_problem(entries: list[DiffPattern], findings: list[Finding]) -> list[DiffPattern]:
    """One entry per problem: patterns of a finding and of its symptoms fold into its lead."""
    finding_of = {pid: f for f in findings for pid in f.patterns}
    by_print = {f.fingerprint: f for f in findings}
    present = {finding_of[e.id].fingerprint for e in entries if e.id in finding_of}
    folds: dict[str, list[DiffPattern]] = {}
    order: list[str] = []
    for entry in entries:
        finding = finding_of.get(entry.id)
        key = (
            "f:" + _root_of(finding, by_print, present).fingerprint
            if finding is not None
            else "p:" + entry.id
        )
        if key not in folds:
            folds[key] = []
            order.append(key)
        folds[key].append(entry)
    return [_folded(folds[key], by_print.get(key[2:])) for key in order]


def _folded(entries: list[DiffPattern], root: Finding | None) -> DiffPattern:
    """The root finding's own pattern leads; the rest become `related`."""
    if len(entries) == 1:
        return entries[0]
    rank = {pid: i for i, pid in enumerate(root.patterns)} if root is not None else {}
    ordered = sorted(entries, key=lambda e: rank.get(e.id, len(rank)))
    lead, rest = ordered[0], ordered[1:]
    examples = list(lead.examples)
    for other in rest[:MAX_RELATED_EXAMPLES]:
        examples.extend(other.examples[:1])
    related = [other.model_copy(update={"examples": other.examples[:1]}) for other in rest]
    return lead.model_copy(update={"examples": examples, "related": related})


def _busier(change: Change, before: _Side, after: _Side) -> _Side:
    """The side whose lines show the change: after for new/increased, before otherwise."""
    return after if change in (Change.NEW, Change.INCREASED) else before


def _assess(side: _Side, pattern_set: PatternSet) -> list[Assessment]:
    start, end = side.bounds
    return assess_slices(pattern_set, side.slices, window_start_ns=start, window_end_ns=end)


def _urgencies(assessments: list[Assessment]) -> dict[str, Severity]:
    """Per pattern id, the severity of its most urgent problem slice (absent: none is one)."""
    worst: dict[str, Severity] = {}
    for assessment in assessments:
        if not assessment.is_problem:
            continue
        pid, severity = assessment.facts.id, assessment.severity
        if pid not in worst or SEVERITY_ORDER[severity] > SEVERITY_ORDER[worst[pid]]:
            worst[pid] = severity
    return worst


def _findings(side: _Side, assessments: list[Assessment], settings: Settings) -> list[Finding]:
    start, end = side.bounds
    return rank_findings(
        assessments, window_span_ns=end - start, max_findings=settings.max_findings
    )


def compare(
    before: LogSource,
    after: LogSource,
    *,
    settings: Settings,
    before_window: TimeWindow | None = None,
    after_window: TimeWindow | None = None,
    on_summary_token: TokenCallback | None = None,
) -> Diff:
    """Patterns new, gone, increased and decreased (as rates), and findings new in `after`.

    With an LLM configured, it writes the summary (`enrich_diff`), streamed to
    `on_summary_token`; otherwise the deterministic one stays.
    """
    window_for_buckets = after_window or before_window
    miner = miner_for(settings, window_for_buckets)
    fed: list[tuple[LogSource, TimeWindow | None, SliceTracker, WindowCounters, StageTimer]] = []
    for source, window in ((before, before_window), (after, after_window)):
        tracker, counters, timer = feed_source(source, miner, window=window)
        fed.append((source, window, tracker, counters, timer))
    pattern_set = miner.pattern_set()
    group_ids = miner.pattern_ids(range(miner.group_count))
    sides = [
        _Side(source, window, tracker.by_pattern(group_ids), counters, timer)
        for source, window, tracker, counters, timer in fed
    ]
    side_before, side_after = sides
    counts_before, counts_after = side_before.counts(), side_after.counts()
    assessed_before = _assess(side_before, pattern_set)
    assessed_after = _assess(side_after, pattern_set)
    urgent_before, urgent_after = _urgencies(assessed_before), _urgencies(assessed_after)
    diff = Diff(
        before=side_before.to_model(len(counts_before)),
        after=side_after.to_model(len(counts_after)),
    )
    for pattern in pattern_set.patterns:
        n_before, n_after = counts_before.get(pattern.id, 0), counts_after.get(pattern.id, 0)
        if n_before == 0 and n_after == 0:
            continue
        newer = urgent_after if n_after else urgent_before
        change = _heading(
            compare_rates(n_before, n_after, side_before.seconds, side_after.seconds),
            n_before,
            n_after,
            newer.get(pattern.id),
            after_share=side_after.seconds / side_before.seconds,
        )
        if change.change is Change.UNCHANGED:
            continue
        entry = DiffPattern(
            id=pattern.id,
            template=default_redactor().redact(pattern.template),
            count=n_after if change.change is not Change.GONE else n_before,
            before=n_before,
            after=n_after,
            ratio=round(change.ratio, 3) if change.ratio is not None else None,
            p_value=change.p_value,
            examples=_busier(change.change, side_before, side_after).examples(pattern.id),
        )
        heading: list[DiffPattern] = getattr(diff, change.change.value)
        heading.append(entry)
    findings_before = _findings(side_before, assessed_before, settings)
    findings_after = _findings(side_after, assessed_after, settings)
    for name, findings in (
        ("new", findings_after),
        ("increased", findings_after),
        ("gone", findings_before),
        ("decreased", findings_before),
    ):
        folded = fold_by_problem(getattr(diff, name), findings)
        setattr(diff, name, folded[:MAX_PER_HEADING])
    before_prints = {f.fingerprint for f in findings_before}
    diff.findings = [
        finding.model_copy(update={"rank": rank})
        for rank, finding in enumerate(
            (f for f in findings_after if f.fingerprint not in before_prints),
            start=1,
        )
    ]
    diff.summary = summarize_diff(diff)
    enrich_diff(diff, settings=settings, on_summary_token=on_summary_token)
    return diff


def compare_records(
    before: Iterable[LogRecord],
    after: Iterable[LogRecord],
    *,
    settings: Settings,
    before_window: TimeWindow | None = None,
    after_window: TimeWindow | None = None,
    on_summary_token: TokenCallback | None = None,
) -> Diff:
    """`compare` over records already in memory (golden cases, API bodies)."""
    return compare(
        RecordsSource(before, info=SourceInfo(kind="inline", detail="before")),
        RecordsSource(after, info=SourceInfo(kind="inline", detail="after")),
        settings=settings,
        before_window=before_window,
        after_window=after_window,
        on_summary_token=on_summary_token,
    )
