"""Qdrant backend of the vector store: a Qdrant server (`settings.qdrant_url`) for the cluster.

One Qdrant collection per loglens collection, named `loglens_<collection>`, with two named
vectors per point:

* `dense`: the embedding, cosine distance;
* `bm25`: a sparse bag of words for the lexical half of hybrid search. Qdrant's local mode
  has no full-text ranking, and a `MatchText` filter only says yes or no, so the terms are
  weighted on the client with BM25's term-frequency part (k1 = 1.2, b = 0.75, a fixed
  average length) and the collection applies the IDF part (`Modifier.IDF`). Server and
  local mode rank the same way. Term ids are 32-bit BLAKE2b hashes of lower-cased words.

Point ids are uuid5 of the record's string id (kept in the payload as `_id`, the text as
`_text`); upserting the same id replaces the point. On a server, payload indexes (keyword
for namespace, component, category, title, source, kind, fingerprint; integer for `ts_ns`,
which also orders `latest`) make filters cheap. Filters are `models.Filter` conditions;
time bounds pass through Qdrant's float ranges, so they are exact to about 0.3 µs at
today's nanosecond timestamps.

Hybrid search asks for both rankings in one request (`query_batch_points`) and fuses them on
the client with the same reciprocal rank fusion as the LanceDB backend.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import httpx

from loglens.errors import StoreUnavailableError
from loglens.retrieval.fusion import candidate_pool, reciprocal_rank_fusion
from loglens.retrieval.store import (
    STORE_HINT,
    TEXT_FIELDS,
    TIME_FIELD,
    Collection,
    Hit,
    SearchFilter,
    VectorRecord,
    check_collection,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from qdrant_client import QdrantClient, models

    from loglens.config import Settings

DENSE: Final = "dense"
SPARSE: Final = "bm25"
COLLECTION_PREFIX: Final = "loglens_"
ID_KEY: Final = "_id"
TEXT_KEY: Final = "_text"
# Seconds per request to a Qdrant server.
TIMEOUT_S: Final = 10
# Points per upsert request, and per page when listing ids.
UPSERT_BATCH: Final = 256
SCROLL_PAGE: Final = 1_000
# BM25 term-frequency saturation and length normalisation; the average length is fixed
# (templates and runbook chunks are short) so a document's weights never change later.
BM25_K1: Final = 1.2
BM25_B: Final = 0.75
BM25_AVG_TOKENS: Final = 32.0
_WORD = re.compile(r"\w{2,}")
# uuid5 namespace of loglens point ids.
_POINT_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/loglens/records")


def _import_qdrant() -> Any:
    try:
        import qdrant_client
    except ImportError as exc:
        raise StoreUnavailableError(
            "qdrant-client is not installed", hint="pip install 'loglens[retrieval]'"
        ) from exc
    return qdrant_client


def _qdrant_errors() -> tuple[type[BaseException], ...]:
    from qdrant_client.http.exceptions import ApiException

    return (ApiException, httpx.HTTPError, OSError, RuntimeError, ValueError)


def point_id(record_id: str) -> str:
    """The Qdrant point id of a record id: a uuid5, stable across runs and machines."""
    return str(uuid.uuid5(_POINT_NAMESPACE, record_id))


def _term_id(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")


def terms(text: str) -> Counter[int]:
    """Hashed lower-case words (2+ word characters) of `text`, with their counts."""
    return Counter(_term_id(word) for word in _WORD.findall(text.lower()))


def document_sparse(text: str) -> tuple[list[int], list[float]]:
    """BM25 term-frequency weights of a stored text (IDF is applied by the collection)."""
    counts = terms(text)
    length = sum(counts.values())
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / BM25_AVG_TOKENS)
    indices = sorted(counts)
    return indices, [counts[i] * (BM25_K1 + 1) / (counts[i] + norm) for i in indices]


def query_sparse(text: str) -> tuple[list[int], list[float]]:
    """A query's terms, each weighted 1 (BM25 counts each query word once)."""
    indices = sorted(terms(text))
    return indices, [1.0] * len(indices)


def qdrant_filter(flt: SearchFilter | None) -> models.Filter | None:
    """The Qdrant filter for `flt` (None when it restricts nothing)."""
    from qdrant_client import models

    if flt is None or flt.is_empty:
        return None
    must: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchValue(value=value))
        for key, value in flt.equalities().items()
    ]
    if flt.since_ns is not None or flt.until_ns is not None:
        must.append(
            models.FieldCondition(
                key=TIME_FIELD, range=models.Range(gte=flt.since_ns, lte=flt.until_ns)
            )
        )
    return models.Filter(must=must)


