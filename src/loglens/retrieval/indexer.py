"""What goes into the vector store, and when.

* Knowledge (`KnowledgeBase`): indexed lazily whenever a retrieval context opens and the
  store lacks the manifest record of the current content hash. Chunks the store already
  holds (same id = same source and text) are not embedded again; chunks it holds that the
  knowledge no longer has (an edited or removed note) are deleted.
* Patterns: one record per pattern id (template embedding, namespace, component, category,
  first/last seen, count of its latest window); a pattern seen again updates its record.
* Incidents: one record per finding and window (id = fingerprint + window), with root cause,
  action and evidence; `analyze` records them too when retrieval is on and
  `settings.record_history` is set.

Upserts are idempotent by id: indexing the same window twice changes nothing.
`RetrievalContext` bundles the embedder, the store and the knowledge base every retrieval
caller needs; `open_retrieval` builds it from Settings.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict

from loglens.config import Settings
from loglens.detect.classify import component_from_labels
from loglens.errors import LogLensError
from loglens.model import Finding, PatternOut, Report, Window, parse_ts, utc_now_ns
from loglens.parsing.redact import Redactor
from loglens.retrieval.embed import Embedder, open_embedder
from loglens.retrieval.knowledge import KnowledgeBase, knowledge_base
from loglens.retrieval.store import VectorRecord, VectorStore, open_store
from loglens.sources.base import LogSource
from loglens.sources.window import TimeWindow

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from loglens.analysis.pipeline import ProgressCallback

    Matrix = npt.NDArray[np.float32]

MANIFEST_KIND: Final = "manifest"
# Templates of a finding that go into its query / incident text.
MAX_TEMPLATES: Final = 3
# Evidence lines and pattern examples kept in a record's payload.
MAX_EVIDENCE: Final = 3
# Severities recorded as incidents (info findings are expected lines, not incidents).
INCIDENT_SEVERITIES: Final = frozenset({"warn", "error", "critical"})


class IndexFigures(BaseModel):
    """What one `loglens index` run (or one `--follow` tick) did."""

    model_config = ConfigDict(extra="forbid")

    store: str
    embedder: str
    window: Window | None = None
    documents: int = 0
    chunks: int = 0
    tokens_mean: float = 0.0
    tokens_max: int = 0
    duplicates_skipped: int = 0
    knowledge_indexed: int = 0
    knowledge_removed: int = 0
    patterns: int = 0
    incidents: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class KnowledgeSync:
    """The outcome of bringing the store's knowledge up to date."""

    indexed: int
    already_stored: int
    up_to_date: bool
    removed: int = 0


@dataclass(slots=True)
class RetrievalContext:
    """An open embedder, store and knowledge base, with the knowledge in sync.

    `redactor` (the built-in rules plus `settings.redact_patterns`) is applied to every log
    text before it is embedded or stored.
    """

    embedder: Embedder
    store: VectorStore
    knowledge: KnowledgeBase
    sync: KnowledgeSync
    redactor: Redactor = field(default_factory=Redactor)

    def close(self) -> None:
        self.store.close()
        close_embedder(self.embedder)


def close_embedder(embedder: Embedder) -> None:
    """Close the embedder's cache file, when it has one."""
    cache = getattr(embedder, "cache", None)
    if cache is not None:
        cache.close()


def open_retrieval(settings: Settings, *, store: VectorStore | None = None) -> RetrievalContext:
    """Embedder + store (given, or the one `settings` names) + knowledge, synced lazily.

    Raises RetrievalUnavailableError / StoreUnavailableError (BackendError) or ConfigError
    (an invalid redaction pattern or note in the user's knowledge folder). Whatever was
    opened is closed again when it raises.
    """
    redactor = Redactor(settings.redact_patterns)
    with ExitStack() as on_failure:
        embedder = open_embedder(settings)
        on_failure.callback(close_embedder, embedder)
        opened = store if store is not None else open_store(settings, dim=embedder.dim)
        if store is None:
            on_failure.callback(opened.close)
        knowledge = knowledge_base(settings)
        sync = sync_knowledge(opened, embedder, knowledge)
        on_failure.pop_all()
    return RetrievalContext(embedder, opened, knowledge, sync, redactor)


# --- knowledge -----------------------------------------------------------------------------


