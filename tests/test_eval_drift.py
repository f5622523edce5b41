"""Drift between two evaluation runs: deltas, thresholds, flipped cases, McNemar."""

from __future__ import annotations

import pytest

from loglens.evaluation.drift import DriftThresholds, compare_runs, mcnemar_exact, metric_delta
from loglens.evaluation.metrics import aggregate
from loglens.evaluation.results import CaseOutcome, EvalRun


def run_of(results: dict[str, bool], latency_ms: float = 10.0, run_id: int | None = 1) -> EvalRun:
    outcomes = [
        CaseOutcome(id=case_id, kind="analyze", dataset="golden", passed=passed,
                    scores={"top1": float(passed)}, latency_ms=latency_ms)
        for case_id, passed in results.items()
    ]  # fmt: skip
    return EvalRun(
        run_id=run_id, started_at="2026-11-20T10:00:00+00:00", backend="rules",
        datasets=["golden"], metrics=aggregate(outcomes), outcomes=outcomes,
    )  # fmt: skip


def test_mcnemar_exact_matches_hand_computed_binomial_tails() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 0) == pytest.approx(2 / 32)  # 2 * C(5,0) / 2^5
    assert mcnemar_exact(1, 4) == pytest.approx(12 / 32)  # 2 * (1 + 5) / 2^5
    assert mcnemar_exact(10, 2) == pytest.approx(158 / 4096)  # 2 * (1 + 12 + 66) / 2^12
    assert mcnemar_exact(3, 3) == 1.0  # capped at 1


def test_a_drop_beyond_the_threshold_regresses() -> None:
    limits = DriftThresholds(max_drop=0.02)
    assert metric_delta("top1", 0.80, 0.79, limits).regressed is False
    dropped = metric_delta("top1", 0.80, 0.75, limits)
    assert dropped.regressed
    assert dropped.delta == pytest.approx(-0.05)
    assert metric_delta("top1", 0.80, 0.95, limits).regressed is False


def test_false_alarm_rate_regresses_when_it_rises() -> None:
    limits = DriftThresholds()
    assert metric_delta("false_alarm_rate", 0.1, 0.2, limits).regressed
    assert not metric_delta("false_alarm_rate", 0.2, 0.0, limits).regressed


def test_latency_regresses_on_a_relative_rise_above_the_noise_floor() -> None:
    limits = DriftThresholds(max_latency_rise=0.5, latency_noise_ms=5.0)
    assert metric_delta("latency_p95_ms", 100.0, 160.0, limits).regressed
    assert not metric_delta("latency_p95_ms", 100.0, 140.0, limits).regressed
    assert not metric_delta("latency_p50_ms", 2.0, 6.0, limits).regressed  # +200% but 4 ms


def test_missing_values_never_regress() -> None:
    delta = metric_delta("compare_recall", None, 0.5, DriftThresholds())
    assert (delta.delta, delta.regressed) == (None, False)


def test_per_metric_override_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGLENS_EVAL_MAX_DROP", "0.1")
    monkeypatch.setenv("LOGLENS_EVAL_PER_METRIC", '{"top1": 0.0}')
    limits = DriftThresholds()
    assert limits.allowed("recall_at_3") == 0.1
    assert metric_delta("top1", 0.5, 0.49, limits).regressed
    assert not metric_delta("recall_at_3", 0.5, 0.45, limits).regressed


def test_compare_runs_pairs_cases_and_lists_flips() -> None:
    baseline = run_of({"a": True, "b": True, "c": False, "gone": True}, run_id=4)
    current = run_of({"a": True, "b": False, "c": True, "added": False}, run_id=None)
    drift = compare_runs(baseline, current)
    assert drift.baseline_run_id == 4
    assert drift.paired_cases == 3
    assert drift.pass_to_fail == ["golden/b"]
    assert drift.fail_to_pass == ["golden/c"]
    assert drift.only_in_baseline == ["golden/gone"]
    assert drift.only_in_current == ["golden/added"]
    assert drift.mcnemar_p == 1.0
    # top1 went 0.75 → 0.5 and pass_rate likewise: both regress.
    assert drift.regressions == ["top1", "pass_rate"]


def test_identical_runs_do_not_regress() -> None:
    run = run_of({"a": True, "b": False})
    drift = compare_runs(run, run)
    assert drift.regressions == []
    assert all(m.delta in (None, 0.0) for m in drift.metrics)
