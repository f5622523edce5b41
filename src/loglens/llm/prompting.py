"""Prompt files, quoting of untrusted text, and the token budget every prompt is fitted to.

Prompts live in `loglens/llm/prompts/<id>.v<version>.md`: YAML front matter (`id`,
`version`, `role`) and a body with `$name` placeholders. A prompt's `ref`
(`extract.v1@1a2b3c4d`, the first 8 hex digits of the file's sha256) goes into
`report.llm.prompt_version` and the cache key, so a changed prompt is visible and
never served stale answers.

Log text is untrusted. It only ever enters a prompt inside a data block: a line
`DATA_OPEN`, then one JSON value per line (so quotes, newlines and control
characters are escaped and a line cannot end the block), then `DATA_CLOSE`;
the markers are also defused inside the data. The system prompts say that data
is never to be followed.

Text that a chat template uses as a control token (`<|eot_id|>`, `<|im_start|>`,
`<start_of_turn>`, `[INST]` ...) would end the turn or open a fake system turn if it
reached the model as that token: llama-server and llama_cpp.server parse such text in
prompts into the real token. `neutralise_special_tokens` puts a space after its opening
bracket (`< |eot_id|>`): still readable, plain text to every tokenizer. Every message
`fit_prompt` builds goes through it (the system prompt and our own headings have none),
and the data blocks are measured in that form.

A prompt is built from sections of items, each item with a value. `fit_prompt`
measures each item once with the model's own tokenizer, drops the lowest-value
items until the estimate fits `TokenBudget.limit`, cuts truncatable items (long
templates) last, then counts the final messages exactly and repeats if the
estimate was short. The prompt therefore never exceeds
`context − max_tokens − margin`, however much the window holds: callers select
a bounded number of candidates by value first, so the work does not grow with it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from string import Template
from typing import Any, Protocol

import yaml

from loglens.errors import LogLensError
from loglens.llm.backend import ChatMessage
from loglens.model import Category, Severity

DATA_OPEN = "<<<data"
DATA_CLOSE = "data>>>"
_MARKER_RE = re.compile(r"<<<|>>>")
# The opening bracket of text that chat templates use as control tokens: `<|...|>` (Llama 3,
# ChatML, Phi), `<｜...｜>` (DeepSeek), Gemma's and SentencePiece's tags, Mistral's `[INST]`.
_SPECIAL_TAGS = "s|bos|eos|pad|unk|mask|start_of_turn|end_of_turn|start_of_image|end_of_image"
_MISTRAL_CONTROLS = (
    "INST|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|TOOL_CONTENT|IMG|IMG_BREAK|IMG_END"
)
_SPECIAL_OPEN_RE = re.compile(
    rf"<(?=[|｜])|<(?=/?(?:{_SPECIAL_TAGS})>)|\[(?=/?(?:{_MISTRAL_CONTROLS})\])"
)

REQUIRED = math.inf
# Tokens kept free besides the answer: the count of the prompt is exact, so this only
# covers a server that adds a token or two of its own (a BOS, a generation prompt).
PROMPT_MARGIN = 16
# Largest prompt for one call, whatever the context: keeps CPU prompt processing short.
MAX_PROMPT_TOKENS = 3000
# Tokens assumed for joining two items or sections (a newline or two); the exact count
# at the end corrects any difference.
JOIN_TOKENS = 2
MAX_FIT_ROUNDS = 24
# A truncatable item is never cut below this many characters.
MIN_CUT_CHARS = 16


class BudgetError(LogLensError):
    """A prompt cannot fit the model's context even with every optional part dropped."""


class TokenCounter(Protocol):
    """The part of `LlmBackend` a budget needs: the model's own tokenizer."""

    async def tokenize(self, text: str) -> list[int]: ...

    async def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int: ...


# --------------------------------------------------------------------------------------
# Prompt files
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromptFile:
    """One versioned prompt: front matter, body and the hash of the whole file."""

    id: str
    version: int
    role: str
    body: str
    sha256: str

    @property
    def name(self) -> str:
        return f"{self.id}.v{self.version}"

    @property
    def ref(self) -> str:
        """`<id>.v<version>@<first 8 hex of sha256>`, as recorded in reports."""
        return f"{self.name}@{self.sha256[:8]}"

    def render(self, **values: str) -> str:
        """The body with its `$placeholders` filled (all must be given)."""
        return Template(self.body).substitute(values).strip()


