"""`loglens eval` and `loglens eval history` end to end, with a fake analyzer injected."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import loglens.cli.eval as eval_cli
from loglens.cli.main import app
from loglens.errors import ConfigError, InputError
from loglens.evaluation.results import METRIC_NAMES
from loglens.evaluation.runner import Analyzer, run_eval
from test_eval_runner import FailingAnalyzer, KeywordAnalyzer

MINI = Path(__file__).parent / "testdata" / "golden_mini"
runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOGLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOGLENS_LLM_BACKEND", "none")
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_METRICS_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    use_analyzer(monkeypatch, KeywordAnalyzer())
    return tmp_path


def use_analyzer(monkeypatch: pytest.MonkeyPatch, analyzer: Analyzer) -> None:
    monkeypatch.setattr(eval_cli, "run_eval", functools.partial(run_eval, analyzer=analyzer))


def test_eval_json_reports_every_metric_and_case() -> None:
    result = runner.invoke(app, ["eval", str(MINI), "--json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    assert set(payload["metrics"]["headline"]) == set(METRIC_NAMES)
    assert payload["metrics"]["cases_by_kind"] == {"analyze": 2, "compare": 1, "line": 2}
    assert payload["run_id"] == 1
    assert payload["drift"] is None
    assert [o["id"] for o in payload["outcomes"]][:2] == ["benign-nginx", "oom-llama-server"]
    assert payload["outcomes"][1]["expected"].startswith("critical/oom/llama-server")


def test_eval_table_shows_metrics_confusion_and_cases() -> None:
    result = runner.invoke(app, ["eval", "run", str(MINI)])
    assert result.exit_code == 0, result.output
    for text in ("recall_at_3", "per tag", "severity confusion (findings)", "PASS", "line-0001"):
        assert text in result.stdout


def test_default_dataset_is_eval_golden_in_the_working_directory(isolated: Path) -> None:
    missing = runner.invoke(app, ["eval", "--json"])
    assert isinstance(missing.exception, InputError)
    shutil.copytree(MINI, isolated / "eval" / "golden")
    result = runner.invoke(app, ["eval", "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["datasets"] == ["eval/golden"]


def test_baseline_last_compares_and_exits_3_on_regression(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["eval", str(MINI), "--json"]).exit_code == 0
    same = runner.invoke(app, ["eval", str(MINI), "--json", "--baseline", "last"])
    assert same.exit_code == 0, same.output
    drift = orjson.loads(same.stdout)["drift"]
    assert (drift["baseline_run_id"], drift["pass_to_fail"], drift["mcnemar_p"]) == (1, [], 1.0)
    use_analyzer(monkeypatch, FailingAnalyzer())
    worse = runner.invoke(app, ["eval", str(MINI), "--baseline", "1"])
    assert worse.exit_code == 3
    assert "REGRESSED" in worse.stdout
    assert "golden_mini/oom-llama-server" in worse.stdout


def test_baseline_without_stored_runs_is_an_input_error() -> None:
    result = runner.invoke(app, ["eval", str(MINI), "--baseline", "last"])
    assert isinstance(result.exception, InputError)


def test_no_store_leaves_history_empty_and_history_lists_runs() -> None:
    assert runner.invoke(app, ["eval", str(MINI), "--no-store", "--json"]).exit_code == 0
    assert orjson.loads(runner.invoke(app, ["eval", "history", "--json"]).stdout) == []
    assert runner.invoke(app, ["eval", str(MINI), "--json"]).exit_code == 0
    listed = orjson.loads(runner.invoke(app, ["eval", "history", "--json"]).stdout)
    assert [(r["run_id"], r["backend"], r["cases"], r["passed"]) for r in listed] == [
        (1, "rules", 5, 5)
    ]
    table = runner.invoke(app, ["eval", "history"])
    assert "stored evaluation runs" in table.stdout


def test_prom_textfile_is_written(isolated: Path) -> None:
    target = isolated / "loglens_eval.prom"
    result = runner.invoke(app, ["eval", str(MINI), "--prom-textfile", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert 'loglens_eval_top1{backend="rules"} 1.0' in target.read_text()


def test_llm_backend_without_an_llm_is_a_clear_error() -> None:
    result = runner.invoke(app, ["eval", str(MINI), "--backend", "llm"])
    assert isinstance(result.exception, ConfigError)
    assert "none is configured" in str(result.exception)


@pytest.mark.parametrize("args", [["eval", "--help"], ["eval", "history", "--help"]])
def test_help_works_on_each_command(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "Usage" in result.stdout


@pytest.mark.parametrize("args", [["eval", "--version"], ["eval", "history", "--version"]])
def test_version_works_on_each_command(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert result.stdout.startswith("loglens ")
