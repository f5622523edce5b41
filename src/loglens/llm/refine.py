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

Each step is traced (`loglens.llm.tracing`): a span for the step, one per finding and
one per model call, on the global TracerProvider or the one the caller passes.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opentelemetry.trace import Span, Tracer, TracerProvider

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
from loglens.llm.tracing import (
    CACHE_HIT,
    FINGERPRINT,
    PROMPT,
    backend_attributes,
    llm_tracer,
    model_call_span,
    record_fallback,
    record_generation,
    record_step,
)
from loglens.model import Diff, Finding, LlmInfo, Report
from loglens.parsing.redact import Redactor

T = TypeVar("T")
MAX_REASONS = 3


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, also when a loop already runs here.

    In the second case it runs on a worker thread, with the caller's context (so its
    spans stay children of the caller's current span).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="loglens-llm") as pool:
        return pool.submit(context.run, lambda: asyncio.run(factory())).result()


@dataclass(slots=True)
class StepFigures:
    """Counters of one LLM step, copied into `LlmInfo` at the end."""

    started: float = field(default_factory=time.perf_counter)
    asked: int = 0
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

    def fallback_reason(self) -> str | None:
        reasons = []
        if self.failures:
            counted = Counter(self.failures).most_common(MAX_REASONS)
            listed = "; ".join(f"{reason} ({n}x)" if n > 1 else reason for reason, n in counted)
            reasons.append(
                f"{len(self.failures)} of {self.asked} findings kept the rules answer: {listed}"
            )
        if self.summary_failure:
            reasons.append(f"summary kept the rules text: {self.summary_failure}")
        return "; ".join(reasons) or None

    def fill(self, llm: LlmInfo, info: BackendInfo) -> None:
        llm.backend = info.backend
        llm.model = info.model
        llm.context_size = info.context_size
        llm.calls = self.calls
        llm.cache_hits = self.cache_hits
        llm.findings_asked = self.asked
        llm.findings_explained = self.explained
        llm.summary_written = self.summary_written
        llm.tokens_prompt = self.tokens_prompt
        llm.tokens_generated = self.tokens_generated
        llm.tokens_per_s = (
            round(self.tokens_generated / self.generation_s, 1) if self.generation_s > 0 else None
        )
        llm.answers = self.answers
        llm.answers_valid = self.answers_valid
        llm.used = self.explained > 0 or self.summary_written
        llm.fallback_reason = self.fallback_reason()
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


@dataclass(slots=True)
class _Step:
    """One LLM step: the backend and what it runs, the settings, figures, deadline, tracer."""

    backend: LlmBackend
    info: BackendInfo
    settings: Settings
    tracer: Tracer
    deadline: float
    figures: StepFigures = field(default_factory=StepFigures)


async def _start_step(
    backend: LlmBackend, settings: Settings, llm: LlmInfo, tracer: Tracer, span: Span
) -> _Step | None:
    """The step once the backend answered; None (backend closed, reason kept) if it did not."""
    try:
        async with asyncio.timeout(settings.llm_timeout_s):
            info = await backend.info()
    except Exception as error:  # the report completes whatever the backend does
        llm.fallback_reason = f"LLM backend unavailable: {describe_error(error)}"
        await backend.aclose()
        record_step(span, llm)
        return None
    span.set_attributes(backend_attributes(info))
    deadline = asyncio.get_running_loop().time() + settings.llm_report_timeout_s
    return _Step(backend, info, settings, tracer, deadline)


