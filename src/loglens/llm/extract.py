"""Structured extraction for one finding: prompt, answer, one repair, grounding, merge.

`extraction_sections` turns a finding into prompt sections, most valuable first to
survive the budget: the rules' answer and counts, the templates (cut last), two or
three redacted example lines, the matched signature's explanation, patterns first
seen near the finding, and what retrieval found. `extract_finding` sends them with
the answer schema, validates the answer and, when it is invalid, sends the error
back once (`repair.v1`). `merge_answer` grounds the answer in the input — an error
signature must be (nearly) a substring of the finding's templates or evidence, a
component must be named in the input — and merges what holds into the finding.
"""

from __future__ import annotations

import hashlib
import re
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import zip_longest

import orjson
from opentelemetry.trace import Tracer

from loglens.detect.catalog import default_catalog
from loglens.llm.backend import BackendInfo, ChatMessage, Generation, LlmBackend
from loglens.llm.prompting import (
    REQUIRED,
    PromptItem,
    PromptSection,
    TokenBudget,
    clip,
    fit_prompt,
    load_prompt,
    neutralise_special_tokens,
    system_prompt,
)
from loglens.llm.schemas import AnswerError, ExtractionAnswer, answer_json_schema, parse_answer
from loglens.llm.tracing import llm_tracer, model_call_span, record_generation
from loglens.model import (
    SEVERITY_ORDER,
    Category,
    Finding,
    PatternOut,
    RelatedItem,
    Severity,
    parse_ts,
)
from loglens.parsing.redact import Redactor

EXTRACT_PROMPT = "extract.v1"
REPAIR_PROMPT = "repair.v1"

# How much of each kind is selected before the budget measures anything.
MAX_TEMPLATES = 3
MAX_TEMPLATE_CHARS = 600
MAX_EXAMPLES = 3
MAX_EXAMPLE_CHARS = 400
MAX_NEIGHBOURS = 6
MAX_NEIGHBOUR_CHARS = 200
NEIGHBOUR_CANDIDATES = 24
NEIGHBOUR_MAX_GAP_NS = 15 * 60 * 1_000_000_000
MAX_RELATED = 3
MAX_RELATED_CHARS = 600
# Which kind of related item goes first in each round of `interleave_by_kind`.
RELATED_KIND_ORDER = ("knowledge", "incident", "pattern", "signature_hint")
MAX_LABEL_VALUES = 3

# Item values: what the budget keeps longest. Templates are required (cut last);
# then the first two examples, the first related item, the signature, the third
# example, the neighbours (nearest first) and the other related items.
EXAMPLE_VALUES = (70.0, 60.0, 30.0)
RELATED_FIRST_VALUE = 45.0
SIGNATURE_VALUE = 40.0
NEIGHBOUR_VALUE = 20.0
RELATED_REST_VALUE = 10.0

# Grounding: a signature holds when it is a substring of the input (after case and
# whitespace folding), or when this share of its characters appears in order in one
# place of it (NEAR_SLACK_CHARS around); shorter ones say nothing.
SIGNATURE_MATCH_SHARE = 0.9
NEAR_SLACK_CHARS = 8
MIN_SIGNATURE_CHARS = 4
PROBLEM_LEVELS = frozenset({"warn", "error", "fatal"})

_SPACE_RE = re.compile(r"\s+")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def extraction_prompt_refs() -> list[str]:
    return [load_prompt(EXTRACT_PROMPT).ref, load_prompt(REPAIR_PROMPT).ref]


# --------------------------------------------------------------------------------------
# Context: what the whole report offers every finding's prompt
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Neighbour:
    offset_ns: int
    pattern: PatternOut


