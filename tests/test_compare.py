from __future__ import annotations

from loglens.analysis.compare import _heading, compare_records, fold_by_problem
from loglens.config import Settings
from loglens.detect.rates import Change, compare_rates
from loglens.model import DiffPattern, Finding, LogRecord, Severity
from loglens.sources.window import TimeWindow

HOUR = 3600.0


def test_info_lines_that_start_or_stop_are_not_listed_as_new_or_gone() -> None:
    change = compare_rates(22, 0, HOUR, HOUR)
    assert change.change is Change.GONE
    assert _heading(change, 22, 0, None).change is Change.UNCHANGED
    assert _heading(change, 22, 0, Severity.ERROR).change is Change.GONE


def test_a_rare_error_never_seen_before_is_new() -> None:
    change = compare_rates(0, 2, HOUR, HOUR)
    assert change.change is Change.UNCHANGED
    assert _heading(change, 0, 2, Severity.CRITICAL).change is Change.NEW
    assert _heading(change, 0, 2, Severity.WARN).change is Change.UNCHANGED
    assert _heading(change, 0, 2, None).change is Change.UNCHANGED


def test_rate_changes_of_ordinary_lines_are_still_reported() -> None:
    change = compare_rates(69, 31, HOUR, HOUR)
    assert _heading(change, 69, 31, None).change is change.change


MIN_NS = 60 * 10**9
WINDOW = 30 * MIN_NS


def _finding(fp: str, patterns: list[str], rank: int, symptom_of: list[str]) -> Finding:
    return Finding(
        rank=rank,
        fingerprint=fp,
        category="oom",
        severity="critical",
        component="payments",
        title=fp,
        root_cause="",
        action="",
        patterns=patterns,
        symptom_of=symptom_of,
    )


def _entry(pid: str) -> DiffPattern:
    return DiffPattern(id=pid, template=f"template {pid}", examples=[f"{pid} a", f"{pid} b"])


def test_patterns_of_one_problem_and_its_symptoms_are_one_change() -> None:
    findings = [
        _finding("f-oom", ["p-kill", "p-invoked"], 1, []),
        _finding("f-crash", ["p-backoff"], 2, ["f-oom"]),
        _finding("f-other", ["p-other"], 3, []),
    ]
    entries = [_entry(pid) for pid in ("p-backoff", "p-invoked", "p-other", "p-kill")]
    folded = fold_by_problem(entries, findings)
    assert [e.id for e in folded] == ["p-kill", "p-other"]
    lead = folded[0]
    assert [r.id for r in lead.related] == ["p-invoked", "p-backoff"]
    assert lead.examples == ["p-kill a", "p-kill b", "p-invoked a", "p-backoff a"]


def test_a_symptom_whose_cause_did_not_change_stays_its_own_change() -> None:
    findings = [
        _finding("f-oom", ["p-kill"], 1, []),
        _finding("f-crash", ["p-backoff"], 2, ["f-oom"]),
    ]
    folded = fold_by_problem([_entry("p-backoff")], findings)
    assert [e.id for e in folded] == ["p-backoff"] and folded[0].related == []


def _records(start: int, lines: list[tuple[int, dict[str, str], str]]) -> list[LogRecord]:
    return [LogRecord(start + offset, labels, line) for offset, labels, line in lines]


def test_compare_lists_an_incident_once_with_its_lines() -> None:
    app = {"namespace": "shop", "pod": "payments-7d9f8c6b5d-x2x4z", "container": "payments"}
    kernel = {"node": "node-1", "unit": "kernel"}
    kubelet = {"node": "node-1", "unit": "kubelet"}
    steady = [(i * MIN_NS // 2, app, f"INFO GET /api/v1/pay 200 in {i} ms") for i in range(50)]
    incident = [
        (
            (10 + 5 * i) * MIN_NS,
            kernel,
            f"Memory cgroup out of memory: Killed process {4000 + i} (java) total-vm:6000000kB",
        )
        for i in range(3)
    ] + [
        (
            (11 + i) * MIN_NS,
            kubelet,
            f'E1102 10:{i:02d}:33.015798    2887 pod_workers.go:1301] "Error syncing pod, '
            'skipping" err="failed to \\"StartContainer\\" for \\"payments\\" with '
            'CrashLoopBackOff: \\"back-off 5m0s restarting failed container=payments '
            'pod=payments-7d9f8c6b5d-x2x4z_shop(1234)\\""',
        )
        for i in range(15)
    ]
    before = _records(0, steady)
    after = _records(WINDOW, steady + incident)
    diff = compare_records(
        before,
        after,
        settings=Settings(),
        before_window=TimeWindow(0, WINDOW),
        after_window=TimeWindow(WINDOW, 2 * WINDOW),
    )
    assert len(diff.new) == 1
    change = diff.new[0]
    assert "Memory cgroup out of memory" in change.template
    assert [r.count for r in change.related] == [15]
    assert any("CrashLoopBackOff" in line for line in change.examples)
    assert diff.gone == diff.increased == diff.decreased == []


def test_decreases_show_lines_from_the_busier_before_window() -> None:
    labels = {"pod": "llama-server-7d9f8c6b5d-x2x4z", "container": "llama"}
    before = _records(
        0,
        [(i * 10**9, labels, f"request: POST /v1/embeddings 10.0.0.{i % 9} 200") for i in range(60)]
        + [
            (i * 10**9, labels, f"request: POST /v1/chat/completions 10.0.0.{i % 9} 200")
            for i in range(60, 70)
        ],
    )
    after = _records(
        WINDOW,
        [
            (i * 10**9, labels, f"request: POST /v1/chat/completions 10.0.0.{i % 9} 200")
            for i in range(12)
        ]
        + [
            (i * 10**9, labels, f"request: POST /v1/embeddings 10.0.0.{i % 9} 200")
            for i in range(20, 25)
        ],
    )
    diff = compare_records(
        before,
        after,
        settings=Settings(),
        before_window=TimeWindow(0, WINDOW),
        after_window=TimeWindow(WINDOW, 2 * WINDOW),
    )
    assert len(diff.decreased) == 1
    assert all("/v1/embeddings" in line for line in diff.decreased[0].examples)


def test_an_error_that_stops_is_gone_once_its_old_rate_predicts_a_few() -> None:
    change = compare_rates(5, 0, HOUR, HOUR)
    assert change.change is Change.UNCHANGED  # 5 vs 0 alone is not significant
    assert _heading(change, 5, 0, Severity.ERROR).change is Change.GONE
    # The same five in a window four times longer predict barely one: not enough.
    assert _heading(change, 5, 0, Severity.ERROR, after_share=0.25).change is Change.UNCHANGED
    assert _heading(change, 5, 0, Severity.WARN).change is Change.UNCHANGED
