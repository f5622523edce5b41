"""The values that flow between stages.

`LogRecord` is the hot-path value (`loglens.records`, re-exported here), created once
per line and never validated per line. Everything a command outputs (`Report`,
`Diff`, ...) is a pydantic model, so its JSON Schema can be generated and published
(`schemas/*.json`) and the JSON form matches `shared/spec/report-format.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The hot-path values live in records.py (compiled with mypyc when built); re-exported here.
from loglens.records import Batch as Batch
from loglens.records import Level as Level
from loglens.records import LogRecord as LogRecord
from loglens.records import format_ts as format_ts

REPORT_VERSION = 1


LEVEL_ORDER: dict[Level, int] = {
    Level.UNKNOWN: 0,
    Level.TRACE: 1,
    Level.DEBUG: 2,
    Level.INFO: 3,
    Level.WARN: 4,
    Level.ERROR: 5,
    Level.FATAL: 6,
}


class Severity(StrEnum):
    """How urgent a finding is (shared vocabulary of golden-format.md)."""

    INFO = "info"
    WARN = "warn"
    ERROR = "error"
    CRITICAL = "critical"


SEVERITY_ORDER: dict[Severity, int] = {
    Severity.INFO: 0,
    Severity.WARN: 1,
    Severity.ERROR: 2,
    Severity.CRITICAL: 3,
}


class Category(StrEnum):
    """The kind of root cause (shared vocabulary of golden-format.md)."""

    OOM = "oom"
    CRASHLOOP = "crashloop"
    IMAGE_PULL = "image_pull"
    PROBE_FAILURE = "probe_failure"
    SCHEDULING = "scheduling"
    STORAGE = "storage"
    NETWORK = "network"
    DNS = "dns"
    TLS = "tls"
    AUTH = "auth"
    CONFIG = "config"
    DEPENDENCY = "dependency"
    RESOURCE_PRESSURE = "resource_pressure"
    LIMIT_EXCEEDED = "limit_exceeded"
    NODE = "node"
    CONTROL_PLANE = "control_plane"
    DEPLOYMENT = "deployment"
    APPLICATION_ERROR = "application_error"
    NONE = "none"


def parse_ts(value: str | int | float) -> int:
    """RFC 3339 text (any zone, up to nanoseconds) or integer nanoseconds → nanoseconds (UTC).

    Raises ValueError on anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = value.strip()
    if text.isdigit():
        return int(text)
    # datetime.fromisoformat handles microseconds; keep the extra digits ourselves.
    frac_ns = 0
    dot = text.find(".", 17)
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        digits = text[dot + 1 : end]
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        text = text[:dot] + text[end:]
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {value!r}")
    return int(parsed.timestamp()) * 1_000_000_000 + frac_ns


# --------------------------------------------------------------------------------------
# Output models (report-format.md)
# --------------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Window(_Out):
    start: str | None = None
    end: str | None = None


class SourceInfo(_Out):
    kind: Literal["files", "loki", "demo", "stdin", "inline"]
    detail: str = ""


class Stats(_Out):
    lines: int = 0
    bytes: int = 0
    patterns: int = 0
    skipped: int = Field(default=0, description="malformed records skipped with --skip-bad")
    outside_window: int = Field(default=0, description="records read but outside the asked window")
    formats: dict[str, int] = Field(default_factory=dict, description="records per detected format")
    levels: dict[str, int] = Field(default_factory=dict, description="records per level")
    stage_ms: dict[str, float] = Field(default_factory=dict, description="wall time per stage")


class EvidenceLine(_Out):
    ts: str
    labels: dict[str, str] = Field(default_factory=dict)
    line: str


class RelatedItem(_Out):
    """Something retrieval found for a finding: knowledge, a past incident, a pattern."""

    kind: Literal["knowledge", "incident", "pattern", "signature_hint"]
    id: str
    title: str = ""
    score: float = Field(
        default=0.0, description="similarity or fused rank score, higher is closer"
    )
    text: str = Field(
        default="", description="the retrieved text (a chunk, a root cause), redacted"
    )
    source: str | None = Field(
        default=None, description="file, signature id or report it came from"
    )
    seen: str | None = Field(default=None, description="when an incident or pattern was last seen")


