"""The signature catalog: known failures, how to recognise them and what to do about them.

The catalog is data (`catalog.yaml` in this package, plus an optional user file whose
entries override packaged ones with the same id). It is validated once at load with
pydantic; matching then works on plain compiled values.

Matching is built for per-pattern use and is cheap enough per line: each signature
names a few `keywords` (whole lower-case words, or phrases with punctuation that are
looked up as substrings). A message is split into words once; only signatures with a
keyword present run their regexes. A signature without keywords is always tried.

When several signatures match, the most specific wins: higher `priority` first, then
more label rules, then the longer matched text, then catalog order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loglens.errors import ConfigError
from loglens.model import Category, Severity

FROM_LABELS = "from_labels"
"""`component` value meaning: take the component from the record's labels."""

_ID_RE = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")
_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_WORD_RE = re.compile(r"[a-z0-9]+")
_WORD_ONLY_RE = re.compile(r"^[a-z0-9]+$")

# The C loader is several times faster; PyYAML built without libyaml lacks it.
_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SignatureExample(BaseModel):
    """A message (with labels, for signatures that have label rules) a signature matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message: str
    labels: dict[str, str] = Field(default_factory=dict)


class SignatureSpec(BaseModel):
    """One catalog entry as written in YAML (validated, not yet compiled)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=3)
    category: Category
    severity: Severity
    component: str
    patterns: list[str] = Field(min_length=1, description="regexes over the message; any")
    labels: dict[str, str] = Field(default_factory=dict, description="label -> regex; all")
    exclude: list[str] = Field(default_factory=list, description="regexes that veto a match")
    ignore_case: bool = True
    keywords: list[str] = Field(default_factory=list)
    priority: int = 0
    benign: bool = False
    root_cause: str = Field(min_length=10)
    action: str = Field(min_length=5)
    causes: list[str] = Field(default_factory=list)
    caused_by: list[str] = Field(default_factory=list)
    examples: list[str | SignatureExample] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _dotted_id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("must be dotted lower snake case, like 'k8s.oomkilled'")
        return value

    @field_validator("component")
    @classmethod
    def _lower_snake(cls, value: str) -> str:
        if value != FROM_LABELS and not _COMPONENT_RE.match(value):
            raise ValueError(f"must be lower snake case (like 'kube_apiserver') or {FROM_LABELS!r}")
        return value

    @field_validator("keywords", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        # YAML reads a bare `443` as an int; a port number is a fine keyword.
        if isinstance(value, list):
            return [str(item) if isinstance(item, int) else item for item in value]
        return value

    @field_validator("keywords")
    @classmethod
    def _lower_keywords(cls, value: list[str]) -> list[str]:
        for keyword in value:
            if not keyword or keyword != keyword.lower():
                raise ValueError(f"keyword {keyword!r} must be non-empty lower case")
        return value


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    signatures: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, eq=False)
class Signature:
    """A compiled catalog entry, ready to match."""

    id: str
    title: str
    category: Category
    severity: Severity
    component: str
    root_cause: str
    action: str
    benign: bool
    priority: int
    causes: tuple[str, ...]
    caused_by: tuple[str, ...]
    keywords: tuple[str, ...]
    examples: tuple[SignatureExample, ...]
    patterns: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    labels: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]

    @property
    def component_from_labels(self) -> bool:
        return self.component == FROM_LABELS

    def match_length(self, message: str, labels: Mapping[str, str] | None) -> int:
        """Length of the longest pattern match, or -1 when the signature does not apply."""
        for keys, rule in self.labels:
            if not labels or not any(
                (value := labels.get(key)) is not None and rule.search(value) for key in keys
            ):
                return -1
        best = -1
        for pattern in self.patterns:
            found = pattern.search(message)
            if found is not None:
                best = max(best, found.end() - found.start())
        if best >= 0 and any(rule.search(message) for rule in self.exclude):
            return -1
        return best

    def matched_component(self, message: str) -> str | None:
        """The text a pattern captured in a group named `component`, if any."""
        for pattern in self.patterns:
            if "component" not in pattern.groupindex:
                continue
            found = pattern.search(message)
            if found is not None and found.group("component"):
                return found.group("component")
        return None


