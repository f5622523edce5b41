"""The vector store interface: collections of embedded records, searched by meaning and words.

Three collections hold what retrieval remembers: `knowledge` (signature catalog entries and
runbook chunks), `patterns` (templates with where and when they were seen) and `incidents`
(each report's findings). Two real backends implement `VectorStore`:

* `lancedb` (default): an embedded dataset under `settings.vector_dir`
  (`loglens.retrieval.lance_store`);
* `qdrant`: a Qdrant server at `settings.qdrant_url` (`loglens.retrieval.qdrant_store`).

Upserts are idempotent by `VectorRecord.id`; `delete` removes records by id and `latest`
finds records by exact payload values (an incident's fingerprint), most recent first. `search` with `text` is hybrid: the vector half
and a lexical half fused by reciprocal rank fusion. Any failure of the store itself (missing
extra, locked or corrupt dataset, unreachable server) raises `StoreUnavailableError`, which
callers turn into "continue without retrieval".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, get_args

from loglens.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from loglens.config import Settings

Collection = Literal["knowledge", "patterns", "incidents"]
COLLECTIONS: Final[tuple[Collection, ...]] = get_args(Collection)

# Payload keys every backend stores as their own typed columns / indexed fields; any other
# payload key travels in a JSON `extra` and comes back unchanged.
TEXT_FIELDS: Final = (
    "namespace",
    "component",
    "category",
    "title",
    "source",
    "kind",
    "fingerprint",
)
TIME_FIELD: Final = "ts_ns"
STORE_HINT: Final = "retrieval is skipped until the store is repaired; `loglens index` rebuilds it"


def check_collection(collection: str) -> None:
    """InputError unless `collection` is one of `COLLECTIONS`."""
    if collection not in COLLECTIONS:
        raise InputError(
            f"unknown collection {collection!r}", hint=f"one of: {', '.join(COLLECTIONS)}"
        )


@dataclass(slots=True)
class VectorRecord:
    """One item to store: a stable id, its embedding, its text and flat scalar payload."""

    id: str
    vector: Sequence[float] | npt.NDArray[np.float32]
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SearchFilter:
    """Restricts a search; every field given must match (AND). Times are inclusive, in ns."""

    namespace: str | None = None
    component: str | None = None
    category: str | None = None
    fingerprint: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None

    def equalities(self) -> dict[str, str]:
        """The exact-match conditions, by payload key."""
        pairs = {
            "namespace": self.namespace,
            "component": self.component,
            "category": self.category,
            "fingerprint": self.fingerprint,
        }
        return {key: value for key, value in pairs.items() if value is not None}

    @property
    def is_empty(self) -> bool:
        return not self.equalities() and self.since_ns is None and self.until_ns is None


@dataclass(slots=True)
class Hit:
    """One search result. `score`: higher is closer (cosine similarity, or the fused score)."""

    id: str
    score: float
    text: str
    payload: dict[str, Any]


class VectorStore(Protocol):
    """A small vector store: upsert, search (vector or hybrid), get, latest, ids, delete,
    count."""

    @property
    def name(self) -> str:
        """`lancedb:<path>` or `qdrant:<url>`."""
        ...

    def upsert(self, collection: Collection, records: Sequence[VectorRecord]) -> int:
        """Insert or replace records by id; returns how many were written."""
        ...

    def search(
        self,
        collection: Collection,
        vector: npt.NDArray[np.float32],
        *,
        text: str | None = None,
        filter: SearchFilter | None = None,
        limit: int = 10,
    ) -> list[Hit]:
        """Nearest records; with `text`, hybrid (vector + lexical, reciprocal rank fusion)."""
        ...

    def get(self, collection: Collection, ids: Sequence[str]) -> list[Hit]:
        """Records by id (score 1.0), in the order asked; unknown ids are left out."""
        ...

    def latest(self, collection: Collection, filter: SearchFilter, *, limit: int = 10) -> list[Hit]:
        """Records matching `filter` exactly (no vector), most recent `ts_ns` first (score 1.0)."""
        ...

    def ids(self, collection: Collection) -> list[str]:
        """Every record id of a collection (for small ones: the knowledge)."""
        ...

    def delete(self, collection: Collection, ids: Sequence[str]) -> int:
        """Remove records by id (unknown ids are ignored); returns how many were asked."""
        ...

    def count(self, collection: Collection) -> int:
        """Records in a collection (0 when it does not exist yet)."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


def open_store(settings: Settings, *, dim: int) -> VectorStore:
    """The vector store `settings` asks for, for vectors of `dim` dimensions.

    Raises StoreUnavailableError when it cannot be opened or reached.
    """
    if settings.vector_backend == "qdrant":
        from loglens.retrieval.qdrant_store import QdrantStore

        return QdrantStore.connect(settings, dim=dim)
    from loglens.retrieval.lance_store import LanceStore

    return LanceStore(settings.vector_dir, dim=dim)
