"""Every metric of loglens.evaluation.metrics against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from loglens.evaluation.golden import (
    AnalyzeCase,
    CompareCase,
    ExpectedFinding,
    LineCase,
    LogSet,
)
from loglens.evaluation.metrics import (
    aggregate,
    analyze_case_scores,
    compare_case_scores,
    compare_precision,
    compare_recall,
    component_matches,
    evidence_hit_rate,
    finding_scores,
    keyword_recall,
    line_case_scores,
    match_findings,
    normalise_component,
    quantile,
    recall_at_k,
    summary_fact_recall,
    top1,
)
from loglens.evaluation.results import METRIC_NAMES, CaseOutcome
from loglens.model import (
    Category,
    Classification,
    Diff,
    DiffPattern,
    DiffSide,
    EvidenceLine,
    Finding,
    LogRecord,
    Report,
    Severity,
    SourceInfo,
    Stats,
    Window,
)


def found(
    category: str,
    severity: str = "error",
    component: str = "app",
    *,
    rank: int = 1,
    title: str = "",
    root_cause: str = "",
    action: str = "",
    evidence: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        rank=rank,
        fingerprint=f"fp-{category}-{component}-{rank}",
        category=Category(category),
        severity=Severity(severity),
        component=component,
        title=title,
        root_cause=root_cause,
        action=action,
        evidence=[EvidenceLine(ts="2026-11-20T10:00:00Z", line=line) for line in evidence],
    )


def want(
    category: str,
    severity: str = "error",
    component: str | None = None,
    *,
    aliases: tuple[str, ...] = (),
    keywords: tuple[str, ...] = (),
    evidence: tuple[str, ...] = (),
) -> ExpectedFinding:
    return ExpectedFinding(
        category=Category(category),
        severity=Severity(severity),
        component=component,
        component_aliases=aliases,
        keywords=keywords,
        evidence=evidence,
    )


def report(findings: list[Finding], summary: str | None = None) -> Report:
    return Report(
        window=Window(), source=SourceInfo(kind="inline"), stats=Stats(), findings=findings,
        summary=summary,
    )  # fmt: skip


def pattern(template: str, *examples: str) -> DiffPattern:
    return DiffPattern(id=template[:8], template=template, examples=list(examples))


def diff(**headings: list[DiffPattern]) -> Diff:
    side = DiffSide(window=Window(), stats=Stats())
    return Diff(before=side, after=side, **headings)


def outcome(kind: str, scores: dict[str, float], **extra: object) -> CaseOutcome:
    fields: dict[str, object] = {"passed": True, "id": "c", "kind": kind, "dataset": "d"}
    fields.update(extra)
    return CaseOutcome(scores=scores, **fields)  # type: ignore[arg-type]


# --- components -----------------------------------------------------------------------


def test_normalise_component_lowercases_and_collapses_non_alphanumerics() -> None:
    assert normalise_component("llama.cpp") == "llama_cpp"
    assert normalise_component("Kube--APIServer") == "kube_apiserver"
    assert normalise_component(" -coredns- ") == "coredns"


def test_component_matches_accepts_aliases_and_missing_expected_component() -> None:
    expected = want("oom", component="llama-server", aliases=("llama.cpp",))
    assert component_matches(expected, "Llama_Server")
    assert component_matches(expected, "llama-cpp")
    assert not component_matches(expected, "ollama")
    assert not component_matches(expected, None)
    assert component_matches(want("oom"), None)


# --- top1, recall@3 and matching ------------------------------------------------------


def test_top1_compares_first_reported_with_first_expected_by_rank() -> None:
    expected = [want("oom", component="llama")]
    reported = [found("network", rank=2), found("oom", component="llama", rank=1)]
    assert top1(expected, reported) == 1.0
    assert top1(expected, [found("oom", component="other")]) == 0.0


def test_top1_is_zero_for_empty_findings() -> None:
    assert top1([want("oom")], []) == 0.0


def test_equal_ranks_keep_list_order() -> None:
    reported = [found("network", rank=1), found("oom", rank=1)]
    assert top1([want("oom")], reported) == 0.0
    assert top1([want("network")], reported) == 1.0


def test_recall_at_3_counts_only_the_first_three_reported() -> None:
    expected = [want("oom"), want("dns"), want("tls")]
    reported = [
        found("oom", rank=1),
        found("network", rank=2),
        found("dns", rank=3),
        found("tls", rank=4),
    ]
    assert recall_at_k(expected, reported, 3) == pytest.approx(2 / 3)


def test_matching_is_one_to_one() -> None:
    expected = [want("oom"), want("oom")]
    assert recall_at_k(expected, [found("oom")], 3) == 0.5


def test_matching_is_maximal_where_greedy_would_miss() -> None:
    # Greedy would give the first reported finding to the component-less expectation
    # and leave the second expectation unmatched; the maximum matching pairs both.
    expected = [want("oom"), want("oom", component="x")]
    reported = [found("oom", component="x", rank=1), found("oom", component="y", rank=2)]
    matches = match_findings(expected, reported)
    assert [m.component if m else None for m in matches] == ["y", "x"]
    assert recall_at_k(expected, reported, 3) == 1.0


# --- keywords, evidence, summary ------------------------------------------------------


def test_keyword_recall_searches_title_root_cause_and_action_case_insensitively() -> None:
    expected = [
        want("oom", keywords=("OOMKilled", "memory", "ctx-size")),
        want("dns", keywords=("dns",)),
    ]
    reported = [found("oom", title="Container oomkilled", action="raise the MEMORY limit")]
    # 2 of 3 keywords of the matched finding; the dns finding is unmatched: 2 / 4.
    assert keyword_recall(expected, reported) == 0.5


def test_keyword_recall_is_none_without_keywords() -> None:
    assert keyword_recall([want("oom")], [found("oom")]) is None


def test_evidence_hit_rate_needs_a_cited_line_per_substring() -> None:
    expected = [want("oom", evidence=("OOMKilled", "exit code 137", "limit 10Gi"))]
    reported = [found("oom", evidence=("pod x OOMKilled (exit code 137)", "other"))]
    assert evidence_hit_rate(expected, reported) == pytest.approx(2 / 3)
    assert evidence_hit_rate(expected, [found("dns", evidence=("OOMKilled",))]) == 0.0
    assert evidence_hit_rate([want("oom")], reported) is None


def test_summary_fact_recall_takes_any_alternative() -> None:
    facts = [["OOMKilled", "out of memory"], ["llama"], ["10Gi"]]
    assert summary_fact_recall(facts, "The llama pod ran OUT OF MEMORY.") == pytest.approx(2 / 3)
    assert summary_fact_recall(facts, None) == 0.0
    assert summary_fact_recall([], "anything") is None


# --- per case -------------------------------------------------------------------------


def test_finding_scores_for_a_correct_top_finding() -> None:
    expected = [want("oom", "critical", "llama-server"), want("crashloop")]
    reported = [found("oom", "critical", "llama_server", rank=1), found("crashloop", rank=2)]
    score = finding_scores(expected, reported)
    assert score.passed
    assert score.scores == {
        "severity_accuracy": 1.0,
        "category_accuracy": 1.0,
        "component_accuracy": 1.0,
        "top1": 1.0,
        "recall_at_3": 1.0,
    }
    assert (score.expected_severity, score.got_severity) == ("critical", "critical")


def test_finding_scores_wrong_severity_fails_the_case() -> None:
    score = finding_scores([want("oom", "critical")], [found("oom", "error")])
    assert not score.passed
    assert score.scores["severity_accuracy"] == 0.0
    assert score.scores["top1"] == 1.0
    assert "component_accuracy" not in score.scores


def test_finding_scores_with_no_findings_reported() -> None:
    score = finding_scores([want("oom", component="a")], [])
    assert not score.passed
    assert score.scores["component_accuracy"] == 0.0
    assert score.scores["recall_at_3"] == 0.0
    assert score.got_severity == "none"
    assert score.got == "no findings"


def test_benign_case_counts_error_findings_as_false_alarms() -> None:
    assert finding_scores([], [found("network", "warn")]).scores == {"false_alarm_rate": 0.0}
    assert finding_scores([], []).passed
    alarm = finding_scores([], [found("network", "warn", rank=1), found("dns", "error", rank=2)])
    assert alarm.scores == {"false_alarm_rate": 1.0}
    assert not alarm.passed
    assert (alarm.expected_severity, alarm.got_severity) == ("none", "warn")


def analyze_case(
    findings: tuple[ExpectedFinding, ...], facts: tuple[tuple[str, ...], ...]
) -> AnalyzeCase:
    return AnalyzeCase(
        id="a", path=Path("a.json"), description="", tags=(), logs=LogSet([], None),
        findings=findings, summary=None, summary_facts=facts,
    )  # fmt: skip


def test_analyze_case_adds_summary_fact_recall_only_when_facts_given() -> None:
    case = analyze_case((want("oom"),), (("oom",), ("llama",)))
    score = analyze_case_scores(case, report([found("oom")], summary="OOM in the pod"))
    assert score.scores["summary_fact_recall"] == 0.5
    no_facts = analyze_case_scores(analyze_case((want("oom"),), ()), report([found("oom")]))
    assert "summary_fact_recall" not in no_facts.scores


# --- compare --------------------------------------------------------------------------


def test_compare_recall_requires_the_right_heading_and_no_other() -> None:
    headings = {
        "new": ("no such host",),
        "gone": ("connection refused",),
        "increased": ("timeout",),
    }
    result = diff(
        new=[pattern("lookup <*>: no such host")],
        gone=[pattern("dial <*>", "dial tcp: connection refused")],
        decreased=[pattern("request timeout after <*>")],
    )
    # no such host: right; connection refused: right (in an example); timeout: wrong heading.
    assert compare_recall(headings, result) == pytest.approx(2 / 3)


def test_compare_recall_fails_a_substring_reported_under_two_headings() -> None:
    headings = {"new": ("no such host",)}
    result = diff(new=[pattern("no such host")], increased=[pattern("x", "no such host here")])
    assert compare_recall(headings, result) == 0.0


def test_compare_precision_scores_only_named_headings() -> None:
    headings: dict[str, tuple[str, ...]] = {"new": ("no such host",), "decreased": ()}
    result = diff(
        new=[pattern("no such host"), pattern("GET /orders <*>")],
        decreased=[pattern("cache miss <*>")],
        increased=[pattern("unscored heading")],
    )
    # Scored: 2 new + 1 decreased; only "no such host" fits its heading: 1 / 3.
    assert compare_precision(headings, result) == pytest.approx(1 / 3)


def test_compare_metrics_are_none_when_nothing_applies() -> None:
    assert compare_recall({}, diff()) is None
    assert compare_precision({"new": ("x",)}, diff(gone=[pattern("x")])) is None


def compare_case(findings: tuple[ExpectedFinding, ...] | None) -> CompareCase:
    empty = LogSet([], None)
    return CompareCase(
        id="c", path=Path("c.json"), description="", tags=(), before=empty, after=empty,
        headings={"new": ("no such host",)}, findings=findings,
    )  # fmt: skip


def test_compare_case_combines_headings_and_findings() -> None:
    result = diff(new=[pattern("no such host")])
    plain = compare_case_scores(compare_case(None), result)
    assert plain.passed
    assert plain.scores == {"compare_recall": 1.0, "compare_precision": 1.0}
    with_findings = compare_case_scores(compare_case((want("dns"),)), result)
    assert not with_findings.passed
    assert with_findings.scores["top1"] == 0.0
    assert with_findings.scores["compare_recall"] == 1.0


# --- line -----------------------------------------------------------------------------


def line_case(category: Category | None, component: str | None) -> LineCase:
    record = LogRecord(ts=0, labels={}, line="x")
    return LineCase(
        id="l", path=Path("l.json"), description="", tags=(), record=record,
        severity=Severity.WARN, category=category, component=component,
    )  # fmt: skip


def test_line_case_scores_every_given_field() -> None:
    got = [Classification(severity=Severity.WARN, category=Category.DNS, component="CoreDNS")]
    score = line_case_scores(line_case(Category.NETWORK, "coredns"), got)
    assert score.scores == {
        "line_severity_accuracy": 1.0,
        "line_category_accuracy": 0.0,
        "line_component_accuracy": 1.0,
    }
    assert not score.passed


def test_line_case_with_missing_optional_fields_scores_severity_only() -> None:
    got = [Classification(severity=Severity.WARN, category=Category.NONE)]
    score = line_case_scores(line_case(None, None), got)
    assert score.scores == {"line_severity_accuracy": 1.0}
    assert score.passed


def test_line_case_without_classification_is_wrong() -> None:
    score = line_case_scores(line_case(Category.DNS, None), [])
    assert score.scores == {"line_severity_accuracy": 0.0, "line_category_accuracy": 0.0}
    assert score.got_severity == "none"


# --- aggregation ----------------------------------------------------------------------


def test_quantile_interpolates_linearly() -> None:
    assert quantile([], 0.5) is None
    assert quantile([7.0], 0.95) == 7.0
    assert quantile([40.0, 10.0, 30.0, 20.0], 0.5) == 25.0
    # position 0.95 * 3 = 2.85 → 30 + 0.85 * 10
    assert quantile([10.0, 20.0, 30.0, 40.0], 0.95) == pytest.approx(38.5)


def test_aggregate_means_over_applicable_cases_and_breaks_down_by_tag() -> None:
    outcomes = [
        outcome("analyze", {"top1": 1.0, "false_alarm_rate": 0.0}, tags=["k8s"], latency_ms=10.0),
        outcome("analyze", {"top1": 0.0}, tags=["k8s", "llm"], passed=False, latency_ms=30.0),
        outcome("line", {"line_severity_accuracy": 1.0}, latency_ms=20.0),
    ]
    metrics = aggregate(outcomes)
    assert set(metrics.headline) == set(METRIC_NAMES)
    assert metrics.headline["top1"] == 0.5
    assert metrics.headline["false_alarm_rate"] == 0.0
    assert metrics.headline["line_severity_accuracy"] == 1.0
    assert metrics.headline["compare_recall"] is None
    assert metrics.headline["pass_rate"] == pytest.approx(2 / 3)
    assert metrics.headline["latency_p50_ms"] == 20.0
    assert metrics.cases_by_kind == {"analyze": 2, "line": 1}
    assert metrics.by_tag["llm"]["top1"] == 0.0
    assert metrics.by_tag["k8s"]["top1"] == 0.5
    assert metrics.by_kind["line"]["top1"] is None


def test_aggregate_builds_separate_confusion_matrices() -> None:
    outcomes = [
        outcome("analyze", {}, expected_severity="critical", got_severity="error"),
        outcome("analyze", {}, expected_severity="none", got_severity="none"),
        outcome("line", {}, expected_severity="warn", got_severity="warn"),
    ]
    confusion = aggregate(outcomes).confusion
    assert confusion["findings"]["critical"]["error"] == 1
    assert confusion["findings"]["none"]["none"] == 1
    assert sum(sum(row.values()) for row in confusion["findings"].values()) == 2
    assert confusion["line"]["warn"]["warn"] == 1


def test_aggregate_of_no_outcomes_is_all_null() -> None:
    metrics = aggregate([])
    assert metrics.cases == 0
    assert all(value is None for value in metrics.headline.values())
