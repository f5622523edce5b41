"""The hot-path value: one `LogRecord` per line read, with its normalised `Level`.

A record is created once per line by a source and filled in place by parsing, millions
of times per window, so it is a plain slotted class with no validation. This module is
one of those `loglens.native` compiles with mypyc: compiled, `LogRecord` is a native
class whose construction and attribute access cost a C call rather than Python
bytecode. It behaves the same either way (equality, repr, pickling).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    """Normalised log level of a parsed line."""

    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"
    FATAL = "fatal"
    UNKNOWN = "unknown"


_FIELDS = ("ts", "labels", "line", "level", "message", "attrs", "fmt")


class LogRecord:
    """One log record: the raw line with its stream labels, plus what parsing found.

    `ts` is nanoseconds since the epoch. `labels` is shared between the records of
    one stream, so treat it as read-only. `level`, `message`, `attrs` and `fmt` are
    filled by `loglens.parsing`; a source leaves them at their defaults.

    Written out rather than a dataclass: mypyc runs a dataclass's generated
    `__init__` as interpreted Python (reading 1M plain demo lines took 1.23 s with
    it, 0.87 s without).
    """

    __slots__ = ("attrs", "fmt", "labels", "level", "line", "message", "ts")

    def __init__(
        self,
        ts: int,
        labels: dict[str, str],
        line: str,
        level: Level = Level.UNKNOWN,
        message: str = "",
        attrs: dict[str, Any] | None = None,
        fmt: str = "",
    ) -> None:
        self.ts = ts
        self.labels = labels
        self.line = line
        self.level = level
        self.message = message
        self.attrs = attrs
        self.fmt = fmt

    def to_json_dict(self) -> dict[str, Any]:
        """The record in the shared input form: `{"ts", "labels", "line"}` (ts as RFC 3339)."""
        return {"ts": format_ts(self.ts), "labels": self.labels, "line": self.line}

    def values(self) -> tuple[Any, ...]:
        """All fields, in the order of `__init__`'s parameters."""
        return (self.ts, self.labels, self.line, self.level, self.message, self.attrs, self.fmt)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogRecord):
            return NotImplemented
        return self.values() == other.values()

    __hash__ = None  # type: ignore[assignment]  # mutable: equal records may change

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(_FIELDS, self.values(), strict=True)
        )
        return f"LogRecord({shown})"

    def __reduce__(self) -> tuple[type[LogRecord], tuple[Any, ...]]:
        return (LogRecord, self.values())


Batch = list[LogRecord]


def format_ts(ts_ns: int) -> str:
    """Nanoseconds since the epoch as RFC 3339 UTC with nanosecond precision when needed."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        return base + "Z"
    return f"{base}.{nanos:09d}".rstrip("0") + "Z"