def sync_knowledge(
    store: VectorStore, embedder: Embedder, knowledge: KnowledgeBase, *, force: bool = False
) -> KnowledgeSync:
    """Index the chunks the store lacks, remove those it holds that the knowledge no longer
    has (edited or removed notes), then mark this content as indexed (the manifest).

    Skipped entirely when the manifest of this content hash is present and not `force`.
    """
    if not force and store.get("knowledge", [knowledge.manifest_id]):
        return KnowledgeSync(indexed=0, already_stored=len(knowledge.chunks), up_to_date=True)
    current = {chunk.id for chunk in knowledge.chunks}
    in_store = set(store.ids("knowledge"))
    stored = in_store & current
    missing = [chunk for chunk in knowledge.chunks if chunk.id not in stored]
    if missing:
        vectors = embedder.embed([chunk.text for chunk in missing])
        records = []
        for chunk, vector in zip(missing, vectors, strict=True):
            doc = knowledge.documents[chunk.doc_id]
            payload = {
                "kind": doc.kind,
                "title": doc.title,
                "category": doc.category,
                "component": doc.component,
                "source": doc.source,
                "doc_id": doc.id,
                "heading": chunk.heading,
                "position": chunk.position,
            }
            records.append(VectorRecord(chunk.id, vector, chunk.text, payload))
        store.upsert("knowledge", records)
    # Chunks of edited or removed notes, and older manifests: removed once the new content is
    # in, so a sync cut short leaves the old knowledge searchable, never a gap.
    stale = sorted(in_store - current)
    store.delete("knowledge", stale)
    store.upsert("knowledge", [_manifest_record(knowledge, embedder.dim)])
    return KnowledgeSync(
        indexed=len(missing), already_stored=len(stored), up_to_date=False, removed=len(stale)
    )


def _manifest_record(knowledge: KnowledgeBase, dim: int) -> VectorRecord:
    # A fixed unit vector: the manifest is looked up by id, never searched for.
    vector = [0.0] * dim
    vector[0] = 1.0
    payload = {
        "kind": MANIFEST_KIND,
        "title": "knowledge manifest",
        "chunks": len(knowledge.chunks),
    }
    return VectorRecord(knowledge.manifest_id, vector, "", payload)


# --- texts and records ---------------------------------------------------------------------


def finding_text(finding: Finding, templates: Mapping[str, str]) -> str:
    """What a finding is about, as one text: title, component and its first templates.

    The same text is the retrieval query for the finding and the embedded text of its
    incident record, so "seen before?" compares like with like.
    """
    lines = [finding.title, f"component {finding.component}"]
    for pattern_id in finding.patterns[:MAX_TEMPLATES]:
        if pattern_id in templates:
            lines.append(templates[pattern_id])
    if len(lines) == 2 and finding.evidence:
        lines.append(finding.evidence[0].line)
    return "\n".join(lines)


def report_templates(report: Report, redactor: Redactor) -> dict[str, str]:
    """Pattern id → redacted template, for the report's listed patterns."""
    return {pattern.id: redactor.redact(pattern.template) for pattern in report.patterns}


def finding_namespace(finding: Finding) -> str:
    for line in finding.evidence:
        if namespace := line.labels.get("namespace"):
            return namespace
    return ""


def ts_ns(value: str | None, default: int) -> int:
    if not value:
        return default
    try:
        return parse_ts(value)
    except ValueError:
        return default


def window_bounds(report: Report) -> tuple[int, int]:
    """The report's window in ns (0 where it is open)."""
    start = ts_ns(report.window.start, 0)
    return start, ts_ns(report.window.end, start)


def incident_id(fingerprint: str, window_start_ns: int, window_end_ns: int) -> str:
    """Stable id of a finding in one window: the same window indexed again overwrites it."""
    key = f"{fingerprint}|{window_start_ns}|{window_end_ns}"
    return "i-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def incident_record(
    finding: Finding, vector: Any, text: str, report: Report, redactor: Redactor
) -> VectorRecord:
    start, end = window_bounds(report)
    evidence = redactor.redact_many(line.line for line in finding.evidence[:MAX_EVIDENCE])
    payload = {
        "kind": "incident",
        "title": finding.title,
        "category": str(finding.category),
        "component": finding.component,
        "namespace": finding_namespace(finding),
        "source": f"{report.source.kind}:{report.source.detail}",
        "ts_ns": ts_ns(finding.last_seen, end),
        "first_seen_ns": ts_ns(finding.first_seen, start),
        "fingerprint": finding.fingerprint,
        "severity": str(finding.severity),
        "signature": finding.signature or "",
        "root_cause": finding.root_cause,
        "action": finding.action,
        "count": finding.count,
        "evidence": "\n".join(evidence),
        "window_start_ns": start,
        "window_end_ns": end,
    }
    lexical = f"{text}\n{finding.root_cause}\n" + "\n".join(evidence)
    return VectorRecord(incident_id(finding.fingerprint, start, end), vector, lexical, payload)


