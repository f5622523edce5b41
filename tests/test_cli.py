"""The `loglens` command end to end, through its real entry point (`loglens.cli.main.run`)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_loglens
from loglens import __version__
from loglens.sources.demo import write_jsonl

COMMANDS = ["analyze", "classify", "compare", "config", "demo", "eval", "patterns"]


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.jsonl"
    write_jsonl(path, lines=3000, seed=7)
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_version(command: str) -> None:
    helped = run_loglens(command, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--version" in helped.stdout
    versioned = run_loglens(command, "--version")
    assert versioned.returncode == 0
    assert versioned.stdout.strip() == f"loglens {__version__}"


def test_analyze_file_prints_the_report_contract(demo_file: Path) -> None:
    result = run_loglens("analyze", str(demo_file), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"] == 1
    assert report["source"] == {"kind": "files", "detail": str(demo_file)}
    assert report["stats"]["lines"] == 3000
    assert report["stats"]["patterns"] >= len(report["patterns"]) > 0
    assert set(report["stats"]["stage_ms"]) >= {"read", "parse", "mine", "detect", "rank"}
    assert report["findings"], "the demo window holds incidents"
    ranks = [finding["rank"] for finding in report["findings"]]
    assert ranks == list(range(1, len(ranks) + 1))
    lines = demo_file.read_text()
    for finding in report["findings"]:
        for evidence in finding["evidence"]:
            assert json.dumps(evidence["line"])[1:-1] in lines or "<redacted" in evidence["line"]


def test_analyze_reads_stdin_and_gzip(demo_file: Path, tmp_path: Path) -> None:
    gz = tmp_path / "demo.jsonl.gz"
    gz.write_bytes(gzip.compress(demo_file.read_bytes()))
    from_gzip = json.loads(run_loglens("analyze", str(gz), "--json").stdout)
    from_stdin = json.loads(
        run_loglens("analyze", "-", "--json", stdin=demo_file.read_text()).stdout
    )
    assert from_gzip["stats"]["lines"] == from_stdin["stats"]["lines"] == 3000
    assert from_stdin["source"]["kind"] == "stdin"
    assert [f["fingerprint"] for f in from_gzip["findings"]] == [
        f["fingerprint"] for f in from_stdin["findings"]
    ]


def test_malformed_record_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"ts": "2026-11-20T10:00:00Z", "labels": {}, "line": "ok"})
    path.write_text(f"{good}\n{{not json\n{good}\n")
    failed = run_loglens("analyze", str(path), "--json")
    assert failed.returncode == 2
    assert f"{path}:2" in failed.stderr
    skipped = run_loglens("analyze", str(path), "--json", "--skip-bad")
    assert skipped.returncode == 0, skipped.stderr
    report = json.loads(skipped.stdout)
    assert report["stats"]["lines"] == 2 and report["stats"]["skipped"] == 1
    assert any("skipped 1 malformed" in warning for warning in report["warnings"])


def test_no_source_is_a_clear_error() -> None:
    result = run_loglens("analyze")
    assert result.returncode == 2
    assert "no log files given and no Loki configured" in result.stderr


def test_window_flags_filter_file_records(demo_file: Path) -> None:
    result = run_loglens(
        "analyze", str(demo_file), "--json",
        "--from", "2026-11-20T10:00:00Z", "--to", "2026-11-20T10:30:00Z",
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["window"] == {"start": "2026-11-20T10:00:00Z", "end": "2026-11-20T10:30:00Z"}
    assert 0 < report["stats"]["outside_window"] < 3000


def test_demo_json_is_deterministic() -> None:
    first = json.loads(run_loglens("demo", "--lines", "2000", "--seed", "3", "--json").stdout)
    second = json.loads(run_loglens("demo", "--lines", "2000", "--seed", "3", "--json").stdout)
    for report in (first, second):
        report["stats"].pop("stage_ms")
    assert first == second
    assert first["source"]["kind"] == "demo"


def test_demo_write_then_analyze_gives_the_same_findings(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    written = run_loglens("demo", "--lines", "2000", "--seed", "5", "--write", str(path))
    assert written.returncode == 0 and "wrote 2,000 lines" in written.stderr
    direct = json.loads(run_loglens("demo", "--lines", "2000", "--seed", "5", "--json").stdout)
    from_file = json.loads(run_loglens("analyze", str(path), "--json").stdout)
    assert [f["fingerprint"] for f in direct["findings"]] == [
        f["fingerprint"] for f in from_file["findings"]
    ]


def test_patterns_assignments_one_per_input_line(tmp_path: Path) -> None:
    log = tmp_path / "sshd.log"
    log.write_text(
        "Failed password for root from 10.0.0.1 port 22 ssh2\n"
        "Accepted publickey for alice from 10.0.0.2 port 51234 ssh2\n"
        "Failed password for root from 10.0.0.9 port 2222 ssh2\n"
    )
    out = tmp_path / "assign.jsonl"
    result = run_loglens(
        "patterns", str(log), "--format", "plain", "--assignments", str(out), "--json"
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3
    assert rows[0]["pattern"] == rows[2]["pattern"] != rows[1]["pattern"]
    assert "<*>" in rows[0]["template"]
    patterns = json.loads(result.stdout)
    assert sum(p["count"] for p in patterns) == 3


def test_compare_two_file_sets(tmp_path: Path) -> None:
    def records(minute0: int, lines: list[str]) -> str:
        return "".join(
            json.dumps({
                "ts": f"2026-11-20T10:{minute0 + i // 40:02d}:{i % 40:02d}Z",
                "labels": {"namespace": "web", "container": "api"},
                "line": line,
            }) + "\n"
            for i, line in enumerate(lines)
        )  # fmt: skip

    background = [f"GET /items/{i} 200" for i in range(200)]
    errors = [f"dial tcp 10.0.0.{i % 9}:5432: connect: connection refused" for i in range(60)]
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    before.write_text(records(0, background))
    after.write_text(records(10, background + errors))
    result = run_loglens("compare", "--before", str(before), "--after", str(after), "--json")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    assert [item["after"] for item in diff["new"]] == [60]
    assert "connection refused" in diff["new"][0]["template"]
    assert diff["increased"] == diff["decreased"] == diff["gone"] == []


def test_classify_one_object_per_record(demo_file: Path) -> None:
    result = run_loglens("classify", str(demo_file), "--json")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3000
    assert set(rows[0]) == {"severity", "category", "component", "pattern", "signature"}
    assert {row["severity"] for row in rows} <= {"info", "warn", "error", "critical"}


def test_config_masks_secrets() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from loglens.cli.main import run; run()", "config", "--json"],
        capture_output=True,
        text=True,
        env={"LOGLENS_LOKI_TOKEN": "very-secret", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["loki_token"] == "********"
    assert "very-secret" not in result.stdout


def test_patterns_apply_user_overrides_from_the_config_file(tmp_path: Path) -> None:
    log = tmp_path / "sshd.log"
    log.write_text(
        "Failed password for root from 10.0.0.1 port 22 ssh2\n"
        "Failed password for admin from 10.0.0.9 port 2222 ssh2\n"
        "order ORD-ABCD shipped\n"
        "order ORD-WXYZ shipped\n"
    )
    plain = json.loads(run_loglens("patterns", str(log), "--format", "plain", "--json").stdout)
    assert len(plain) == 4  # two user names and two order ids stay apart by default
    config = tmp_path / "loglens.yaml"
    config.write_text(
        "masks:\n  - name: order_id\n    regex: 'ORD-[A-Z]+'\n"
        "pattern_overrides:\n  - template: 'Failed password for <*>'\n    action: merge\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "from loglens.cli.main import run; run()",
         "patterns", str(log), "--format", "plain", "--json"],
        capture_output=True, text=True, env={"LOGLENS_CONFIG_FILE": str(config), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    templates = sorted(p["template"] for p in json.loads(result.stdout))
    assert len(templates) == 2
    assert "order <*> shipped" in templates


def test_text_from_logs_and_errors_is_printed_literally_not_as_rich_markup(
    tmp_path: Path,
) -> None:
    """Log text, file names and error hints may hold `[...]`: Rich must not eat or choke on it."""

    def records(minute0: int, lines: list[str]) -> str:
        return "".join(
            json.dumps({
                "ts": f"2026-11-20T10:{minute0 + i // 40:02d}:{i % 40:02d}Z",
                "labels": {"namespace": "web", "container": "api"},
                "line": line,
            }) + "\n"
            for i, line in enumerate(lines)
        )  # fmt: skip

    background = [f"GET /items/{i} 200" for i in range(200)]
    errors = [f"ERROR [/] worker [bold]{i % 9}[/bold] crashed: code [red]" for i in range(60)]
    before, after = tmp_path / "before[1].jsonl", tmp_path / "after[1].jsonl"
    before.write_text(records(0, background))
    after.write_text(records(10, background + errors))
    compared = run_loglens("compare", "--before", str(before), "--after", str(after))
    assert compared.returncode == 0, compared.stderr
    assert "[/] worker [bold]" in compared.stdout
    analyzed = run_loglens("analyze", str(after))
    assert analyzed.returncode == 0, analyzed.stderr
    assert "[/]" in analyzed.stdout  # the evidence line, as it was logged
    classified = run_loglens("classify", str(after))
    assert classified.returncode == 0, classified.stderr

    bad = tmp_path / "bad.jsonl"
    good = json.dumps({"ts": "2026-11-20T10:00:00Z", "labels": {}, "line": "ok"})
    bad.write_text(f"{good}\n{{not json [/] here\n{good}\n")
    failed = run_loglens("analyze", str(bad))
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    assert "bad.jsonl:2" in failed.stderr
    refused = run_loglens("analyze", str(tmp_path / "missing[0-9].log"))
    assert refused.returncode == 2 and "missing[0-9].log" in refused.stderr
