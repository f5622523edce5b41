"""Classify each (pattern, level) slice and attach its anomaly signals: triage's input.

Classification runs once per slice on a real example record (its parsed message,
level, labels and attributes), so its cost does not grow with the window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

from loglens.analysis.slices import Slice
from loglens.detect.classify import LineClass, classify_message
from loglens.detect.signals import Signal, error_rate_rising, is_burst, novelty, robust_spike
from loglens.model import LEVEL_ORDER, Level
from loglens.parsing.redact import default_redactor
from loglens.patterns.patternset import Pattern, PatternSet
from loglens.triage.rank import Assessment, Example, PatternFacts

ERROR_LEVELS = frozenset({Level.ERROR, Level.FATAL})

# Last sighting before the window per pattern id (None: never seen), from the history store.
LastSeen = Callable[[str], int | None]


def _facts(pattern: Pattern, level: Level, part: Slice) -> PatternFacts:
    redact = default_redactor().redact
    return PatternFacts(
        id=pattern.id,
        template=redact(pattern.template),
        count=part.count,
        level=level,
        first_ts=part.first_ts,
        last_ts=part.last_ts,
        examples=[Example(r.ts, r.labels, redact(r.line)) for r in part.examples],
        labels={key: sorted(values) for key, values in pattern.labels.items()},
    )


def _explanation(verdict: LineClass) -> tuple[str | None, str | None]:
    """Title and root cause: the signature's, naming the upstream when a call to one failed."""
    signature = verdict.signature
    title = signature.title if signature else None
    root_cause = signature.root_cause if signature else None
    if verdict.upstream is None:
        return title, root_cause
    what = verdict.upstream.replace("_", "-")
    title = f"{what} unavailable" + (f": {title}" if title else "")
    lead = f"Calls to the upstream dependency {what} fail (connection refused or errors)."
    return title, f"{lead} {root_cause}" if root_cause else lead


def _pattern_signals(
    pattern: Pattern,
    part: Slice,
    *,
    window_start_ns: int,
    window_span_ns: int,
    bucket_range: range,
    last_seen: LastSeen | None,
) -> list[Signal]:
    signals: list[Signal] = []
    if last_seen is not None:
        seen = novelty(last_seen(pattern.id), window_start_ns)
        if seen is not None:
            signals.append(seen)
    buckets = [pattern.buckets.get(b, 0) for b in bucket_range]
    if robust_spike(buckets) is not None:
        signals.append(Signal.SPIKE)
    if is_burst(part.count, part.first_ts, part.last_ts, window_span_ns):
        signals.append(Signal.BURST)
    return signals


def assess_slices(
    pattern_set: PatternSet,
    slices: Mapping[tuple[str, Level], Slice],
    *,
    window_start_ns: int,
    window_end_ns: int,
    last_seen: LastSeen | None = None,
) -> list[Assessment]:
    """One assessment per slice, with classification and signals."""
    span = max(window_end_ns - window_start_ns, 1)
    bucket_ns = pattern_set.bucket_ns
    bucket_range = range(window_start_ns // bucket_ns, window_end_ns // bucket_ns + 1)
    assessments: list[Assessment] = []
    error_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(bucket_range))
    for (pid, level), part in slices.items():
        pattern = pattern_set.get(pid)
        if pattern is None:
            continue
        head = part.examples[0]
        verdict = classify_message(head.message or head.line, level, head.labels, head.attrs)
        signature = verdict.signature
        title, root_cause = _explanation(verdict)
        assessment = Assessment(
            facts=_facts(pattern, level, part),
            severity=verdict.severity,
            category=verdict.category,
            component=verdict.component or "unknown",
            signature_id=signature.id if signature else None,
            title=title,
            root_cause=root_cause,
            action=signature.action if signature else None,
            causes=signature.causes if signature else (),
            caused_by=signature.caused_by if signature else (),
            benign=verdict.benign,
            component_source=verdict.component_source,
        )
        if assessment.is_problem or LEVEL_ORDER[level] >= LEVEL_ORDER[Level.WARN]:
            assessment.signals = _pattern_signals(
                pattern,
                part,
                window_start_ns=window_start_ns,
                window_span_ns=span,
                bucket_range=bucket_range,
                last_seen=last_seen,
            )
        if level in ERROR_LEVELS and len(pattern.levels) == 1:
            component_buckets = error_buckets[assessment.component]
            for index, bucket in enumerate(bucket_range):
                component_buckets[index] += pattern.buckets.get(bucket, 0)
        assessments.append(assessment)
    rising = error_rate_rising(error_buckets)
    for assessment in assessments:
        if assessment.component in rising and assessment.is_problem:
            assessment.signals.append(Signal.ERROR_RATE_UP)
    return assessments