def incident_findings(report: Report) -> list[Finding]:
    return [f for f in report.findings if str(f.severity) in INCIDENT_SEVERITIES]


def record_incidents(
    context: RetrievalContext,
    report: Report,
    findings: Sequence[Finding],
    vectors: Matrix,
    templates: Mapping[str, str],
) -> int:
    """Upsert `findings` of `report` as incidents, embedded as `vectors` (finding_text with
    `templates`, the report's redacted templates the caller embedded them with)."""
    records = [
        incident_record(finding, vector, finding_text(finding, templates), report, context.redactor)
        for finding, vector in zip(findings, vectors, strict=True)
    ]
    return context.store.upsert("incidents", records)


def _pattern_labels(pattern: PatternOut) -> tuple[str, str | None]:
    labels = pattern.labels
    namespaces = labels.get("namespace") or [""]
    first = {key: str(values[0]) for key, values in labels.items() if values}
    return str(namespaces[0]), component_from_labels(first)


def pattern_record(
    pattern: PatternOut, vector: Any, report: Report, owner: Finding | None
) -> VectorRecord:
    """The record of a (redacted) pattern; `owner` is the finding it belongs to, if any."""
    start, end = window_bounds(report)
    namespace, label_component = _pattern_labels(pattern)
    payload = {
        "kind": "pattern",
        "title": pattern.template[:160],
        "category": str(owner.category) if owner else "none",
        "component": owner.component if owner else (label_component or ""),
        "namespace": namespace,
        "source": f"{report.source.kind}:{report.source.detail}",
        "ts_ns": ts_ns(pattern.last_seen, end),
        "first_seen_ns": ts_ns(pattern.first_seen, start),
        "count": pattern.count,
        "level": pattern.level,
        "examples": "\n".join(pattern.examples[:MAX_EVIDENCE]),
        "finding": owner.fingerprint if owner else "",
    }
    return VectorRecord(pattern.id, vector, pattern.template, payload)


def merge_pattern_history(record: VectorRecord, stored: Mapping[str, Any]) -> None:
    """Keep the earliest first-seen, and the count and last-seen of the latest window."""
    payload = record.payload
    stored_first = int(stored.get("first_seen_ns") or payload["first_seen_ns"])
    payload["first_seen_ns"] = min(payload["first_seen_ns"], stored_first)
    stored_last = int(stored.get("ts_ns", 0) or 0)
    if stored_last > payload["ts_ns"]:
        payload["ts_ns"] = stored_last
        payload["count"] = int(stored.get("count", payload["count"]))


def record_patterns(
    context: RetrievalContext, report: Report, patterns: Sequence[PatternOut]
) -> int:
    """Embed and upsert `patterns` of `report` (redacted), merged with what the store holds."""
    if not patterns:
        return 0
    redact = context.redactor.redact
    clean = [
        pattern.model_copy(
            update={
                "template": redact(pattern.template),
                "examples": [redact(example) for example in pattern.examples[:MAX_EVIDENCE]],
            }
        )
        for pattern in patterns
    ]
    owners: dict[str, Finding] = {}
    for finding in report.findings:
        for pattern_id in finding.patterns:
            owners.setdefault(pattern_id, finding)
    vectors = context.embedder.embed([pattern.template for pattern in clean])
    records = [
        pattern_record(pattern, vector, report, owners.get(pattern.id))
        for pattern, vector in zip(clean, vectors, strict=True)
    ]
    stored = {hit.id: hit.payload for hit in context.store.get("patterns", [r.id for r in records])}
    for record in records:
        if record.id in stored:
            merge_pattern_history(record, stored[record.id])
    return context.store.upsert("patterns", records)


# --- a whole window ---------------------------------------------------------------------------

Clock = Callable[[], float]


