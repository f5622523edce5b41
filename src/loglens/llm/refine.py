"""The LLM step of `analyze` (a Report) and `compare` (a Diff); it can never fail them.

For a report: the top `llm_top_k` findings are refined concurrently (no more at
once than the backend's slots), each answer taken from the cache when the same
finding with the same evidence was asked of the same model with the same prompts;
then the window summary is streamed. For a diff: the "what changed" narrative is
streamed. Every call has `llm_timeout_s`, the whole step `llm_report_timeout_s`;
a finding not done in time, or whose answer stays invalid after one repair, keeps
the rules answer, and the step records why in `finding.llm_notes` and
`llm.fallback_reason`. An unreachable or misconfigured backend leaves the
deterministic report as it is, with the reason. `LlmInfo` gets the figures: calls,
cache hits, tokens, tokens/s, latency, answers and valid answers.

The entry points are synchronous (`refine_report`, `refine_diff`) for the sync
analysis functions; the async ones run inside them on a fresh event loop.
Cancelling that loop's task (Ctrl-C, a cancelled caller) closes every model call.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loglens.config import Settings
from loglens.errors import BackendError, ConfigError
from loglens.llm.backend import BackendInfo, Generation, LlmBackend, chosen_backend, open_backend
from loglens.llm.cache import ExtractionCache, cache_key
from loglens.llm.extract import (
    ExtractionOutcome,
    Grounding,
    ReportContext,
    evidence_hash,
    extract_finding,
    extraction_prompt_refs,
    merge_answer,
)
from loglens.llm.prompting import (
    BudgetError,
    PromptSection,
    TokenBudget,
    clip,
    fit_prompt,
    load_prompt,
)
from loglens.llm.schemas import ExtractionAnswer, answer_schema_hash
from loglens.llm.summarize import (
    DIFF_CLOSING,
    DIFF_PROMPT,
    SUMMARY_CLOSING,
    SUMMARY_PROMPT,
    TokenCallback,
    diff_sections,
    diff_system,
    stream_text,
    summary_sections,
    summary_system,
)
from loglens.model import Diff, Finding, LlmInfo, Report
from loglens.parsing.redact import Redactor

T = TypeVar("T")
MAX_REASONS = 3


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, also when a loop already runs here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="loglens-llm") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


@dataclass(slots=True)
class StepFigures:
    """Counters of one LLM step, copied into `LlmInfo` at the end."""

    started: float = field(default_factory=time.perf_counter)
    calls: int = 0
    cache_hits: int = 0
    tokens_prompt: int = 0
    tokens_generated: int = 0
    generation_s: float = 0.0
    answers: int = 0
    answers_valid: int = 0
    explained: int = 0
    failures: list[str] = field(default_factory=list)
    summary_failure: str | None = None
    summary_written: bool = False

    def add_generation(self, generation: Generation) -> None:
        self.calls += 1
        self.tokens_prompt += generation.prompt_tokens
        self.tokens_generated += generation.completion_tokens
        self.generation_s += generation.seconds

    def add_outcome(self, outcome: ExtractionOutcome) -> None:
        for generation in outcome.generations:
            self.add_generation(generation)
        self.answers += outcome.answers
        self.answers_valid += outcome.answers_valid

    def fallback_reason(self, asked: int) -> str | None:
        reasons = []
        if self.failures:
            counted = Counter(self.failures).most_common(MAX_REASONS)
            listed = "; ".join(f"{reason} ({n}x)" if n > 1 else reason for reason, n in counted)
            reasons.append(
                f"{len(self.failures)} of {asked} findings kept the rules answer: {listed}"
            )
        if self.summary_failure:
            reasons.append(f"summary kept the rules text: {self.summary_failure}")
        return "; ".join(reasons) or None

    def fill(self, llm: LlmInfo, info: BackendInfo, asked: int) -> None:
        llm.backend = info.backend
        llm.model = info.model
        llm.context_size = info.context_size
        llm.calls = self.calls
        llm.cache_hits = self.cache_hits
        llm.findings_explained = self.explained
        llm.tokens_prompt = self.tokens_prompt
        llm.tokens_generated = self.tokens_generated
        llm.tokens_per_s = (
            round(self.tokens_generated / self.generation_s, 1) if self.generation_s > 0 else None
        )
        llm.answers = self.answers
        llm.answers_valid = self.answers_valid
        llm.used = self.explained > 0 or self.summary_written
        llm.fallback_reason = self.fallback_reason(asked)
        llm.latency_ms = round((time.perf_counter() - self.started) * 1000, 1)


def describe_error(error: BaseException) -> str:
    """A short reason for notes and `fallback_reason`."""
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, BudgetError | BackendError):
        return clip(error.message, 200)
    return clip(f"{type(error).__name__}: {error}", 200)


def _open_backend(settings: Settings, llm: LlmInfo, warnings: list[str]) -> LlmBackend | None:
    """The configured backend, or None (rules only); a config problem becomes a warning."""
    llm.backend = chosen_backend(settings)
    try:
        return open_backend(settings)
    except ConfigError as error:
        llm.fallback_reason = f"LLM not configured: {error}"
        warnings.append(llm.fallback_reason)
        return None


async def _backend_info(backend: LlmBackend, settings: Settings) -> BackendInfo:
    async with asyncio.timeout(settings.llm_timeout_s):
        return await backend.info()


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def refine_report(
    report: Report, *, settings: Settings, on_summary_token: TokenCallback | None = None
) -> None:
    """Refine the top findings and write the summary with the configured LLM, if any."""
    backend = _open_backend(settings, report.llm, report.warnings)
    if backend is None:
        return
    run_async(lambda: refine_report_with(report, backend, settings, on_summary_token))


async def refine_report_with(
    report: Report,
    backend: LlmBackend,
    settings: Settings,
    on_summary_token: TokenCallback | None = None,
) -> None:
    """`refine_report` with a backend the caller opened; the backend is closed at the end."""
    figures = StepFigures()
    top = report.findings[: settings.llm_top_k]
    try:
        info = await _backend_info(backend, settings)
    except Exception as error:  # the report completes whatever the backend does
        report.llm.fallback_reason = f"LLM backend unavailable: {describe_error(error)}"
        report.warnings.append(report.llm.fallback_reason)
        await backend.aclose()
        return
    report.llm.prompt_version = ",".join(
        [*extraction_prompt_refs(), load_prompt(SUMMARY_PROMPT).ref]
    )
    deadline = asyncio.get_running_loop().time() + settings.llm_report_timeout_s
    try:
        await _refine_findings(report, top, backend, info, settings, figures, deadline)
        await _write_summary(report, backend, info, settings, figures, deadline, on_summary_token)
    finally:
        figures.fill(report.llm, info, len(top))
        await backend.aclose()


async def _refine_findings(
    report: Report,
    top: list[Finding],
    backend: LlmBackend,
    info: BackendInfo,
    settings: Settings,
    figures: StepFigures,
    deadline: float,
) -> None:
    if not top:
        return
    context = ReportContext.build(report.patterns, Redactor(settings.redact_patterns))
    budget = TokenBudget(info.context_size, settings.llm_max_tokens)
    version = ",".join([*extraction_prompt_refs(), f"schema@{answer_schema_hash()}"])
    slots = asyncio.Semaphore(max(1, settings.llm_slots or info.slots))
    cache = ExtractionCache.open(settings.llm_cache_db)
    asker = _FindingAsker(backend, context, budget, settings, info.model, version, cache, slots)
    tasks = [asyncio.create_task(asker.answer(finding)) for finding in top]
    try:
        timeout = max(deadline - asyncio.get_running_loop().time(), 0.0)
        done, _ = await asyncio.wait(tasks, timeout=timeout)
    finally:  # out of time, or the caller went away: no call may outlive the step
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if cache is not None:
            cache.close()
    for index, (finding, task) in enumerate(zip(top, tasks, strict=True)):
        report.findings[index] = _apply(finding, _result_of(task, done), context, figures)


def _result_of(task: asyncio.Task[_Answered], done: set[asyncio.Task[_Answered]]) -> _Answered:
    """A task's answer; a task not done in time or failed unexpectedly becomes a failure."""
    if task not in done:
        return _Answered(failure="timed out (report budget)")
    error = task.exception()
    return task.result() if error is None else _Answered(failure=describe_error(error))


