"""Retrieval in the analysis: related knowledge, past incidents, signature hints, "seen before?",
and what happens when the store cannot be used. Real MiniLM and real LanceDB (and Qdrant's
local mode for one test: the Qdrant server itself is not exercised)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from helpers import CountingEmbedder
from loglens.analysis import analyze_records
from loglens.config import Settings
from loglens.evaluation.golden import AnalyzeCase, load_case
from loglens.model import Finding, LogRecord, Report, format_ts
from loglens.retrieval.indexer import finding_text, open_retrieval, report_templates
from loglens.retrieval.knowledge import knowledge_base
from loglens.retrieval.qdrant_store import QdrantStore
from loglens.retrieval.related import (
    POOL,
    SEEN_BEFORE_SIMILARITY,
    SNIPPET_CHARS,
    attach_related,
    best_per_document,
    combined_score,
    latest_per_fingerprint,
    recency,
    seen_before,
    snippet,
)
from loglens.retrieval.store import Hit, SearchFilter, VectorRecord
from loglens.sources.window import TimeWindow

ROOT = Path(__file__).parents[1]
DAY_NS = 86_400 * 1_000_000_000
NOW_NS = 1_790_000_000 * 1_000_000_000


def golden(case_id: str) -> AnalyzeCase:
    case = load_case(ROOT / "eval" / "golden" / "analyze" / f"{case_id}.json")
    assert isinstance(case, AnalyzeCase)
    return case


def shifted(records: Sequence[LogRecord], shift_ns: int) -> list[LogRecord]:
    return [LogRecord(r.ts + shift_ns, r.labels, r.line) for r in records]


def analyze_case(case: AnalyzeCase, settings: Settings, shift_ns: int = 0) -> Report:
    window = case.logs.window
    if window is not None:
        window = TimeWindow(window.start_ns + shift_ns, window.end_ns + shift_ns)
    return analyze_records(shifted(case.logs.records, shift_ns), settings=settings, window=window)


def category_of(doc_id: str) -> str:
    return knowledge_base(Settings()).documents[doc_id].category


def top(report: Report) -> Finding:
    return min(report.findings, key=lambda f: f.rank)


# --- pure helpers ----------------------------------------------------------------------------


def hit(hit_id: str, score: float, **payload: Any) -> Hit:
    return Hit(id=hit_id, score=score, text="", payload=payload)


def test_seen_before_prefers_the_fingerprint_then_similarity() -> None:
    finding = Finding.model_validate(
        {
            "rank": 1, "fingerprint": "f-1", "category": "oom", "severity": "critical",
            "component": "api", "title": "t", "root_cause": "r", "action": "a",
        }
    )  # fmt: skip
    same = hit("a", 0.5, fingerprint="f-1", ts_ns=NOW_NS - 2 * DAY_NS)
    similar = hit("b", SEEN_BEFORE_SIMILARITY, fingerprint="f-2", ts_ns=NOW_NS - DAY_NS)
    far = hit("c", SEEN_BEFORE_SIMILARITY - 0.01, fingerprint="f-3", ts_ns=NOW_NS)
    looked_up = hit("d", 1.0, fingerprint="f-1", ts_ns=NOW_NS - 3 * DAY_NS)
    assert seen_before(finding, [], [similar, same, far]) == format_ts(NOW_NS - 2 * DAY_NS)[:10]
    assert seen_before(finding, [looked_up], [similar, far]) == format_ts(NOW_NS - 3 * DAY_NS)[:10]
    assert seen_before(finding, [], [far, similar]) == format_ts(NOW_NS - DAY_NS)[:10]
    assert seen_before(finding, [], [far]) is None


def test_recent_incidents_rank_above_equally_similar_old_ones() -> None:
    assert recency(NOW_NS, NOW_NS) == 1.0
    assert recency(NOW_NS - 7 * DAY_NS, NOW_NS) == pytest.approx(0.5)
    fresh = hit("fresh", 0.8, ts_ns=NOW_NS - DAY_NS)
    old = hit("old", 0.8, ts_ns=NOW_NS - 60 * DAY_NS)
    closer_old = hit("closer", 0.99, ts_ns=NOW_NS - 60 * DAY_NS)
    assert combined_score(fresh, NOW_NS) > combined_score(old, NOW_NS)
    assert combined_score(closer_old, NOW_NS) > combined_score(old, NOW_NS)


def test_one_item_per_document_and_per_fingerprint() -> None:
    chunks = [hit("c1", 0.9, doc_id="d1"), hit("c2", 0.8, doc_id="d1"), hit("c3", 0.7, doc_id="d2")]
    assert [h.id for h in best_per_document(chunks)] == ["c1", "c3"]
    windows = [hit("w1", 0.9, fingerprint="f", ts_ns=1), hit("w2", 0.9, fingerprint="f", ts_ns=5)]
    assert [h.id for h in latest_per_fingerprint(windows)] == ["w2"]


def test_snippets_are_cut_at_a_word() -> None:
    text = "word " * 200
    cut = snippet(text)
    assert len(cut) <= SNIPPET_CHARS and cut.endswith("word…")
    assert snippet("short") == "short"


# --- the analysis ----------------------------------------------------------------------------


@pytest.mark.integration
def test_top_findings_get_knowledge_of_their_category(retrieval_settings: Settings) -> None:
    case = golden("cuda-oom-llama")
    report = analyze_case(case, retrieval_settings)
    info = report.retrieval
    assert info.used and info.reason is None
    assert info.store and info.store.startswith("lancedb:") and info.embedder == "all-MiniLM-L6-v2"
    assert info.latency_ms is not None and info.latency_ms > 0
    finding = top(report)
    knowledge = [item for item in finding.related if item.kind == "knowledge"]
    assert 0 < len(knowledge) <= retrieval_settings.retrieval_top_k
    assert category_of(knowledge[0].id) == str(case.findings[0].category)
    assert knowledge[0].score >= knowledge[-1].score
    for f in report.findings:
        assert all(len(item.text) <= SNIPPET_CHARS for item in f.related)
        for kind in ("knowledge", "incident", "pattern", "signature_hint"):
            assert (
                sum(item.kind == kind for item in f.related) <= retrieval_settings.retrieval_top_k
            )


@pytest.mark.integration
def test_a_finding_without_signature_gets_the_nearest_signature(
    retrieval_settings: Settings,
) -> None:
    report = analyze_case(golden("auth-2"), retrieval_settings)
    unmatched = [f for f in report.findings[:5] if f.signature is None]
    assert unmatched, "the case should have a finding no signature matched"
    for finding in unmatched:
        hints = [item for item in finding.related if item.kind == "signature_hint"]
        assert len(hints) == 1
        assert hints[0].id.startswith("signature:") and 0.0 < hints[0].score <= 1.0
    for finding in report.findings[:5]:
        if finding.signature is not None:
            assert not any(item.kind == "signature_hint" for item in finding.related)


@pytest.mark.integration
def test_seen_before_in_a_later_window_but_not_in_the_same_one(
    retrieval_settings: Settings,
) -> None:
    case = golden("crashloop")
    first = analyze_case(case, retrieval_settings)
    assert not any(s.startswith("seen_before:") for s in top(first).signals)
    later = analyze_case(case, retrieval_settings, shift_ns=3 * DAY_NS)
    finding = top(later)
    assert finding.fingerprint == top(first).fingerprint
    first_date = (top(first).last_seen or "")[:10]
    assert f"seen_before:{first_date}" in finding.signals
    incidents = [item for item in finding.related if item.kind == "incident"]
    assert incidents and incidents[0].title == finding.title
    assert incidents[0].seen is not None and incidents[0].seen[:10] == first_date
    again = analyze_case(case, retrieval_settings)  # the first window once more
    assert not any(s.startswith("seen_before:") for s in top(again).signals)


@pytest.mark.integration
def test_seen_before_finds_the_fingerprint_beyond_the_nearest_incidents(
    retrieval_settings: Settings,
) -> None:
    case = golden("crashloop")
    first = analyze_case(case, retrieval_settings)
    finding = top(first)
    context = open_retrieval(retrieval_settings)
    try:
        store = context.store
        own = store.latest("incidents", SearchFilter(fingerprint=finding.fingerprint))[0]
        far, query = context.embedder.embed(
            [
                "certificate rotation finished for the ingress gateway",
                finding_text(finding, report_templates(first, context.redactor)),
            ]
        )
        # The first window's incident moved far away; 30 look-alikes a day later, closer.
        store.upsert("incidents", [VectorRecord(own.id, far, own.text, own.payload)])
        decoys = [
            VectorRecord(
                f"decoy-{i}",
                query,
                f"decoy {i}",
                own.payload | {"fingerprint": f"other-{i}", "ts_ns": own.payload["ts_ns"] + DAY_NS},
            )
            for i in range(POOL + 10)
        ]
        store.upsert("incidents", decoys)
    finally:
        context.close()
    later = analyze_case(case, retrieval_settings, shift_ns=3 * DAY_NS)
    assert f"seen_before:{format_ts(own.payload['ts_ns'])[:10]}" in top(later).signals


@pytest.mark.integration
def test_incidents_are_not_recorded_without_record_history(retrieval_settings: Settings) -> None:
    settings = retrieval_settings.model_copy(update={"record_history": False})
    analyze_case(golden("crashloop"), settings)
    context = open_retrieval(settings)
    try:
        assert context.store.count("incidents") == 0
    finally:
        context.close()


@pytest.mark.integration
def test_one_embedding_call_per_report(retrieval_settings: Settings) -> None:
    off = retrieval_settings.model_copy(update={"retrieval": "off"})
    report = analyze_case(golden("mixed-04-redis-model-helm"), off)
    assert len(report.findings) > 1
    context = open_retrieval(retrieval_settings)
    counting = CountingEmbedder(context.embedder)
    context.embedder = counting
    try:
        attach_related(report, settings=retrieval_settings, context=context)
    finally:
        context.close()
    assert counting.calls == 1
    assert report.retrieval.used


@pytest.mark.integration
@pytest.mark.parametrize("retrieval", ["auto", "on"])
def test_an_unusable_store_leaves_the_report_intact_and_says_why(
    retrieval_settings: Settings, tmp_path: Path, retrieval: str
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the dataset should be")
    broken = retrieval_settings.model_copy(update={"vector_path": blocker, "retrieval": retrieval})
    off = retrieval_settings.model_copy(update={"retrieval": "off"})
    case = golden("crashloop")
    report = analyze_case(case, broken)
    plain = analyze_case(case, off)
    assert not report.retrieval.used
    assert report.retrieval.reason and "vector store" in report.retrieval.reason
    assert any("retrieval skipped" in warning for warning in report.warnings)
    assert [f.model_dump(exclude={"related"}) for f in report.findings] == [
        f.model_dump(exclude={"related"}) for f in plain.findings
    ]
    assert all(not f.related for f in report.findings)


@pytest.mark.integration
def test_an_unreachable_qdrant_server_is_a_warning(retrieval_settings: Settings) -> None:
    settings = retrieval_settings.model_copy(
        update={"vector_backend": "qdrant", "qdrant_url": "http://127.0.0.1:9"}
    )
    report = analyze_case(golden("crashloop"), settings)
    assert not report.retrieval.used and report.retrieval.reason
    assert report.findings and any("retrieval skipped" in w for w in report.warnings)


def test_retrieval_off_is_recorded_as_the_reason() -> None:
    report = analyze_case(golden("crashloop"), Settings(retrieval="off"))
    assert not report.retrieval.used
    assert report.retrieval.reason == "retrieval is off (LOGLENS_RETRIEVAL=off)"
    assert not report.warnings or all("retrieval" not in w for w in report.warnings)


@pytest.mark.integration
def test_analysis_path_through_qdrant_local_mode_not_the_server(
    retrieval_settings: Settings,
) -> None:
    case = golden("disk-full-postgres")
    off = retrieval_settings.model_copy(update={"retrieval": "off"})
    report = analyze_case(case, off)
    store = QdrantStore.in_local_mode(":memory:", dim=384)
    context = open_retrieval(retrieval_settings, store=store)
    try:
        assert not context.sync.up_to_date  # a new store: knowledge indexed into Qdrant
        attach_related(report, settings=retrieval_settings, context=context)
        assert store.count("incidents") >= 1  # the report's findings were recorded
    finally:
        context.close()
    assert report.retrieval.used and report.retrieval.store == "qdrant-local::memory:"
    knowledge = [item for item in top(report).related if item.kind == "knowledge"]
    assert knowledge and category_of(knowledge[0].id) == str(case.findings[0].category)
