from __future__ import annotations

import pytest

from loglens.errors import InputError
from loglens.model import parse_ts
from loglens.sources.spans import looks_like_span, parse_span

NOW = parse_ts("2026-11-20T12:00:00Z")
HOUR = 3600 * 10**9


def test_relative_span() -> None:
    window = parse_span("2h..1h", now_ns=NOW)
    assert (window.start_ns, window.end_ns) == (NOW - 2 * HOUR, NOW - HOUR)


def test_span_until_now() -> None:
    window = parse_span("30m..now", now_ns=NOW)
    assert window.end_ns == NOW and window.duration_ns == HOUR // 2


def test_absolute_span() -> None:
    window = parse_span("2026-11-20T10:00:00Z..2026-11-20T11:00:00Z", now_ns=NOW)
    assert window.start_ns == NOW - 2 * HOUR


@pytest.mark.parametrize("text", ["1h..2h", "now..1h", "yesterday..now"])
def test_bad_spans_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_span(text, now_ns=NOW)


def test_paths_are_not_spans() -> None:
    assert not looks_like_span("logs/before.jsonl")
    assert not looks_like_span("../x.log")
    assert looks_like_span("2h..1h")