class NeighbourIndex:
    """The report's patterns sorted by first_seen, to find those near a time quickly."""

    def __init__(self, patterns: Sequence[PatternOut]) -> None:
        dated: list[tuple[int, PatternOut]] = []
        for pattern in patterns:
            if pattern.first_seen:
                try:
                    dated.append((parse_ts(pattern.first_seen), pattern))
                except ValueError:
                    continue
        dated.sort(key=lambda entry: entry[0])
        self._times = [ts for ts, _ in dated]
        self._patterns = [pattern for _, pattern in dated]

    def near(self, ts_ns: int, *, exclude: set[str], limit: int) -> list[Neighbour]:
        """Up to `limit` patterns first seen close to `ts_ns`: problem levels, then nearest."""
        found: list[Neighbour] = []
        low = bisect_left(self._times, ts_ns) - 1
        high = low + 1
        times = self._times
        while len(found) < NEIGHBOUR_CANDIDATES and (low >= 0 or high < len(times)):
            take_high = low < 0 or (high < len(times) and times[high] - ts_ns <= ts_ns - times[low])
            index = high if take_high else low
            if abs(times[index] - ts_ns) > NEIGHBOUR_MAX_GAP_NS:
                break
            if take_high:
                high += 1
            else:
                low -= 1
            pattern = self._patterns[index]
            if pattern.id not in exclude:
                found.append(Neighbour(times[index] - ts_ns, pattern))
        found.sort(key=lambda n: (n.pattern.level not in PROBLEM_LEVELS, abs(n.offset_ns)))
        return found[:limit]


@dataclass(slots=True)
class ReportContext:
    """Built once per report: neighbour index and redactor shared by every finding."""

    neighbours: NeighbourIndex
    redactor: Redactor

    @classmethod
    def build(cls, patterns: Sequence[PatternOut], redactor: Redactor) -> ReportContext:
        return cls(NeighbourIndex(patterns), redactor)


# --------------------------------------------------------------------------------------
# Prompt sections
# --------------------------------------------------------------------------------------


def finding_templates(finding: Finding, redactor: Redactor) -> list[str]:
    """The finding's pattern templates (the rules' error signatures), redacted."""
    return [redactor.redact(t) for t in finding.error_signatures[:MAX_TEMPLATES]]


def finding_labels(finding: Finding) -> dict[str, str]:
    """Label values of the evidence lines, a few per key (`pod: a, b`)."""
    values: dict[str, list[str]] = {}
    for line in finding.evidence:
        for key, value in line.labels.items():
            seen = values.setdefault(key, [])
            if value not in seen and len(seen) < MAX_LABEL_VALUES:
                seen.append(value)
    return {key: ", ".join(found) for key, found in sorted(values.items())}


def _header(finding: Finding, redactor: Redactor) -> dict[str, object]:
    return {
        "title": redactor.redact(finding.title),
        "category": str(finding.category),
        "severity": str(finding.severity),
        "component": finding.component,
        "count": finding.count,
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "signals": finding.signals,
        "labels": finding_labels(finding),
        "root_cause": redactor.redact(finding.root_cause),
        "action": finding.action,
    }


def _example_items(finding: Finding, redactor: Redactor) -> list[PromptItem]:
    items = []
    for value, line in zip(EXAMPLE_VALUES, finding.evidence[:MAX_EXAMPLES], strict=False):
        text = clip(redactor.redact(line.line), MAX_EXAMPLE_CHARS)
        items.append(PromptItem(f"{line.ts} {text}", value, label="example line"))
    return items


def _signature_items(finding: Finding) -> list[PromptItem]:
    signature = default_catalog().get(finding.signature) if finding.signature else None
    if signature is None:
        return []
    parts = [f"{signature.id}: {signature.title}."]
    if signature.root_cause != finding.root_cause:
        parts.append(f"Explanation: {signature.root_cause}")
    if signature.action != finding.action:
        parts.append(f"Usual fix: {signature.action}")
    if signature.root_cause == finding.root_cause:
        parts.append("The rules' root cause and action above come from it.")
    if signature.caused_by:
        parts.append(f"Often a consequence of: {', '.join(signature.caused_by)}.")
    if signature.causes:
        parts.append(f"Often leads to: {', '.join(signature.causes)}.")
    return [PromptItem(" ".join(parts), SIGNATURE_VALUE, label="signature explanation")]


def _offset(offset_ns: int) -> str:
    seconds = round(offset_ns / 1e9)
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(abs(seconds), 60)
    return f"{sign}{minutes}m{secs:02d}s"


