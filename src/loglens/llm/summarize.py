"""Streamed summaries: the window summary of a Report and the "what changed" of a Diff.

The prompts hold only what the analysis concluded — each finding's fields (rules
or LLM) for a report; the changed patterns and the new findings for a diff — as
quoted data, so the text stays grounded in the findings. `stream_text` hands each
piece to a callback as the model writes it; cancelling the task that awaits it, or
an exception in the callback, closes the stream, which stops the generation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loglens.llm.backend import ChatMessage, LlmBackend
from loglens.llm.prompting import (
    REQUIRED,
    PromptItem,
    PromptSection,
    clip,
    load_prompt,
    system_prompt,
)
from loglens.model import Diff, DiffPattern, Finding, Stats, Window

SUMMARY_PROMPT = "summary.v1"
DIFF_PROMPT = "diff.v1"
MAX_SUMMARY_FINDINGS = 10
MAX_DIFF_PATTERNS = 5
MAX_FIELD_CHARS = 300
MAX_DIFF_TEMPLATE_CHARS = 200
SUMMARY_CLOSING = "Write the summary now."
DIFF_CLOSING = "Write what changed now."

# The diff headings in the order their patterns are kept under the budget.
DIFF_HEADING_VALUES = {"new": 80.0, "increased": 60.0, "gone": 40.0, "decreased": 20.0}

TokenCallback = Callable[[str], None]


def finding_facts(finding: Finding) -> dict[str, object]:
    """What a summary may say about a finding: its fields, never its raw lines."""
    return {
        "rank": finding.rank,
        "severity": str(finding.severity),
        "category": str(finding.category),
        "component": finding.component,
        "title": clip(finding.title, MAX_FIELD_CHARS),
        "count": finding.count,
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "signals": finding.signals,
        "root_cause": clip(finding.root_cause, MAX_FIELD_CHARS),
        "action": clip(finding.action, MAX_FIELD_CHARS),
        "explained_by": finding.explained_by,
    }


def _window_line(window: Window, stats: Stats) -> str:
    span = f"{window.start or '?'} to {window.end or '?'}"
    return f"Window {span}: {stats.lines:,} lines in {stats.patterns:,} patterns."


def _finding_items(findings: Sequence[Finding], base_value: float) -> list[PromptItem]:
    chosen = sorted(findings, key=lambda f: f.rank)[:MAX_SUMMARY_FINDINGS]
    return [
        PromptItem(finding_facts(f), REQUIRED if i == 0 else base_value - i, label="finding")
        for i, f in enumerate(chosen)
    ]


def summary_sections(
    findings: Sequence[Finding], window: Window, stats: Stats
) -> list[PromptSection]:
    """The window line and the findings, most urgent first (the first is required)."""
    sections = [PromptSection("", [PromptItem(_window_line(window, stats))], quoted=False)]
    if findings:
        sections.append(
            PromptSection("Findings (most urgent first):", _finding_items(findings, 100.0))
        )
    else:
        sections.append(PromptSection("", [PromptItem("Findings: none.")], quoted=False))
    return sections


def _pattern_facts(pattern: DiffPattern) -> dict[str, object]:
    facts: dict[str, object] = {"template": clip(pattern.template, MAX_DIFF_TEMPLATE_CHARS)}
    for name in ("count", "before", "after", "ratio"):
        value = getattr(pattern, name)
        if value is not None:
            facts[name] = value
    return facts


def diff_sections(diff: Diff) -> list[PromptSection]:
    """Changed patterns per heading and the new findings, valued for the budget."""
    sections = [
        PromptSection(
            "",
            [
                PromptItem(
                    f"Before: {diff.before.stats.lines:,} lines; "
                    f"after: {diff.after.stats.lines:,} lines."
                )
            ],
            quoted=False,
        )
    ]
    for heading, value in DIFF_HEADING_VALUES.items():
        patterns: list[DiffPattern] = getattr(diff, heading)
        items = [
            PromptItem(_pattern_facts(p), value - i, label=f"{heading} pattern")
            for i, p in enumerate(patterns[:MAX_DIFF_PATTERNS])
        ]
        if items:
            sections.append(PromptSection(f"Patterns {heading} ({len(patterns)} in all):", items))
    if diff.findings:
        items = _finding_items(diff.findings, 90.0)
        sections.append(PromptSection("Findings only in the later window:", items))
    if len(sections) == 1:
        sections.append(PromptSection("", [PromptItem("No pattern changed.")], quoted=False))
    return sections


def summary_system() -> str:
    return system_prompt(load_prompt(SUMMARY_PROMPT))


def diff_system() -> str:
    return system_prompt(load_prompt(DIFF_PROMPT))


@dataclass(frozen=True, slots=True)
class StreamedText:
    text: str
    seconds: float


async def stream_text(
    backend: LlmBackend,
    messages: Sequence[ChatMessage],
    *,
    on_token: TokenCallback | None,
    max_tokens: int,
    timeout_s: float,
) -> StreamedText:
    """Stream a completion, calling `on_token` per piece; the stream is always closed."""
    started = time.perf_counter()
    pieces: list[str] = []
    stream = backend.stream(messages, max_tokens=max_tokens, timeout_s=timeout_s)
    try:
        async for piece in stream:
            pieces.append(piece)
            if on_token is not None and piece:
                on_token(piece)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    return StreamedText("".join(pieces), time.perf_counter() - started)
