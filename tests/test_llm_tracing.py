"""OpenTelemetry spans of the LLM step, read back with the SDK's in-memory exporter.

Each test passes its own TracerProvider: the global one is never set, so nothing leaks
from one test to the next (a last test checks that).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from llm_fake import ScriptedBackend, make_report, valid_answer
from loglens.config import Settings
from loglens.errors import BackendError
from loglens.llm.local_backend import LocalBackend
from loglens.llm.prompting import load_prompt
from loglens.llm.refine import refine_diff_with, refine_report_with
from loglens.llm.tracing import (
    BACKEND,
    CACHE_HIT,
    FALLBACK_REASON,
    FINGERPRINT,
    FINISH_REASONS,
    INPUT_TOKENS,
    MODEL,
    OUTPUT_TOKENS,
    PROMPT,
)
from loglens.model import Diff, DiffPattern, DiffSide, Report, Stats, Window


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _settings(**fields: object) -> Settings:
    return Settings.model_validate({"llm_timeout_s": 30, **fields})


def _refine(
    report: Report, backend: object, provider: TracerProvider, settings: Settings | None = None
) -> None:
    asyncio.run(
        refine_report_with(
            report,
            backend,  # type: ignore[arg-type]
            settings or _settings(),
            tracer_provider=provider,
        )
    )


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def parent_of(span: ReadableSpan, spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    assert span.parent is not None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


def test_a_report_traces_the_step_each_finding_and_each_model_call(
    traced: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = traced
    report = make_report(findings=2)
    # First finding: invalid, then repaired; second: valid at once.
    backend = ScriptedBackend(answers=["{", valid_answer(), valid_answer()])
    _refine(report, backend, provider, _settings(llm_slots=1))
    spans = exporter.get_finished_spans()

    [step] = by_name(spans, "llm.report")
    assert step.attributes is not None
    assert step.attributes[BACKEND] == "fake" and step.attributes[MODEL] == "scripted"
    assert step.attributes[PROMPT] == report.llm.prompt_version
    assert step.attributes["loglens.llm.calls"] == report.llm.calls == 4
    assert step.attributes["loglens.llm.findings_explained"] == 2
    assert FALLBACK_REASON not in step.attributes

    findings = by_name(spans, "llm.finding")
    assert [f.attributes[FINGERPRINT] for f in findings if f.attributes] == [
        finding.fingerprint for finding in report.findings[:2]
    ]
    assert all(parent_of(f, spans) is step for f in findings)
    assert all(f.attributes and f.attributes[CACHE_HIT] is False for f in findings)

    calls = by_name(spans, "llm.generate")
    extract, repair = load_prompt("extract.v1").ref, load_prompt("repair.v1").ref
    assert sorted(str(c.attributes[PROMPT]) for c in calls if c.attributes) == sorted(
        [extract, repair, extract]
    )
    for call in calls:
        assert call.attributes is not None and parent_of(call, spans) in findings
        assert call.attributes[MODEL] == "scripted" and call.attributes[BACKEND] == "fake"
        assert int(call.attributes[INPUT_TOKENS]) > 0  # type: ignore[arg-type]
        assert int(call.attributes[OUTPUT_TOKENS]) > 0  # type: ignore[arg-type]
        assert call.attributes[FINISH_REASONS] == ("stop",)

    [summary] = by_name(spans, "llm.stream")
    assert summary.attributes is not None and parent_of(summary, spans) is step
    assert summary.attributes[PROMPT] == load_prompt("summary.v1").ref
    assert summary.attributes[OUTPUT_TOKENS] == 4  # All, is, well and "." to the fake


def test_cache_hits_and_fallback_reasons_are_on_the_finding_spans(
    traced: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = traced
    _refine(make_report(findings=1), ScriptedBackend(), provider)
    exporter.clear()
    report = make_report(findings=2)
    failing = ScriptedBackend(generate_error=BackendError("the server broke"))
    _refine(report, failing, provider)
    spans = exporter.get_finished_spans()

    cached, failed = by_name(spans, "llm.finding")
    assert cached.attributes and cached.attributes[CACHE_HIT] is True
    assert FALLBACK_REASON not in cached.attributes
    assert failed.attributes and failed.attributes[CACHE_HIT] is False
    assert failed.attributes[FALLBACK_REASON] == "the server broke"
    [call] = by_name(spans, "llm.generate")  # only the uncached finding asked the model
    assert call.status.status_code is StatusCode.ERROR  # the exception is on the call
    [step] = by_name(spans, "llm.report")
    assert step.attributes and "1 of 2 findings" in str(step.attributes[FALLBACK_REASON])
    assert step.attributes["loglens.llm.cache_hits"] == 1


def test_an_unavailable_backend_marks_the_step_failed(
    traced: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = traced
    report = make_report(findings=1)
    _refine(report, ScriptedBackend(info_error=BackendError("no server")), provider)
    [step] = exporter.get_finished_spans()
    assert step.name == "llm.report" and step.status.status_code is StatusCode.ERROR
    assert step.attributes and "no server" in str(step.attributes[FALLBACK_REASON])


def test_a_diff_traces_its_narrative(traced: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = traced
    side = DiffSide(window=Window(), stats=Stats(lines=100))
    diff = Diff(
        before=side,
        after=side,
        new=[DiffPattern(id="p-new", template="disk full <*>", after=40, count=40)],
    )
    asyncio.run(refine_diff_with(diff, ScriptedBackend(), _settings(), tracer_provider=provider))
    spans = exporter.get_finished_spans()
    [step] = by_name(spans, "llm.diff")
    [stream] = by_name(spans, "llm.stream")
    assert parent_of(stream, spans) is step and diff.summary == "All is well."
    assert stream.attributes and stream.attributes[PROMPT] == load_prompt("diff.v1").ref


def test_the_tiny_model_calls_carry_real_token_counts(
    tiny_gguf: Path, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = traced
    report = make_report(findings=1)
    _refine(report, LocalBackend(tiny_gguf, threads=1), provider, _settings(llm_max_tokens=200))
    spans = exporter.get_finished_spans()
    calls = by_name(spans, "llm.generate")
    assert calls and all(c.attributes and c.attributes[MODEL] == tiny_gguf.name for c in calls)
    inputs = sum(int(c.attributes[INPUT_TOKENS]) for c in calls if c.attributes)  # type: ignore[arg-type]
    [summary] = by_name(spans, "llm.stream")
    assert summary.attributes is not None
    assert inputs + int(summary.attributes[INPUT_TOKENS]) == report.llm.tokens_prompt  # type: ignore[arg-type]


def test_no_global_tracer_provider_was_set() -> None:
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
