"""`loglens index`, `search`, `ask` and retrieval in `analyze`, run as the user runs them
(a subprocess per command) against a seeded LanceDB store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from helpers import run_loglens
from loglens import __version__
from loglens.config import Settings

ROOT = Path(__file__).parents[1]
CASE = ROOT / "eval" / "golden" / "analyze" / "cuda-oom-llama.json"


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "cuda-oom.jsonl"
    records = json.loads(CASE.read_text())["logs"]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


@pytest.fixture
def retrieval_on(retrieval_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("LOGLENS_RETRIEVAL", "on")
    return retrieval_settings


@pytest.mark.parametrize("command", ["index", "search", "ask"])
def test_retrieval_commands_have_help_and_version(command: str) -> None:
    helped = run_loglens(command, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--version" in helped.stdout and "--json" in helped.stdout
    assert run_loglens(command, "--version").stdout.strip() == f"loglens {__version__}"


@pytest.mark.integration
def test_index_then_search_then_ask(retrieval_on: Settings, case_file: Path) -> None:
    indexed = run_loglens("index", str(case_file), "--json")
    assert indexed.returncode == 0, indexed.stderr
    figures = json.loads(indexed.stdout)
    assert figures["patterns"] > 0 and figures["incidents"] >= 1
    assert figures["chunks"] > figures["documents"] > 200
    assert figures["tokens_max"] <= 200 and figures["duplicates_skipped"] == figures["chunks"]

    found = run_loglens(
        "search", "GPU out of memory when loading the model", "--json", "--limit", "5"
    )
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)["results"]
    assert {r["kind"] for r in results} >= {"incident", "knowledge"}
    incident = next(r for r in results if r["kind"] == "incident")
    assert incident["category"] == "oom" and incident["evidence"]

    only = run_loglens("search", "GPU out of memory", "--kind", "pattern", "--json")
    assert {r["kind"] for r in json.loads(only.stdout)["results"]} == {"pattern"}

    asked = run_loglens("ask", "why does llama-server restart?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["answer"] is None and "no LLM is configured" in answer["note"]
    assert answer["sources"]

    table = run_loglens("search", "why does llama-server restart?")
    assert table.returncode == 0 and "results in" in table.stdout


@pytest.mark.integration
def test_analyze_attaches_related_items_and_reports_retrieval(
    retrieval_on: Settings, case_file: Path
) -> None:
    done = run_loglens("analyze", str(case_file), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["retrieval"]["used"] is True
    assert report["retrieval"]["embedder"] == "all-MiniLM-L6-v2"
    related = report["findings"][0]["related"]
    assert any(item["kind"] == "knowledge" for item in related)


def test_index_refuses_what_cannot_work(case_file: Path) -> None:
    off = run_loglens("index", str(case_file))
    assert off.returncode == 2 and "retrieval is off" in off.stderr
    with_files = run_loglens("index", str(case_file), "--follow")
    assert with_files.returncode == 2 and "--follow reads from Loki" in with_files.stderr
    no_loki = run_loglens("index", "--follow")
    assert no_loki.returncode == 2 and "LOGLENS_LOKI_URL" in no_loki.stderr
    bad_kind = run_loglens("search", "disk", "--kind", "logs")
    assert bad_kind.returncode == 2 and "unknown kind" in bad_kind.stderr


class _LokiHandler(BaseHTTPRequestHandler):
    """query_range answers in Loki's streams format, three lines inside the asked window."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        start = int(params["start"])
        lines = [
            'level=error msg="connect to postgres:5432 failed: connection refused" svc=api',
            'level=error msg="connect to postgres:5432 failed: connection refused" svc=api',
            'level=info msg="request served" path=/healthz',
        ]
        values = [[str(start + 1_000_000 * (i + 1)), line] for i, line in enumerate(lines)]
        stream = {"namespace": "shop", "pod": "api-7d9f-x2x", "container": "api"}
        body = {
            "status": "success",
            "data": {"resultType": "streams", "result": [{"stream": stream, "values": values}]},
        }
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def fake_loki() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LokiHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
def test_index_follow_indexes_each_tick_from_loki(
    retrieval_on: Settings, fake_loki: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGLENS_LOKI_URL", fake_loki)
    done = run_loglens("index", "--follow", "--every", "1s", "--ticks", "2", "-n", "shop", "--json")
    assert done.returncode == 0, done.stderr
    ticks = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(ticks) == 2
    assert all(t["patterns"] == 2 and t["incidents"] == 1 for t in ticks)
    assert ticks[0]["window"]["end"] <= ticks[1]["window"]["start"]
    assert "2 of 2 ticks indexed" in done.stderr
