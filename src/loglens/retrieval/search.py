"""`loglens search` and `loglens ask`: hybrid search over knowledge, incidents and patterns.

`search` embeds the question once and runs a hybrid search (vector + BM25, reciprocal rank
fusion) in each chosen collection; results from all collections are merged by fused score,
shown over its best possible value (first in both rankings = 1.0). Namespace, component and
time filters restrict incidents and patterns; knowledge is general and is never filtered out
by them.

`ask` retrieves the same way, then — when an LLM is configured — streams an answer written
only from those sources, citing them as [1], [2]; without an LLM it returns the sources and
says that no model is configured.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from loglens.config import Settings
from loglens.llm.backend import LlmBackend, describe_missing_backend, open_backend
from loglens.model import format_ts
from loglens.retrieval.fusion import BEST_FUSED_SCORE
from loglens.retrieval.indexer import RetrievalContext
from loglens.retrieval.related import best_per_document, snippet
from loglens.retrieval.store import Collection, Hit, SearchFilter

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SearchKind = Literal["knowledge", "incident", "pattern"]
SEARCH_KINDS: Final[tuple[SearchKind, ...]] = get_args(SearchKind)
COLLECTION_OF: Final[dict[SearchKind, Collection]] = {
    "knowledge": "knowledge",
    "incident": "incidents",
    "pattern": "patterns",
}
ASK_PROMPT: Final = "ask.v1"
# Sources handed to the model at most (fewer when the context is small).
ASK_SOURCES: Final = 8
# Characters of one source's text in the prompt before the budget trims further.
ASK_SOURCE_CHARS: Final = 1200


class SearchResult(BaseModel):
    """One result with what backs it up."""

    model_config = ConfigDict(extra="forbid")

    rank: int
    kind: SearchKind
    id: str
    score: float = Field(description="fused rank score over its best value (1.0)")
    title: str
    text: str = Field(description="knowledge chunk, incident root cause, or pattern template")
    evidence: list[str] = Field(
        default_factory=list, description="incident evidence lines or pattern examples"
    )
    source: str | None = None
    category: str | None = None
    component: str | None = None
    namespace: str | None = None
    seen: str | None = Field(default=None, description="last seen (incidents, patterns)")


class SearchResults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    kinds: list[SearchKind]
    results: list[SearchResult] = Field(default_factory=list)
    store: str
    embedder: str
    latency_ms: float


@dataclass(slots=True)
class SearchQuery:
    text: str
    kinds: Sequence[SearchKind] = SEARCH_KINDS
    namespace: str | None = None
    component: str | None = None
    since_ns: int | None = None
    limit: int = 10


def search(context: RetrievalContext, query: SearchQuery) -> SearchResults:
    """Hybrid search in each chosen collection, merged by score, best first."""
    started = time.perf_counter()
    vector = context.embedder.embed([query.text])[0]
    hits: list[tuple[SearchKind, Hit]] = []
    for kind in query.kinds:
        hits += [(kind, hit) for hit in _search_kind(context, kind, vector, query)]
    hits.sort(key=lambda pair: (-pair[1].score, SEARCH_KINDS.index(pair[0])))
    results = [
        _result(rank, kind, hit) for rank, (kind, hit) in enumerate(hits[: query.limit], start=1)
    ]
    return SearchResults(
        query=query.text,
        kinds=list(query.kinds),
        results=results,
        store=context.store.name,
        embedder=context.embedder.name,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _search_kind(
    context: RetrievalContext,
    kind: SearchKind,
    vector: npt.NDArray[np.float32],
    query: SearchQuery,
) -> list[Hit]:
    store = context.store
    if kind == "knowledge":
        pool = store.search("knowledge", vector, text=query.text, limit=query.limit * 3 + 10)
        current = [hit for hit in pool if context.knowledge.chunk(hit.id) is not None]
        return best_per_document(current)[: query.limit]
    flt = SearchFilter(
        namespace=query.namespace, component=query.component, since_ns=query.since_ns
    )
    return store.search(COLLECTION_OF[kind], vector, text=query.text, filter=flt, limit=query.limit)


def _lines(value: object) -> list[str]:
    return [line for line in str(value or "").split("\n") if line]


def _result(rank: int, kind: SearchKind, hit: Hit) -> SearchResult:
    payload = hit.payload
    if kind == "incident":
        text, evidence = str(payload.get("root_cause") or ""), _lines(payload.get("evidence"))
    elif kind == "pattern":
        text, evidence = hit.text, _lines(payload.get("examples"))
    else:
        text, evidence = hit.text, []
    ts = payload.get("ts_ns")
    return SearchResult(
        rank=rank,
        kind=kind,
        id=str(payload.get("doc_id") or hit.id),
        score=round(min(hit.score / BEST_FUSED_SCORE, 1.0), 4),
        title=str(payload.get("title") or ""),
        text=text,
        evidence=evidence,
        source=str(payload.get("source") or "") or None,
        category=str(payload.get("category") or "") or None,
        component=str(payload.get("component") or "") or None,
        namespace=str(payload.get("namespace") or "") or None,
        seen=format_ts(int(ts)) if ts and kind != "knowledge" else None,
    )


# --- ask ---------------------------------------------------------------------------------------

TokenCallback = Callable[[str], None]


class AskAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    answer: str | None = None
    note: str | None = Field(default=None, description="why there is no answer, if there is none")
    model: str | None = None
    prompt_version: str | None = None
    sources: list[SearchResult] = Field(
        default_factory=list, description="the sources the answer may cite, numbered from 1"
    )
    sources_dropped: int = Field(
        default=0, description="retrieved sources left out (the last ones) to fit the context"
    )
    seconds: float = 0.0


def ask(
    context: RetrievalContext,
    question: str,
    *,
    settings: Settings,
    query: SearchQuery | None = None,
    on_token: TokenCallback | None = None,
    backend: LlmBackend | None = None,
) -> AskAnswer:
    """Retrieve sources for `question`, then answer from them when an LLM is configured."""
    import asyncio

    started = time.perf_counter()
    found = search(context, query or SearchQuery(text=question, limit=ASK_SOURCES))
    model = backend if backend is not None else open_backend(settings)
    if model is None:
        return AskAnswer(
            question=question,
            note=f"no LLM is configured, so here is the retrieved context; {describe_missing_backend()}",
            sources=found.results,
            seconds=round(time.perf_counter() - started, 3),
        )
    answer = asyncio.run(
        _answer(model, question, found.results, settings, on_token, close=backend is None)
    )
    answer.seconds = round(time.perf_counter() - started, 3)
    return answer


async def _answer(
    backend: LlmBackend,
    question: str,
    sources: Sequence[SearchResult],
    settings: Settings,
    on_token: TokenCallback | None,
    *,
    close: bool,
) -> AskAnswer:
    try:
        return await _generate(backend, question, sources, settings, on_token)
    finally:
        if close:
            await backend.aclose()


async def _generate(
    backend: LlmBackend,
    question: str,
    sources: Sequence[SearchResult],
    settings: Settings,
    on_token: TokenCallback | None,
) -> AskAnswer:
    from loglens.llm.prompting import (
        PromptItem,
        PromptSection,
        TokenBudget,
        fit_prompt,
        load_prompt,
        system_prompt,
    )
    from loglens.llm.summarize import stream_text

    prompt = load_prompt(ASK_PROMPT)
    info = await backend.info()
    items = [
        PromptItem(_source_value(n, s), value=float(-n), truncatable=False, label=f"[{n}]")
        for n, s in enumerate(sources, start=1)
    ]
    fitted = await fit_prompt(
        backend,
        system=system_prompt(prompt),
        sections=[PromptSection("Sources:", items)],
        closing=f"Question: {question}",
        budget=TokenBudget(info.context_size, settings.llm_max_tokens),
    )
    streamed = await stream_text(
        backend,
        fitted.messages,
        on_token=on_token,
        max_tokens=settings.llm_max_tokens,
        timeout_s=settings.llm_timeout_s,
    )
    kept = [source for source, item in zip(sources, items, strict=True) if item.kept]
    return AskAnswer(
        question=question,
        answer=streamed.text.strip(),
        model=info.model,
        prompt_version=prompt.ref,
        sources=kept,
        sources_dropped=len(sources) - len(kept),
    )


def _source_value(number: int, source: SearchResult) -> dict[str, object]:
    """One source as the model sees it (quoted as data by the prompt's data block)."""
    value: dict[str, object] = {
        "source": number,
        "kind": source.kind,
        "title": source.title,
        "text": snippet(source.text, ASK_SOURCE_CHARS),
    }
    if source.evidence:
        value["evidence"] = [snippet(line, 300) for line in source.evidence[:3]]
    if source.seen:
        value["seen"] = source.seen
    if source.component:
        value["component"] = source.component
    return value
