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
