"""Indexing with the real MiniLM embedder and a real LanceDB store in a temporary directory:
knowledge synced lazily by content hash, patterns and incidents upserted idempotently, and
the `--follow` loop against a recorded-format Loki."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from loglens.config import Settings
from loglens.errors import LogLensError, SourceError
from loglens.evaluation.golden import AnalyzeCase, load_case
from loglens.model import LogRecord
from loglens.retrieval.indexer import (
    IndexFigures,
    RetrievalContext,
    follow,
    index_source,
    open_retrieval,
)
from loglens.retrieval.qdrant_store import QdrantStore
from loglens.sources.loki import loki_source_from_settings
from loglens.sources.memory import RecordsSource
from loglens.sources.window import TimeWindow

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[1]
DAY_NS = 86_400 * 1_000_000_000
NOTE = """---
id: team-nas
title: Our NAS share goes read-only
category: storage
component: nfs
---

# Our NAS share goes read-only

The NFS export turns read-only when the NAS disk reports errors; check dmesg on the NAS.
"""


def golden_records(case_id: str, shift_ns: int = 0) -> list[LogRecord]:
    case = load_case(ROOT / "eval" / "golden" / "analyze" / f"{case_id}.json")
    assert isinstance(case, AnalyzeCase)
    return [LogRecord(r.ts + shift_ns, r.labels, r.line) for r in case.logs.records]


def index_records(
    context: RetrievalContext, settings: Settings, records: list[LogRecord]
) -> IndexFigures:
    return index_source(context, RecordsSource(records), settings=settings, window=None)


def test_knowledge_is_indexed_once_per_content(
    retrieval_settings: Settings, tmp_path: Path
) -> None:
    context = open_retrieval(retrieval_settings)
    try:
        assert context.sync.up_to_date and context.sync.indexed == 0
        chunks = len(context.knowledge.chunks)
        assert context.store.count("knowledge") == chunks + 1  # + the manifest
    finally:
        context.close()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "nas.md").write_text(NOTE)
    with_notes = retrieval_settings.model_copy(update={"knowledge_dir": notes})
    context = open_retrieval(with_notes)
    try:
        # Only the new note's chunk is embedded; every packaged chunk is skipped.
        assert (context.sync.indexed, context.sync.already_stored) == (1, chunks)
        assert not context.sync.up_to_date
    finally:
        context.close()
    again = open_retrieval(with_notes)
    try:
        assert again.sync.up_to_date
        assert again.store.count("knowledge") == chunks + 1 + 1  # + the note, one manifest
    finally:
        again.close()


@pytest.mark.parametrize("backend", ["lancedb", "qdrant_local_mode_not_the_server"])
def test_chunks_of_edited_and_removed_notes_are_deleted_from_the_store(
    retrieval_settings: Settings, tmp_path: Path, backend: str
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "nas.md").write_text(NOTE)
    with_notes = retrieval_settings.model_copy(update={"knowledge_dir": notes})

    def opened() -> RetrievalContext:
        if backend == "lancedb":
            return open_retrieval(with_notes)
        return open_retrieval(
            with_notes, store=QdrantStore.in_local_mode(str(tmp_path / "qdrant"), dim=384)
        )

    opened().close()
    edited = NOTE.replace("check dmesg on the NAS.", "reboot the NAS head, then remount.")
    assert edited != NOTE
    (notes / "nas.md").write_text(edited)
    context = opened()
    try:
        assert (context.sync.indexed, context.sync.removed) == (1, 2)  # old chunk + manifest
        note_ids = [c.id for c in context.knowledge.chunks if c.doc_id == "runbook:team-nas"]
        stored = set(context.store.ids("knowledge"))
        assert note_ids and set(note_ids) <= stored
        assert stored == {c.id for c in context.knowledge.chunks} | {context.knowledge.manifest_id}
    finally:
        context.close()
    (notes / "nas.md").unlink()
    context = opened()
    try:
        assert context.sync.removed == 2 and context.sync.indexed == 0
        assert not set(note_ids) & set(context.store.ids("knowledge"))
    finally:
        context.close()


def test_index_records_patterns_and_incidents_idempotently(retrieval_settings: Settings) -> None:
    context = open_retrieval(retrieval_settings)
    try:
        records = golden_records("crashloop")
        first = index_records(context, retrieval_settings, records)
        counts = (context.store.count("patterns"), context.store.count("incidents"))
        second = index_records(context, retrieval_settings, records)
        assert first.patterns > 0 and first.incidents >= 1
        assert (second.patterns, second.incidents) == (first.patterns, first.incidents)
        assert (context.store.count("patterns"), context.store.count("incidents")) == counts
        assert counts == (first.patterns, first.incidents)
        assert first.store.startswith("lancedb:") and first.embedder == "all-MiniLM-L6-v2"
        assert first.documents > 200 and first.chunks > first.documents
        assert first.duplicates_skipped == first.chunks  # the knowledge was already stored
    finally:
        context.close()


def test_incidents_carry_fingerprint_cause_action_and_evidence(
    retrieval_settings: Settings,
) -> None:
    context = open_retrieval(retrieval_settings)
    try:
        index_records(context, retrieval_settings, golden_records("crashloop"))
        vector = context.embedder.embed(["Container in CrashLoopBackOff"])[0]
        hit = context.store.search("incidents", vector, limit=1)[0]
        payload = hit.payload
        assert payload["fingerprint"].startswith("f-")
        assert payload["root_cause"] and payload["action"] and payload["evidence"]
        assert payload["category"] == "crashloop" and payload["kind"] == "incident"
        assert payload["window_start_ns"] < payload["ts_ns"] <= payload["window_end_ns"]
    finally:
        context.close()


def test_a_pattern_seen_again_keeps_its_first_sighting(retrieval_settings: Settings) -> None:
    context = open_retrieval(retrieval_settings)
    try:
        records = golden_records("crashloop")
        index_records(context, retrieval_settings, records)
        vector = context.embedder.embed(["BackOff: Back-off restarting failed container"])[0]
        first = context.store.search("patterns", vector, limit=1)[0]
        index_records(context, retrieval_settings, golden_records("crashloop", DAY_NS))
        index_records(context, retrieval_settings, records)  # an old window, indexed late
        stored = context.store.get("patterns", [first.id])[0].payload
        assert stored["first_seen_ns"] == first.payload["first_seen_ns"]
        assert stored["ts_ns"] == first.payload["ts_ns"] + DAY_NS  # still the later window's
        assert stored["count"] == first.payload["count"]
    finally:
        context.close()


# --- follow -------------------------------------------------------------------------------


class RecordedLoki:
    """Answers `query_range` in Loki's documented streams format from a fixed data set;
    the request numbers in `fail_on` get a 503."""

    def __init__(self, records: list[LogRecord], fail_on: set[int]) -> None:
        self.records = records
        self.fail_on = fail_on
        self.requests: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        start, end = int(params["start"]), int(params["end"])
        self.requests.append((start, end))
        if len(self.requests) in self.fail_on:
            return httpx.Response(503, text="too many outstanding requests")
        picked = sorted((r for r in self.records if start <= r.ts < end), key=lambda r: r.ts)
        if params.get("direction", "backward") == "backward":
            picked.reverse()
        picked = picked[: int(params.get("limit", "100"))]
        streams: dict[str, dict[str, Any]] = {}
        for record in picked:
            key = repr(sorted(record.labels.items()))
            stream = streams.setdefault(key, {"stream": record.labels, "values": []})
            stream["values"].append([str(record.ts), record.line])
        body = {
            "status": "success",
            "data": {"resultType": "streams", "result": list(streams.values()), "stats": {}},
        }
        return httpx.Response(200, json=body)


def test_follow_indexes_each_tick_and_retries_after_a_failed_one(
    retrieval_settings: Settings,
) -> None:
    records = golden_records("crashloop")
    every_ns = 20 * 60 * 1_000_000_000
    first_end = records[0].ts + every_ns
    loki = RecordedLoki(records, fail_on={2})
    settings = retrieval_settings.model_copy(
        update={"loki_url": "http://loki.monitoring:3100", "loki_max_attempts": 1}
    )
    clock = {"now": first_end}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += int(seconds * 1e9)

    def open_window(window: TimeWindow) -> Any:
        return loki_source_from_settings(
            settings, window=window, namespace="llm", transport=httpx.MockTransport(loki)
        )

    results: list[IndexFigures | LogLensError] = []
    context = open_retrieval(settings)
    try:
        done = follow(
            context,
            open_window,
            settings=settings,
            every_s=every_ns / 1e9,
            max_iterations=3,
            now_ns=lambda: clock["now"],
            sleep=sleep,
            on_tick=lambda tick, result: results.append(result),
        )
    finally:
        context.close()
    assert done == 2
    assert isinstance(results[0], IndexFigures) and results[0].patterns > 0
    assert isinstance(results[1], SourceError)
    assert isinstance(results[2], IndexFigures)
    windows = [(w.start, w.end) for r in results if isinstance(r, IndexFigures) and (w := r.window)]
    assert len(windows) == 2
    starts = sorted({start for start, _ in loki.requests})
    assert starts == [first_end - every_ns, first_end, first_end + every_ns]  # contiguous ticks
    assert sleeps == [every_ns / 1e9, every_ns / 1e9]


def test_secrets_are_redacted_before_they_are_embedded_or_stored(
    retrieval_settings: Settings,
) -> None:
    settings = retrieval_settings.model_copy(update={"redact_patterns": ["tenant-[0-9]+"]})
    base = golden_records("crashloop")[0]
    line = (
        'level=error msg="connect to postgres://app:s3cr3tpass@db:5432/app failed: '
        'connection refused" tenant-4711'
    )
    records = [LogRecord(base.ts + i * 1_000_000_000, base.labels, line) for i in range(5)]
    context = open_retrieval(settings)
    try:
        figures = index_records(context, settings, records)
        assert figures.patterns == 1 and figures.incidents == 1
        vector = context.embedder.embed(["connection refused to postgres"])[0]
        stored = [
            *context.store.search("patterns", vector, limit=5),
            *context.store.search("incidents", vector, limit=5),
        ]
    finally:
        context.close()
    assert len(stored) == 2
    for hit in stored:
        everything = hit.text + repr(hit.payload)
        assert "s3cr3tpass" not in everything and "tenant-4711" not in everything
        assert "<redacted" in everything


def test_ctrl_c_between_ticks_keeps_what_was_indexed(retrieval_settings: Settings) -> None:
    records = golden_records("crashloop")
    every_ns = 20 * 60 * 1_000_000_000
    settings = retrieval_settings.model_copy(update={"loki_url": "http://loki.monitoring:3100"})
    loki = RecordedLoki(records, fail_on=set())

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    context = open_retrieval(settings)
    try:
        with pytest.raises(KeyboardInterrupt):
            follow(
                context,
                lambda window: loki_source_from_settings(
                    settings, window=window, transport=httpx.MockTransport(loki)
                ),
                settings=settings,
                every_s=every_ns / 1e9,
                now_ns=lambda: records[0].ts + every_ns,
                sleep=interrupted,
            )
        assert context.store.count("patterns") > 0  # the first tick's work is kept
    finally:
        context.close()