def _payload(record: VectorRecord) -> dict[str, Any]:
    body = {key: value for key, value in record.payload.items() if value is not None}
    return {**body, ID_KEY: record.id, TEXT_KEY: record.text}


def _hit(payload: dict[str, Any] | None, score: float) -> Hit:
    body = dict(payload or {})
    record_id = str(body.pop(ID_KEY, ""))
    text = str(body.pop(TEXT_KEY, ""))
    return Hit(id=record_id, score=score, text=text, payload=body)


class QdrantStore:
    """The Qdrant vector store (see the module docstring).

    `QdrantStore.connect(settings, dim=…)` talks to a server; tests and single-machine use
    pass a local-mode client (`QdrantStore.in_local_mode(…)`), which speaks the same client API.
    """

    def __init__(self, client: QdrantClient, *, dim: int, name: str, local: bool) -> None:
        self.client = client
        self.dim = dim
        self.name = name
        self.is_local = local
        self._ready: set[str] = set()

    @classmethod
    def connect(cls, settings: Settings, *, dim: int) -> QdrantStore:
        """A store on the Qdrant server at `settings.qdrant_url`; checks that it answers."""
        if not settings.qdrant_url:
            raise StoreUnavailableError(
                "the qdrant vector backend needs a server URL",
                hint="set LOGLENS_QDRANT_URL (e.g. http://qdrant:6333) or "
                "LOGLENS_VECTOR_BACKEND=lancedb",
            )
        qdrant_client = _import_qdrant()
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        store = cls(
            # The probe below checks the server answers; skip the client's version request.
            qdrant_client.QdrantClient(
                url=settings.qdrant_url,
                api_key=api_key,
                timeout=TIMEOUT_S,
                check_compatibility=False,
            ),
            dim=dim,
            name=f"qdrant:{settings.qdrant_url}",
            local=False,
        )
        with store._guard("connecting"):
            store.client.get_collections()
        return store

    @classmethod
    def in_local_mode(cls, location: str = ":memory:", *, dim: int) -> QdrantStore:
        """Qdrant's local mode: in memory (`:memory:`) or in a folder; no server involved."""
        qdrant_client = _import_qdrant()
        try:
            if location == ":memory:":
                client = qdrant_client.QdrantClient(location=":memory:")
            else:
                client = qdrant_client.QdrantClient(path=location)
        except _qdrant_errors() as exc:
            raise StoreUnavailableError(
                f"vector store qdrant local {location}: cannot open: {exc}", hint=STORE_HINT
            ) from exc
        return cls(client, dim=dim, name=f"qdrant-local:{location}", local=True)

    # --- the VectorStore interface ---------------------------------------------------------

    def upsert(self, collection: Collection, records: Sequence[VectorRecord]) -> int:
        from qdrant_client import models

        if not records:
            return 0
        unique = list({record.id: record for record in records}.values())
        points = [self._point(record, models) for record in unique]
        name = self._collection(collection, create=True)
        assert name is not None  # created when missing
        with self._guard(f"writing to {collection}"):
            for start in range(0, len(points), UPSERT_BATCH):
                self.client.upsert(name, points=points[start : start + UPSERT_BATCH], wait=True)
        return len(points)

    def search(
        self,
        collection: Collection,
        vector: npt.NDArray[np.float32],
        *,
        text: str | None = None,
        filter: SearchFilter | None = None,
        limit: int = 10,
    ) -> list[Hit]:
        from qdrant_client import models

        name = self._collection(collection)
        if name is None or limit <= 0:
            return []
        condition = qdrant_filter(filter)
        dense = [float(x) for x in vector]
        indices, values = query_sparse(text or "")
        with self._guard(f"searching {collection}"):
            if not indices:
                return self._dense_search(name, dense, condition, limit)
            pool = candidate_pool(limit)
            requests = [
                models.QueryRequest(
                    query=dense, using=DENSE, filter=condition, limit=pool, with_payload=True
                ),
                models.QueryRequest(
                    query=models.SparseVector(indices=indices, values=values),
                    using=SPARSE,
                    filter=condition,
                    limit=pool,
                    with_payload=True,
                ),
            ]
            answers = self.client.query_batch_points(name, requests=requests)
        rankings = [[_hit(p.payload, p.score) for p in answer.points] for answer in answers]
        return reciprocal_rank_fusion(rankings, limit=limit)

    def get(self, collection: Collection, ids: Sequence[str]) -> list[Hit]:
        name = self._collection(collection)
        if name is None or not ids:
            return []
        unique = list(dict.fromkeys(ids))
        with self._guard(f"reading {collection}"):
            points = self.client.retrieve(
                name, ids=[point_id(i) for i in unique], with_payload=True
            )
        found = {hit.id: hit for hit in (_hit(p.payload, 1.0) for p in points)}
        return [found[i] for i in ids if i in found]

    def latest(self, collection: Collection, filter: SearchFilter, *, limit: int = 10) -> list[Hit]:
        from qdrant_client import models

        name = self._collection(collection)
        condition = qdrant_filter(filter)
        if name is None or limit <= 0 or condition is None:
            return []
        newest_first = models.OrderBy(key=TIME_FIELD, direction=models.Direction.DESC)
        with self._guard(f"reading {collection}"):
            points, _ = self.client.scroll(
                name, scroll_filter=condition, limit=limit, order_by=newest_first
            )
        return [_hit(point.payload, 1.0) for point in points]

    def ids(self, collection: Collection) -> list[str]:
        name = self._collection(collection)
        if name is None:
            return []
        found: list[str] = []
        offset: Any = None
        with self._guard(f"reading {collection}"):
            while True:
                points, offset = self.client.scroll(
                    name, limit=SCROLL_PAGE, offset=offset, with_payload=[ID_KEY]
                )
                found += [str((point.payload or {}).get(ID_KEY, "")) for point in points]
                if offset is None:
                    return found

    def delete(self, collection: Collection, ids: Sequence[str]) -> int:
        from qdrant_client import models

        name = self._collection(collection)
        if name is None or not ids:
            return 0
        unique = list(dict.fromkeys(ids))
        selector = models.PointIdsList(points=[point_id(i) for i in unique])
        with self._guard(f"deleting from {collection}"):
            self.client.delete(name, points_selector=selector, wait=True)
        return len(unique)

    def count(self, collection: Collection) -> int:
        name = self._collection(collection)
        if name is None:
            return 0
        with self._guard(f"counting {collection}"):
            return int(self.client.count(name, exact=True).count)

    def close(self) -> None:
        with self._guard("closing"):
            self.client.close()

    # --- helpers ---------------------------------------------------------------------------

    def _dense_search(
        self, name: str, dense: list[float], condition: models.Filter | None, limit: int
    ) -> list[Hit]:
        answer = self.client.query_points(
            name,
            query=dense,
            using=DENSE,
            query_filter=condition,
            limit=limit,
            with_payload=True,
        )
        return [_hit(p.payload, p.score) for p in answer.points]

    def _point(self, record: VectorRecord, models: Any) -> models.PointStruct:
        vector = [float(x) for x in record.vector]
        if len(vector) != self.dim:
            raise ValueError(f"a {len(vector)}-dimensional vector given to a store of {self.dim}")
        indices, values = document_sparse(record.text)
        return models.PointStruct(  # type: ignore[no-any-return]
            id=point_id(record.id),
            vector={DENSE: vector, SPARSE: models.SparseVector(indices=indices, values=values)},
            payload=_payload(record),
        )

    def _collection(self, collection: Collection, *, create: bool = False) -> str | None:
        """The Qdrant name of `collection` once it exists (created when `create`), else None."""
        check_collection(collection)
        name = COLLECTION_PREFIX + collection
        if name in self._ready:
            return name
        with self._guard(f"opening {collection}"):
            if self.client.collection_exists(name):
                self._check_dimension(collection, name)
            elif create:
                self._create(name)
            else:
                return None
        self._ready.add(name)
        return name

    def _create(self, name: str) -> None:
        from qdrant_client import models

        self.client.create_collection(
            name,
            vectors_config={
                DENSE: models.VectorParams(size=self.dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if self.is_local:  # local mode ignores payload indexes (and warns about them)
            return
        for key in TEXT_FIELDS:
            self.client.create_payload_index(name, key, models.PayloadSchemaType.KEYWORD)
        self.client.create_payload_index(name, TIME_FIELD, models.PayloadSchemaType.INTEGER)

    def _check_dimension(self, collection: str, name: str) -> None:
        vectors = self.client.get_collection(name).config.params.vectors
        params = vectors.get(DENSE) if isinstance(vectors, dict) else None
        if params is None or params.size != self.dim:
            stored = "no dense" if params is None else f"{params.size}-dimensional"
            raise StoreUnavailableError(
                f"the Qdrant collection {name} holds {stored} vectors, "
                f"the embedder makes {self.dim}-dimensional ones ({collection})",
                hint=f"use the embedder the store was built with, or delete {name} "
                "and run `loglens index` again",
            )

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except _qdrant_errors() as exc:
            raise StoreUnavailableError(
                f"vector store {self.name}: {action} failed: {exc}",
                hint="check that Qdrant runs and LOGLENS_QDRANT_URL points at it; " + STORE_HINT,
            ) from exc
