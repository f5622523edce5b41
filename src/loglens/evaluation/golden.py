"""Load a golden dataset (shared/spec/golden-format.md) into typed cases.

A dataset is a folder; every `*.json` file under it is one case. Each file is
validated against the vendored copy of the shared JSON Schema
(`golden-case.schema.json` beside this module) before it is turned into an
`AnalyzeCase`, `CompareCase` or `LineCase`. Anything invalid raises `InputError`
naming the file and the field as a JSON pointer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from loglens.errors import InputError, MalformedInputError
from loglens.model import Category, LogRecord, Severity, parse_ts
from loglens.sources.window import TimeWindow

CaseKind = Literal["analyze", "compare", "line"]
COMPARE_HEADINGS: tuple[str, ...] = ("new", "gone", "increased", "decreased")


@dataclass(frozen=True, slots=True)
class ExpectedFinding:
    """One finding a case expects; optional fields are None or empty when the case omits them."""

    category: Category
    severity: Severity
    component: str | None = None
    component_aliases: tuple[str, ...] = ()
    root_cause: str | None = None
    keywords: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LogSet:
    """The records of one window (or of a case without one)."""

    records: list[LogRecord]
    window: TimeWindow | None


@dataclass(frozen=True, slots=True)
class AnalyzeCase:
    kind: ClassVar[CaseKind] = "analyze"
    id: str
    path: Path
    description: str
    tags: tuple[str, ...]
    logs: LogSet
    findings: tuple[ExpectedFinding, ...]
    summary: str | None
    summary_facts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class CompareCase:
    """`headings` maps each heading the case names to its substrings; absent ones are unscored."""

    kind: ClassVar[CaseKind] = "compare"
    id: str
    path: Path
    description: str
    tags: tuple[str, ...]
    before: LogSet
    after: LogSet
    headings: dict[str, tuple[str, ...]]
    findings: tuple[ExpectedFinding, ...] | None


@dataclass(frozen=True, slots=True)
class LineCase:
    kind: ClassVar[CaseKind] = "line"
    id: str
    path: Path
    description: str
    tags: tuple[str, ...]
    record: LogRecord
    severity: Severity
    category: Category | None
    component: str | None


GoldenCase = AnalyzeCase | CompareCase | LineCase


@functools.cache
def _schema() -> dict[str, Any]:
    text = resources.files("loglens.evaluation").joinpath("golden-case.schema.json").read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


@functools.cache
def _case_validator() -> Draft202012Validator:
    return Draft202012Validator(_schema())


@functools.cache
def _record_validator() -> Draft202012Validator:
    return Draft202012Validator({**_schema()["$defs"]["record"], "$defs": _schema()["$defs"]})


def load_dataset(path: Path) -> list[GoldenCase]:
    """Every `*.json` file under `path` (recursively, in sorted order) as a validated case."""
    if not path.is_dir():
        raise InputError(
            f"golden dataset {path} is not a folder",
            hint="pass a folder of *.json cases (shared/spec/golden-format.md)",
        )
    files = sorted(p for p in path.rglob("*.json") if p.is_file())
    if not files:
        raise InputError(f"golden dataset {path} holds no *.json case files")
    cases = [load_case(file) for file in files]
    _check_unique_ids(cases)
    return cases


def load_case(file: Path) -> GoldenCase:
    """One case file, validated against the schema and converted to its typed form."""
    data = _read_json(file)
    _validate(_case_validator(), data, where=str(file))
    kind = data["kind"]
    if kind == "analyze":
        return _analyze_case(file, data)
    if kind == "compare":
        return _compare_case(file, data)
    return _line_case(file, data)


def _check_unique_ids(cases: list[GoldenCase]) -> None:
    seen: dict[str, Path] = {}
    for case in cases:
        if case.id in seen:
            raise InputError(
                f"case id {case.id!r} is used by both {seen[case.id]} and {case.path}",
                hint="case ids must be unique within a dataset",
            )
        seen[case.id] = case.path


def _read_json(file: Path) -> Any:
    try:
        return orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{file}: not valid JSON: {exc}") from exc
    except OSError as exc:
        raise InputError(f"{file}: cannot be read: {exc.strerror}") from exc


def _pointer(parts: Any) -> str:
    return "/" + "/".join(str(part) for part in parts)


def _validate(validator: Draft202012Validator, data: Any, *, where: str) -> None:
    error: ValidationError | None = best_match(validator.iter_errors(data))
    if error is not None:
        raise InputError(
            f"{where}: field {_pointer(error.absolute_path)}: {_describe(error)}",
            hint="see shared/spec/golden-format.md",
        )


def _describe(error: ValidationError) -> str:
    """The validator's message, except for oneOf, whose message would repeat the whole case."""
    if error.validator != "oneOf":
        return str(error.message)
    options = cast(list[dict[str, Any]], error.validator_value)
    if all(set(option) == {"required"} for option in options):
        names = ", ".join(name for option in options for name in option["required"])
        return f"needs exactly one of the fields {names}"
    return f"must match exactly one of {orjson.dumps(options).decode()}"


