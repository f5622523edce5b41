"""The knowledge base: what loglens knows about failures, as Markdown documents.

Three sources, one document type (`KnowledgeDoc`):

* every signature of the catalog (`loglens.detect.catalog`): title, category, severity,
  component, root cause, action, causal hints and the match rules, written out as Markdown;
* the runbook notes packaged in `loglens/retrieval/runbooks/*.md`: one per failure family,
  with YAML front matter (`id`, `title`, `category`, `component`);
* the user's own notes in `settings.knowledge_dir` (same format, searched recursively); a
  user note with the id of a packaged one replaces it.

`KnowledgeBase` is the documents cut into chunks, with a content hash: the indexer compares
it with the manifest in the store to decide whether knowledge must be (re)indexed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loglens.config import Settings
from loglens.detect.catalog import FROM_LABELS, Signature, SignatureCatalog, default_catalog
from loglens.errors import ConfigError
from loglens.model import Category
from loglens.retrieval.chunking import Chunk, Chunker, ChunkFigures, chunk_figures

KnowledgeKind = Literal["signature", "runbook"]

RUNBOOK_PACKAGE: Final = "loglens.retrieval.runbooks"
_FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_RUNBOOK_ID_RE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class KnowledgeDoc:
    """One knowledge document: a catalog signature or a runbook note."""

    id: str
    kind: KnowledgeKind
    title: str
    category: str
    component: str
    source: str
    text: str


class RunbookHeader(BaseModel):
    """The front matter every runbook note starts with."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = Field(min_length=3)
    category: Category
    component: str = ""
    tags: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _plain_id(cls, value: str) -> str:
        if not _RUNBOOK_ID_RE.match(value):
            raise ValueError("must be lower case words joined by '-', '_' or '.'")
        return value

    @field_validator("component")
    @classmethod
    def _snake_component(cls, value: str) -> str:
        if value and not _COMPONENT_RE.match(value):
            raise ValueError("must be lower snake case, like 'kube_apiserver'")
        return value


# --- signatures -------------------------------------------------------------------------


def signature_document(signature: Signature, catalog: SignatureCatalog) -> KnowledgeDoc:
    """A catalog signature as a Markdown document (root cause and action first)."""
    component = (
        "the workload named by the log labels"
        if signature.component == FROM_LABELS
        else signature.component
    )
    # Root cause, action and examples stay in the first chunk; rules follow in their own.
    lines = [
        f"# {signature.title}",
        "",
        f"Signature `{signature.id}`: category {signature.category}, severity "
        f"{signature.severity}, component {component}.",
        "",
        f"Root cause: {signature.root_cause}",
        "",
        f"Action: {signature.action}",
    ]
    if signature.examples:
        lines += ["", "Example log lines:", *(f"- {ex.message}" for ex in signature.examples)]
    lines += _causal_lines(signature, catalog)
    lines += ["", "## Match rules", *_rule_lines(signature)]
    return KnowledgeDoc(
        id=f"signature:{signature.id}",
        kind="signature",
        title=signature.title,
        category=str(signature.category),
        component="" if signature.component == FROM_LABELS else signature.component,
        source=f"catalog:{signature.id}",
        text="\n".join(lines),
    )


def _causal_lines(signature: Signature, catalog: SignatureCatalog) -> list[str]:
    def titles(ids: Iterable[str]) -> str:
        return "; ".join(found.title for sid in ids if (found := catalog.get(sid)) is not None)

    lines: list[str] = []
    if signature.causes:
        lines.append(f"Often leads to: {titles(signature.causes)}.")
    if signature.caused_by:
        lines.append(f"Often caused by: {titles(signature.caused_by)}.")
    return ["", "## Related failures", *lines] if lines else []


def _rule_lines(signature: Signature) -> list[str]:
    lines: list[str] = []
    if signature.keywords:
        lines.append(f"Keywords: {', '.join(signature.keywords)}.")
    lines += [f"- pattern `{pattern.pattern}`" for pattern in signature.patterns]
    lines += [f"- label {'|'.join(keys)} ~ `{rule.pattern}`" for keys, rule in signature.labels]
    lines += [f"- unless `{rule.pattern}`" for rule in signature.exclude]
    if signature.benign:
        lines.append("Benign: expected lines that look like errors.")
    return lines


def catalog_documents(catalog: SignatureCatalog | None = None) -> list[KnowledgeDoc]:
    """Every signature of `catalog` (default: the packaged one) as a document."""
    chosen = catalog or default_catalog()
    return [signature_document(signature, chosen) for signature in chosen]


# --- runbooks ---------------------------------------------------------------------------