async def _finish_step(step: _Step, llm: LlmInfo, span: Span) -> None:
    step.figures.fill(llm, step.info)
    record_step(span, llm)
    await step.backend.aclose()


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def refine_report(
    report: Report,
    *,
    settings: Settings,
    on_summary_token: TokenCallback | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Refine the top findings and write the summary with the configured LLM, if any."""
    backend = _open_backend(settings, report.llm, report.warnings)
    if backend is None:
        return
    run_async(
        lambda: refine_report_with(
            report, backend, settings, on_summary_token, tracer_provider=tracer_provider
        )
    )


async def refine_report_with(
    report: Report,
    backend: LlmBackend,
    settings: Settings,
    on_summary_token: TokenCallback | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """`refine_report` with a backend the caller opened; the backend is closed at the end."""
    tracer = llm_tracer(tracer_provider)
    prompts = ",".join([*extraction_prompt_refs(), load_prompt(SUMMARY_PROMPT).ref])
    with tracer.start_as_current_span("llm.report", attributes={PROMPT: prompts}) as span:
        step = await _start_step(backend, settings, report.llm, tracer, span)
        if step is None:
            report.warnings.append(str(report.llm.fallback_reason))
            return
        report.llm.prompt_version = prompts
        try:
            await _refine_findings(report, step)
            await _write_summary(report, step, on_summary_token)
        finally:
            await _finish_step(step, report.llm, span)


async def _refine_findings(report: Report, step: _Step) -> None:
    top = report.findings[: step.settings.llm_top_k]
    step.figures.asked = len(top)
    if not top:
        return
    context = ReportContext.build(report.patterns, Redactor(step.settings.redact_patterns))
    cache = ExtractionCache.open(step.settings.llm_cache_db)
    asker = _FindingAsker.for_step(step, context, cache)
    tasks = [asyncio.create_task(asker.answer(finding)) for finding in top]
    try:
        timeout = max(step.deadline - asyncio.get_running_loop().time(), 0.0)
        done, _ = await asyncio.wait(tasks, timeout=timeout)
    finally:  # out of time, or the caller went away: no call may outlive the step
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if cache is not None:
            cache.close()
    for index, (finding, task) in enumerate(zip(top, tasks, strict=True)):
        report.findings[index] = _apply(finding, _result_of(task, done), context, step.figures)


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

    step: _Step
    context: ReportContext
    budget: TokenBudget
    version: str
    cache: ExtractionCache | None
    slots: asyncio.Semaphore

    @classmethod
    def for_step(
        cls, step: _Step, context: ReportContext, cache: ExtractionCache | None
    ) -> _FindingAsker:
        budget = TokenBudget(step.info.context_size, step.settings.llm_max_tokens)
        version = ",".join([*extraction_prompt_refs(), f"schema@{answer_schema_hash()}"])
        slots = asyncio.Semaphore(max(1, step.settings.llm_slots or step.info.slots))
        return cls(step, context, budget, version, cache, slots)

    async def answer(self, finding: Finding) -> _Answered:
        attributes = {FINGERPRINT: finding.fingerprint, PROMPT: self.version}
        with self.step.tracer.start_as_current_span("llm.finding", attributes=attributes) as span:
            answered = await self._answer(finding)
            span.set_attribute(CACHE_HIT, answered.cached)
            record_fallback(span, answered.failure)
            return answered

    async def _answer(self, finding: Finding) -> _Answered:
        key = cache_key(
            finding.fingerprint, evidence_hash(finding), self.version, self.step.info.model
        )
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is not None:
            return _Answered(answer=cached, cached=True)
        async with self.slots:
            try:
                outcome = await extract_finding(
                    self.step.backend,
                    finding,
                    self.context,
                    budget=self.budget,
                    timeout_s=self.step.settings.llm_timeout_s,
                    tracer=self.step.tracer,
                )
            except (BackendError, BudgetError, TimeoutError) as error:
                return _Answered(failure=describe_error(error))
        if outcome.answer is not None and self.cache is not None:
            self.cache.put(
                key,
                outcome.answer,
                fingerprint=finding.fingerprint,
                model=self.step.info.model,
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


async def _write_summary(report: Report, step: _Step, on_token: TokenCallback | None) -> None:
    sections = summary_sections(report.findings, report.window, report.stats)
    prompt = _SummaryPrompt(SUMMARY_PROMPT, summary_system(), sections, SUMMARY_CLOSING)
    text = await _stream_summary(step, prompt, on_token)
    if text:
        report.summary = text


@dataclass(frozen=True, slots=True)
class _SummaryPrompt:
    name: str
    system: str
    sections: list[PromptSection]
    closing: str


async def _stream_summary(
    step: _Step, prompt: _SummaryPrompt, on_token: TokenCallback | None
) -> str | None:
    """Fit, stream and measure one summary; None (with the reason noted) when it failed."""
    figures = step.figures
    ref = load_prompt(prompt.name).ref
    with model_call_span(step.tracer, "llm.stream", prompt=ref, info=step.info) as span:
        try:
            async with asyncio.timeout_at(step.deadline):
                generation = await _summary_generation(step, prompt, on_token)
        except Exception as error:  # the report completes whatever the backend does
            figures.summary_failure = describe_error(error)
            record_fallback(span, figures.summary_failure)
            return None
        record_generation(span, generation)
        figures.add_generation(generation)
        text = generation.text.strip()
        if not text:
            figures.summary_failure = "the model wrote nothing"
            record_fallback(span, figures.summary_failure)
            return None
    figures.summary_written = True
    return text


async def _summary_generation(
    step: _Step, prompt: _SummaryPrompt, on_token: TokenCallback | None
) -> Generation:
    settings = step.settings
    budget = TokenBudget(step.info.context_size, settings.llm_max_tokens)
    fitted = await fit_prompt(
        step.backend,
        system=prompt.system,
        sections=prompt.sections,
        closing=prompt.closing,
        budget=budget,
    )
    streamed = await stream_text(
        step.backend,
        fitted.messages,
        on_token=on_token,
        max_tokens=settings.llm_max_tokens,
        timeout_s=settings.llm_timeout_s,
    )
    generated = len(await step.backend.tokenize(streamed.text)) if streamed.text else 0
    return Generation(streamed.text, fitted.tokens, generated, streamed.seconds, "stop")


# --------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------


def refine_diff(
    diff: Diff,
    *,
    settings: Settings,
    on_summary_token: TokenCallback | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Write the "what changed" narrative of `diff` with the configured LLM, if any."""
    backend = _open_backend(settings, diff.llm, [])
    if backend is None:
        return
    run_async(
        lambda: refine_diff_with(
            diff, backend, settings, on_summary_token, tracer_provider=tracer_provider
        )
    )


async def refine_diff_with(
    diff: Diff,
    backend: LlmBackend,
    settings: Settings,
    on_summary_token: TokenCallback | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """`refine_diff` with a backend the caller opened; the backend is closed at the end."""
    tracer = llm_tracer(tracer_provider)
    ref = load_prompt(DIFF_PROMPT).ref
    with tracer.start_as_current_span("llm.diff", attributes={PROMPT: ref}) as span:
        step = await _start_step(backend, settings, diff.llm, tracer, span)
        if step is None:
            return
        diff.llm.prompt_version = ref
        prompt = _SummaryPrompt(DIFF_PROMPT, diff_system(), diff_sections(diff), DIFF_CLOSING)
        try:
            text = await _stream_summary(step, prompt, on_summary_token)
            if text:
                diff.summary = text
        finally:
            await _finish_step(step, diff.llm, span)
