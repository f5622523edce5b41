"""Score golden cases against what loglens reported, and aggregate the scores.

Pure functions: no I/O, no clock. The definitions, precisely:

Matching findings. A reported finding *matches* an expected one when the category
is equal and, if the case gives a component, the normalised reported component
(lower case, runs of non-alphanumerics → `_`, leading/trailing `_` dropped) equals
the normalised expected component or one of its `component_aliases`. Reported
findings are taken in rank order (ties in `rank` keep list order). Expected and
reported findings are paired one-to-one by a maximum matching (augmenting paths,
expected in rank order, each trying reported in rank order): every expected
finding gets the highest-ranked match that leaves no other expected finding
unmatched.

Per case with a non-empty expected `findings` list (analyze, or compare when given):
- `severity_accuracy` / `category_accuracy` / `component_accuracy`: the first
  reported finding has the first expected finding's severity / category /
  component (component only scored when the case gives one). No finding = wrong.
- `top1`: the first reported finding matches the first expected finding.
- `recall_at_3`: fraction of expected findings matched among the first 3 reported.
- `keyword_recall`: over all expected keywords of the case, the fraction found
  (case-insensitive) in title + root_cause + action of the expected finding's
  match among all reported findings; an unmatched finding finds none.
- `evidence_hit_rate`: over all expected evidence substrings, the fraction
  contained (case-sensitive) in at least one evidence line of the match.
- `summary_fact_recall` (analyze): fraction of `summary_facts` with an alternative
  in the report's summary (case-insensitive); no summary = none present.
Per case with an expected empty `findings` list: `false_alarm_rate` is 1 when any
reported finding has severity error or critical, else 0.
Compare headings (`new`, `gone`, `increased`, `decreased`): a pattern contains a
substring when its template or one of its examples does (case-sensitive).
- `compare_recall`: fraction of expected substrings contained by a pattern under
  their heading and by no pattern under another heading.
- `compare_precision`: over the patterns reported under the headings the case
  names (a heading given as `[]` counts; an absent heading is not scored), the
  fraction that contain an expected substring of their own heading. Undefined
  (null) when no pattern is reported under those headings.
LLM (cases whose report or diff ran the LLM step): `schema_valid_rate` is the
share of the model's extraction answers (repairs included) that passed schema
validation; `fallback_rate` is 1 when the step recorded a fallback reason (a
finding or the summary kept the rules answer, or the backend failed), else 0;
`llm_tokens_per_s` is the step's generated tokens per second of generation;
`llm_latency_p50_ms`/`p95` are quantiles of the step's wall time per case.
Line cases: `line_severity_accuracy`, `line_category_accuracy` and
`line_component_accuracy` compare the first classification with the case (category
and component only when given; no classification = wrong).

A case passes when: findings — the top reported finding matches the first
expected one and has its severity, and recall@3 is 1; benign — no false alarm;
compare — compare_recall is 1 (plus the findings rule when findings are given);
line — every given field is right. Dataset metrics are the mean of the per-case
values over the cases a metric applies to (null when none); latency quantiles
interpolate linearly between order statistics.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from loglens.evaluation.golden import (
    COMPARE_HEADINGS,
    AnalyzeCase,
    CompareCase,
    ExpectedFinding,
    LineCase,
)
from loglens.evaluation.results import (
    LATENCY_METRICS,
    LLM_LATENCY_METRICS,
    METRIC_NAMES,
    CaseOutcome,
    CaseScore,
    EvalMetrics,
    Metrics,
)
from loglens.model import Classification, Diff, DiffPattern, Finding, LlmInfo, Report

NO_SEVERITY = "none"
ALARM_SEVERITIES = frozenset({"error", "critical"})
SEVERITY_LABELS: tuple[str, ...] = (NO_SEVERITY, "info", "warn", "error", "critical")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


# --- findings -------------------------------------------------------------------------


def normalise_component(text: str) -> str:
    """`Kube-APIServer` → `kube_apiserver`, `llama.cpp` → `llama_cpp`."""
    return _NON_ALNUM.sub("_", text.lower()).strip("_")


def component_matches(expected: ExpectedFinding, component: str | None) -> bool:
    """True when the case gives no component, or `component` is it or one of its aliases."""
    if expected.component is None:
        return True
    if component is None:
        return False
    accepted = {normalise_component(c) for c in (expected.component, *expected.component_aliases)}
    return normalise_component(component) in accepted


def finding_matches(expected: ExpectedFinding, reported: Finding) -> bool:
    return str(reported.category) == str(expected.category) and component_matches(
        expected, reported.component
    )


def ranked(reported: Sequence[Finding]) -> list[Finding]:
    """Reported findings by rank; findings of equal rank keep their list order."""
    return sorted(reported, key=lambda finding: finding.rank)


def match_findings(
    expected: Sequence[ExpectedFinding], reported: Sequence[Finding], *, limit: int | None = None
) -> list[Finding | None]:
    """For each expected finding, its one-to-one match among the first `limit` reported."""
    candidates = ranked(reported)[:limit]
    owner: dict[int, int] = {}  # candidate index → expected index

    def assign(e: int, visited: set[int]) -> bool:
        for r, finding in enumerate(candidates):
            if r in visited or not finding_matches(expected[e], finding):
                continue
            visited.add(r)
            if r not in owner or assign(owner[r], visited):
                owner[r] = e
                return True
        return False

    for e in range(len(expected)):
        assign(e, set())
    matches: list[Finding | None] = [None] * len(expected)
    for r, e in owner.items():
        matches[e] = candidates[r]
    return matches


def top1(expected: Sequence[ExpectedFinding], reported: Sequence[Finding]) -> float:
    ordered = ranked(reported)
    return float(bool(expected and ordered and finding_matches(expected[0], ordered[0])))


def recall_at_k(
    expected: Sequence[ExpectedFinding], reported: Sequence[Finding], k: int = 3
) -> float:
    matches = match_findings(expected, reported, limit=k)
    return sum(m is not None for m in matches) / len(expected)


def keyword_recall(
    expected: Sequence[ExpectedFinding], reported: Sequence[Finding]
) -> float | None:
    total = sum(len(e.keywords) for e in expected)
    if total == 0:
        return None
    found = 0
    for exp, match in zip(expected, match_findings(expected, reported), strict=True):
        if match is not None:
            text = f"{match.title} {match.root_cause} {match.action}".lower()
            found += sum(keyword.lower() in text for keyword in exp.keywords)
    return found / total


def evidence_hit_rate(
    expected: Sequence[ExpectedFinding], reported: Sequence[Finding]
) -> float | None:
    total = sum(len(e.evidence) for e in expected)
    if total == 0:
        return None
    hits = 0
    for exp, match in zip(expected, match_findings(expected, reported), strict=True):
        if match is not None:
            lines = [evidence.line for evidence in match.evidence]
            hits += sum(any(wanted in line for line in lines) for wanted in exp.evidence)
    return hits / total


def summary_fact_recall(facts: Sequence[Sequence[str]], summary: str | None) -> float | None:
    if not facts:
        return None
    text = (summary or "").lower()
    return sum(any(alt.lower() in text for alt in fact) for fact in facts) / len(facts)


def is_false_alarm(reported: Iterable[Finding]) -> bool:
    return any(str(finding.severity) in ALARM_SEVERITIES for finding in reported)


def finding_scores(expected: Sequence[ExpectedFinding], reported: Sequence[Finding]) -> CaseScore:
    """Scores of a case that expects `expected` findings (empty: a benign case)."""
    ordered = ranked(reported)
    first = ordered[0] if ordered else None
    got = _describe_findings(ordered[:3])
    if not expected:
        alarm = is_false_alarm(ordered)
        return CaseScore(
            passed=not alarm,
            scores={"false_alarm_rate": float(alarm)},
            expected_severity=NO_SEVERITY,
            got_severity=str(first.severity) if first else NO_SEVERITY,
            expected="no finding of severity error or critical",
            got=got,
        )
    want = expected[0]
    scores = {
        "severity_accuracy": float(first is not None and str(first.severity) == str(want.severity)),
        "category_accuracy": float(first is not None and str(first.category) == str(want.category)),
        "top1": top1(expected, ordered),
        "recall_at_3": recall_at_k(expected, ordered, 3),
    }
    if want.component is not None:
        scores["component_accuracy"] = float(
            first is not None and component_matches(want, first.component)
        )
    _add_optional(scores, "keyword_recall", keyword_recall(expected, ordered))
    _add_optional(scores, "evidence_hit_rate", evidence_hit_rate(expected, ordered))
    passed = (
        scores["top1"] == 1.0 and scores["severity_accuracy"] == 1.0 and scores["recall_at_3"] == 1
    )
    return CaseScore(
        passed=passed,
        scores=scores,
        expected_severity=str(want.severity),
        got_severity=str(first.severity) if first else NO_SEVERITY,
        expected=_describe_expected(expected),
        got=got,
    )


def _add_optional(scores: dict[str, float], name: str, value: float | None) -> None:
    if value is not None:
        scores[name] = value


def _describe_expected(expected: Sequence[ExpectedFinding]) -> str:
    parts = [f"{e.severity}/{e.category}/{e.component or '*'}" for e in expected]
    return ", ".join(parts)


def _describe_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    return ", ".join(
        f"{f.severity}/{f.category}/{normalise_component(f.component)}" for f in findings
    )


# --- compare --------------------------------------------------------------------------


def pattern_contains(pattern: DiffPattern, substring: str) -> bool:
    return substring in pattern.template or any(substring in ex for ex in pattern.examples)


def compare_recall(headings: dict[str, tuple[str, ...]], diff: Diff) -> float | None:
    total = sum(len(substrings) for substrings in headings.values())
    if total == 0:
        return None
    found = sum(
        _placed_right(diff, heading, substring)
        for heading, substrings in headings.items()
        for substring in substrings
    )
    return found / total


def compare_precision(headings: dict[str, tuple[str, ...]], diff: Diff) -> float | None:
    scored = [(heading, p) for heading in headings for p in _reported(diff, heading)]
    if not scored:
        return None
    good = sum(any(pattern_contains(p, s) for s in headings[heading]) for heading, p in scored)
    return good / len(scored)


def _reported(diff: Diff, heading: str) -> list[DiffPattern]:
    patterns: list[DiffPattern] = getattr(diff, heading)
    return patterns


def _headings_containing(diff: Diff, substring: str) -> list[str]:
    return [
        heading
        for heading in COMPARE_HEADINGS
        if any(pattern_contains(p, substring) for p in _reported(diff, heading))
    ]


def _placed_right(diff: Diff, heading: str, substring: str) -> bool:
    return _headings_containing(diff, substring) == [heading]


def compare_case_scores(case: CompareCase, diff: Diff) -> CaseScore:
    recall = compare_recall(case.headings, diff)
    precision = compare_precision(case.headings, diff)
    score = (
        finding_scores(case.findings, diff.findings)
        if case.findings is not None
        else CaseScore(passed=True)
    )
    scores = dict(score.scores)
    _add_optional(scores, "compare_recall", recall)
    _add_optional(scores, "compare_precision", precision)
    expected = "; ".join(f"{h}: {', '.join(map(repr, subs))}" for h, subs in case.headings.items())
    got = "; ".join(
        f"{s!r} under {'/'.join(_headings_containing(diff, s)) or 'nothing'}"
        for subs in case.headings.values()
        for s in subs
    )
    if case.findings is not None:
        expected, got = f"{expected} | {score.expected}", f"{got} | {score.got}"
    return score.model_copy(
        update={
            "passed": score.passed and recall in (None, 1.0),
            "scores": scores,
            "expected": expected,
            "got": got,
        }
    )


# --- per case -------------------------------------------------------------------------


def analyze_case_scores(case: AnalyzeCase, report: Report) -> CaseScore:
    score = finding_scores(case.findings, report.findings)
    fact_recall = summary_fact_recall(case.summary_facts, report.summary)
    if fact_recall is None:
        return score
    return score.model_copy(update={"scores": {**score.scores, "summary_fact_recall": fact_recall}})


def line_case_scores(case: LineCase, classifications: Sequence[Classification]) -> CaseScore:
    got = classifications[0] if classifications else None
    scores = {"line_severity_accuracy": float(got is not None and got.severity == case.severity)}
    if case.category is not None:
        scores["line_category_accuracy"] = float(got is not None and got.category == case.category)
    if case.component is not None:
        wanted = normalise_component(case.component)
        matched = got is not None and normalise_component(got.component or "") == wanted
        scores["line_component_accuracy"] = float(matched)
    return CaseScore(
        passed=all(value == 1.0 for value in scores.values()),
        scores=scores,
        expected_severity=str(case.severity),
        got_severity=str(got.severity) if got else NO_SEVERITY,
        expected=f"{case.severity}/{case.category or '*'}/{case.component or '*'}",
        got=f"{got.severity}/{got.category}/{got.component or '-'}" if got else "no classification",
    )


def llm_case_scores(llm: LlmInfo) -> dict[str, float]:
    """Per-case LLM figures; empty when the LLM step did not run (backend none)."""
    if llm.backend == "none":
        return {}
    scores = {"fallback_rate": float(llm.fallback_reason is not None)}
    if llm.answers:
        scores["schema_valid_rate"] = llm.answers_valid / llm.answers
    if llm.tokens_per_s is not None:
        scores["llm_tokens_per_s"] = llm.tokens_per_s
    return scores


# --- aggregation ----------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean_metrics(outcomes: Sequence[CaseOutcome]) -> Metrics:
    """Every metric name → mean of the per-case values (null where no case has one)."""
    sums: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        for name, value in outcome.scores.items():
            sums[name] += value
            counts[name] += 1
    metrics: Metrics = {
        name: (sums[name] / counts[name] if counts[name] else None) for name in METRIC_NAMES
    }
    metrics["pass_rate"] = sum(o.passed for o in outcomes) / len(outcomes) if outcomes else None
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    p50, p95 = LATENCY_METRICS
    metrics[p50] = quantile(latencies, 0.50)
    metrics[p95] = quantile(latencies, 0.95)
    llm_latencies = [o.llm_latency_ms for o in outcomes if o.llm_latency_ms is not None]
    llm_p50, llm_p95 = LLM_LATENCY_METRICS
    metrics[llm_p50] = quantile(llm_latencies, 0.50)
    metrics[llm_p95] = quantile(llm_latencies, 0.95)
    return metrics


def confusion_matrix(outcomes: Iterable[CaseOutcome]) -> dict[str, dict[str, int]]:
    """expected severity → reported severity → number of cases (every label present)."""
    matrix = {want: dict.fromkeys(SEVERITY_LABELS, 0) for want in SEVERITY_LABELS}
    for outcome in outcomes:
        if outcome.expected_severity is not None and outcome.got_severity is not None:
            matrix[outcome.expected_severity][outcome.got_severity] += 1
    return matrix


def aggregate(outcomes: Sequence[CaseOutcome]) -> EvalMetrics:
    by_kind: dict[str, list[CaseOutcome]] = defaultdict(list)
    by_tag: dict[str, list[CaseOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
        for tag in outcome.tags:
            by_tag[tag].append(outcome)
    return EvalMetrics(
        cases=len(outcomes),
        passed=sum(o.passed for o in outcomes),
        cases_by_kind={kind: len(group) for kind, group in sorted(by_kind.items())},
        headline=mean_metrics(outcomes),
        by_kind={kind: mean_metrics(group) for kind, group in sorted(by_kind.items())},
        by_tag={tag: mean_metrics(group) for tag, group in sorted(by_tag.items())},
        confusion={
            "findings": confusion_matrix(o for o in outcomes if o.kind != "line"),
            "line": confusion_matrix(o for o in outcomes if o.kind == "line"),
        },
    )
