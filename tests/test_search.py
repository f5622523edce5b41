"""`search` and `ask` over a store holding the knowledge and two indexed golden windows
(real MiniLM, real LanceDB); `ask` against the tiny model served by llama_cpp.server."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from loglens.config import Settings
from loglens.evaluation.golden import AnalyzeCase, load_case
from loglens.llm.backend import ChatMessage, LlmBackend, open_backend
from loglens.model import utc_now_ns
from loglens.retrieval.indexer import RetrievalContext, index_source, open_retrieval
from loglens.retrieval.search import SearchQuery, ask, search
from loglens.sources.memory import RecordsSource

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[1]
QUESTION = "why does llama-server restart?"


@pytest.fixture(scope="module")
def indexed_dir(knowledge_seed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the knowledge and two indexed golden windows (read-only here)."""
    data_dir = tmp_path_factory.mktemp("search-store")
    shutil.copytree(knowledge_seed, data_dir, dirs_exist_ok=True)
    settings = Settings(_env_file=None, data_dir=data_dir, retrieval="on", knowledge_dir=None)
    context = open_retrieval(settings)
    try:
        for case_id in ("cuda-oom-llama", "llama-context"):
            case = load_case(ROOT / "eval" / "golden" / "analyze" / f"{case_id}.json")
            assert isinstance(case, AnalyzeCase)
            source = RecordsSource(case.logs.records)
            index_source(context, source, settings=settings, window=case.logs.window)
    finally:
        context.close()
    return data_dir


@pytest.fixture
def retrieval_settings(indexed_dir: Path) -> Settings:
    return Settings(data_dir=indexed_dir, retrieval="on")


@pytest.fixture
def indexed(retrieval_settings: Settings) -> Iterator[RetrievalContext]:
    context = open_retrieval(retrieval_settings)
    try:
        yield context
    finally:
        context.close()


def test_search_merges_the_three_kinds_best_first(indexed: RetrievalContext) -> None:
    results = search(indexed, SearchQuery(text=QUESTION, limit=12))
    kinds = {r.kind for r in results.results}
    assert kinds == {"knowledge", "incident", "pattern"}
    assert [r.rank for r in results.results] == list(range(1, len(results.results) + 1))
    scores = [r.score for r in results.results]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1.0
    for result in results.results:
        if result.kind == "incident":
            assert result.evidence and result.text and result.seen  # root cause + lines
        elif result.kind == "pattern":
            assert result.evidence and result.text and result.seen  # template + examples
        else:
            assert not result.evidence and result.source
    assert results.store.startswith("lancedb:") and results.latency_ms > 0


def test_search_finds_the_runbook_for_a_described_problem(indexed: RetrievalContext) -> None:
    results = search(
        indexed,
        SearchQuery(text="prompt is larger than the context size", kinds=["knowledge"], limit=3),
    )
    ids = [r.id for r in results.results]
    assert "runbook:llama-server-context" in ids or "signature:llama.context_exceeded" in ids
    assert all(r.kind == "knowledge" for r in results.results)


def test_filters_restrict_incidents_and_patterns_but_not_knowledge(
    indexed: RetrievalContext,
) -> None:
    elsewhere = search(indexed, SearchQuery(text=QUESTION, namespace="nowhere", limit=10))
    assert {r.kind for r in elsewhere.results} == {"knowledge"}
    future = search(indexed, SearchQuery(text=QUESTION, since_ns=utc_now_ns() + 10**12))
    assert {r.kind for r in future.results} == {"knowledge"}
    component = search(
        indexed, SearchQuery(text=QUESTION, kinds=["incident"], component="llama_server")
    )
    assert component.results and all(r.component == "llama_server" for r in component.results)


def test_ask_without_a_model_returns_the_sources(
    indexed: RetrievalContext, retrieval_settings: Settings
) -> None:
    answer = ask(indexed, QUESTION, settings=retrieval_settings)
    assert answer.answer is None and answer.model is None
    assert answer.note and "no LLM is configured" in answer.note
    assert answer.sources and answer.sources[0].rank == 1


class RecordingBackend:
    """The real backend, keeping the messages it was asked to stream."""

    def __init__(self, inner: LlmBackend) -> None:
        self.inner = inner
        self.streamed: list[Sequence[ChatMessage]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float
    ) -> AsyncIterator[str]:
        self.streamed.append(messages)
        return self.inner.stream(messages, max_tokens=max_tokens, timeout_s=timeout_s)


def test_ask_streams_an_answer_from_numbered_sources(
    indexed: RetrievalContext, retrieval_settings: Settings, llama_server: str
) -> None:
    settings = retrieval_settings.model_copy(
        update={"llm_backend": "openai", "llm_url": llama_server, "llm_max_tokens": 24}
    )
    backend = open_backend(settings)
    assert backend is not None
    recording = RecordingBackend(backend)
    pieces: list[str] = []
    answer = ask(
        indexed,
        QUESTION,
        settings=settings,
        on_token=pieces.append,
        backend=recording,  # type: ignore[arg-type]
    )
    asyncio.run(backend.aclose())
    assert answer.answer is not None and answer.answer == "".join(pieces).strip()
    assert answer.prompt_version and answer.prompt_version.startswith("ask.v1@")
    assert answer.model and answer.sources
    system, user = recording.streamed[0][0], recording.streamed[0][1]
    assert "Cite every statement" in system.content and "never" in system.content
    assert '"source": 1' in user.content and user.content.rstrip().endswith(QUESTION)
    # The tiny model's byte-level tokens make sources long: the last ones are left out.
    retrieved = search(indexed, SearchQuery(text=QUESTION, limit=8)).results
    assert [s.id for s in answer.sources] == [s.id for s in retrieved[: len(answer.sources)]]
    assert len(answer.sources) + answer.sources_dropped == len(retrieved)
    numbers = [n for n in range(1, len(retrieved) + 1) if f'"source": {n},' in user.content]
    assert numbers == list(range(1, len(answer.sources) + 1))