def parse_runbook(text: str, *, origin: str) -> KnowledgeDoc:
    """A runbook note: YAML front matter, then Markdown. ConfigError names `origin`."""
    found = _FRONT_MATTER_RE.match(text)
    if found is None:
        raise ConfigError(
            f"{origin}: a runbook note must start with front matter",
            hint="begin with ---, then id, title, category (and component), then ---",
        )
    try:
        raw = yaml.safe_load(found.group(1))
        header = RunbookHeader.model_validate(raw if isinstance(raw, dict) else {})
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: front matter is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "front matter"
        raise ConfigError(
            f"{origin}: front matter field {where}: {first['msg']}",
            hint="categories are those of the golden format (oom, crashloop, dns, ...)",
        ) from exc
    return KnowledgeDoc(
        id=f"runbook:{header.id}",
        kind="runbook",
        title=header.title,
        category=str(header.category),
        component=header.component,
        source=origin,
        text=text[found.end() :].strip(),
    )


def packaged_runbooks() -> list[KnowledgeDoc]:
    """The runbook notes shipped in this package, by file name."""
    folder = resources.files(RUNBOOK_PACKAGE)
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".md")),
        key=lambda entry: entry.name,
    )
    return [
        parse_runbook(entry.read_text("utf-8"), origin=f"runbooks/{entry.name}")
        for entry in entries
    ]


def user_runbooks(folder: Path) -> list[KnowledgeDoc]:
    """Every `*.md` under `folder` (recursively, sorted); ConfigError when it is missing."""
    if not folder.is_dir():
        raise ConfigError(
            f"knowledge folder {folder} does not exist",
            hint="create it or unset LOGLENS_KNOWLEDGE_DIR",
        )
    docs = []
    for path in sorted(folder.rglob("*.md")):
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read runbook note {path}: {exc}") from exc
        docs.append(parse_runbook(text, origin=str(path)))
    return docs


def load_documents(settings: Settings) -> list[KnowledgeDoc]:
    """Catalog signatures, packaged runbooks, then the user's notes (which win by id)."""
    docs = {doc.id: doc for doc in [*catalog_documents(), *packaged_runbooks()]}
    if settings.knowledge_dir is not None:
        for doc in user_runbooks(settings.knowledge_dir):
            docs[doc.id] = doc
    return list(docs.values())


# --- chunked knowledge ------------------------------------------------------------------


@dataclass(slots=True)
class KnowledgeBase:
    """Documents and their chunks (duplicates removed), with a hash of the whole content."""

    documents: dict[str, KnowledgeDoc]
    chunks: list[Chunk]
    duplicates_skipped: int = 0
    content_hash: str = ""
    _by_id: dict[str, Chunk] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {chunk.id: chunk for chunk in self.chunks}
        if not self.content_hash:
            digest = hashlib.sha256()
            for chunk in sorted(self.chunks, key=lambda c: c.id):
                digest.update(chunk.id.encode())
            self.content_hash = digest.hexdigest()[:24]

    @property
    def manifest_id(self) -> str:
        """Id of the record that marks this exact content as indexed."""
        return f"manifest:{self.content_hash}"

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self._by_id.get(chunk_id)

    def document_of(self, chunk_id: str) -> KnowledgeDoc | None:
        found = self._by_id.get(chunk_id)
        return self.documents.get(found.doc_id) if found is not None else None

    def figures(self) -> ChunkFigures:
        return chunk_figures(len(self.documents), self.chunks, self.duplicates_skipped)


def build_knowledge_base(
    documents: Sequence[KnowledgeDoc], chunker: Chunker | None = None
) -> KnowledgeBase:
    """Chunk every document; a chunk whose id (source + text) repeats is kept once."""
    cutter = chunker or Chunker()
    chunks: dict[str, Chunk] = {}
    duplicates = 0
    for doc in documents:
        for chunk in cutter.chunk(
            doc_id=doc.id, source=doc.source, title=doc.title, markdown=doc.text
        ):
            if chunk.id in chunks:
                duplicates += 1
                continue
            chunks[chunk.id] = chunk
    return KnowledgeBase(
        documents={doc.id: doc for doc in documents},
        chunks=list(chunks.values()),
        duplicates_skipped=duplicates,
    )


_CACHE: dict[str, KnowledgeBase] = {}


def knowledge_base(settings: Settings) -> KnowledgeBase:
    """The knowledge base for `settings`, chunked once per distinct content per process."""
    documents = load_documents(settings)
    digest = hashlib.sha256()
    for doc in documents:
        digest.update(f"{doc.id}\0{doc.source}\0{doc.title}\0{doc.text}\0".encode())
    key = digest.hexdigest()
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = build_knowledge_base(documents)
    return _CACHE[key]