def index_report(
    context: RetrievalContext,
    report: Report,
    patterns: Sequence[PatternOut],
    *,
    clock: Clock = time.perf_counter,
) -> IndexFigures:
    """Record `patterns` and the findings of `report` (knowledge is already in sync)."""
    started = clock()
    pattern_count = record_patterns(context, report, patterns)
    findings = incident_findings(report)
    templates = report_templates(report, context.redactor)
    vectors = context.embedder.embed([finding_text(f, templates) for f in findings])
    incident_count = record_incidents(context, report, findings, vectors, templates)
    return figures_for(context, report.window, pattern_count, incident_count, clock() - started)


def figures_for(
    context: RetrievalContext,
    window: Window | None,
    patterns: int,
    incidents: int,
    seconds: float,
) -> IndexFigures:
    """Figures of one run; `duplicates_skipped` counts chunks not embedded again (repeated
    within the knowledge, or already in the store)."""
    chunks = context.knowledge.figures()
    return IndexFigures(
        store=context.store.name,
        embedder=context.embedder.name,
        window=window,
        documents=chunks.documents,
        chunks=chunks.chunks,
        tokens_mean=chunks.tokens_mean,
        tokens_max=chunks.tokens_max,
        duplicates_skipped=chunks.duplicates_skipped + context.sync.already_stored,
        knowledge_indexed=context.sync.indexed,
        knowledge_removed=context.sync.removed,
        patterns=patterns,
        incidents=incidents,
        seconds=round(seconds, 3),
    )


def index_source(
    context: RetrievalContext,
    source: LogSource,
    *,
    settings: Settings,
    window: TimeWindow | None,
    progress: ProgressCallback | None = None,
    clock: Clock = time.perf_counter,
) -> IndexFigures:
    """Read and mine a window (no enrichment, no LLM), then record its patterns and findings."""
    # Imported here: the analysis imports this package for its retrieval step.
    from loglens.analysis.analyze import mine_window, report_from_mined
    from loglens.analysis.pipeline import Progress

    started = clock()
    mined = mine_window(source, settings=settings, window=window, progress=progress)
    report = report_from_mined(mined, settings=settings, window=window)
    start_ns, end_ns = window_bounds(report)
    patterns = mined.pattern_set.to_pattern_out(window_start_ns=start_ns, window_end_ns=end_ns)
    if progress is not None:
        progress(
            Progress(
                stage="embedding",
                lines=source.stats.lines,
                bytes=source.stats.bytes,
                patterns=len(patterns),
            )
        )
    figures = index_report(context, report, patterns, clock=clock)
    figures.seconds = round(clock() - started, 3)
    return figures


# --- following Loki ---------------------------------------------------------------------------

SourceFactory = Callable[[TimeWindow], LogSource]
TickCallback = Callable[[int, "IndexFigures | LogLensError"], None]


def follow(
    context: RetrievalContext,
    open_window: SourceFactory,
    *,
    settings: Settings,
    every_s: float,
    max_iterations: int | None = None,
    now_ns: Callable[[], int] = utc_now_ns,
    sleep: Callable[[float], None] = time.sleep,
    on_tick: TickCallback | None = None,
) -> int:
    """Index the last `every_s` seconds, then again every `every_s`, until stopped.

    Each tick reads [tick - every, tick) through `open_window`; a tick that fails with a
    LogLensError is reported to `on_tick` and the next tick tries again (its own window).
    Returns the number of ticks that succeeded. Ctrl-C (KeyboardInterrupt) propagates from
    wherever it lands; a tick it cuts short may have written part of its window (upserts are
    idempotent by id, so indexing that window again completes it).
    """
    every_ns = int(every_s * 1_000_000_000)
    succeeded = 0
    tick = 0
    next_ns = now_ns()
    while max_iterations is None or tick < max_iterations:
        window = TimeWindow(next_ns - every_ns, next_ns)
        try:
            result: IndexFigures | LogLensError = index_source(
                context, open_window(window), settings=settings, window=window
            )
            succeeded += 1
        except LogLensError as exc:
            result = exc
        tick += 1
        if on_tick is not None:
            on_tick(tick, result)
        if max_iterations is not None and tick >= max_iterations:
            break
        next_ns += every_ns
        wait_s = (next_ns - now_ns()) / 1_000_000_000
        if wait_s > 0:
            sleep(wait_s)
    return succeeded
