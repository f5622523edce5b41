"""Time windows from `--since` or `--from/--to`, checked against the configured maximum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from loglens.config import parse_duration
from loglens.errors import InputError
from loglens.model import Window, format_ts, parse_ts, utc_now_ns


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open interval [start_ns, end_ns) in nanoseconds since the epoch."""

    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    def contains(self, ts_ns: int) -> bool:
        return self.start_ns <= ts_ns < self.end_ns

    def to_model(self) -> Window:
        return Window(start=format_ts(self.start_ns), end=format_ts(self.end_ns))


def _parse_instant(text: str, flag: str) -> int:
    if text == "now":
        return utc_now_ns()
    try:
        return parse_ts(text)
    except ValueError as exc:
        raise InputError(
            f"{flag} {text!r} is not a time", hint="use RFC 3339, e.g. 2026-11-20T10:00:00Z"
        ) from exc


def resolve_window(
    *,
    since: str | None,
    from_: str | None,
    to: str | None,
    max_window: timedelta | None,
    now_ns: int | None = None,
) -> TimeWindow | None:
    """The window the user asked for, or None when they asked for none.

    `--since` is relative to `--to` (or now); `--from` without `--to` ends now.
    """
    if since and from_:
        raise InputError("--since and --from cannot be used together", hint="pick one")
    if not (since or from_ or to):
        return None
    end = _parse_instant(to, "--to") if to else (now_ns if now_ns is not None else utc_now_ns())
    if since:
        start = end - int(parse_duration(since).total_seconds() * 1_000_000_000)
    elif from_:
        start = _parse_instant(from_, "--from")
    else:
        raise InputError("--to needs --from or --since")
    if start >= end:
        raise InputError(f"empty window: {format_ts(start)} is not before {format_ts(end)}")
    if max_window is not None and (end - start) > max_window.total_seconds() * 1_000_000_000:
        raise InputError(
            f"window of {(end - start) / 3.6e12:.1f}h is larger than the maximum {max_window}",
            hint="ask for a shorter window or raise LOGLENS_MAX_WINDOW",
        )
    return TimeWindow(start, end)
