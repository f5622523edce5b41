"""The LLM step of a report and a diff: concurrency, timeouts, fallbacks, streaming, cancel."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from llm_fake import ScriptedBackend, make_report, valid_answer
from loglens.analysis.analyze import analyze
from loglens.analysis.compare import compare_records
from loglens.config import Settings
from loglens.errors import BackendError
from loglens.llm.backend import LlmTimeoutError
from loglens.llm.local_backend import LocalBackend
from loglens.llm.refine import refine_report_with
from loglens.model import LogRecord, Report
from loglens.sources.demo import DemoSource

REF = r"[a-z]+\.v\d+@[0-9a-f]{8}"


def _settings(**fields: object) -> Settings:
    return Settings.model_validate({"llm_timeout_s": 30, **fields})


def _refine(
    report: Report, backend: ScriptedBackend, settings: Settings | None = None
) -> list[str]:
    pieces: list[str] = []
    asyncio.run(refine_report_with(report, backend, settings or _settings(), pieces.append))
    return pieces


def test_top_findings_are_refined_and_the_summary_streams() -> None:
    report = make_report(findings=7)
    backend = ScriptedBackend(answers=[valid_answer(component="loki-0")])
    pieces = _refine(report, backend, _settings(llm_top_k=5))
    assert [f.explained_by for f in report.findings] == ["llm"] * 5 + ["rules"] * 2
    assert all(f.component == "loki-0" for f in report.findings[:5])
    assert pieces == backend.summary and report.summary == "All is well."
    llm = report.llm
    assert llm.used and llm.fallback_reason is None and llm.backend == "fake"
    assert (llm.calls, llm.answers, llm.answers_valid, llm.findings_explained) == (6, 5, 5, 5)
    assert llm.tokens_prompt > 0 and llm.tokens_generated > 0 and llm.tokens_per_s
    assert llm.latency_ms is not None and llm.context_size == 8192
    assert llm.prompt_version is not None
    assert re.fullmatch(rf"{REF},{REF},{REF}", llm.prompt_version)
    assert backend.closed


def test_the_summary_prompt_holds_the_findings_fields_not_raw_lines() -> None:
    report = make_report(findings=2)
    backend = ScriptedBackend(answers=["{"])  # every answer invalid: findings keep the rules
    _refine(report, backend)
    prompt = "\n".join(m.content for m in backend.stream_calls[0])
    assert "Grow the PVC" in prompt and "loki: no space left on device (1)" in prompt
    assert "/loki/chunks/a1" not in prompt and "hunter2" not in prompt
    assert all(f.explained_by == "rules" for f in report.findings)
    assert report.llm.fallback_reason is not None
    assert report.llm.fallback_reason.startswith("2 of 2 findings kept the rules answer")
    assert all("kept the rules answer" in f.llm_notes[-1] for f in report.findings)
    assert (report.llm.answers, report.llm.answers_valid) == (4, 0)


def test_concurrency_is_limited_to_the_backends_slots(tmp_path: Path) -> None:
    backend = ScriptedBackend(slots=2, delay_s=0.05)
    _refine(make_report(findings=5), backend)
    assert backend.max_active == 2
    backend = ScriptedBackend(slots=4, delay_s=0.05)
    _refine(make_report(findings=5), backend, _settings(llm_slots=1, data_dir=tmp_path / "b"))
    assert backend.max_active == 1


def test_a_call_timeout_keeps_the_rules_answer_and_the_report_completes() -> None:
    report = make_report(findings=2)
    backend = ScriptedBackend(generate_error=LlmTimeoutError("the model took longer than 1 s"))
    _refine(report, backend)
    assert all(f.explained_by == "rules" for f in report.findings)
    assert "took longer" in (report.llm.fallback_reason or "")
    assert report.summary == "All is well." and report.llm.used


def test_the_report_budget_stops_slow_calls_and_the_summary() -> None:
    report = make_report(findings=3)
    backend = ScriptedBackend(delay_s=30, piece_delay_s=30)
    _refine(report, backend, _settings(llm_report_timeout_s=0.2))
    assert all(f.explained_by == "rules" for f in report.findings)
    assert report.summary == "deterministic summary" and not report.llm.used
    reason = report.llm.fallback_reason or ""
    assert "timed out (report budget) (3x)" in reason and "summary kept the rules text" in reason
    assert backend.stream_closed and backend.closed


def test_an_unreachable_backend_leaves_the_report_as_it_was() -> None:
    report = make_report(findings=2)
    before = report.model_copy(deep=True)
    backend = ScriptedBackend(info_error=BackendError("cannot reach http://llm:8080"))
    _refine(report, backend)
    assert report.findings == before.findings and report.summary == before.summary
    assert report.llm.fallback_reason == "LLM backend unavailable: cannot reach http://llm:8080"
    assert report.llm.fallback_reason in report.warnings and backend.closed


def test_a_broken_summary_stream_keeps_the_deterministic_summary() -> None:
    report = make_report(findings=1)
    backend = ScriptedBackend(stream_error_after=2)
    pieces = _refine(report, backend)
    assert pieces == ["All ", "is "] and report.summary == "deterministic summary"
    assert report.findings[0].explained_by == "llm" and report.llm.used
    assert "summary kept the rules text: the stream broke off" in (report.llm.fallback_reason or "")
    assert backend.stream_closed


def test_cancelling_the_caller_closes_the_summary_stream() -> None:
    backend = ScriptedBackend(summary=["one ", "two ", "three "] * 50, piece_delay_s=0.01)

    async def run() -> list[str]:
        pieces: list[str] = []
        first = asyncio.Event()

        def on_token(piece: str) -> None:
            pieces.append(piece)
            first.set()

        task = asyncio.create_task(
            refine_report_with(make_report(findings=1), backend, _settings(), on_token)
        )
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pieces

    pieces = asyncio.run(run())
    assert len(pieces) < 150 and backend.stream_closed and backend.closed


def test_cancelling_the_caller_cancels_the_extraction_calls() -> None:
    backend = ScriptedBackend(slots=3, delay_s=30)

    async def run() -> None:
        task = asyncio.create_task(
            refine_report_with(make_report(findings=3), backend, _settings(), None)
        )
        while backend.active < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Checked while the loop still runs: no call outlives the cancelled step.
        assert backend.active == 0 and len(backend.calls) == 3 and backend.closed

    asyncio.run(run())


def test_a_misconfigured_backend_is_a_warning_not_an_error() -> None:
    settings = Settings(llm_backend="local", record_history=False)
    report = analyze(DemoSource(lines=2000, seed=1), settings=settings)
    assert report.findings and not report.llm.used
    assert "LOGLENS_MODEL_PATH" in (report.llm.fallback_reason or "")
    assert any("LOGLENS_MODEL_PATH" in warning for warning in report.warnings)


# --- the real tiny model ----------------------------------------------------------------


def _local(tiny_gguf: Path, **fields: object) -> Settings:
    base = {"llm_backend": "local", "model_path": tiny_gguf, "llm_context": 4096}
    return Settings.model_validate({"record_history": False, "llm_top_k": 2, **base, **fields})


@pytest.mark.integration
def test_analyze_with_the_tiny_model_end_to_end_then_from_the_cache(tiny_gguf: Path) -> None:
    settings = _local(tiny_gguf)
    pieces: list[str] = []
    first = analyze(
        DemoSource(lines=3000, seed=3), settings=settings, on_summary_token=pieces.append
    )
    llm = first.llm
    assert llm.used and llm.backend == "local" and llm.model == tiny_gguf.name
    assert llm.answers == llm.answers_valid == 2 and llm.findings_explained == 2
    assert [f.explained_by for f in first.findings[:3]] == ["llm", "llm", "rules"]
    assert llm.context_size == 4096 and llm.tokens_per_s and llm.tokens_prompt > 1000
    assert pieces and first.summary == "".join(pieces).strip()
    assert llm.fallback_reason is None and (llm.calls, llm.cache_hits) == (3, 0)

    # The same window again: every extraction comes from the cache, only the summary is
    # generated (the model is called once), and the findings come out the same.
    second = analyze(DemoSource(lines=3000, seed=3), settings=settings)
    assert (second.llm.answers, second.llm.cache_hits, second.llm.calls) == (0, 2, 1)
    assert [f.model_dump(exclude={"llm_notes"}) for f in second.findings] == [
        f.model_dump(exclude={"llm_notes"}) for f in first.findings
    ]
    assert all("answer from the cache" in f.llm_notes for f in second.findings[:2])
    assert settings.llm_cache_db.is_file()


@pytest.mark.integration
def test_cancelling_stops_the_local_generation(tiny_gguf: Path) -> None:
    backend = LocalBackend(tiny_gguf, context_size=4096)
    settings = _local(tiny_gguf, llm_top_k=0, llm_max_tokens=3000)

    async def run() -> None:
        first = asyncio.Event()
        task = asyncio.create_task(
            refine_report_with(make_report(findings=1), backend, settings, lambda _: first.set())
        )
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    stats = backend.last_run()  # the backend was closed, so its worker has finished
    assert stats is not None and stats.tokens_after_stop is not None
    assert stats.tokens_after_stop <= 2 and stats.tokens_sampled < 3000


@pytest.mark.integration
def test_compare_writes_what_changed_with_the_tiny_model(tiny_gguf: Path) -> None:
    before = [r for batch in DemoSource(lines=1500, seed=8).batches() for r in batch]
    after = [r for batch in DemoSource(lines=1500, seed=9).batches() for r in batch]
    pieces: list[str] = []
    diff = compare_records(
        _records(before),
        _records(after),
        settings=_local(tiny_gguf),
        on_summary_token=pieces.append,
    )
    assert diff.llm.used and diff.llm.calls == 1 and diff.llm.fallback_reason is None
    assert diff.llm.prompt_version is not None and diff.llm.prompt_version.startswith("diff.v1@")
    assert diff.summary == "".join(pieces).strip()


def _records(records: list[LogRecord]) -> list[LogRecord]:
    return [LogRecord(ts=r.ts, labels=r.labels, line=r.line) for r in records]


@pytest.mark.integration
def test_analyze_through_the_openai_backend_against_llama_cpp_server(
    tiny_gguf: Path, llama_server: str
) -> None:
    settings = Settings(
        llm_backend="openai", llm_url=llama_server, llm_top_k=2, record_history=False
    )
    pieces: list[str] = []
    report = analyze(
        DemoSource(lines=3000, seed=3), settings=settings, on_summary_token=pieces.append
    )
    llm = report.llm
    assert llm.used and llm.backend == "openai" and llm.model == tiny_gguf.name
    assert len(pieces) > 1 and report.summary == "".join(pieces).strip()
    # The backend sends loglens's strict grammar (llama_cpp.server's own converter lets raw
    # control characters into strings): every answer is schema-valid, as with `local`.
    assert [f.explained_by for f in report.findings[:2]] == ["llm", "llm"]
    assert llm.findings_explained == 2 and llm.answers == llm.answers_valid == 2
    assert llm.fallback_reason is None