class SignatureCatalog:
    """A set of signatures with a keyword index for fast matching."""

    def __init__(self, signatures: Sequence[Signature]) -> None:
        self.signatures: tuple[Signature, ...] = tuple(signatures)
        self._by_id = {signature.id: signature for signature in self.signatures}
        self._order = {signature.id: index for index, signature in enumerate(self.signatures)}
        self._by_word: dict[str, list[Signature]] = {}
        self._by_phrase: list[tuple[str, Signature]] = []
        self._always: list[Signature] = []
        for signature in self.signatures:
            self._index(signature)

    def _index(self, signature: Signature) -> None:
        if not signature.keywords:
            self._always.append(signature)
        for keyword in signature.keywords:
            if _WORD_ONLY_RE.match(keyword):
                self._by_word.setdefault(keyword, []).append(signature)
            else:
                self._by_phrase.append((keyword, signature))

    def __len__(self) -> int:
        return len(self.signatures)

    def __iter__(self) -> Iterator[Signature]:
        return iter(self.signatures)

    def __contains__(self, signature_id: object) -> bool:
        return signature_id in self._by_id

    def get(self, signature_id: str) -> Signature | None:
        return self._by_id.get(signature_id)

    def candidates(self, message: str) -> list[Signature]:
        """Signatures whose keywords occur in the message (the cheap pre-filter)."""
        lowered = message.lower()
        found: dict[str, Signature] = {}
        by_word = self._by_word
        for word in _WORD_RE.findall(lowered):
            hits = by_word.get(word)
            if hits:
                for signature in hits:
                    found[signature.id] = signature
        for phrase, signature in self._by_phrase:
            if phrase in lowered:
                found[signature.id] = signature
        for signature in self._always:
            found[signature.id] = signature
        return list(found.values())

    def match_all(self, message: str, labels: Mapping[str, str] | None = None) -> list[Signature]:
        """Every matching signature, most specific first."""
        scored: list[tuple[tuple[int, int, int, int], Signature]] = []
        for signature in self.candidates(message):
            length = signature.match_length(message, labels)
            if length >= 0:
                rank = (-signature.priority, -len(signature.labels), -length)
                scored.append(((*rank, self._order[signature.id]), signature))
        scored.sort(key=lambda item: item[0])
        return [signature for _, signature in scored]

    def match(self, message: str, labels: Mapping[str, str] | None = None) -> Signature | None:
        """The most specific matching signature, or None."""
        matches = self.match_all(message, labels)
        return matches[0] if matches else None


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def load_catalog(extra: Path | None = None) -> SignatureCatalog:
    """The packaged catalog, with the signatures of `extra` (a YAML file) added on top.

    A user signature with the id of a packaged one replaces it. Raises ConfigError
    naming the file, the signature id and the field when anything is invalid.
    """
    packaged = resources.files("loglens.detect").joinpath("catalog.yaml").read_text("utf-8")
    specs = _parse_catalog_text(packaged, "packaged catalog.yaml")
    if extra is not None:
        merged = {spec.id: spec for spec in specs}
        for spec in _parse_catalog_text(_read_user_file(extra), str(extra)):
            merged[spec.id] = spec
        specs = list(merged.values())
    _check_causal_hints(specs)
    return SignatureCatalog([_compile(spec) for spec in specs])


@lru_cache(maxsize=1)
def default_catalog() -> SignatureCatalog:
    """The packaged catalog, loaded once per process."""
    return load_catalog()


def _read_user_file(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read signature catalog {path}: {exc.strerror or exc}",
            hint="check the path given for extra signatures",
        ) from exc


def _parse_catalog_text(text: str, origin: str) -> list[SignatureSpec]:
    try:
        raw = yaml.load(text, Loader=_YamlLoader)  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from exc
    try:
        document = _CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{origin}: expected a mapping with a 'signatures' list: {_first_error(exc)}",
            hint="see loglens/detect/catalog.yaml for the format",
        ) from exc
    specs: list[SignatureSpec] = []
    seen: set[str] = set()
    for position, entry in enumerate(document.signatures, start=1):
        spec = _validate_entry(entry, origin, position)
        if spec.id in seen:
            raise ConfigError(f"{origin}: signature id {spec.id!r} appears twice")
        seen.add(spec.id)
        specs.append(spec)
    return specs


def _validate_entry(entry: dict[str, Any], origin: str, position: int) -> SignatureSpec:
    try:
        return SignatureSpec.model_validate(entry)
    except ValidationError as exc:
        name = entry.get("id") if isinstance(entry.get("id"), str) else f"#{position}"
        raise ConfigError(
            f"{origin}: signature {name!r}: {_first_error(exc)}",
            hint="fix the field named above; vocabularies are in golden-format.md",
        ) from exc


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "(entry)"
    return f"field {field!r}: {error['msg']}"


def _check_causal_hints(specs: Sequence[SignatureSpec]) -> None:
    known = {spec.id for spec in specs}
    for spec in specs:
        for field in ("causes", "caused_by"):
            for target in getattr(spec, field):
                if target not in known:
                    raise ConfigError(
                        f"signature {spec.id!r}: field {field!r} names unknown signature "
                        f"{target!r}",
                        hint="causal hints must name ids that exist in the catalog",
                    )


def _compile(spec: SignatureSpec) -> Signature:
    flags = re.IGNORECASE if spec.ignore_case else 0
    return Signature(
        id=spec.id,
        title=spec.title,
        category=spec.category,
        severity=spec.severity,
        component=spec.component,
        root_cause=spec.root_cause.strip(),
        action=spec.action.strip(),
        benign=spec.benign,
        priority=spec.priority,
        causes=tuple(spec.causes),
        caused_by=tuple(spec.caused_by),
        keywords=tuple(spec.keywords),
        examples=tuple(
            SignatureExample(message=example) if isinstance(example, str) else example
            for example in spec.examples
        ),
        patterns=_compile_all(spec.id, "patterns", spec.patterns, flags),
        exclude=_compile_all(spec.id, "exclude", spec.exclude, flags),
        labels=tuple(
            (tuple(key.split("|")), _compile_one(spec.id, f"labels.{key}", rule, flags))
            for key, rule in spec.labels.items()
        ),
    )


def _compile_all(
    signature_id: str, field: str, sources: Sequence[str], flags: int
) -> tuple[re.Pattern[str], ...]:
    return tuple(
        _compile_one(signature_id, f"{field}[{index}]", source, flags)
        for index, source in enumerate(sources)
    )


def _compile_one(signature_id: str, field: str, source: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise ConfigError(
            f"signature {signature_id!r}: field {field!r} is not a valid regex: {exc}",
            hint=f"pattern was {source!r}",
        ) from exc
