"""A scripted `LlmBackend` test double for fast unit tests of the LLM step's logic.

It is not a model: answers come from a script, tokens are words and punctuation
(`WORD_RE`), and it records what it was asked. Every feature is also tested with the
real tiny GGUF model through the real backends (tests/test_llm_*.py, `tiny_gguf`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loglens.errors import BackendError
from loglens.llm.backend import BackendInfo, ChatMessage, Generation
from loglens.model import (
    Category,
    EvidenceLine,
    Finding,
    PatternOut,
    Report,
    Severity,
    SourceInfo,
    Stats,
    Window,
    format_ts,
)

WORD_RE = re.compile(r"\w+|[^\w\s]")
MESSAGE_OVERHEAD = 4


def valid_answer(**fields: Any) -> str:
    """A schema-valid answer as JSON text, with `fields` overriding the defaults."""
    answer: dict[str, Any] = {
        "category": "storage",
        "severity": "critical",
        "component": "loki",
        "root_cause": "The volume is full.",
        "error_signatures": ["no space left on device"],
        "action": "Grow the volume.",
        "confidence": 0.9,
    }
    answer.update(fields)
    return json.dumps(answer)


Script = Callable[[Sequence[ChatMessage]], str]


@dataclass
class ScriptedBackend:
    """Answers `generate` from `answers` (cycled) or a function of the messages."""

    answers: list[str] | Script = field(default_factory=lambda: [valid_answer()])
    summary: list[str] = field(default_factory=lambda: ["All ", "is ", "well."])
    context_size: int = 8192
    slots: int = 1
    delay_s: float = 0.0
    piece_delay_s: float = 0.0
    info_error: BaseException | None = None
    generate_error: BaseException | None = None
    stream_error_after: int | None = None
    calls: list[list[ChatMessage]] = field(default_factory=list)
    schemas: list[dict[str, Any] | None] = field(default_factory=list)
    stream_calls: list[list[ChatMessage]] = field(default_factory=list)
    tokenize_calls: int = 0
    active: int = 0
    max_active: int = 0
    stream_closed: bool = False
    closed: bool = False

    async def info(self) -> BackendInfo:
        if self.info_error is not None:
            raise self.info_error
        return BackendInfo("fake", "scripted", self.context_size, self.slots)

    async def tokenize(self, text: str) -> list[int]:
        self.tokenize_calls += 1
        return list(range(len(WORD_RE.findall(text))))

    async def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        words = sum(len(WORD_RE.findall(m.content)) for m in messages)
        return words + MESSAGE_OVERHEAD * len(messages)

    async def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> Generation:
        self.calls.append(list(messages))
        self.schemas.append(schema)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.generate_error is not None:
                raise self.generate_error
        finally:
            self.active -= 1
        text = self._next_answer(messages)
        prompt = await self.count_prompt_tokens(messages)
        return Generation(text, prompt, len(WORD_RE.findall(text)), 0.01, "stop")

    def _next_answer(self, messages: Sequence[ChatMessage]) -> str:
        if callable(self.answers):
            return self.answers(messages)
        return self.answers[(len(self.calls) - 1) % len(self.answers)]

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float
    ) -> AsyncIterator[str]:
        self.stream_calls.append(list(messages))
        self.stream_closed = False
        try:
            for index, piece in enumerate(self.summary):
                if self.stream_error_after is not None and index >= self.stream_error_after:
                    raise BackendError("the stream broke off")
                if self.piece_delay_s:
                    await asyncio.sleep(self.piece_delay_s)
                yield piece
        finally:
            self.stream_closed = True

    async def aclose(self) -> None:
        self.closed = True


T0_NS = 1_790_000_000 * 1_000_000_000
SECOND_NS = 1_000_000_000


def make_finding(rank: int = 1, lines: Sequence[str] = (), **fields: Any) -> Finding:
    """A storage finding on loki with three evidence lines (one holding a password)."""
    evidence_lines = lines or [
        'level=error msg="write /loki/chunks/a1: no space left on device" password=hunter2',
        'level=error msg="write /loki/chunks/b2: no space left on device"',
        'level=error msg="failed to flush chunks"',
    ]
    start = T0_NS + (600 + rank * 60) * SECOND_NS
    base: dict[str, Any] = {
        "rank": rank,
        "fingerprint": f"f-{rank:08x}",
        "category": Category.STORAGE,
        "severity": Severity.CRITICAL,
        "component": "loki",
        "title": f"loki: no space left on device ({rank})",
        "root_cause": "The volume holding loki's chunks is full.",
        "action": "Grow the PVC or lower retention.",
        "error_signatures": ["write <*>: no space left on device", "failed to flush chunks"],
        "signature": "storage.no_space",
        "count": 120,
        "first_seen": format_ts(start),
        "last_seen": format_ts(start + 300 * SECOND_NS),
        "patterns": [f"p-own-{rank}"],
        "evidence": [
            EvidenceLine(
                ts=format_ts(start + i * SECOND_NS),
                labels={"namespace": "monitoring", "pod": "loki-0", "container": "loki"},
                line=line,
            )
            for i, line in enumerate(evidence_lines)
        ],
    }
    base.update(fields)
    return Finding.model_validate(base)


def make_report(findings: int = 3) -> Report:
    """A report with `findings` findings and a few patterns, as `analyze` would give."""
    patterns = [
        PatternOut(
            id=f"p-{i}",
            template=f"pattern {i} happened <*>",
            count=10,
            level="error" if i % 2 else "info",
            first_seen=format_ts(T0_NS + (600 + i * 30) * SECOND_NS),
        )
        for i in range(20)
    ]
    found = [make_finding(rank) for rank in range(1, findings + 1)]
    return Report(
        window=Window(start=format_ts(T0_NS), end=format_ts(T0_NS + 3600 * SECOND_NS)),
        source=SourceInfo(kind="inline"),
        stats=Stats(lines=5000, patterns=20),
        findings=found,
        patterns=patterns,
        summary="deterministic summary",
    )
