"""Retrieval hit rates in the evaluation: per-case scoring, and runs with retrieval on,
off and failing."""

from __future__ import annotations

from pathlib import Path

import pytest

from loglens.config import Settings
from loglens.evaluation.golden import AnalyzeCase, load_case
from loglens.evaluation.results import RETRIEVAL_METRICS
from loglens.evaluation.retrieval_eval import RetrievalScope, hit_scores, query_finding
from loglens.evaluation.runner import run_eval
from loglens.model import Finding, RelatedItem, Report, RetrievalInfo, SourceInfo, Stats, Window
from loglens.retrieval.store import open_store

ROOT = Path(__file__).parents[1]
MINI = ROOT / "tests" / "testdata" / "golden_mini"
OOM_CASE = MINI / "analyze" / "oom-llama-server.json"
BENIGN_CASE = MINI / "analyze" / "benign-nginx.json"


def case(path: Path) -> AnalyzeCase:
    loaded = load_case(path)
    assert isinstance(loaded, AnalyzeCase)
    return loaded


def finding(rank: int, category: str, component: str, related: list[str]) -> Finding:
    items = [RelatedItem(kind="knowledge", id=doc_id) for doc_id in related]
    items.append(RelatedItem(kind="incident", id="i-1"))  # other kinds are not judged
    return Finding.model_validate(
        {
            "rank": rank, "fingerprint": f"f-{rank}", "category": category, "severity": "error",
            "component": component, "title": "t", "root_cause": "r", "action": "a",
            "related": items,
        }
    )  # fmt: skip


def report(*findings: Finding, used: bool = True) -> Report:
    return Report(
        window=Window(),
        source=SourceInfo(kind="inline"),
        stats=Stats(),
        findings=list(findings),
        retrieval=RetrievalInfo(used=used),
    )


def test_hit_scores() -> None:
    assert hit_scores([False, True, False]) == {
        "retrieval_hit_at_1": 0.0,
        "retrieval_hit_at_3": 1.0,
        "retrieval_mrr": 0.5,
    }
    assert hit_scores([True]) == dict.fromkeys(RETRIEVAL_METRICS, 1.0)
    assert hit_scores([False, False, False, True])["retrieval_mrr"] == 0.25
    assert hit_scores([False, False, False, True])["retrieval_hit_at_3"] == 0.0
    assert hit_scores([]) == dict.fromkeys(RETRIEVAL_METRICS, 0.0)


def test_the_matched_finding_is_judged_by_its_knowledge_categories() -> None:
    oom = case(OOM_CASE)
    scope = RetrievalScope.passive(Settings())
    wrong_first = finding(1, "network", "nginx", ["signature:net.timeout"])
    matched = finding(
        2, "oom", "llama_server", ["runbook:dns-resolution", "signature:k8s.oomkilled"]
    )
    judged = report(wrong_first, matched)
    assert query_finding(oom, judged) is matched
    assert scope.case_scores(oom, judged) == {
        "retrieval_hit_at_1": 0.0,
        "retrieval_hit_at_3": 1.0,
        "retrieval_mrr": 0.5,
    }
    # No matching finding: the top one is judged.
    assert scope.case_scores(oom, report(wrong_first))["retrieval_mrr"] == 0.0


def test_cases_without_retrieval_or_expected_findings_are_not_scored() -> None:
    passive = RetrievalScope.passive(Settings())
    hit = finding(1, "oom", "llama_server", ["signature:k8s.oomkilled"])
    assert passive.case_scores(case(BENIGN_CASE), report(hit)) == {}
    assert passive.case_scores(case(OOM_CASE), report(hit, used=False)) == {}
    # With retrieval on in the evaluation, a case whose retrieval failed is a miss.
    active = RetrievalScope(Settings(), True, "on")
    assert active.case_scores(case(OOM_CASE), report(hit, used=False)) == dict.fromkeys(
        RETRIEVAL_METRICS, 0.0
    )
    assert active.case_scores(case(OOM_CASE), report()) == dict.fromkeys(RETRIEVAL_METRICS, 0.0)


@pytest.mark.integration
def test_a_run_with_retrieval_reports_hit_rates_and_leaves_the_users_store_alone(
    retrieval_settings: Settings,
) -> None:
    run = run_eval([MINI], settings=retrieval_settings)
    headline = run.metrics.headline
    assert all(headline[name] is not None for name in RETRIEVAL_METRICS)
    assert headline["retrieval_hit_at_1"] == 1.0  # the OOM case finds OOM knowledge first
    assert run.retrieval and run.retrieval.startswith("retrieval on a temporary store")
    scored = [o for o in run.outcomes if "retrieval_mrr" in o.scores]
    assert [o.id for o in scored] == ["oom-llama-server"]
    store = open_store(retrieval_settings, dim=384)
    try:
        assert store.count("incidents") == 0 and store.count("patterns") == 0
    finally:
        store.close()


def test_a_run_without_retrieval_has_no_hit_rates_and_says_why() -> None:
    run = run_eval([MINI], settings=Settings(retrieval="off"))
    assert all(run.metrics.headline[name] is None for name in RETRIEVAL_METRICS)
    assert run.retrieval == "retrieval metrics absent: LOGLENS_RETRIEVAL=off"


@pytest.mark.integration
def test_a_run_whose_embedder_cannot_start_has_no_hit_rates(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, retrieval="on", embed_backend="openai", embed_url=None)
    run = run_eval([MINI], settings=settings)
    assert all(run.metrics.headline[name] is None for name in RETRIEVAL_METRICS)
    assert run.retrieval and "embedder needs a server URL" in run.retrieval
    assert not any(o.error for o in run.outcomes)  # the analysis itself ran without retrieval
