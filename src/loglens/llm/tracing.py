"""OpenTelemetry spans of the LLM step: the step, each finding, each model call.

Spans come from the tracer `loglens.llm` of the global TracerProvider, or of a provider
the caller passes in. loglens sets no provider and no exporter up: without one the spans
are no-ops and cost next to nothing. An application that configures OpenTelemetry (an
OTLP exporter, say) gets them with no change here.

The tree of one report:

* `llm.report` (or `llm.diff`): backend, model, prompt ids with hashes, and at the end
  the step's figures and its fallback reason, if any;
* `llm.finding`, one per top finding: fingerprint, cache hit, fallback reason;
* `llm.generate` / `llm.stream`, one per model call: prompt id@hash, backend, model,
  tokens in and out, finish reason.

Attribute names follow OpenTelemetry's GenAI conventions where one fits
(`gen_ai.request.model`, `gen_ai.usage.input_tokens` ...), `loglens.*` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer, TracerProvider

if TYPE_CHECKING:
    from loglens.llm.backend import BackendInfo, Generation
    from loglens.model import LlmInfo

TRACER_NAME = "loglens.llm"

BACKEND = "loglens.llm.backend"
MODEL = "gen_ai.request.model"
PROMPT = "loglens.prompt"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
FINISH_REASONS = "gen_ai.response.finish_reasons"
FINGERPRINT = "loglens.finding.fingerprint"
CACHE_HIT = "loglens.llm.cache_hit"
FALLBACK_REASON = "loglens.llm.fallback_reason"


def llm_tracer(provider: TracerProvider | None = None) -> Tracer:
    """The `loglens.llm` tracer of `provider`, or of the global provider when None."""
    return trace.get_tracer(TRACER_NAME, tracer_provider=provider)


def backend_attributes(info: BackendInfo) -> dict[str, str]:
    return {BACKEND: info.backend, MODEL: info.model}


@contextmanager
def model_call_span(tracer: Tracer, name: str, *, prompt: str, info: BackendInfo) -> Iterator[Span]:
    """A span around one model call; an exception marks it as failed and goes on."""
    attributes = {PROMPT: prompt, **backend_attributes(info)}
    with tracer.start_as_current_span(name, attributes=attributes) as span:
        yield span


def record_generation(span: Span, generation: Generation) -> None:
    """Token counts and finish reason of a finished call."""
    span.set_attribute(INPUT_TOKENS, generation.prompt_tokens)
    span.set_attribute(OUTPUT_TOKENS, generation.completion_tokens)
    span.set_attribute(FINISH_REASONS, [generation.finish_reason])


def record_fallback(span: Span, reason: str | None) -> None:
    """Why the model's answer was not used (nothing when it was)."""
    if reason:
        span.set_attribute(FALLBACK_REASON, reason)


def record_step(span: Span, llm: LlmInfo) -> None:
    """A finished step's figures, as the report records them."""
    span.set_attribute("loglens.llm.calls", llm.calls)
    span.set_attribute("loglens.llm.cache_hits", llm.cache_hits)
    span.set_attribute("loglens.llm.findings_asked", llm.findings_asked)
    span.set_attribute("loglens.llm.findings_explained", llm.findings_explained)
    span.set_attribute("loglens.llm.summary_written", llm.summary_written)
    span.set_attribute(INPUT_TOKENS, llm.tokens_prompt)
    span.set_attribute(OUTPUT_TOKENS, llm.tokens_generated)
    record_fallback(span, llm.fallback_reason)
    if llm.fallback_reason and not llm.used:
        span.set_status(Status(StatusCode.ERROR, llm.fallback_reason))
