"""The knowledge base: catalog signatures and runbook notes as documents, chunked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loglens.config import Settings
from loglens.detect.catalog import default_catalog
from loglens.errors import ConfigError
from loglens.model import Category
from loglens.retrieval.chunking import minilm_token_counter
from loglens.retrieval.knowledge import (
    KnowledgeDoc,
    build_knowledge_base,
    catalog_documents,
    knowledge_base,
    load_documents,
    packaged_runbooks,
    parse_runbook,
    user_runbooks,
)

# MiniLM reads at most 256 word pieces including [CLS] and [SEP].
MINILM_MAX_PIECES = 256

NOTE = """---
id: my-nas
title: NAS share goes read-only
category: storage
component: nfs
---

# NAS share goes read-only

The NFS server remounts the export read-only when its disk reports errors.

## Fix

Check `dmesg` on the NAS and replace the disk.
"""


def test_every_signature_is_a_document_with_cause_action_and_examples() -> None:
    catalog = default_catalog()
    docs = {doc.id: doc for doc in catalog_documents()}
    assert len(docs) == len(catalog)
    doc = docs["signature:k8s.oomkilled"]
    signature = catalog.get("k8s.oomkilled")
    assert signature is not None
    assert doc.kind == "signature" and doc.category == "oom"
    assert signature.root_cause in doc.text and signature.action in doc.text
    assert signature.examples[0].message in doc.text
    assert "Often leads to: Container in CrashLoopBackOff" in doc.text  # causal hints by title
    assert "`\\bOOMKilled\\b`" in doc.text  # the match rules as text


def test_packaged_runbooks_cover_every_failure_category() -> None:
    runbooks = packaged_runbooks()
    assert 25 <= len(runbooks) <= 45
    assert len({doc.id for doc in runbooks}) == len(runbooks)
    covered = {doc.category for doc in runbooks}
    assert covered == {c.value for c in Category} - {"none"}


@pytest.mark.parametrize("doc", packaged_runbooks(), ids=lambda doc: doc.id)
def test_each_runbook_has_sections_and_something_to_run(doc: KnowledgeDoc) -> None:
    text = doc.text
    assert re.search(r"^## ", text, re.MULTILINE), "no section headings"
    assert re.search(r"`[^`]+`", text), "no command or exact message"
    assert len(text) < 4000, "runbook notes are meant to be concise"


def test_front_matter_is_validated_with_the_file_named() -> None:
    doc = parse_runbook(NOTE, origin="notes/nas.md")
    assert (doc.id, doc.category, doc.component) == ("runbook:my-nas", "storage", "nfs")
    assert doc.text.startswith("# NAS share")
    with pytest.raises(ConfigError, match=r"notes/bad\.md: front matter field category"):
        parse_runbook(NOTE.replace("storage", "disks"), origin="notes/bad.md")
    with pytest.raises(ConfigError, match="must start with front matter"):
        parse_runbook("# no front matter\n", origin="x.md")


def test_user_notes_are_added_and_override_packaged_ones_by_id(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "nas.md").write_text(NOTE)
    override = NOTE.replace("id: my-nas", "id: disk-full").replace("NAS share", "Our disk")
    (tmp_path / "disk.md").write_text(override)
    docs = {doc.id: doc for doc in load_documents(Settings(knowledge_dir=tmp_path))}
    assert "runbook:my-nas" in docs
    assert docs["runbook:disk-full"].title == "Our disk goes read-only"
    assert docs["runbook:disk-full"].source == str(tmp_path / "disk.md")


def test_a_missing_knowledge_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        user_runbooks(tmp_path / "nope")


def test_packaged_knowledge_chunks_fit_minilm() -> None:
    kb = knowledge_base(Settings())
    count = minilm_token_counter()
    assert max(count(chunk.text) for chunk in kb.chunks) + 2 <= MINILM_MAX_PIECES
    figures = kb.figures()
    assert figures.documents == len(default_catalog()) + len(packaged_runbooks())
    assert figures.chunks == len(kb.chunks) and figures.tokens_max <= 200
    assert 40 <= figures.tokens_mean <= 200


def test_repeated_chunks_are_kept_once_and_counted() -> None:
    doc = parse_runbook(NOTE, origin="a.md")
    kb = build_knowledge_base([doc, doc])
    single = build_knowledge_base([doc])
    assert len(kb.chunks) == len(single.chunks)
    assert kb.duplicates_skipped == len(single.chunks)


def test_content_hash_changes_with_the_content(tmp_path: Path) -> None:
    before = knowledge_base(Settings())
    (tmp_path / "nas.md").write_text(NOTE)
    after = knowledge_base(Settings(knowledge_dir=tmp_path))
    assert before.content_hash != after.content_hash
    assert knowledge_base(Settings()).content_hash == before.content_hash
    chunk = after.chunks[-1]
    document = after.document_of(chunk.id)
    assert document is not None and document.id == "runbook:my-nas"
