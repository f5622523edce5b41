"""Window specs of the form `START..END` used by `compare` (`2h..1h`, `1h..now`, RFC 3339)."""

from __future__ import annotations

import re

from loglens.config import parse_duration
from loglens.errors import InputError
from loglens.model import parse_ts, utc_now_ns
from loglens.sources.window import TimeWindow

_SPAN = re.compile(r"^\s*(?P<start>[^.\s][^\s]*?)\s*\.\.\s*(?P<end>[^.\s][^\s]*)\s*$")


def _instant(text: str, now_ns: int) -> int:
    if text == "now":
        return now_ns
    if text[0].isdigit() and not text.isdigit() and "T" not in text and "-" not in text:
        return now_ns - int(parse_duration(text).total_seconds() * 1_000_000_000)
    try:
        return parse_ts(text)
    except ValueError as exc:
        raise InputError(
            f"{text!r} is neither a duration ago (2h), now, nor an RFC 3339 time"
        ) from exc


def looks_like_span(text: str) -> bool:
    return _SPAN.match(text) is not None


def parse_span(text: str, *, now_ns: int | None = None) -> TimeWindow:
    """`2h..1h` → [now-2h, now-1h); `1h..now`; `2026-11-20T10:00:00Z..2026-11-20T11:00:00Z`."""
    match = _SPAN.match(text)
    if match is None:
        raise InputError(f"{text!r} is not a window", hint="write START..END, e.g. 2h..1h")
    now = now_ns if now_ns is not None else utc_now_ns()
    start, end = _instant(match["start"], now), _instant(match["end"], now)
    if start >= end:
        raise InputError(f"window {text!r} is empty or reversed", hint="the start comes first")
    return TimeWindow(start, end)
