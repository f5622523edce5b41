"""Shared behaviour of the vector stores, run against both backends.

`lancedb` is the real embedded LanceDB; `qdrant` is qdrant-client's local mode, a pure-Python
stand-in that speaks the same client API: the Qdrant server itself is not exercised here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from loglens.errors import InputError, StoreUnavailableError
from loglens.retrieval.embed import LocalEmbedder
from loglens.retrieval.fusion import reciprocal_rank_fusion
from loglens.retrieval.lance_store import LanceStore, _schema, records_table, where_clause
from loglens.retrieval.qdrant_store import QdrantStore, document_sparse, point_id, query_sparse
from loglens.retrieval.store import Hit, SearchFilter, VectorRecord, VectorStore

DIM = 8
SECOND = 1_000_000_000
T0 = 1_750_000_000 * SECOND
BACKENDS = ["lancedb", "qdrant_local_mode_stands_in_for_server"]

StoreFactory = Callable[[int], VectorStore]


@pytest.fixture(scope="session")
def minilm() -> LocalEmbedder:
    """The real all-MiniLM-L6-v2, loaded once per test session."""
    return LocalEmbedder()


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    opened: list[VectorStore] = []

    def factory(dim: int) -> VectorStore:
        store: VectorStore
        if request.param == "lancedb":
            store = LanceStore(tmp_path / "vectors", dim=dim)
        else:
            store = QdrantStore.in_local_mode(":memory:", dim=dim)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


def unit(seed: int, dim: int = DIM) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def record(i: int, **payload: object) -> VectorRecord:
    base: dict[str, object] = {
        "namespace": "shop" if i % 2 else "infra",
        "component": f"svc-{i % 3}",
        "category": "network" if i % 4 == 0 else "oom",
        "ts_ns": T0 + i * 60 * SECOND,
    }
    return VectorRecord(
        id=f"p{i}", vector=unit(i), text=f"pattern number {i}", payload=base | payload
    )


def test_search_on_an_empty_store_finds_nothing(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    assert store.count("patterns") == 0
    assert store.search("patterns", unit(1)) == []
    assert store.search("patterns", unit(1), text="anything") == []
    assert store.get("patterns", ["p1"]) == []


def test_upsert_is_idempotent_by_id_and_updates_the_row(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    assert store.upsert("patterns", [record(i) for i in range(6)]) == 6
    changed = VectorRecord(id="p2", vector=unit(99), text="pattern two, renamed", payload={})
    store.upsert("patterns", [record(2), changed])  # duplicate ids in one batch: the last wins
    store.upsert("patterns", [changed])
    assert store.count("patterns") == 6
    [hit] = store.get("patterns", ["p2"])
    assert hit.text == "pattern two, renamed"
    assert hit.payload == {}
    assert store.search("patterns", unit(99), limit=1)[0].id == "p2"


def test_nearest_record_comes_first_with_cosine_similarity(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    store.upsert("patterns", [record(i) for i in range(20)])
    hits = store.search("patterns", unit(7), limit=5)
    assert hits[0].id == "p7"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))
    expected = sorted(range(20), key=lambda i: -float(unit(i) @ unit(7)))[:5]
    assert [hit.id for hit in hits] == [f"p{i}" for i in expected]


def test_collections_are_separate(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    store.upsert("patterns", [record(1)])
    store.upsert("incidents", [record(2), record(3)])
    assert (store.count("patterns"), store.count("incidents"), store.count("knowledge")) == (
        1,
        2,
        0,
    )


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (SearchFilter(namespace="shop"), {1, 3, 5, 7, 9, 11}),
        (SearchFilter(component="svc-0"), {0, 3, 6, 9}),
        (SearchFilter(category="network"), {0, 4, 8}),
        (SearchFilter(namespace="infra", category="oom"), {2, 6, 10}),
        (SearchFilter(since_ns=T0 + 8 * 60 * SECOND), {8, 9, 10, 11}),
        (SearchFilter(since_ns=T0 + 2 * 60 * SECOND, until_ns=T0 + 4 * 60 * SECOND), {2, 3, 4}),
        (SearchFilter(namespace="nowhere"), set()),
    ],
)
def test_filters_restrict_results_by_payload_and_time(
    make_store: StoreFactory, flt: SearchFilter, expected: set[int]
) -> None:
    store = make_store(DIM)
    store.upsert("patterns", [record(i) for i in range(12)])
    hits = store.search("patterns", unit(0), filter=flt, limit=20)
    assert {hit.id for hit in hits} == {f"p{i}" for i in expected}
    hybrid = store.search("patterns", unit(0), text="pattern number", filter=flt, limit=20)
    assert {hit.id for hit in hybrid} == {f"p{i}" for i in expected}


def test_a_narrow_filter_still_fills_the_limit(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    store.upsert(
        "patterns", [record(i, namespace="rare" if i % 25 == 0 else "busy") for i in range(200)]
    )
    hits = store.search("patterns", unit(3), filter=SearchFilter(namespace="rare"), limit=10)
    assert {hit.id for hit in hits} == {f"p{i}" for i in range(0, 200, 25)}


def test_filter_values_cannot_inject_conditions(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    store.upsert("patterns", [record(1, namespace="o'brien"), record(2, namespace="plain")])
    assert [
        h.id for h in store.search("patterns", unit(1), filter=SearchFilter(namespace="o'brien"))
    ] == ["p1"]
    injected = SearchFilter(namespace="x' OR '1'='1")
    assert store.search("patterns", unit(1), filter=injected) == []
    assert store.get("patterns", ["p1' OR '1'='1"]) == []


def test_get_returns_records_in_the_order_asked_and_skips_unknown_ids(
    make_store: StoreFactory,
) -> None:
    store = make_store(DIM)
    store.upsert("incidents", [record(i) for i in range(5)])
    hits = store.get("incidents", ["p4", "missing", "p0", "p4"])
    assert [hit.id for hit in hits] == ["p4", "p0", "p4"]
    assert hits[0].text == "pattern number 4"
    assert hits[0].payload["namespace"] == "infra"


def test_delete_removes_records_by_id_and_ids_lists_what_is_left(
    make_store: StoreFactory,
) -> None:
    store = make_store(DIM)
    store.upsert("knowledge", [record(i) for i in range(6)])
    assert sorted(store.ids("knowledge")) == [f"p{i}" for i in range(6)]
    assert store.delete("knowledge", ["p1", "p4", "missing"]) == 3
    assert sorted(store.ids("knowledge")) == ["p0", "p2", "p3", "p5"]
    assert store.get("knowledge", ["p1", "p2"])[0].id == "p2"
    nearest = store.search("knowledge", unit(4), limit=6)
    assert "p4" not in {hit.id for hit in nearest} and len(nearest) == 4
    assert store.delete("knowledge", []) == 0
    assert store.ids("patterns") == [] and store.delete("patterns", ["p0"]) == 0


def test_latest_finds_every_match_of_a_fingerprint_newest_first(
    make_store: StoreFactory,
) -> None:
    store = make_store(DIM)
    # 40 look-alikes (same vector as the query) and 3 of the fingerprint far from it.
    decoys = [
        VectorRecord(f"d{i}", unit(0), "decoy", {"fingerprint": f"other-{i}", "ts_ns": T0 + i})
        for i in range(40)
    ]
    same = [
        VectorRecord(f"s{i}", -unit(0), "same", {"fingerprint": "f-1", "ts_ns": T0 + i * SECOND})
        for i in range(3)
    ]
    store.upsert("incidents", [*decoys, *same])
    nearest = store.search("incidents", unit(0), limit=20)
    assert not any(hit.payload.get("fingerprint") == "f-1" for hit in nearest)
    hits = store.latest("incidents", SearchFilter(fingerprint="f-1"), limit=2)
    assert [hit.id for hit in hits] == ["s2", "s1"]
    assert hits[0].payload["fingerprint"] == "f-1" and hits[0].text == "same"
    before = SearchFilter(fingerprint="f-1", until_ns=T0 + SECOND // 2)  # Qdrant: ~0.3 µs
    assert [hit.id for hit in store.latest("incidents", before)] == ["s0"]
    assert store.latest("incidents", SearchFilter(fingerprint="f-9")) == []
    assert store.latest("patterns", SearchFilter(fingerprint="f-1")) == []


def test_lancedb_table_without_a_fingerprint_column_gets_one(tmp_path: Path) -> None:
    import lancedb
    import pyarrow as pa

    older = pa.schema([f for f in _schema(DIM) if f.name != "fingerprint"])
    db = lancedb.connect(tmp_path / "v")
    # Written when the fingerprint was one of the `extra` fields.
    old_row = records_table([record(1)], DIM).drop_columns(["fingerprint"])
    extra = old_row.schema.get_field_index("extra")
    old_row = old_row.set_column(extra, "extra", pa.array(['{"fingerprint":"f-old"}']))
    db.create_table("incidents", data=old_row, schema=older)
    store = LanceStore(tmp_path / "v", dim=DIM)
    store.upsert("incidents", [record(2, fingerprint="f-new")])
    assert store.count("incidents") == 2
    # The older row keeps its fingerprint in `extra`; new rows can be found by it.
    assert store.get("incidents", ["p1"])[0].payload["fingerprint"] == "f-old"
    found = store.latest("incidents", SearchFilter(fingerprint="f-new"))
    assert [hit.id for hit in found] == ["p2"]


def test_payload_round_trips_with_extra_fields(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    payload = {
        "namespace": "ai",
        "component": "llama-server",
        "category": "oom",
        "title": "llama-server OOMKilled",
        "source": "demo",
        "kind": "incident",
        "ts_ns": T0,
        "fingerprint": "f-1a2b",
        "count": 42,
        "first_seen_ns": T0 - SECOND,
        "root_cause": "memory limit 4Gi",
        "unset": None,
    }
    store.upsert("incidents", [VectorRecord(id="i1", vector=unit(1), text="OOM", payload=payload)])
    [hit] = store.search("incidents", unit(1), limit=1)
    assert hit.payload == {key: value for key, value in payload.items() if value is not None}


def test_hybrid_finds_an_exact_keyword_the_vector_half_misses(
    make_store: StoreFactory, minilm: LocalEmbedder
) -> None:
    texts = [
        "ingest pipeline error: failed to parse batch from loki",
        "ingest pipeline stalled, queue full, dropping records",
        "error in ingest worker: deadline exceeded writing chunk",
        "ingest pipeline error: upstream closed connection",
        "ingest retry budget exhausted after 5 attempts",
        "ingest pipeline error: schema mismatch in record",
        "ingest worker crashed, restarting pipeline",
        "nightly backup job wrote snapshot zq81kv to object storage",
        "TLS handshake failed: x509 certificate has expired",
        "container OOMKilled, memory limit exceeded",
    ]
    store = make_store(minilm.dim)
    vectors = minilm.embed(texts)
    store.upsert(
        "knowledge",
        [
            VectorRecord(id=f"k{i}", vector=v, text=t)
            for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
        ],
    )
    question = "why did ingest fail on zq81kv"
    query = minilm.embed([question])[0]
    vector_only = store.search("knowledge", query, limit=5)
    hybrid = store.search("knowledge", query, text=question, limit=5)
    assert "k7" not in {hit.id for hit in vector_only}
    assert "k7" in {hit.id for hit in hybrid}
    assert all(0 < hit.score <= 2 / 61 for hit in hybrid)


def test_unknown_collection_is_refused(make_store: StoreFactory) -> None:
    store = make_store(DIM)
    with pytest.raises(InputError, match="unknown collection"):
        store.count("logs")  # type: ignore[arg-type]


def test_a_store_of_another_dimension_is_unavailable_not_corrupted(tmp_path: Path) -> None:
    LanceStore(tmp_path / "v", dim=DIM).upsert("patterns", [record(1)])
    with pytest.raises(
        StoreUnavailableError, match="8-dimensional vectors, the embedder makes 384"
    ):
        LanceStore(tmp_path / "v", dim=384).count("patterns")
    assert LanceStore(tmp_path / "v", dim=DIM).count("patterns") == 1


def test_qdrant_local_mode_stands_in_for_server_dimension_check() -> None:
    store = QdrantStore.in_local_mode(dim=DIM)
    store.upsert("patterns", [record(1)])
    other = QdrantStore(store.client, dim=384, name="other", local=True)
    with pytest.raises(StoreUnavailableError, match="384-dimensional"):
        other.count("patterns")


# --- LanceDB-specific: indexes and maintenance --------------------------------------------


def vector_index_uuid(path: Path) -> str:
    import lancedb

    table = lancedb.connect(path).open_table("patterns")
    [index] = [i for i in table.list_indices() if i.columns == ["vector"]]
    return str(index.index_uuid)


def test_lancedb_builds_a_vector_index_past_the_threshold_and_still_finds_the_nearest(
    tmp_path: Path,
) -> None:
    store = LanceStore(tmp_path / "v", dim=DIM, vector_index_min_rows=500)
    store.upsert("patterns", [record(i) for i in range(400)])
    assert not any(key.startswith("vector") for key in store.index_state("patterns"))
    store.upsert("patterns", [record(i) for i in range(400, 600)])
    state = store.index_state("patterns")
    assert state["vector_idx.indexed"] == 600
    assert store.search("patterns", unit(123), limit=1)[0].id == "p123"
    built = vector_index_uuid(tmp_path / "v")
    store.upsert("patterns", [record(i, namespace="moved") for i in range(10)])
    assert vector_index_uuid(tmp_path / "v") == built, "a small upsert must not rebuild the index"
    filtered = store.search("patterns", unit(123), filter=SearchFilter(namespace="infra"), limit=5)
    assert filtered and all(hit.payload["namespace"] == "infra" for hit in filtered)


def test_lancedb_full_text_search_covers_rows_written_after_the_index(tmp_path: Path) -> None:
    store = LanceStore(tmp_path / "v", dim=DIM)
    store.upsert("knowledge", [record(i) for i in range(10)])
    late = VectorRecord(id="late", vector=unit(500), text="kafka rebalance storm", payload={})
    store.upsert("knowledge", [late])
    assert store.index_state("knowledge")["text_idx.unindexed"] == 1
    hits = store.search("knowledge", unit(0), text="rebalance", limit=3)
    assert hits[0].id == "late"
    store.optimize("knowledge")
    assert store.index_state("knowledge")["text_idx.unindexed"] == 0
    assert store.search("knowledge", unit(0), text="rebalance", limit=3)[0].id == "late"


def test_where_clause_escapes_quotes_and_combines_conditions() -> None:
    flt = SearchFilter(namespace="a'b", category="oom", since_ns=5, until_ns=9)
    assert (
        where_clause(flt) == "namespace = 'a''b' AND category = 'oom' AND ts_ns >= 5 AND ts_ns <= 9"
    )
    assert where_clause(SearchFilter()) is None
    assert where_clause(None) is None


# --- Qdrant-specific helpers ---------------------------------------------------------------


def test_qdrant_point_ids_are_stable_uuids_of_the_string_id() -> None:
    assert point_id("p1") == point_id("p1")
    assert point_id("p1") != point_id("p2")
    assert len(point_id("anything at all")) == 36


def test_qdrant_sparse_weights_saturate_with_repetition_and_ignore_case() -> None:
    indices, values = document_sparse("Timeout timeout TIMEOUT retry")
    weights = dict(zip(indices, values, strict=True))
    [timeout_id] = query_sparse("timeout")[0]
    [retry_id] = query_sparse("retry")[0]
    assert weights[timeout_id] > weights[retry_id]
    assert weights[timeout_id] < 3 * weights[retry_id]
    assert query_sparse("a ! ?") == ([], [])


# --- fusion ----------------------------------------------------------------------------------


def _hits(*ids: str) -> list[Hit]:
    return [Hit(id=i, score=0.0, text=i, payload={}) for i in ids]


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([_hits("a", "b", "c"), _hits("c", "b", "d")], limit=4)
    assert [hit.id for hit in fused] == ["c", "b", "a", "d"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 63)
    assert fused[1].score == pytest.approx(2 / 62)
    assert fused[2].score == pytest.approx(1 / 61)
    assert [h.id for h in reciprocal_rank_fusion([_hits("x"), []], limit=1)] == ["x"]
