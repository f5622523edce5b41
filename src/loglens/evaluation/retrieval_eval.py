"""Retrieval hit rates on golden `analyze` cases: does retrieval find the right knowledge?

For an analyze case that expects findings, the *query finding* is the reported finding
matched to the first expected one (`metrics.match_findings`), else the top reported finding.
Its knowledge items — what the analysis attached to `finding.related` — are relevant when
their document (a catalog signature or a runbook note) has the expected finding's category:

* `retrieval_hit_at_1`: the first knowledge item is relevant;
* `retrieval_hit_at_3`: one of the first three is;
* `retrieval_mrr`: 1 / rank of the first relevant item (0 when none is).

A case whose report has no query finding, or whose retrieval failed while the evaluation
had it on, scores 0. Benign cases (no expected findings) are not scored.

`RetrievalScope` gives the evaluated analysis a temporary LanceDB store holding only the
knowledge (indexed once, before the first case), and records no incidents, so cases cannot
see each other and the user's own store is never touched. When retrieval cannot run (off,
extra missing, store failure) the metrics stay absent and `note` says why.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from loglens.config import Settings
from loglens.errors import LogLensError
from loglens.evaluation.golden import AnalyzeCase, GoldenCase
from loglens.evaluation.metrics import match_findings, ranked
from loglens.evaluation.results import RETRIEVAL_METRICS
from loglens.model import Finding, Report

# Knowledge items per finding the evaluated analysis must attach (hit@3 needs three).
MIN_TOP_K: Final = 3


@dataclass(slots=True)
class RetrievalScope:
    """Settings for an evaluation run's analysis, with retrieval on a temporary store."""

    settings: Settings
    active: bool
    note: str
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _categories: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings) -> RetrievalScope:
        """Index the knowledge into a temporary store; inactive (with a note) when it fails."""
        if settings.retrieval == "off":
            return cls.inactive(settings, "retrieval metrics absent: LOGLENS_RETRIEVAL=off")
        from loglens.retrieval.related import missing_extra

        if missing := missing_extra(settings):
            return cls.inactive(
                settings, f"retrieval metrics absent: the retrieval extra is missing ({missing})"
            )
        tmp = tempfile.TemporaryDirectory(prefix="loglens-eval-vectors-")
        scoped = settings.model_copy(
            update={
                "vector_backend": "lancedb",
                "vector_path": Path(tmp.name),
                "record_history": False,
                "retrieval_top_k": max(settings.retrieval_top_k, MIN_TOP_K),
            }
        )
        try:
            categories = _index_knowledge(scoped)
        except LogLensError as exc:
            tmp.cleanup()
            return cls.inactive(settings, f"retrieval metrics absent: {exc}")
        note = f"retrieval on a temporary store with {len(categories)} knowledge documents"
        return cls(scoped, True, note, tmp, categories)

    @classmethod
    def inactive(cls, settings: Settings, note: str) -> RetrievalScope:
        """No retrieval in the evaluated analysis (and no retrieval metrics)."""
        return cls(settings.model_copy(update={"retrieval": "off"}), False, note)

    @classmethod
    def passive(cls, settings: Settings) -> RetrievalScope:
        """For an injected analyzer: its reports are scored when their retrieval ran."""
        return cls(settings, False, "retrieval scored from the analyzer's own reports")

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def category_of(self, doc_id: str) -> str | None:
        if not self._categories:
            from loglens.retrieval.knowledge import load_documents

            self._categories = {doc.id: doc.category for doc in load_documents(self.settings)}
        return self._categories.get(doc_id)

    def case_scores(self, case: GoldenCase, report: Report | object) -> dict[str, float]:
        """The retrieval metrics of one case (empty when the case is not scored)."""
        if not isinstance(case, AnalyzeCase) or not isinstance(report, Report):
            return {}
        if not case.findings or not (self.active or report.retrieval.used):
            return {}
        finding = query_finding(case, report)
        if finding is None or not report.retrieval.used:
            return dict.fromkeys(RETRIEVAL_METRICS, 0.0)
        wanted = str(case.findings[0].category)
        relevant = [
            self.category_of(item.id) == wanted
            for item in finding.related
            if item.kind == "knowledge"
        ]
        return hit_scores(relevant)


def _index_knowledge(settings: Settings) -> dict[str, str]:
    from loglens.retrieval.indexer import open_retrieval

    context = open_retrieval(settings)
    try:
        return {doc.id: doc.category for doc in context.knowledge.documents.values()}
    finally:
        context.close()


def query_finding(case: AnalyzeCase, report: Report) -> Finding | None:
    """The reported finding matched to the first expected one, else the top reported one."""
    match = match_findings(case.findings, report.findings)[0]
    if match is not None:
        return match
    ordered = ranked(report.findings)
    return ordered[0] if ordered else None


def hit_scores(relevant: list[bool]) -> dict[str, float]:
    """hit@1, hit@3 and reciprocal rank of a ranked list of relevance flags."""
    first = next((rank for rank, hit in enumerate(relevant, start=1) if hit), None)
    return {
        "retrieval_hit_at_1": float(first == 1),
        "retrieval_hit_at_3": float(first is not None and first <= 3),
        "retrieval_mrr": 1.0 / first if first is not None else 0.0,
    }
