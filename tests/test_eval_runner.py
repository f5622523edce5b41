"""run_eval over the tiny golden dataset with an injected analyzer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loglens.config import Settings
from loglens.errors import BackendError, ConfigError, InputError
from loglens.evaluation.runner import run_eval, settings_for_backend
from loglens.model import (
    Category,
    Classification,
    Diff,
    DiffPattern,
    DiffSide,
    EvidenceLine,
    Finding,
    LlmInfo,
    LogRecord,
    Report,
    Severity,
    SourceInfo,
    Stats,
    Window,
    format_ts,
)
from loglens.sources.window import TimeWindow

MINI = Path(__file__).parent / "testdata" / "golden_mini"


class KeywordAnalyzer:
    """A fake analyzer with just enough logic to answer the mini dataset correctly."""

    def __init__(self, llm: LlmInfo | None = None) -> None:
        self.windows: list[TimeWindow | None] = []
        self.llm = llm or LlmInfo()

    def analyze(self, records: list[LogRecord], *, window: TimeWindow | None) -> Report:
        self.windows.append(window)
        findings = []
        oom = [r for r in records if "OOMKilled" in r.line]
        if oom:
            findings.append(self._finding(1, Category.OOM, Severity.CRITICAL, "llama-server", oom))
        backoff = [r for r in records if "Back-off restarting" in r.line]
        if backoff:
            findings.append(
                self._finding(2, Category.CRASHLOOP, Severity.ERROR, "kubelet", backoff)
            )
        return Report(
            window=Window(), source=SourceInfo(kind="inline"), stats=Stats(), findings=findings,
            summary="llama-server was OOMKilled" if oom else None, llm=self.llm,
        )  # fmt: skip

    @staticmethod
    def _finding(
        rank: int, category: Category, severity: Severity, component: str, records: list[LogRecord]
    ) -> Finding:
        return Finding(
            rank=rank, fingerprint=f"fp{rank}", category=category, severity=severity,
            component=component, title=f"{category} in {component}",
            root_cause="the container was OOMKilled: memory limit exceeded", action="",
            evidence=[EvidenceLine(ts=format_ts(r.ts), line=r.line) for r in records],
        )  # fmt: skip

    def compare(
        self,
        before: list[LogRecord],
        after: list[LogRecord],
        *,
        before_window: TimeWindow | None,
        after_window: TimeWindow | None,
    ) -> Diff:
        old = {r.line for r in before}
        new = {r.line for r in after}
        side = DiffSide(window=Window(), stats=Stats())
        dns = Finding(
            rank=1, fingerprint="dns", category=Category.DNS, severity=Severity.ERROR,
            component="api", title="lookups fail", root_cause="", action="",
        )  # fmt: skip
        return Diff(
            before=side,
            after=side,
            new=[DiffPattern(id=str(i), template=line) for i, line in enumerate(sorted(new - old))],
            gone=[
                DiffPattern(id=str(i), template=line) for i, line in enumerate(sorted(old - new))
            ],
            findings=[dns],
        )

    def classify(self, records: list[LogRecord]) -> list[Classification]:
        line = records[0].line
        if line.startswith("E"):
            return [
                Classification(
                    severity=Severity.ERROR,
                    category=Category.CONTROL_PLANE,
                    component=records[0].labels.get("container"),
                )
            ]
        return [Classification(severity=Severity.INFO, category=Category.NONE)]


class FailingAnalyzer(KeywordAnalyzer):
    def analyze(self, records: list[LogRecord], *, window: TimeWindow | None) -> Report:
        raise BackendError("model server timed out")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", llm_backend="none")


def test_run_eval_scores_every_case_of_the_dataset(settings: Settings) -> None:
    run = run_eval([MINI], settings=settings, analyzer=KeywordAnalyzer())
    assert [(o.kind, o.id, o.passed) for o in run.outcomes] == [
        ("analyze", "benign-nginx", True),
        ("analyze", "oom-llama-server", True),
        ("compare", "new-dns-errors", True),
        ("line", "line-0001", True),
        ("line", "line-0002", True),
    ]
    headline = run.metrics.headline
    assert run.metrics.cases_by_kind == {"analyze": 2, "compare": 1, "line": 2}
    assert headline["top1"] == 1.0
    assert headline["keyword_recall"] == 1.0
    assert headline["evidence_hit_rate"] == 1.0
    assert headline["summary_fact_recall"] == 1.0
    assert headline["false_alarm_rate"] == 0.0
    assert headline["compare_recall"] == 1.0
    assert headline["line_component_accuracy"] == 1.0
    assert headline["latency_p50_ms"] is not None
    assert all(o.latency_ms is not None and o.latency_ms >= 0 for o in run.outcomes)
    assert run.backend == "rules"
    assert run.datasets == [str(MINI)]
    assert {o.dataset for o in run.outcomes} == {"golden_mini"}


def test_run_eval_passes_case_windows_to_the_analyzer(settings: Settings) -> None:
    analyzer = KeywordAnalyzer()
    run_eval([MINI], settings=settings, analyzer=analyzer)
    starts = [w.start_ns if w else None for w in analyzer.windows]
    assert starts == [1795165200000000000, 1795168800000000000]


def test_run_eval_reports_progress_after_each_case(settings: Settings) -> None:
    calls: list[tuple[int, int, str]] = []
    run_eval(
        [MINI],
        settings=settings,
        analyzer=KeywordAnalyzer(),
        progress=lambda done, total, case_id: calls.append((done, total, case_id)),
    )
    assert calls[0] == (1, 5, "benign-nginx")
    assert calls[-1] == (5, 5, "line-0002")


def test_a_failing_case_is_recorded_and_scored_as_an_empty_answer(settings: Settings) -> None:
    run = run_eval([MINI], settings=settings, analyzer=FailingAnalyzer())
    failed = {o.id: o for o in run.outcomes if o.error}
    assert set(failed) == {"benign-nginx", "oom-llama-server"}
    oom = failed["oom-llama-server"]
    assert not oom.passed
    assert oom.latency_ms is None
    assert "model server timed out" in (oom.error or "")
    assert oom.scores["top1"] == 0.0
    assert not failed["benign-nginx"].passed  # no false alarm, but the call failed
    assert run.metrics.headline["line_severity_accuracy"] == 1.0


def test_run_eval_records_model_and_prompt_version_of_llm_reports(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, llm_backend="openai", llm_url="http://127.0.0.1:9")
    analyzer = KeywordAnalyzer(
        LlmInfo(backend="openai", model="qwen2.5-3b", used=True, prompt_version="v3")
    )
    run = run_eval([MINI], settings=settings, backend="llm", analyzer=analyzer)
    assert (run.backend, run.model, run.prompt_version) == ("llm", "qwen2.5-3b", "v3")


def test_llm_backend_without_an_llm_is_a_config_error(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="none is configured"):
        run_eval([MINI], settings=settings, backend="llm", analyzer=KeywordAnalyzer())
    with pytest.raises(ConfigError, match="LOGLENS_LLM_URL"):
        settings_for_backend(settings.model_copy(update={"llm_backend": "openai"}), "llm")


def test_rules_backend_switches_the_llm_off(settings: Settings) -> None:
    with_llm = settings.model_copy(update={"llm_backend": "openai", "llm_url": "http://x"})
    assert settings_for_backend(with_llm, "rules").llm_backend == "none"
    with pytest.raises(InputError, match="unknown backend"):
        settings_for_backend(settings, "gpt")


def test_the_same_dataset_twice_is_rejected(settings: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "golden_mini"
    shutil.copytree(MINI, copy)
    with pytest.raises(InputError, match="more than one dataset"):
        run_eval([MINI, copy], settings=settings, analyzer=KeywordAnalyzer())


def test_llm_backend_accepts_a_model_path_alone_as_analyze_does(tmp_path: Path) -> None:
    alone = Settings(data_dir=tmp_path, model_path=tmp_path / "model.gguf")
    assert settings_for_backend(alone, "llm") is alone
    with pytest.raises(ConfigError, match="none is configured"):
        settings_for_backend(Settings(data_dir=tmp_path, llm_backend="none"), "llm")