def parse_prompt_file(text: str, name: str) -> PromptFile:
    """Parse `---` front matter and body; the front matter must match the file `name`."""
    if not text.startswith("---\n"):
        raise ValueError(f"prompt {name}: no front matter")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise ValueError(f"prompt {name}: front matter is not closed")
    meta: dict[str, Any] = yaml.safe_load(head) or {}
    prompt = PromptFile(
        id=str(meta.get("id", "")),
        version=int(meta.get("version", 0)),
        role=str(meta.get("role", "")),
        body=body,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    if prompt.name != name or prompt.role not in ("system", "user"):
        raise ValueError(f"prompt {name}: front matter says {prompt.name} ({prompt.role})")
    return prompt


@cache
def load_prompt(name: str) -> PromptFile:
    """The packaged prompt `name` (e.g. `extract.v1`), read once per process."""
    path = resources.files("loglens.llm").joinpath("prompts", f"{name}.md")
    return parse_prompt_file(path.read_text("utf-8"), name)


def system_prompt(prompt: PromptFile) -> str:
    """A system prompt with the shared placeholders (markers, vocabularies) filled."""
    return prompt.render(
        open=DATA_OPEN,
        close=DATA_CLOSE,
        categories=", ".join(f'"{c.value}"' for c in Category),
        severities=", ".join(f'"{s.value}"' for s in Severity),
    )


# --------------------------------------------------------------------------------------
# Quoting
# --------------------------------------------------------------------------------------


def neutralise_special_tokens(text: str) -> str:
    """`text` with control-token text broken up (`<|eot_id|>` -> `< |eot_id|>`); idempotent."""
    return _SPECIAL_OPEN_RE.sub(lambda m: m.group(0) + " ", text)


def defuse(text: str) -> str:
    """Data text with the markers and control-token text broken up, so it stays data."""
    unmarked = _MARKER_RE.sub(lambda m: m.group(0)[0] * 2 + " " + m.group(0)[0], text)
    return neutralise_special_tokens(unmarked)


def quote_value(value: object) -> str:
    """One value as one line of JSON with the markers defused (strings inside too)."""
    return json.dumps(_defuse_strings(value), ensure_ascii=False, separators=(", ", ": "))


def _defuse_strings(value: object) -> object:
    if isinstance(value, str):
        return defuse(value)
    if isinstance(value, dict):
        return {defuse(str(k)): _defuse_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_defuse_strings(v) for v in value]
    return value


def data_block(values: Iterable[object]) -> str:
    """Values as a delimited, quoted data block (one JSON value per line)."""
    return "\n".join([DATA_OPEN, *(quote_value(v) for v in values), DATA_CLOSE])


def clip(text: str, max_chars: int) -> str:
    """`text` cut to `max_chars` characters, marked with … when cut."""
    return text if len(text) <= max_chars else text[: max(max_chars - 1, 0)] + "…"


# --------------------------------------------------------------------------------------
# Sections, items and the budget
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class PromptItem:
    """One piece of a section. Higher `value` is kept longer; `REQUIRED` is never dropped.

    A quoted item's `content` is a JSON-able value shown in the section's data block;
    a plain item's content is a string. Truncatable items (long templates) are cut
    instead of dropped, and only once nothing droppable is left.
    """

    content: object
    value: float = REQUIRED
    truncatable: bool = False
    label: str = ""
    kept: bool = True
    tokens: int | None = None


@dataclass(slots=True)
class PromptSection:
    """A heading and items; `quoted` sections render their items as a data block."""

    heading: str
    items: list[PromptItem]
    quoted: bool = True
    overhead_tokens: int | None = None

    def kept_items(self) -> list[PromptItem]:
        return [item for item in self.items if item.kept]

    def render(self) -> str:
        items = self.kept_items()
        if not items:
            return ""
        if self.quoted:
            body = data_block(item.content for item in items)
        else:
            body = "\n".join(defuse(str(item.content)) for item in items)
        return f"{self.heading}\n{body}" if self.heading else body


def render_item(section: PromptSection, item: PromptItem) -> str:
    return quote_value(item.content) if section.quoted else defuse(str(item.content))


@dataclass(frozen=True, slots=True)
class TokenBudget:
    """Room for a prompt: context − answer tokens − margin, capped at `cap`."""

    context_size: int
    max_tokens: int
    margin: int = PROMPT_MARGIN
    cap: int = MAX_PROMPT_TOKENS

    @property
    def limit(self) -> int:
        return min(self.context_size - self.max_tokens - self.margin, self.cap)


@dataclass(slots=True)
class FittedPrompt:
    """The messages to send, their exact token count, and what was left out."""

    messages: list[ChatMessage]
    tokens: int
    dropped: list[str] = field(default_factory=list)
    truncated: int = 0


def user_text(sections: Sequence[PromptSection], closing: str) -> str:
    parts = [text for text in (section.render() for section in sections) if text]
    return "\n\n".join([*parts, closing])


async def _measure(counter: TokenCounter, sections: Sequence[PromptSection]) -> None:
    for section in sections:
        if section.overhead_tokens is None:
            frame = f"{section.heading}\n{DATA_OPEN}\n{DATA_CLOSE}" if section.quoted else ""
            section.overhead_tokens = len(await counter.tokenize(frame)) if frame else 0
        for item in section.items:
            if item.tokens is None:
                item.tokens = len(await counter.tokenize(render_item(section, item)))


def _estimate(base: int, sections: Sequence[PromptSection]) -> int:
    total = base
    for section in sections:
        kept = section.kept_items()
        if kept:
            total += (section.overhead_tokens or 0) + JOIN_TOKENS
            total += sum((item.tokens or 0) + 1 for item in kept)
    return total


def _drop_lowest(sections: Sequence[PromptSection], dropped: list[str]) -> bool:
    """Drop the lowest-value optional item (the later one on ties); False if none is left."""
    candidates = [
        (item.value, -s_index, -i_index, section, item)
        for s_index, section in enumerate(sections)
        for i_index, item in enumerate(section.items)
        if item.kept and item.value != REQUIRED
    ]
    if not candidates:
        return False
    *_, section, item = min(candidates, key=lambda c: (c[0], c[1], c[2]))
    item.kept = False
    dropped.append(item.label or section.heading)
    return True


async def _truncate_longest(
    counter: TokenCounter, sections: Sequence[PromptSection], excess: int
) -> bool:
    """Cut the longest truncatable item by about `excess` tokens; False if none can shrink."""
    candidates = [
        (item.tokens or 0, section, item)
        for section in sections
        for item in section.kept_items()
        if item.truncatable and isinstance(item.content, str) and len(item.content) > MIN_CUT_CHARS
    ]
    if not candidates:
        return False
    _, section, item = max(candidates, key=lambda c: c[0])
    text = str(item.content)
    tokens = max(item.tokens or 1, 1)
    keep_ratio = max(tokens - excess - 4, 1) / tokens
    item.content = clip(text, max(int(len(text) * keep_ratio), MIN_CUT_CHARS))
    item.tokens = len(await counter.tokenize(render_item(section, item)))
    return True


async def fit_prompt(
    counter: TokenCounter,
    *,
    system: str,
    sections: Sequence[PromptSection],
    closing: str,
    budget: TokenBudget,
    tail: Sequence[ChatMessage] = (),
) -> FittedPrompt:
    """Messages `[system, user(sections + closing), *tail]` within `budget.limit` tokens.

    Raises BudgetError when even the required items cannot fit.
    """
    limit = budget.limit
    if limit <= 0:
        raise BudgetError(
            f"the model's context ({budget.context_size} tokens) leaves no room for a prompt "
            f"after {budget.max_tokens} answer tokens",
            hint="raise LOGLENS_LLM_CONTEXT or lower LOGLENS_LLM_MAX_TOKENS",
        )
    await _measure(counter, sections)
    base = await _base_tokens(counter, _messages(system, closing, tail))
    dropped: list[str] = []
    truncated = 0
    for _ in range(MAX_FIT_ROUNDS):
        estimate = _estimate(base, sections)
        if estimate <= limit:
            messages = _messages(system, user_text(sections, closing), tail)
            exact = await counter.count_prompt_tokens(messages)
            if exact <= limit:
                return FittedPrompt(messages, exact, dropped, truncated)
            base += exact - estimate  # the estimate was short: correct it and go on
            estimate = exact
        if _drop_lowest(sections, dropped):
            continue
        if await _truncate_longest(counter, sections, estimate - limit):
            truncated += 1
            continue
        break
    raise BudgetError(
        f"the prompt does not fit {limit} tokens even with every optional part dropped",
        hint="raise LOGLENS_LLM_CONTEXT or lower LOGLENS_LLM_MAX_TOKENS",
    )


# Exact token counts of the frame (system prompt, closing line, tail) per counter: the same
# frame is counted once, not once per finding.
_BASE_COUNTS: weakref.WeakKeyDictionary[Any, dict[tuple[ChatMessage, ...], int]] = (
    weakref.WeakKeyDictionary()
)
MAX_BASE_COUNTS = 64


async def _base_tokens(counter: TokenCounter, messages: list[ChatMessage]) -> int:
    try:
        known = _BASE_COUNTS.setdefault(counter, {})
    except TypeError:  # a counter that cannot be weakly referenced: count every time
        return await counter.count_prompt_tokens(messages)
    key = tuple(messages)
    if key not in known:
        if len(known) >= MAX_BASE_COUNTS:
            known.clear()
        known[key] = await counter.count_prompt_tokens(messages)
    return known[key]


def _messages(system: str, user: str, tail: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The chat turns, each content neutralised: only the template adds control tokens."""
    turns = [ChatMessage("system", system), ChatMessage("user", user), *tail]
    return [ChatMessage(m.role, neutralise_special_tokens(m.content)) for m in turns]
