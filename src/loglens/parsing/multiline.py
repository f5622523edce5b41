"""Joining multi-line events (stack traces, panics, indented continuations) into one record.

Programs write one event over several lines: Python tracebacks, Java exceptions with
`at ...` frames and `Caused by:` chains, Go panics with goroutine dumps, and
indented continuations in general. Sources deliver those as separate records; the
`MultilineJoiner` folds them back into the record that opened the event, per stream
(records with equal `labels`: Loki and JSON Lines give every line its own record, and
some readers give every record its own labels dict), across batch boundaries.

It works on parsed records: continuation lines parse as `plain`, and markers that
open an event ("Traceback", "panic:", "java.lang.X: ...") parse at error level or
above, so an ordinary line costs a dictionary lookup and a couple of comparisons.
The last record of each stream is held back until the next record of that stream
shows whether it continues; `flush()` releases what is held at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from loglens.model import LEVEL_ORDER, Batch, Level, LogRecord
from loglens.parsing.formats import LineFormat

DEFAULT_MAX_LINES = 200
DEFAULT_MAX_CHARS = 64 * 1024
# Labels dicts whose stream key is remembered by identity; cleared when full.
MAX_KNOWN_LABELS = 4096

_PY_TRACEBACK = "Traceback (most recent call last):"
_PY_CHAIN_MARKERS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
_PY_EXCEPTION_RE = re.compile(r"[A-Za-z_][\w.]*(?:: .*|:?)$", re.S)
_JAVA_EXCEPTION_RE = re.compile(
    r"(?:Exception in thread \"[^\"]*\" )?(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*"
    r"(?:Exception|Error|Throwable)\b(?::.*)?$",
    re.S,
)
_GO_PANIC_STARTS = ("panic: ", "fatal error: ")
_GO_DUMP_RE = re.compile(
    r"goroutine \d+ \[|\[signal |created by |exit status \d+|panic: |\[recovered\]"
    r"|[\w./*()\-\[\]{}]+\(.*\)$",
)
_PLAIN = LineFormat.PLAIN
StreamKey = int
_SERIOUS = frozenset((Level.ERROR, Level.FATAL))


class _Kind(Enum):
    GENERIC = "generic"
    TRACEBACK = "traceback"
    AFTER_EXCEPTION = "after_exception"
    JAVA = "java"
    GO_PANIC = "go_panic"


@dataclass(slots=True)
class _Event:
    """Continuation state of one open event (only streams that have one)."""

    kind: _Kind
    parts: list[str]
    chars: int
    exception: str | None = None
    caused_by: str | None = None
    standalone: bool = False


class MultilineJoiner:
    """Folds continuation records into the record that opened the event; see module docs."""

    def __init__(
        self, *, max_lines: int = DEFAULT_MAX_LINES, max_chars: int = DEFAULT_MAX_CHARS
    ) -> None:
        self.max_lines = max_lines
        self.max_chars = max_chars
        self._heads: dict[StreamKey, LogRecord] = {}
        self._events: dict[StreamKey, _Event] = {}
        # id(labels) -> (labels, stream key): the labels are kept so the id stays theirs.
        self._known: dict[int, tuple[dict[str, str], StreamKey]] = {}
        # Label contents (in their dict order) -> stream key.
        self._streams: dict[tuple[tuple[str, str], ...], StreamKey] = {}

    def _stream_key(self, labels: dict[str, str]) -> StreamKey:
        """The stream of a record: equal labels are one stream, however many dicts hold them."""
        known = self._known.get(id(labels))
        if known is not None and known[0] is labels:
            return known[1]
        content = tuple(labels.items())
        key = self._streams.get(content)
        if key is None:
            key = self._streams[content] = len(self._streams)
        if len(self._known) >= MAX_KNOWN_LABELS:
            self._known.clear()
        self._known[id(labels)] = (labels, key)
        return key

    def feed(self, batch: Batch) -> Batch:
        """Records of `batch` with continuations folded in; a stream's last record is held."""
        out: Batch = []
        heads = self._heads
        events = self._events
        last_labels: dict[str, str] | None = None
        key: StreamKey = -1
        for rec in batch:
            if rec.labels is not last_labels:
                last_labels = rec.labels
                key = self._stream_key(last_labels)
            line = rec.line
            serious_plain = rec.fmt is _PLAIN and rec.level in _SERIOUS
            head = heads.get(key)
            if head is not None:
                first = line[:1]
                if (
                    first == " " or first == "\t" or serious_plain or key in events
                ) and self._absorb(key, head, rec):
                    continue
                if key in events:
                    _finish(head, events.pop(key))
                out.append(head)
            heads[key] = rec
            if serious_plain:
                self._open_special(key, rec)
        return out

    def flush(self) -> Batch:
        """Release every held record (call once the input has ended)."""
        out: Batch = []
        for key, head in self._heads.items():
            event = self._events.pop(key, None)
            if event is not None:
                _finish(head, event)
            out.append(head)
        self._heads.clear()
        return out

    # -- deciding ---------------------------------------------------------------------

    def _absorb(self, key: StreamKey, head: LogRecord, rec: LogRecord) -> bool:
        """Fold `rec` into the open event of `head` if it continues it."""
        event = self._events.get(key)
        line = rec.line
        kind = self._continuation_kind(event, head, rec, line)
        if kind is None:
            return False
        if event is None:
            event = _Event(_Kind.GENERIC, [head.line], len(head.line))
            self._events[key] = event
        if len(event.parts) >= self.max_lines or event.chars + len(line) > self.max_chars:
            return False
        event.parts.append(line)
        event.chars += len(line) + 1
        self._advance(event, kind, line)
        return True

    def _continuation_kind(
        self, event: _Event | None, head: LogRecord, rec: LogRecord, line: str
    ) -> _Kind | None:
        state = event.kind if event is not None else _Kind.GENERIC
        first = line[:1]
        if first == " " or first == "\t":
            return state
        if rec.fmt is not _PLAIN:
            return None
        if line.startswith(_PY_TRACEBACK):
            head_serious = LEVEL_ORDER[head.level] >= LEVEL_ORDER[Level.ERROR]
            return _Kind.TRACEBACK if head_serious or state is _Kind.AFTER_EXCEPTION else None
        if state is _Kind.TRACEBACK:
            return _Kind.AFTER_EXCEPTION if _PY_EXCEPTION_RE.match(line) else None
        if state is _Kind.AFTER_EXCEPTION:
            return state if line in _PY_CHAIN_MARKERS or not line else None
        if state is _Kind.JAVA:
            return state if line.startswith("Caused by: ") else None
        if state is _Kind.GO_PANIC:
            return state if not line or _GO_DUMP_RE.match(line) else None
        if rec.level in _SERIOUS and _JAVA_EXCEPTION_RE.match(line):
            head_warns = LEVEL_ORDER[head.level] >= LEVEL_ORDER[Level.WARN]
            return _Kind.JAVA if head_warns and head.fmt is not _PLAIN else None
        return None

    @staticmethod
    def _advance(event: _Event, kind: _Kind, line: str) -> None:
        python_exception = kind is _Kind.AFTER_EXCEPTION and event.kind is _Kind.TRACEBACK
        java_exception = kind is _Kind.JAVA and event.kind is not _Kind.JAVA
        if python_exception or java_exception:
            event.exception = line
        elif kind is _Kind.JAVA and line.startswith("Caused by: "):
            event.caused_by = line[len("Caused by: ") :]
        if kind is not _Kind.GENERIC:
            event.kind = kind

    def _open_special(self, key: StreamKey, rec: LogRecord) -> None:
        """A record that opens a traceback, Java exception or Go panic on its own."""
        line = rec.line
        if line.startswith(_PY_TRACEBACK):
            kind = _Kind.TRACEBACK
        elif line.startswith(_GO_PANIC_STARTS):
            kind = _Kind.GO_PANIC
        elif _JAVA_EXCEPTION_RE.match(line):
            kind = _Kind.JAVA
        else:
            return
        event = _Event(kind, [line], len(line), standalone=True)
        if kind is not _Kind.TRACEBACK:
            event.exception = line
        self._events[key] = event


