"""Markdown chunking: sections by heading, a token limit with overlap, stable ids."""

from __future__ import annotations

import itertools

import pytest

from loglens.retrieval.chunking import (
    Chunker,
    chunk_figures,
    chunk_id,
    estimate_tokens,
    minilm_token_counter,
    split_sections,
)

DOC = """# Disk full

Writes fail with `no space left on device` and databases stop accepting writes.
The kernel may remount the volume read-only after I/O errors, which looks the same.

## Check

```sh
# a shell comment, not a heading
kubectl -n <ns> exec <pod> -- df -h /data
```

## Fix

Grow the PVC when the storage class allows volume expansion, and set retention on
Loki and Prometheus so the volume does not fill up again next week.
"""


def words_chunker(max_tokens: int = 60, overlap: int = 8) -> Chunker:
    return Chunker(max_tokens=max_tokens, overlap=overlap, count_tokens=estimate_tokens)


def test_sections_follow_headings_but_not_hashes_inside_code() -> None:
    sections = split_sections(DOC)
    assert [s.heading for s in sections] == ["Disk full", "Check", "Fix"]
    assert "# a shell comment" in sections[1].body


def test_each_section_becomes_a_chunk_titled_by_document_and_heading() -> None:
    chunks = words_chunker().chunk(doc_id="d", source="s.md", title="Disk full", markdown=DOC)
    assert [c.heading for c in chunks] == ["", "Check", "Fix"]
    assert chunks[0].text.startswith("Disk full\nWrites fail")
    assert chunks[1].text.startswith("Disk full — Check\n```sh")
    assert [c.position for c in chunks] == [0, 1, 2]


def test_short_sections_join_the_next_one() -> None:
    markdown = "# T\n\nIntro.\n\n## A\n\nOne line.\n\n## B\n\n" + "word " * 60
    chunks = Chunker(max_tokens=200, overlap=8, count_tokens=estimate_tokens).chunk(
        doc_id="d", source="s", title="T", markdown=markdown
    )
    assert len(chunks) == 1
    assert "Intro." in chunks[0].text and "A:" in chunks[0].text and "B:" in chunks[0].text


def test_long_sections_are_cut_under_the_limit_with_overlap() -> None:
    body = " ".join(f"w{i}" for i in range(400))
    chunker = words_chunker(max_tokens=60, overlap=8)
    chunks = chunker.chunk(doc_id="d", source="s", title="Long", markdown=f"# Long\n\n{body}")
    assert len(chunks) > 5
    assert all(c.tokens <= 60 for c in chunks)
    for before, after in itertools.pairwise(chunks):
        last_words = before.text.split()[-2:]
        assert " ".join(last_words) in after.text  # the overlap repeats the tail
    text = " ".join(c.text for c in chunks)
    assert all(f"w{i}" in text.split() for i in range(400))  # nothing lost


def test_ids_hash_source_and_text() -> None:
    a = words_chunker().chunk(doc_id="d", source="a.md", title="Disk full", markdown=DOC)
    again = words_chunker().chunk(doc_id="x", source="a.md", title="Disk full", markdown=DOC)
    other = words_chunker().chunk(doc_id="d", source="b.md", title="Disk full", markdown=DOC)
    assert [c.id for c in a] == [c.id for c in again]
    assert not {c.id for c in a} & {c.id for c in other}
    assert a[0].id == chunk_id("a.md", a[0].text)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        Chunker(max_tokens=16)
    with pytest.raises(ValueError, match="overlap"):
        Chunker(max_tokens=100, overlap=60)


def test_figures_report_mean_and_max_tokens() -> None:
    chunks = words_chunker().chunk(doc_id="d", source="s", title="Disk full", markdown=DOC)
    figures = chunk_figures(1, chunks, duplicates_skipped=2)
    assert figures.chunks == len(chunks)
    assert figures.tokens_max == max(c.tokens for c in chunks)
    assert figures.tokens_mean == pytest.approx(sum(c.tokens for c in chunks) / len(chunks), 0.01)
    assert figures.duplicates_skipped == 2


def test_minilm_counter_counts_word_pieces_without_padding() -> None:
    count = minilm_token_counter()
    assert count("hello") == 1
    assert count("OOMKilled") > 1  # split into word pieces
    assert count("word " * 300) == 300  # no truncation at 128 or 256, no padding


def test_estimate_is_close_to_the_tokenizer_on_prose() -> None:
    count = minilm_token_counter()
    text = DOC.split("## Fix")[1]
    assert 0.7 <= estimate_tokens(text) / count(text) <= 1.5
