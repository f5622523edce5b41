"""The CLI with the tiny model: the summary printed live, JSON untouched; eval --backend llm."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from helpers import run_loglens
from llm_fake import make_report
from loglens.cli.analyze import SummaryStream
from loglens.cli.render import llm_line, render_report
from loglens.config import Settings
from loglens.evaluation.render import render_run
from loglens.evaluation.results import LLM_METRICS
from loglens.evaluation.runner import run_eval
from loglens.model import LlmInfo
from loglens.sources.demo import write_jsonl

MINI = Path(__file__).parent / "testdata" / "golden_mini"


@pytest.fixture
def tiny_llm(tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOGLENS_LLM_BACKEND", "local")
    monkeypatch.setenv("LOGLENS_MODEL_PATH", str(tiny_gguf))
    monkeypatch.setenv("LOGLENS_LLM_CONTEXT", "4096")
    monkeypatch.setenv("LOGLENS_LLM_TOP_K", "1")
    return tiny_gguf


def test_summary_stream_prints_pieces_and_knows_what_it_showed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed: list[bool] = []
    stream = SummaryStream("summary", before_first=lambda: closed.append(True))
    for piece in ("Disk ", "full ", "on loki."):
        stream(piece)
    stream.finish()
    out = capsys.readouterr().out
    assert closed == [True]  # the progress line is closed once, before the first piece
    assert out.index("summary") < out.index("Disk full on loki.")
    assert stream.showed("Disk full on loki.") and not stream.showed("something else")
    assert not SummaryStream("summary").showed("anything")


def test_llm_line_says_what_the_step_did() -> None:
    assert llm_line(LlmInfo(), wrote="the summary") is None
    not_used = LlmInfo(backend="openai", fallback_reason="LLM backend unavailable: refused")
    assert llm_line(not_used, wrote="x") == "LLM not used: LLM backend unavailable: refused"
    partly = LlmInfo(
        backend="local", model="m.gguf", used=True, calls=3, cache_hits=1, findings_asked=3,
        findings_explained=2, summary_written=True, tokens_per_s=40.0,
        fallback_reason="1 of 3 findings kept the rules answer: timed out",
    )  # fmt: skip
    assert llm_line(partly, wrote="the summary") == (
        "LLM m.gguf (local): explained 2 of 3 findings (1 from the cache), wrote the summary, "
        "3 calls, 40 tokens/s; fallback: 1 of 3 findings kept the rules answer: timed out"
    )
    diff = LlmInfo(backend="openai", model="llama", used=True, calls=1, summary_written=True)
    assert llm_line(diff, wrote="what changed") == "LLM llama (openai): wrote what changed, 1 call"


def test_a_partly_used_model_is_reported_once_as_used() -> None:
    report = make_report(findings=2)
    report.llm = LlmInfo(
        backend="local", model="m.gguf", used=True, calls=2, findings_asked=2,
        findings_explained=1, fallback_reason="1 of 2 findings kept the rules answer: timed out",
    )  # fmt: skip
    shown = io.StringIO()
    render_report(report, Console(file=shown, width=300))
    text = shown.getvalue()
    assert "LLM not used" not in text
    assert text.count("explained 1 of 2 findings") == 1
    assert "fallback: 1 of 2 findings kept the rules answer: timed out" in text


@pytest.mark.integration
def test_demo_prints_the_model_summary_live_then_the_report(tiny_llm: Path) -> None:
    result = run_loglens("demo", "--lines", "2000")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("summary (written by the model)\n")
    assert out.index("summary (written by the model)") < out.index("loglens analyze")
    assert "─ summary ─" not in out  # not repeated under the report
    assert f"LLM {tiny_llm.name} (local): explained 1 of 1 findings, wrote the summary" in out
    assert out.count(f"LLM {tiny_llm.name}") == 1


@pytest.mark.integration
def test_json_output_is_only_the_report(tiny_llm: Path) -> None:
    result = run_loglens("demo", "--lines", "2000", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["llm"]["used"] and report["llm"]["findings_explained"] == 1
    assert report["findings"][0]["explained_by"] == "llm"


@pytest.mark.integration
def test_compare_prints_what_changed_live(tiny_llm: Path, tmp_path: Path) -> None:
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    write_jsonl(before, lines=1500, seed=11)
    write_jsonl(after, lines=1500, seed=12)
    result = run_loglens("compare", "--before", str(before), "--after", str(after))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("what changed (written by the model)\n")
    assert f"LLM {tiny_llm.name} (local): wrote what changed, 1 call," in result.stdout


@pytest.mark.integration
def test_eval_backend_llm_adds_the_llm_metrics(tiny_gguf: Path) -> None:
    settings = Settings(llm_backend="local", model_path=tiny_gguf, llm_context=4096, llm_top_k=1)
    run = run_eval([MINI], settings=settings, backend="llm")
    headline = run.metrics.headline
    assert headline["schema_valid_rate"] == 1.0  # the grammar makes every answer valid
    assert headline["fallback_rate"] == 0.0
    assert (headline["llm_tokens_per_s"] or 0) > 0
    assert headline["llm_latency_p50_ms"] is not None and headline["llm_latency_p95_ms"]
    assert run.model == tiny_gguf.name and run.prompt_version is not None
    assert all(o.llm_latency_ms is not None for o in run.outcomes if o.kind != "line")
    rules = run_eval([MINI], settings=settings, backend="rules")
    assert all(rules.metrics.headline[name] is None for name in LLM_METRICS)
    shown = io.StringIO()
    render_run(Console(file=shown, width=200), run)
    assert all(name in shown.getvalue() for name in LLM_METRICS)
