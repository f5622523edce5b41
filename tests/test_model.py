from __future__ import annotations

import pytest

from loglens.model import LogRecord, format_ts, parse_ts


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-20T10:00:01Z", 1_795_168_801_000_000_000),
     ("2026-11-20T10:00:01.123456789Z", 1_795_168_801_123_456_789),
     ("2026-11-20T11:00:01.5+01:00", 1_795_168_801_500_000_000),
     ("1795168801123456789", 1_795_168_801_123_456_789)],
)  # fmt: skip
def test_parse_ts_keeps_nanoseconds_and_zones(text: str, expected: int) -> None:
    assert parse_ts(text) == expected


def test_parse_ts_accepts_integer_nanoseconds() -> None:
    assert parse_ts(1_795_168_801_000_000_001) == 1_795_168_801_000_000_001


@pytest.mark.parametrize("bad", ["2026-11-20T10:00:01", "not a time", True])
def test_parse_ts_rejects_zone_less_and_garbage(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        parse_ts(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "ts", [0, 1_795_168_801_000_000_000, 1_795_168_801_123_456_789, 1_795_168_801_100_000_000]
)
def test_format_ts_round_trips(ts: int) -> None:
    assert parse_ts(format_ts(ts)) == ts


def test_record_json_form_matches_the_spec() -> None:
    record = LogRecord(ts=1_795_168_801_123_000_000, labels={"namespace": "llm"}, line="x")
    assert record.to_json_dict() == {
        "ts": "2026-11-20T10:00:01.123Z",
        "labels": {"namespace": "llm"},
        "line": "x",
    }