@dataclass(slots=True)
class _Answered:
    answer: ExtractionAnswer | None = None
    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    outcome: ExtractionOutcome | None = None
    cached: bool = False


@dataclass(slots=True)
class _FindingAsker:
    """Answers one finding: from the cache, or from the model (at most `slots` at once)."""

    backend: LlmBackend
    context: ReportContext
    budget: TokenBudget
    settings: Settings
    model: str
    version: str
    cache: ExtractionCache | None
    slots: asyncio.Semaphore

    async def answer(self, finding: Finding) -> _Answered:
        key = cache_key(finding.fingerprint, evidence_hash(finding), self.version, self.model)
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            return _Answered(answer=cached, cached=True)
        async with self.slots:
            try:
                outcome = await extract_finding(
                    self.backend,
                    finding,
                    self.context,
                    budget=self.budget,
                    timeout_s=self.settings.llm_timeout_s,
                )
            except (BackendError, BudgetError, TimeoutError) as error:
                return _Answered(failure=describe_error(error))
        if outcome.answer is not None and self.cache is not None:
            self.cache.put(
                key,
                outcome.answer,
                fingerprint=finding.fingerprint,
                model=self.model,
                prompt_version=self.version,
            )
        return _Answered(outcome.answer, outcome.failure, list(outcome.notes), outcome)