# Continuation lines that are stack frames, not words about the failure.
_FRAME_RE = re.compile(r"\s*(?:at |\.\.\. \d+ |File \"|goroutine \d+|\S+\.go:\d+|\S+\(.*\)$)")
MAX_DETAIL_CHARS = 400


def _detail(parts: list[str]) -> str:
    """The words of an indented continuation (`  line 44: field x not found`), frames left out."""
    words = [part.strip() for part in parts[1:] if part.strip() and not _FRAME_RE.match(part)]
    return " ".join(words)[:MAX_DETAIL_CHARS]


def _finish(head: LogRecord, event: _Event) -> None:
    """Write the joined event into its head record."""
    if len(event.parts) > 1:
        head.line = "\n".join(event.parts)
    if event.exception is None and event.kind is _Kind.GENERIC:
        detail = _detail(event.parts)
        if detail:
            head.attrs = {**head.attrs, "detail": detail} if head.attrs else {"detail": detail}
        return
    attrs = dict(head.attrs) if head.attrs else {}
    if event.exception is not None:
        attrs["exception"] = event.exception
    if event.caused_by is not None:
        attrs["caused_by"] = event.caused_by
    head.attrs = attrs
    if event.kind in (_Kind.TRACEBACK, _Kind.AFTER_EXCEPTION):
        if LEVEL_ORDER[head.level] < LEVEL_ORDER[Level.ERROR]:
            head.level = Level.ERROR
        if event.standalone and event.exception is not None:
            head.message = event.exception
    elif event.kind is _Kind.GO_PANIC:
        head.level = Level.FATAL