def _common(file: Path, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": data["id"],
        "path": file,
        "description": data.get("description", ""),
        "tags": tuple(data.get("tags", ())),
    }


def _analyze_case(file: Path, data: dict[str, Any]) -> AnalyzeCase:
    expected = data["expected"]
    return AnalyzeCase(
        **_common(file, data),
        logs=_log_set(file, data, "/"),
        findings=_findings(expected["findings"]),
        summary=expected.get("summary"),
        summary_facts=tuple(tuple(fact) for fact in expected.get("summary_facts", ())),
    )


def _compare_case(file: Path, data: dict[str, Any]) -> CompareCase:
    expected = data["expected"]
    findings = expected.get("findings")
    return CompareCase(
        **_common(file, data),
        before=_log_set(file, data["before"], "/before/"),
        after=_log_set(file, data["after"], "/after/"),
        headings={h: tuple(expected[h]) for h in COMPARE_HEADINGS if h in expected},
        findings=None if findings is None else _findings(findings),
    )


def _line_case(file: Path, data: dict[str, Any]) -> LineCase:
    expected = data["expected"]
    category = expected.get("category")
    return LineCase(
        **_common(file, data),
        record=_records(file, data["logs"], "/logs")[0],
        severity=Severity(expected["severity"]),
        category=None if category is None else Category(category),
        component=expected.get("component"),
    )


def _findings(items: list[dict[str, Any]]) -> tuple[ExpectedFinding, ...]:
    return tuple(
        ExpectedFinding(
            category=Category(item["category"]),
            severity=Severity(item["severity"]),
            component=item.get("component"),
            component_aliases=tuple(item.get("component_aliases", ())),
            root_cause=item.get("root_cause"),
            keywords=tuple(item.get("keywords", ())),
            evidence=tuple(item.get("evidence", ())),
        )
        for item in items
    )


def _log_set(file: Path, holder: dict[str, Any], prefix: str) -> LogSet:
    """Records inline in `logs` or in the JSON Lines file `logs_file`, plus the optional window."""
    window = _window(file, holder["window"], prefix + "window") if "window" in holder else None
    if "logs" in holder:
        return LogSet(_records(file, holder["logs"], prefix + "logs"), window)
    return LogSet(_records_file(file.parent / holder["logs_file"], case_file=file), window)


def _window(file: Path, data: dict[str, str], pointer: str) -> TimeWindow:
    start = _ts(data["start"], where=f"{file}: field {pointer}/start")
    end = _ts(data["end"], where=f"{file}: field {pointer}/end")
    if start >= end:
        raise InputError(f"{file}: field {pointer}: start is not before end")
    return TimeWindow(start, end)


def _ts(value: str | int, *, where: str) -> int:
    try:
        return parse_ts(value)
    except ValueError as exc:
        raise InputError(
            f"{where}: {value!r} is not a timestamp",
            hint="use RFC 3339 with a zone (2026-11-20T10:00:00Z) or integer nanoseconds",
        ) from exc


def _record(item: dict[str, Any], *, where: str) -> LogRecord:
    return LogRecord(
        ts=_ts(item["ts"], where=where + "/ts"), labels=item.get("labels", {}), line=item["line"]
    )


def _records(file: Path, items: list[dict[str, Any]], pointer: str) -> list[LogRecord]:
    return [_record(item, where=f"{file}: field {pointer}/{i}") for i, item in enumerate(items)]


def _records_file(path: Path, *, case_file: Path) -> list[LogRecord]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"{case_file}: field /logs_file: cannot read {path}: {exc.strerror}",
            hint="logs_file is relative to the case file",
        ) from exc
    records: list[LogRecord] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            records.append(_record_line(path, line_no, line))
    return records


def _record_line(path: Path, line_no: int, line: str) -> LogRecord:
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        message = f"not valid JSON: {exc}"
        raise MalformedInputError(message, path=str(path), line_no=line_no) from exc
    error: ValidationError | None = best_match(_record_validator().iter_errors(item))
    if error is not None:
        raise MalformedInputError(
            f"field {_pointer(error.absolute_path)}: {_describe(error)}",
            path=str(path),
            line_no=line_no,
        )
    try:
        return _record(item, where="record")
    except InputError as exc:
        raise MalformedInputError(exc.message, path=str(path), line_no=line_no) from exc
