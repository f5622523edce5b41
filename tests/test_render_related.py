"""What `analyze` prints about retrieval: related items and signals under each finding, the
retrieval line; and how related items of different kinds are ordered for the LLM prompt."""

from __future__ import annotations

import io

from rich.console import Console

from llm_fake import make_report
from loglens.cli.render import (
    RELATED_PER_KIND,
    related_lines,
    render_report,
    retrieval_line,
)
from loglens.llm.extract import interleave_by_kind
from loglens.model import RelatedItem, RetrievalInfo


def item(kind: str, score: float, title: str, **fields: str) -> RelatedItem:
    return RelatedItem.model_validate(
        {"kind": kind, "id": f"{kind}-{title}", "title": title, "score": score, **fields}
    )


def rendered() -> str:
    """A one-finding report with related items, signals and retrieval, as printed."""
    report = make_report(findings=1)
    related = [
        item("knowledge", 0.91, "OOMKilled runbook", source="runbooks/oom.md"),
        item("knowledge", 0.55, "Memory limits", source="catalog:oom.limit"),
        item("knowledge", 0.40, "Third note", source="notes/third.md"),
        item("incident", 0.83, "api OOMKilled", source="file:old.log", seen="2026-11-20T10:00:00Z"),
        item("signature_hint", 0.62, "CUDA out of memory", source="catalog:gpu.cuda_oom"),
    ]
    report.findings[0].related = related
    report.findings[0].signals = ["spike", "seen_before:2026-11-20"]
    report.retrieval = RetrievalInfo(
        used=True, store="lancedb:/data/vectors", embedder="all-MiniLM-L6-v2", latency_ms=42.4
    )
    shown = io.StringIO()
    render_report(report, Console(file=shown, width=300))
    return shown.getvalue()


def test_findings_show_their_signals_and_related_items_with_score_and_source() -> None:
    text = rendered()
    assert "signals: spike, seen_before:2026-11-20" in text
    assert "↳ knowledge 0.91 OOMKilled runbook (runbooks/oom.md)" in text
    assert "↳ incident 0.83 api OOMKilled (file:old.log, seen 2026-11-20T10:00:00)" in text
    assert "↳ signature_hint 0.62 CUDA out of memory (catalog:gpu.cuda_oom)" in text
    assert "Third note" not in text  # RELATED_PER_KIND knowledge items, then a count
    assert "… 1 more related" in text
    assert "lancedb:/data/vectors with all-MiniLM-L6-v2, 42 ms" in text


def test_related_lines_keep_the_first_of_each_kind_and_count_the_rest() -> None:
    knowledge = [item("knowledge", 0.9 - i / 10, f"k{i}") for i in range(RELATED_PER_KIND + 2)]
    lines = related_lines([*knowledge, item("pattern", 0.7, "api: timeout <*>")])
    assert len(lines) == RELATED_PER_KIND + 2
    assert lines[-2] == "↳ pattern 0.70 api: timeout <*>"
    assert lines[-1] == "↳ … 2 more related (--json shows all)"
    assert related_lines([]) == []


def test_retrieval_line_says_what_was_used_or_why_not() -> None:
    skipped = RetrievalInfo(reason="retrieval skipped: vector store locked")
    assert retrieval_line(skipped) == "retrieval skipped: vector store locked"
    assert retrieval_line(RetrievalInfo()) is None
    used = RetrievalInfo(used=True, store="qdrant:http://qdrant:6333", embedder="e5")
    assert retrieval_line(used) == "qdrant:http://qdrant:6333 with e5"


def test_prompt_takes_related_items_in_turn_by_kind_best_first() -> None:
    # Fused knowledge scores and incident similarities are on different scales: a strong
    # incident (0.6) must not lose to every weak knowledge chunk (0.7, 0.65, 0.62).
    related = [
        item("knowledge", 0.62, "k3"),
        item("incident", 0.4, "i2"),
        item("knowledge", 0.7, "k1"),
        item("pattern", 0.8, "p1"),
        item("knowledge", 0.65, "k2"),
        item("incident", 0.6, "i1"),
    ]
    order = [related.title for related in interleave_by_kind(related)]
    assert order == ["k1", "i1", "p1", "k2", "i2", "k3"]
    assert interleave_by_kind([]) == []
