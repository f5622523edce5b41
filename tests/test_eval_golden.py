"""Loading golden datasets: typed cases from valid files, clear errors for invalid ones."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from loglens.errors import InputError, MalformedInputError
from loglens.evaluation.golden import (
    AnalyzeCase,
    CompareCase,
    LineCase,
    load_case,
    load_dataset,
)
from loglens.model import Category, Severity, parse_ts

MINI = Path(__file__).parent / "testdata" / "golden_mini"
SHARED_SCHEMA = Path("/work/shared/spec/golden-case.schema.json")
VENDORED_SCHEMA = (
    Path(__file__).parents[1] / "src" / "loglens" / "evaluation" / "golden-case.schema.json"
)


def write_case(folder: Path, data: dict[str, Any], name: str = "case.json") -> Path:
    path = folder / name
    path.write_bytes(orjson.dumps(data))
    return path


def oom_case() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((MINI / "analyze" / "oom-llama-server.json").read_bytes())
    return copy.deepcopy(data)


@pytest.mark.skipif(not SHARED_SCHEMA.exists(), reason="shared spec folder not present")
def test_vendored_schema_equals_the_shared_one() -> None:
    assert orjson.loads(VENDORED_SCHEMA.read_bytes()) == orjson.loads(SHARED_SCHEMA.read_bytes())


def test_load_dataset_reads_every_case_recursively_in_order() -> None:
    cases = load_dataset(MINI)
    assert [(c.kind, c.id) for c in cases] == [
        ("analyze", "benign-nginx"),
        ("analyze", "oom-llama-server"),
        ("compare", "new-dns-errors"),
        ("line", "line-0001"),
        ("line", "line-0002"),
    ]


def test_analyze_case_is_typed_with_optional_fields_defaulted() -> None:
    case = load_case(MINI / "analyze" / "oom-llama-server.json")
    assert isinstance(case, AnalyzeCase)
    assert case.tags == ("k8s", "llm", "memory")
    first, second = case.findings
    assert (first.category, first.severity) == (Category.OOM, Severity.CRITICAL)
    assert first.component_aliases == ("llama.cpp", "llama")
    assert first.evidence == ("OOMKilled",)
    assert (second.component, second.keywords, second.root_cause) == (None, (), None)
    assert case.summary_facts == (("OOMKilled", "out of memory"), ("llama",))
    assert case.logs.window is not None
    assert case.logs.window.start_ns == parse_ts("2026-11-20T10:00:00Z")


def test_record_timestamps_accept_rfc3339_and_integer_nanoseconds() -> None:
    case = load_case(MINI / "analyze" / "oom-llama-server.json")
    assert isinstance(case, AnalyzeCase)
    records = case.logs.records
    assert records[0].ts == parse_ts("2026-11-20T10:00:01Z") + 123_456_789
    assert records[2].ts == 1795168810000000000
    assert records[0].labels["pod"] == "llama-server-7d9f-x2x"


def test_logs_file_is_read_relative_to_the_case_file() -> None:
    case = load_case(MINI / "analyze" / "benign-nginx.json")
    assert isinstance(case, AnalyzeCase)
    assert len(case.logs.records) == 3  # the blank line is skipped
    assert case.findings == ()
    assert case.logs.window is not None
    assert case.logs.window.start_ns == parse_ts("2026-11-20T09:00:00Z")


def test_compare_case_keeps_only_the_headings_it_names() -> None:
    case = load_case(MINI / "compare" / "new-dns-errors.json")
    assert isinstance(case, CompareCase)
    assert case.headings == {"new": ("no such host",), "gone": ("connection refused",)}
    assert len(case.before.records) == 2
    assert len(case.after.records) == 3
    assert case.findings is not None and case.findings[0].category == Category.DNS


def test_line_case_without_category_or_component() -> None:
    case = load_case(MINI / "line" / "line-0002.json")
    assert isinstance(case, LineCase)
    assert (case.severity, case.category, case.component) == (Severity.INFO, None, None)
    assert case.record.line == "INFO starting worker pool size=8"


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (
            lambda d: d["expected"]["findings"][0].update(category="bogus"),
            "/expected/findings/0/category",
        ),
        (lambda d: d["expected"]["findings"][1].pop("severity"), "/expected/findings/1"),
        (lambda d: d["logs"][1].pop("line"), "/logs/1"),
        (lambda d: d["logs"][2].update(ts="yesterday"), "/logs/2/ts"),
        (lambda d: d.update(id="Not An Id"), "/id"),
        (lambda d: d.update(logs_file="x.jsonl"), "logs, logs_file"),
        (lambda d: d["window"].update(end="2026-11-20T09:00:00Z"), "/window"),
    ],
)
def test_invalid_case_names_file_and_field(tmp_path: Path, mutate: Any, pointer: str) -> None:
    data = oom_case()
    mutate(data)
    path = write_case(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_case(path)
    assert str(path) in str(info.value)
    assert pointer in str(info.value)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON"):
        load_case(path)


def test_bad_logs_file_line_names_file_and_line(tmp_path: Path) -> None:
    data = oom_case()
    del data["logs"]
    data["logs_file"] = "logs/records.jsonl"
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "records.jsonl").write_text(
        '{"ts": 1, "line": "ok"}\n{"ts": 2, "labels": {"a": 1}, "line": "bad label"}\n'
    )
    with pytest.raises(MalformedInputError) as info:
        load_case(write_case(tmp_path, data))
    assert info.value.line_no == 2
    assert info.value.path.endswith("records.jsonl")
    assert "/labels/a" in str(info.value)


def test_missing_logs_file_is_an_input_error(tmp_path: Path) -> None:
    data = oom_case()
    del data["logs"]
    data["logs_file"] = "absent.jsonl"
    with pytest.raises(InputError, match="logs_file"):
        load_case(write_case(tmp_path, data))


def test_duplicate_case_ids_are_rejected(tmp_path: Path) -> None:
    write_case(tmp_path, oom_case(), "one.json")
    write_case(tmp_path, oom_case(), "two.json")
    with pytest.raises(InputError, match="'oom-llama-server' is used by both"):
        load_dataset(tmp_path)


def test_missing_or_empty_dataset_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(InputError, match=r"no \*\.json"):
        load_dataset(tmp_path)
