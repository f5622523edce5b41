"""Stored evaluation runs: store, fetch, resolve a baseline, list."""

from __future__ import annotations

from pathlib import Path

import pytest

from loglens.errors import InputError
from loglens.evaluation.history import RunHistory
from loglens.evaluation.metrics import aggregate
from loglens.evaluation.results import CaseOutcome, EvalRun


def make_run(backend: str = "rules", passed: bool = True, commit: str | None = "abc123") -> EvalRun:
    outcomes = [
        CaseOutcome(
            id="oom", kind="analyze", dataset="golden", passed=passed, tags=["k8s"],
            scores={"top1": float(passed)}, expected="critical/oom/*", got="error/oom/x",
            latency_ms=12.5,
        ),
        CaseOutcome(id="l1", kind="line", dataset="golden", passed=True, latency_ms=1.0,
                    scores={"line_severity_accuracy": 1.0}),
    ]  # fmt: skip
    return EvalRun(
        started_at="2026-11-20T10:00:00+00:00",
        git_commit=commit,
        backend=backend,
        datasets=["eval/golden"],
        metrics=aggregate(outcomes),
        outcomes=outcomes,
    )


def test_store_assigns_ids_and_get_returns_the_same_run(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "sub" / "eval.sqlite")
    first = history.store(make_run())
    second = history.store(make_run(passed=False, commit=None))
    assert (first.run_id, second.run_id) == (1, 2)
    assert history.get(1) == first
    assert history.get(2) == second
    assert history.get(2).outcomes[0].scores == {"top1": 0.0}


def test_history_survives_a_new_instance(tmp_path: Path) -> None:
    RunHistory(tmp_path / "eval.sqlite").store(make_run())
    assert RunHistory(tmp_path / "eval.sqlite").get(1).metrics.headline["top1"] == 1.0


def test_last_is_the_latest_run_of_the_same_backend(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "eval.sqlite")
    assert history.last() is None
    history.store(make_run("rules"))
    history.store(make_run("llm"))
    history.store(make_run("rules", passed=False))
    last_rules = history.resolve("last", backend="rules")
    assert last_rules.run_id == 3
    assert history.resolve("last", backend="llm").run_id == 2
    assert history.resolve("1", backend="llm").run_id == 1


def test_resolve_explains_a_missing_baseline(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "eval.sqlite")
    with pytest.raises(InputError, match="no stored run of backend 'rules'"):
        history.resolve("last", backend="rules")
    with pytest.raises(InputError, match="no stored evaluation run 7"):
        history.resolve("7", backend="rules")
    with pytest.raises(InputError, match="neither 'last' nor a run id"):
        history.resolve("yesterday", backend="rules")


def test_summaries_list_newest_first_with_limit(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "eval.sqlite")
    for passed in (True, False, True):
        history.store(make_run(passed=passed))
    summaries = history.summaries(limit=2)
    assert [s.run_id for s in summaries] == [3, 2]
    assert (summaries[1].cases, summaries[1].passed) == (2, 1)
    assert summaries[0].headline["top1"] == 1.0
    assert summaries[0].datasets == ["eval/golden"]
    assert summaries[0].git_commit == "abc123"