def _apply(
    finding: Finding, result: _Answered, context: ReportContext, figures: StepFigures
) -> Finding:
    """The finding with its answer merged, or with a note saying why it kept the rules."""
    if result.outcome is not None:
        figures.add_outcome(result.outcome)
    if result.cached:
        figures.cache_hits += 1
        result.notes.append("answer from the cache")
    if result.answer is None:
        reason = result.failure or "no answer"
        figures.failures.append(reason)
        notes = [*result.notes, f"kept the rules answer: {reason}"]
        return finding.model_copy(update={"llm_notes": [*finding.llm_notes, *notes]})
    grounding = Grounding.of(finding, context.redactor)
    merged, _ = merge_answer(finding, result.answer, grounding)
    merged.llm_notes = [*result.notes, *merged.llm_notes]
    figures.explained += 1
    return merged


async def _write_summary(
    report: Report,
    backend: LlmBackend,
    info: BackendInfo,
    settings: Settings,
    figures: StepFigures,
    deadline: float,
    on_token: TokenCallback | None,
) -> None:
    sections = summary_sections(report.findings, report.window, report.stats)
    text = await _stream_sections(
        backend, info, settings, figures, deadline, on_token,
        system=summary_system(), sections=sections, closing=SUMMARY_CLOSING,
    )  # fmt: skip
    if text:
        report.summary = text


async def _stream_sections(
    backend: LlmBackend,
    info: BackendInfo,
    settings: Settings,
    figures: StepFigures,
    deadline: float,
    on_token: TokenCallback | None,
    *,
    system: str,
    sections: list[PromptSection],
    closing: str,
) -> str | None:
    """Fit, stream and measure one summary; None (with the reason noted) when it failed."""
    budget = TokenBudget(info.context_size, settings.llm_max_tokens)
    try:
        async with asyncio.timeout_at(deadline):
            fitted = await fit_prompt(
                backend, system=system, sections=sections, closing=closing, budget=budget
            )
            streamed = await stream_text(
                backend,
                fitted.messages,
                on_token=on_token,
                max_tokens=settings.llm_max_tokens,
                timeout_s=settings.llm_timeout_s,
            )
            generated = len(await backend.tokenize(streamed.text)) if streamed.text else 0
    except Exception as error:  # the report completes whatever the backend does
        figures.summary_failure = describe_error(error)
        return None
    figures.add_generation(
        Generation(streamed.text, fitted.tokens, generated, streamed.seconds, "stop")
    )
    text = streamed.text.strip()
    if not text:
        figures.summary_failure = "the model wrote nothing"
        return None
    figures.summary_written = True
    return text


# --------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------


def refine_diff(
    diff: Diff, *, settings: Settings, on_summary_token: TokenCallback | None = None
) -> None:
    """Write the "what changed" narrative of `diff` with the configured LLM, if any."""
    warnings: list[str] = []
    backend = _open_backend(settings, diff.llm, warnings)
    if backend is None:
        return
    run_async(lambda: refine_diff_with(diff, backend, settings, on_summary_token))


async def refine_diff_with(
    diff: Diff,
    backend: LlmBackend,
    settings: Settings,
    on_summary_token: TokenCallback | None = None,
) -> None:
    """`refine_diff` with a backend the caller opened; the backend is closed at the end."""
    figures = StepFigures()
    try:
        info = await _backend_info(backend, settings)
    except Exception as error:  # the diff completes whatever the backend does
        diff.llm.fallback_reason = f"LLM backend unavailable: {describe_error(error)}"
        await backend.aclose()
        return
    diff.llm.prompt_version = load_prompt(DIFF_PROMPT).ref
    deadline = asyncio.get_running_loop().time() + settings.llm_report_timeout_s
    try:
        text = await _stream_sections(
            backend, info, settings, figures, deadline, on_summary_token,
            system=diff_system(), sections=diff_sections(diff), closing=DIFF_CLOSING,
        )  # fmt: skip
        if text:
            diff.summary = text
    finally:
        figures.fill(diff.llm, info, 0)
        await backend.aclose()