class Finding(_Out):
    rank: int
    fingerprint: str
    category: Category
    severity: Severity
    component: str
    title: str
    root_cause: str
    action: str
    error_signatures: list[str] = Field(default_factory=list)
    signature: str | None = None
    count: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    patterns: list[str] = Field(default_factory=list)
    evidence: list[EvidenceLine] = Field(default_factory=list)
    explained_by: Literal["rules", "llm"] = "rules"
    confidence: float = 0.0
    signals: list[str] = Field(default_factory=list, description="anomaly signals that fired")
    symptom_of: list[str] = Field(
        default_factory=list,
        description="fingerprints of findings in the same report that likely caused this one",
    )
    related: list[RelatedItem] = Field(default_factory=list)
    llm_notes: list[str] = Field(
        default_factory=list,
        description="what the LLM step did to this finding: grounding drops, repair, fallback",
    )


class PatternOut(_Out):
    id: str
    template: str
    count: int
    level: str
    first_seen: str | None = None
    last_seen: str | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    examples: list[str] = Field(default_factory=list)
    levels: dict[str, int] = Field(default_factory=dict)
    buckets: list[int] = Field(default_factory=list)


class LlmInfo(_Out):
    backend: str = "none"
    model: str | None = None
    used: bool = False
    fallback_reason: str | None = None
    prompt_version: str | None = Field(default=None, description="prompt ids with content hashes")
    context_size: int | None = None
    calls: int = Field(default=0, description="model calls made (cache hits excluded)")
    cache_hits: int = 0
    findings_asked: int = Field(default=0, description="top findings the model was asked about")
    findings_explained: int = 0
    summary_written: bool = Field(
        default=False, description="the summary (or what-changed text) is the model's"
    )
    tokens_prompt: int = 0
    tokens_generated: int = 0
    tokens_per_s: float | None = None
    latency_ms: float | None = Field(default=None, description="wall time of the LLM step")
    answers: int = Field(
        default=0, description="extraction answers the model gave, repairs included"
    )
    answers_valid: int = Field(default=0, description="answers that passed schema validation")


class RetrievalInfo(_Out):
    used: bool = False
    store: str | None = Field(default=None, description="lancedb or qdrant, with its location")
    embedder: str | None = None
    reason: str | None = Field(default=None, description="why retrieval was skipped, if it was")
    latency_ms: float | None = None


class Report(_Out):
    version: int = REPORT_VERSION
    window: Window
    source: SourceInfo
    stats: Stats
    findings: list[Finding] = Field(default_factory=list)
    patterns: list[PatternOut] = Field(default_factory=list)
    summary: str | None = None
    llm: LlmInfo = Field(default_factory=LlmInfo)
    retrieval: RetrievalInfo = Field(default_factory=RetrievalInfo)
    warnings: list[str] = Field(
        default_factory=list, description="what did not work but did not stop the analysis"
    )


class DiffPattern(_Out):
    id: str
    template: str
    count: int | None = None
    before: int | None = None
    after: int | None = None
    ratio: float | None = None
    p_value: float | None = None
    examples: list[str] = Field(default_factory=list)
    related: list[DiffPattern] = Field(
        default_factory=list,
        description="patterns of the same problem (its finding, or symptoms it caused) that "
        "changed the same way, folded into this entry; `examples` holds a line of each",
    )


class DiffSide(_Out):
    window: Window
    stats: Stats


class Diff(_Out):
    version: int = REPORT_VERSION
    before: DiffSide
    after: DiffSide
    new: list[DiffPattern] = Field(default_factory=list)
    gone: list[DiffPattern] = Field(default_factory=list)
    increased: list[DiffPattern] = Field(default_factory=list)
    decreased: list[DiffPattern] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    summary: str | None = None
    llm: LlmInfo = Field(default_factory=LlmInfo)


class Classification(_Out):
    severity: Severity
    category: Category
    component: str | None = None
    pattern: str | None = None
    signature: str | None = None


def utc_now_ns() -> int:
    return int(datetime.now(tz=UTC).timestamp() * 1_000_000_000)


@dataclass(slots=True)
class ReadStats:
    """Counters a source and the parser keep while a window is read (cheap, mutable)."""

    lines: int = 0
    bytes: int = 0
    skipped: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    skipped_examples: list[str] = field(default_factory=list)
