from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from loglens.model import Finding, Report, SourceInfo, Stats, Window
from loglens.schemas import output_schemas


def test_published_schemas_match_the_models(repo_root: Path) -> None:
    for name, schema in output_schemas().items():
        path = repo_root / "schemas" / f"{name}.schema.json"
        assert path.is_file(), f"{path} missing: run python scripts/gen_schemas.py"
        published = json.loads(path.read_text())
        assert published == json.loads(json.dumps(schema, sort_keys=True)), (
            f"{path} is stale: run python scripts/gen_schemas.py"
        )


def test_a_report_validates_against_its_schema() -> None:
    report = Report(
        window=Window(start="2026-11-20T10:00:00Z", end="2026-11-20T11:00:00Z"),
        source=SourceInfo(kind="files", detail="incident.jsonl"),
        stats=Stats(lines=3, stage_ms={"read": 1.0}),
        findings=[
            Finding(
                rank=1, fingerprint="f-3c9a0d1e", category="oom", severity="critical",
                component="llama_server", title="t", root_cause="r", action="a",
            )
        ],
    )  # fmt: skip
    jsonschema.validate(json.loads(report.model_dump_json()), output_schemas()["report"])
    bad = json.loads(report.model_dump_json())
    bad["findings"][0]["severity"] = "catastrophic"
    try:
        jsonschema.validate(bad, output_schemas()["report"])
    except jsonschema.ValidationError:
        return
    raise AssertionError("an unknown severity passed the schema")