def _neighbour_items(finding: Finding, context: ReportContext) -> list[PromptItem]:
    if not finding.first_seen:
        return []
    near = context.neighbours.near(
        parse_ts(finding.first_seen), exclude=set(finding.patterns), limit=MAX_NEIGHBOURS
    )
    items = []
    for index, neighbour in enumerate(near):
        pattern = neighbour.pattern
        template = clip(context.redactor.redact(pattern.template), MAX_NEIGHBOUR_CHARS)
        text = f"{_offset(neighbour.offset_ns)} {pattern.count}x {pattern.level}: {template}"
        items.append(PromptItem(text, NEIGHBOUR_VALUE - index * 0.5, label="neighbour pattern"))
    return items


def interleave_by_kind(related: Sequence[RelatedItem]) -> list[RelatedItem]:
    """Related items ranked within their kind, then taken in turn: best knowledge, best
    incident, best pattern, best signature hint, second knowledge, … (kinds score on
    different scales, so scores are compared only within a kind)."""
    by_kind: dict[str, list[RelatedItem]] = {}
    for item in sorted(related, key=lambda item: -item.score):
        by_kind.setdefault(item.kind, []).append(item)
    kinds = sorted(by_kind, key=lambda kind: RELATED_KIND_ORDER.index(kind))
    rounds = zip_longest(*(by_kind[kind] for kind in kinds))
    return [item for round_ in rounds for item in round_ if item is not None]


def _related_items(finding: Finding, redactor: Redactor) -> list[PromptItem]:
    ranked = interleave_by_kind(finding.related)[:MAX_RELATED]
    items = []
    for index, related in enumerate(ranked):
        content = {
            "kind": related.kind,
            "title": redactor.redact(related.title),
            "score": round(related.score, 3),
            "text": clip(redactor.redact(related.text), MAX_RELATED_CHARS),
        }
        value = RELATED_FIRST_VALUE if index == 0 else RELATED_REST_VALUE - index
        items.append(PromptItem(content, value, label="related item"))
    return items


def extraction_sections(finding: Finding, context: ReportContext) -> list[PromptSection]:
    """The finding's prompt sections, each item valued for the budget."""
    redactor = context.redactor
    templates = [
        PromptItem(clip(t, MAX_TEMPLATE_CHARS), REQUIRED, truncatable=True, label="template")
        for t in finding_templates(finding, redactor)
    ]
    sections = [
        PromptSection(
            "Finding (the rules engine's answer):", [PromptItem(_header(finding, redactor))]
        ),
        PromptSection("Templates of its log patterns (<*> is a variable part):", templates),
        PromptSection("Example lines (redacted):", _example_items(finding, redactor)),
        PromptSection(
            "Known signature (loglens catalog):", _signature_items(finding), quoted=False
        ),
        PromptSection(
            "Patterns first seen near the finding (offset, count, level, template):",
            _neighbour_items(finding, context),
        ),
        PromptSection("Retrieved context (may not apply):", _related_items(finding, redactor)),
    ]
    return [section for section in sections if section.items]


EXTRACTION_CLOSING = "Answer for this finding with one JSON object."


