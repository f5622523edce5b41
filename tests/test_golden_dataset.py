"""Checks of the committed golden dataset (eval/golden/) against the shared contract."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "eval" / "golden"
GENERATOR = ROOT / "eval" / "generate_golden.py"
SCHEMA_CANDIDATES = (
    ROOT.parent / "shared" / "spec" / "golden-case.schema.json",
    Path("/work/shared/spec/golden-case.schema.json"),
)
CATEGORIES = {
    "oom", "crashloop", "image_pull", "probe_failure", "scheduling", "storage", "network", "dns",
    "tls", "auth", "config", "dependency", "resource_pressure", "limit_exceeded", "node",
    "control_plane", "deployment", "application_error", "none",
}  # fmt: skip


def _load_cases() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, json.loads(path.read_text())) for path in sorted(GOLDEN.rglob("*.json"))]


CASES = _load_cases()


def _records(path: Path, holder: dict[str, Any]) -> list[dict[str, Any]]:
    if "logs" in holder:
        return list(holder["logs"])
    text = (path.parent / holder["logs_file"]).read_text()
    return [json.loads(line) for line in text.splitlines() if line]


def _lines(path: Path, holder: dict[str, Any]) -> list[str]:
    return [rec["line"] for rec in _records(path, holder)]


def _by_kind(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    return [(p, c) for p, c in CASES if c["kind"] == kind]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    for candidate in SCHEMA_CANDIDATES:
        if candidate.exists():
            return Draft202012Validator(json.loads(candidate.read_text()))
    pytest.skip("shared golden-case.schema.json not found")


def test_every_case_validates_against_the_shared_schema(validator: Draft202012Validator) -> None:
    failures = [f"{p.name}: {e.message}" for p, c in CASES for e in validator.iter_errors(c)]
    assert not failures, failures[:5]


def test_case_ids_are_unique_and_match_file_names() -> None:
    ids = [c["id"] for _, c in CASES]
    assert len(ids) == len(set(ids))
    assert all(p.stem == c["id"] for p, c in CASES)


def test_counts_meet_the_minimums() -> None:
    counts = Counter(c["kind"] for _, c in CASES)
    assert counts["analyze"] >= 60
    assert counts["compare"] >= 15
    assert counts["line"] >= 150


def test_analyze_windows_hold_300_to_5000_lines() -> None:
    sizes = {c["id"]: len(_records(p, c)) for p, c in _by_kind("analyze")}
    assert all(300 <= n <= 5000 for n in sizes.values()), sizes


def test_every_category_is_covered_by_analyze_and_line_cases() -> None:
    analyze = {f["category"] for _, c in _by_kind("analyze") for f in c["expected"]["findings"]}
    line = {c["expected"].get("category") for _, c in _by_kind("line")}
    assert analyze | {"none"} == CATEGORIES
    assert any(not c["expected"]["findings"] for _, c in _by_kind("analyze"))
    assert line >= CATEGORIES


def test_every_analyze_case_has_summary_and_complete_findings() -> None:
    for _, case in _by_kind("analyze"):
        expected = case["expected"]
        assert expected["summary"] and expected["summary_facts"], case["id"]
        for f in expected["findings"]:
            assert f["component"] and f["root_cause"] and f["keywords"] and f["evidence"], case[
                "id"
            ]


def test_every_evidence_substring_occurs_in_a_line_of_its_window() -> None:
    missing = []
    for path, case in _by_kind("analyze"):
        lines = _lines(path, case)
        for f in case["expected"]["findings"]:
            missing += [
                (case["id"], ev) for ev in f["evidence"] if not any(ev in ln for ln in lines)
            ]
    assert not missing


def test_cascades_rank_the_root_cause_first() -> None:
    cascades = [c for _, c in _by_kind("analyze") if "cascade" in c["tags"]]
    assert cascades
    for case in cascades:
        first, *rest = case["expected"]["findings"]
        assert rest, case["id"]
        assert first["category"] not in {"crashloop", "probe_failure"}, case["id"]


def test_compare_substrings_occur_in_the_right_windows() -> None:
    for path, case in _by_kind("compare"):
        before = _lines(path, case["before"])
        after = _lines(path, case["after"])
        exp = case["expected"]

        def seen(s: str, lines: list[str]) -> bool:
            return any(s in ln for ln in lines)

        assert all(seen(s, after) and not seen(s, before) for s in exp.get("new", [])), case["id"]
        assert all(seen(s, before) and not seen(s, after) for s in exp.get("gone", [])), case["id"]
        changed = exp.get("increased", []) + exp.get("decreased", [])
        assert all(seen(s, before) and seen(s, after) for s in changed), case["id"]


def test_increased_and_decreased_patterns_move_by_rate_per_minute() -> None:
    for path, case in _by_kind("compare"):
        rates = {}
        for side in ("before", "after"):
            window = case[side]["window"]
            minutes = _minutes(window["start"], window["end"])
            lines = _lines(path, case[side])
            rates[side] = {
                s: sum(s in ln for ln in lines) / minutes
                for s in case["expected"]["increased"] + case["expected"]["decreased"]
            }
        for s in case["expected"]["increased"]:
            assert rates["after"][s] > 2 * rates["before"][s], (case["id"], s)
        for s in case["expected"]["decreased"]:
            assert rates["before"][s] > 2 * rates["after"][s], (case["id"], s)


def _minutes(start: str, end: str) -> float:
    from datetime import datetime

    parse = datetime.fromisoformat
    return (parse(end) - parse(start)).total_seconds() / 60


@pytest.mark.integration
def test_generator_is_deterministic(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, capture_output=True
    )
    for kind in ("analyze", "compare", "line"):
        committed = sorted(p.name for p in (GOLDEN / kind).iterdir())
        regenerated = sorted(p.name for p in (tmp_path / kind).iterdir())
        assert committed == regenerated
        _, mismatch, errors = filecmp.cmpfiles(
            GOLDEN / kind, tmp_path / kind, committed, shallow=False
        )
        assert not mismatch and not errors, (kind, mismatch[:5])
    assert (GOLDEN / "README.md").read_text() == (tmp_path / "README.md").read_text()