def evidence_hash(finding: Finding) -> str:
    """Hash of what the prompt shows about the finding: templates, evidence, related items."""
    payload = orjson.dumps(
        {
            "templates": finding.error_signatures,
            "evidence": [(line.ts, line.line, line.labels) for line in finding.evidence],
            "signature": finding.signature,
            "related": [(r.kind, r.id, r.text) for r in finding.related],
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(payload).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Calling the model
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class ExtractionOutcome:
    """What one finding's extraction produced, with the figures the report records."""

    answer: ExtractionAnswer | None = None
    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    answers: int = 0
    answers_valid: int = 0
    prompt_tokens: int = 0
    outside_model_s: float = 0.0

    def take(self, generation: Generation) -> AnswerError | None:
        """Record one answer; keep it when valid, else return what was wrong with it."""
        self.generations.append(generation)
        self.answers += 1
        try:
            self.answer = parse_answer(generation.text)
        except AnswerError as error:
            return error
        self.answers_valid += 1
        return None


async def extract_finding(
    backend: LlmBackend,
    finding: Finding,
    context: ReportContext,
    *,
    budget: TokenBudget,
    timeout_s: float,
    tracer: Tracer | None = None,
) -> ExtractionOutcome:
    """Ask the model about `finding`; repair once; `failure` says why no answer was kept.

    BackendError (and LlmTimeoutError) propagate: the caller decides what a failed call means.
    Each model call is an `llm.generate` span of `tracer` (default: the global provider's).
    """
    outcome = ExtractionOutcome()
    started = time.perf_counter()
    call = _ModelCall(backend, await backend.info(), budget, timeout_s, tracer or llm_tracer())
    system = system_prompt(load_prompt(EXTRACT_PROMPT))
    sections = extraction_sections(finding, context)
    fitted = await fit_prompt(
        backend, system=system, sections=sections, closing=EXTRACTION_CLOSING, budget=budget
    )
    outcome.prompt_tokens = fitted.tokens
    if fitted.dropped or fitted.truncated:
        outcome.notes.append(_budget_note(fitted.dropped, fitted.truncated))
    for prompt in (EXTRACT_PROMPT, REPAIR_PROMPT):
        outcome.outside_model_s += time.perf_counter() - started
        generation = await call.generate(fitted.messages, prompt)
        started = time.perf_counter()
        error = outcome.take(generation)
        if error is None:
            break
        if prompt == REPAIR_PROMPT:
            outcome.failure = f"invalid answer after one repair: {error.message}"
            break
        outcome.notes.append(f"answer repaired once: {clip(error.message, 200)}")
        fitted = await fit_prompt(
            backend,
            system=system,
            sections=sections,
            closing=EXTRACTION_CLOSING,
            budget=budget,
            tail=_repair_turns(generation.text, error),
        )
    outcome.outside_model_s += time.perf_counter() - started
    return outcome


@dataclass(frozen=True, slots=True)
class _ModelCall:
    """One finding's schema-constrained calls, each traced with the prompt it sends."""

    backend: LlmBackend
    info: BackendInfo
    budget: TokenBudget
    timeout_s: float
    tracer: Tracer

    async def generate(self, messages: Sequence[ChatMessage], prompt: str) -> Generation:
        ref = load_prompt(prompt).ref
        with model_call_span(self.tracer, "llm.generate", prompt=ref, info=self.info) as span:
            generation = await self.backend.generate(
                messages,
                schema=answer_json_schema(),
                max_tokens=self.budget.max_tokens,
                timeout_s=self.timeout_s,
            )
            record_generation(span, generation)
        return generation


def _repair_turns(answer: str, error: AnswerError) -> list[ChatMessage]:
    """The rejected answer and the repair prompt with what was wrong with it."""
    repair = load_prompt(REPAIR_PROMPT).render(error=clip(error.message, 400))
    return [ChatMessage("assistant", answer), ChatMessage("user", repair)]


def _budget_note(dropped: list[str], truncated: int) -> str:
    parts = [f"{n} {label}{'s' if n > 1 else ''}" for label, n in Counter(dropped).items()]
    if truncated:
        parts.append(f"templates cut {truncated}x")
    return "prompt over the token budget: left out " + ", ".join(parts)


# --------------------------------------------------------------------------------------
# Grounding and merging
# --------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case, single spaces, control-token text broken up as the prompt showed it."""
    return _SPACE_RE.sub(" ", neutralise_special_tokens(text).lower()).strip()


def _slug(text: str) -> str:
    return _SLUG_RE.sub("_", text.lower()).strip("_")


@dataclass(frozen=True, slots=True)
class Grounding:
    """The input an answer must stay within: log text, and the names it mentions."""

    text: str
    names: str

    @classmethod
    def of(cls, finding: Finding, redactor: Redactor) -> Grounding:
        texts = [*finding_templates(finding, redactor)]
        texts += [redactor.redact(line.line) for line in finding.evidence]
        labels = [value for line in finding.evidence for value in line.labels.values()]
        folded = "\n".join(_fold(text) for text in texts)
        names = "_" + _slug(" ".join([finding.component, *labels, *texts])) + "_"
        return cls(folded, names)

    def has_signature(self, signature: str) -> bool:
        wanted = _fold(signature)
        if len(wanted) < MIN_SIGNATURE_CHARS:
            return False
        if wanted in self.text:
            return True
        # Nearly a substring: around the longest common run, the same characters in order
        # (a few typos or a changed number) cover most of the signature.
        anchor = SequenceMatcher(None, self.text, wanted, autojunk=False).find_longest_match(
            0, len(self.text), 0, len(wanted)
        )
        if anchor.size < MIN_SIGNATURE_CHARS:
            return False
        start = max(anchor.a - anchor.b - NEAR_SLACK_CHARS, 0)
        window = self.text[start : anchor.a - anchor.b + len(wanted) + NEAR_SLACK_CHARS]
        blocks = SequenceMatcher(None, window, wanted, autojunk=False).get_matching_blocks()
        return sum(block.size for block in blocks) >= SIGNATURE_MATCH_SHARE * len(wanted)

    def has_component(self, component: str) -> bool:
        slug = _slug(component)
        return len(slug) >= 2 and f"_{slug}_" in self.names


def _one_line(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def _severity_within_one(rules: Severity, answer: Severity) -> Severity:
    order = sorted(Severity, key=lambda s: SEVERITY_ORDER[s])
    low = max(SEVERITY_ORDER[rules] - 1, 0)
    high = min(SEVERITY_ORDER[rules] + 1, len(order) - 1)
    return order[min(max(SEVERITY_ORDER[answer], low), high)]


def merge_answer(
    finding: Finding, answer: ExtractionAnswer, grounding: Grounding
) -> tuple[Finding, list[str]]:
    """The finding refined by the grounded parts of `answer`, and notes on what was dropped.

    Ungrounded components and error signatures are dropped (the rules' stay); the
    severity moves at most one level from the rules' (an injected "info" cannot
    silence a critical finding); "none" as a category keeps the rules' category.
    """
    notes: list[str] = []
    update: dict[str, object] = {"explained_by": "llm", "confidence": answer.confidence}
    update |= _grounded_names(finding, answer, grounding, notes)
    update |= _bounded_judgement(finding, answer, notes)
    for name in ("root_cause", "action"):
        text = _one_line(getattr(answer, name))
        if text:
            update[name] = text
    merged = finding.model_copy(update=update)
    merged.llm_notes = [*finding.llm_notes, *notes]
    return Finding.model_validate(merged.model_dump()), notes


def _grounded_names(
    finding: Finding, answer: ExtractionAnswer, grounding: Grounding, notes: list[str]
) -> dict[str, object]:
    """The answer's component and error signatures that the input holds (notes on the rest)."""
    update: dict[str, object] = {}
    component = _one_line(answer.component)
    if component and grounding.has_component(component):
        update["component"] = component
    elif component:
        notes.append(f"component {component!r} is not in the input: kept {finding.component!r}")
    kept = [s for s in (_one_line(s) for s in answer.error_signatures) if s]
    grounded = [s for s in kept if grounding.has_signature(s)]
    if len(grounded) < len(kept):
        dropped = ", ".join(repr(clip(s, 60)) for s in kept if s not in grounded)
        notes.append(f"error signatures not found in the input were dropped: {dropped}")
    if grounded:
        update["error_signatures"] = list(dict.fromkeys(grounded))
    return update


def _bounded_judgement(
    finding: Finding, answer: ExtractionAnswer, notes: list[str]
) -> dict[str, object]:
    """The answer's category (not "none" over a real one) and severity (one level at most)."""
    update: dict[str, object] = {}
    if answer.category is Category.NONE and finding.category != Category.NONE:
        notes.append(f"category 'none' ignored: kept {finding.category!s}")
    else:
        update["category"] = answer.category
    severity = _severity_within_one(Severity(finding.severity), answer.severity)
    if severity is not answer.severity:
        notes.append(
            f"severity {answer.severity!s} limited to {severity!s} (rules: {finding.severity!s})"
        )
    update["severity"] = severity
    return update
