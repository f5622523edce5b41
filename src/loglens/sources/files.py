"""Reading logs from files and standard input, in batches with bounded memory.

`FileSource` reads paths (globs allowed, `-` for stdin, gzip detected by its magic
bytes) in one of four container formats, detected per file from its first lines
or forced with `fmt`:

- `jsonl`   `{"ts": RFC 3339 or int ns, "labels": {...}, "line": "..."}` per line
- `cri`     `<RFC3339Nano> stdout|stderr F|P <line>` (partial `P` lines are joined)
- `kubectl` `<RFC3339Nano> <line>` (`kubectl logs --timestamps`)
- `plain`   one message per line; a leading timestamp (ISO, klog, syslog) sets `ts`,
            otherwise the previous record's `ts` carries over

Files are read in chunks of lines, never whole, so a file of any size streams in
constant memory. Records come out with `ts`, `labels` and `line` set; parsing the
line happens downstream in `loglens.parsing`.
"""

from __future__ import annotations

import glob
import gzip
import io
import re
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import IO, Any, cast

import orjson

from loglens.errors import InputError, MalformedInputError, SourceError
from loglens.model import Batch, LogRecord, ReadStats, SourceInfo, parse_ts

FILE_FORMATS = ("auto", "jsonl", "cri", "kubectl", "plain")
STDIN_NAME = "<stdin>"
MAX_SKIPPED_EXAMPLES = 5
# How many leading lines decide a file's format.
DETECT_LINES = 20
# A CRI line split into partials is cut off at this size, so one endless line
# cannot use unbounded memory.
MAX_JOINED_PARTIAL = 1 << 20
# Label sets seen in a JSONL file are interned so records of one stream share one
# dict; the cache is dropped when a file has more distinct label sets than this.
MAX_INTERNED_LABELS = 10_000
# Longer lines are cut to this size (the rest is dropped); Loki's default limit is 256 KB.
MAX_LINE_BYTES = 1 << 20
_DETAIL_MAX_CHARS = 120
_GZIP_MAGIC = b"\x1f\x8b"
_GLOB_CHARS = frozenset("*?[")

_CRI_LINE_RE = re.compile(rb"\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [FP](?: |\r?\n|$)")
_KUBECTL_LINE_RE = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")


class _BadRecordError(ValueError):
    """Raised inside the readers; turned into MalformedInputError or a skip."""


# --- timestamps ---------------------------------------------------------------------------

_FRACTION_SCALE: tuple[int, ...] = tuple(10 ** (9 - digits) for digits in range(10))
_SECONDS_BY_PREFIX: dict[str, int] = {}


def _seconds_of(prefix: str) -> int:
    """Epoch seconds of `YYYY-MM-DDTHH:MM:SS` (UTC), cached: neighbouring lines share it."""
    seconds = _SECONDS_BY_PREFIX.get(prefix)
    if seconds is None:
        moment = datetime.fromisoformat(prefix).replace(tzinfo=UTC)
        seconds = int(moment.timestamp())
        if len(_SECONDS_BY_PREFIX) > 100_000:
            _SECONDS_BY_PREFIX.clear()
        _SECONDS_BY_PREFIX[prefix] = seconds
    return seconds


def rfc3339_ns(text: str) -> int:
    """RFC 3339 text → nanoseconds; fast for the common `...SS[.fff]Z` form. ValueError if bad."""
    if len(text) >= 20 and text[-1] == "Z" and text[10] == "T":
        fraction = text[20:-1]
        if text[19] == "." and fraction.isdigit() and len(fraction) <= 9:
            return (
                _seconds_of(text[:19]) * 1_000_000_000
                + int(fraction) * _FRACTION_SCALE[len(fraction)]
            )
        if len(text) == 20:
            return _seconds_of(text[:19]) * 1_000_000_000
    return parse_ts(text)


_ISO_START_RE = re.compile(
    r"(\d{4})[-/](\d\d)[-/](\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?"
)
_KLOG_START_RE = re.compile(r"[IWEF](\d\d)(\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?")
_SYSLOG_START_RE = re.compile(r"([A-Z][a-z]{2}) ([ \d]\d) (\d\d:\d\d:\d\d)")
_MONTH_NUMBER = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


class _PlainClock:
    """Timestamps at the start of plain lines; `year` fills in formats that omit it."""

    def __init__(self) -> None:
        self.year = datetime.now(tz=UTC).year
        self.last_ns = 0

    def ts_of(self, line: str) -> int:
        first = line[:1]
        found: int | None = None
        if first.isdigit():
            found = self._iso(line)
        elif first in "IWEF" and line[1:5].isdigit():
            found = self._klog(line)
        elif line[:3] in _MONTH_NUMBER:
            found = self._syslog(line)
        if found is not None:
            self.last_ns = found
        return self.last_ns

    def _iso(self, line: str) -> int | None:
        match = _ISO_START_RE.match(line)
        if match is None:
            return None
        year, month, day, clock, fraction, zone = match.groups()
        try:
            seconds = _seconds_of(f"{year}-{month}-{day}T{clock}")
        except ValueError:
            return None
        self.year = int(year)
        if zone and zone != "Z":
            sign = -1 if zone[0] == "+" else 1
            digits = zone[1:].replace(":", "")
            seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
        return seconds * 1_000_000_000 + _fraction_ns(fraction)

    def _klog(self, line: str) -> int | None:
        match = _KLOG_START_RE.match(line)
        if match is None:
            return None
        month, day, clock, fraction = match.groups()
        return self._with_year(month, day, clock, fraction)

    def _syslog(self, line: str) -> int | None:
        match = _SYSLOG_START_RE.match(line)
        if match is None:
            return None
        month_name, day, clock = match.groups()
        month = f"{_MONTH_NUMBER[month_name]:02d}"
        return self._with_year(month, day.strip().zfill(2), clock, None)

    def _with_year(self, month: str, day: str, clock: str, fraction: str | None) -> int | None:
        try:
            seconds = _seconds_of(f"{self.year}-{month}-{day}T{clock}")
        except ValueError:
            return None
        return seconds * 1_000_000_000 + _fraction_ns(fraction)


def _fraction_ns(fraction: str | None) -> int:
    return int(fraction) * _FRACTION_SCALE[len(fraction)] if fraction else 0


# --- format detection ---------------------------------------------------------------------


def _is_jsonl_record(line: bytes) -> bool:
    if not line.startswith(b"{") or b'"line"' not in line:
        return False
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(record, dict) and "line" in record


def detect_file_format(first_lines: list[bytes]) -> str:
    """`jsonl`, `cri`, `kubectl` or `plain`: the container format most of the first lines fit."""
    samples = [line.strip() for line in first_lines if line.strip()][:DETECT_LINES]
    if not samples:
        return "plain"
    majority = len(samples) // 2 + 1
    checks: tuple[tuple[str, Callable[[bytes], object]], ...] = (
        ("jsonl", _is_jsonl_record),
        ("cri", _CRI_LINE_RE.match),
        ("kubectl", _KUBECTL_LINE_RE.match),
    )
    for name, fits in checks:
        if sum(1 for line in samples if fits(line)) >= majority:
            return name
    return "plain"


# --- the source ---------------------------------------------------------------------------


def _expand_paths(paths: Sequence[str]) -> list[str]:
    if not paths:
        raise InputError("no input files given", hint="pass file paths, globs, or - for stdin")
    expanded: list[str] = []
    for path in paths:
        if path == "-":
            expanded.append(path)
        elif _GLOB_CHARS & set(path):
            # glob.glob, unlike Path.glob, takes absolute patterns such as /var/log/*.log.
            found = glob.glob(path, recursive=True)  # noqa: PTH207
            matches = sorted(p for p in found if Path(p).is_file())
            if not matches:
                raise InputError(
                    f"no file matches {path!r}", hint="check the pattern and the directory"
                )
            expanded.extend(matches)
        elif Path(path).is_dir():
            raise InputError(f"{path!r} is a directory", hint=f"pass a glob like '{path}/*.log'")
        elif not Path(path).exists():
            raise InputError(f"file not found: {path!r}", hint="check the path")
        else:
            expanded.append(path)
    return expanded


class FileSource:
    """Log records from files (plain, gzipped) or standard input; see the module docstring."""

    def __init__(
        self,
        paths: Sequence[str],
        *,
        fmt: str = "auto",
        skip_bad: bool = False,
        batch_size: int = 4096,
        stdin: IO[bytes] | None = None,
    ) -> None:
        if fmt not in FILE_FORMATS:
            raise InputError(
                f"unknown input format {fmt!r}", hint=f"use one of {', '.join(FILE_FORMATS)}"
            )
        if batch_size < 1:
            raise InputError(f"batch size must be positive, got {batch_size}")
        self.paths = _expand_paths(paths)
        self.fmt = fmt
        self.skip_bad = skip_bad
        self.batch_size = batch_size
        self._stdin = stdin
        self.stats = ReadStats()
        # Format actually used per path, filled as files are opened.
        self.formats: dict[str, str] = {}

    def describe(self) -> SourceInfo:
        if self.paths == ["-"]:
            return SourceInfo(kind="stdin", detail="-")
        names = ", ".join(self.paths)
        if len(names) > _DETAIL_MAX_CHARS:
            names = names[: _DETAIL_MAX_CHARS - 1] + f"… ({len(self.paths)} files)"
        return SourceInfo(kind="files", detail=names)

    def batches(self) -> Iterator[Batch]:
        for path in self.paths:
            yield from self._file_batches(path)

    # -- one file ---------------------------------------------------------------------

    def _file_batches(self, path: str) -> Iterator[Batch]:
        name = STDIN_NAME if path == "-" else path
        stream = self._open(path)
        try:
            lines = _LineChunks(stream, name)
            head = lines.take(DETECT_LINES)
            fmt = self.fmt if self.fmt != "auto" else detect_file_format(head)
            self.formats[name] = fmt
            reader = _READERS[fmt](name, self)
            line_no = 0
            counted_bytes = 0
            for chunk in lines.chunks(head, self.batch_size):
                self.stats.bytes += lines.bytes_read - counted_bytes
                counted_bytes = lines.bytes_read
                records = reader.read(chunk, line_no)
                line_no += len(chunk)
                if records:
                    self.stats.lines += len(records)
                    yield records
            self.stats.bytes += lines.bytes_read - counted_bytes
            tail = reader.finish()
            if tail:
                self.stats.lines += len(tail)
                yield tail
        finally:
            if path != "-":
                stream.close()

    def _open(self, path: str) -> io.BufferedIOBase:
        if path == "-":
            raw = self._stdin if self._stdin is not None else sys.stdin.buffer
            # Peeking needs a buffered stream; wrap anything else (pipes, BytesIO).
            buffered = (
                raw
                if isinstance(raw, io.BufferedReader)
                else io.BufferedReader(cast(io.RawIOBase, raw))
            )
            if buffered.peek(2)[:2] == _GZIP_MAGIC:
                return gzip.GzipFile(fileobj=buffered)
            return buffered
        try:
            handle = Path(path).open("rb")  # noqa: SIM115 (the caller closes it)
            if handle.read(2) == _GZIP_MAGIC:
                handle.seek(0)
                return gzip.GzipFile(fileobj=handle)
            handle.seek(0)
            return handle
        except OSError as exc:
            raise SourceError(f"cannot read {path!r}: {exc.strerror or exc}") from exc

    def bad_record(self, name: str, line_no: int, reason: str) -> None:
        """Raise MalformedInputError, or count and remember the record with `skip_bad`."""
        if not self.skip_bad:
            raise MalformedInputError(reason, path=name, line_no=line_no, hint="or use --skip-bad")
        self.stats.skipped += 1
        if len(self.stats.skipped_examples) < MAX_SKIPPED_EXAMPLES:
            self.stats.skipped_examples.append(f"{name}:{line_no}: {reason}")


class _LineChunks:
    """Raw lines of a stream in chunks; lines over MAX_LINE_BYTES are cut to that size.

    Reading with a size limit keeps one endless line (a binary file, a log with no
    newlines) from taking unbounded memory.
    """

    def __init__(self, stream: io.BufferedIOBase, name: str) -> None:
        self.name = name
        self.lines = iter(partial(stream.readline, MAX_LINE_BYTES), b"")
        self.bytes_read = 0
        self.cutting = False  # inside the rest of an over-long line

    def take(self, count: int) -> list[bytes]:
        """Up to `count` lines (fewer only at the end, or where long lines were cut)."""
        while True:
            try:
                chunk = list(islice(self.lines, count))
            except (OSError, EOFError, zlib.error) as exc:
                raise SourceError(
                    f"cannot read {self.name}: {exc}", hint="is the file complete and not corrupt?"
                ) from exc
            if not chunk:
                return chunk
            self.bytes_read += sum(map(len, chunk))
            if self.cutting or max(map(len, chunk)) >= MAX_LINE_BYTES:
                chunk = self._cut_long_lines(chunk)
            if chunk:
                return chunk

    def chunks(self, head: list[bytes], size: int) -> Iterator[list[bytes]]:
        for start in range(0, len(head), size):
            yield head[start : start + size]
        while chunk := self.take(size):
            yield chunk

    def _cut_long_lines(self, chunk: list[bytes]) -> list[bytes]:
        kept: list[bytes] = []
        for raw in chunk:
            if self.cutting:
                self.cutting = not raw.endswith(b"\n")
                continue
            if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
                self.cutting = True
                raw += b"\n"
            kept.append(raw)
        return kept


# --- readers: raw line chunks → records ----------------------------------------------------


def _decode_chunk(chunk: list[bytes]) -> list[str]:
    """UTF-8 lines without their line ends; one decode call per chunk."""
    text = b"".join(chunk).decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


class _JsonlReader:
    def __init__(self, name: str, source: FileSource) -> None:
        self.name = name
        self.source = source
        self.labels_cache: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}

    def read(self, chunk: list[bytes], first_line_no: int) -> Batch:
        records: Batch = []
        append = records.append
        loads = orjson.loads
        labels_of = self.labels_cache.get
        seconds_of = _SECONDS_BY_PREFIX.get
        scale = _FRACTION_SCALE
        line_no = first_line_no
        for raw in chunk:
            line_no += 1
            # Fast path for the common record: known labels, `...SS.fffZ` ts. Anything
            # unusual falls through to `_to_record`, which also explains what is wrong.
            try:
                record = loads(raw)
                ts = record["ts"]
                labels = labels_of(tuple(record["labels"].items()))
                line = record["line"]
                if (
                    labels is not None
                    and type(line) is str
                    and type(ts) is str
                    and ts[-1:] == "Z"
                    and ts[19:20] == "."
                ):
                    seconds = seconds_of(ts[:19])
                    fraction = ts[20:-1]
                    if seconds is not None and fraction.isdigit() and len(fraction) <= 9:
                        nanos = seconds * 1_000_000_000 + int(fraction) * scale[len(fraction)]
                        append(LogRecord(nanos, labels, line))
                        continue
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                pass
            if not raw or raw.isspace():
                continue
            try:
                append(self._to_record(raw))
            except _BadRecordError as exc:
                self.source.bad_record(self.name, line_no, str(exc))
        return records

    def finish(self) -> Batch:
        return []

    def _to_record(self, raw: bytes) -> LogRecord:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = self._loads_lenient(raw)
        if not isinstance(record, dict):
            raise _BadRecordError("record is not a JSON object")
        line = record.get("line")
        if not isinstance(line, str):
            raise _BadRecordError('record has no "line" string')
        return LogRecord(self._ts(record.get("ts")), self._labels(record.get("labels")), line)

    @staticmethod
    def _loads_lenient(raw: bytes) -> Any:
        text = raw.decode("utf-8", "replace")
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise _BadRecordError(f"invalid JSON ({exc})") from exc

    @staticmethod
    def _ts(value: object) -> int:
        if value is None:
            raise _BadRecordError('record has no "ts"')
        try:
            if isinstance(value, str):
                return rfc3339_ns(value)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return parse_ts(value)
        except ValueError:
            pass
        raise _BadRecordError(f"unparseable ts {value!r} (want RFC 3339 or integer nanoseconds)")

    def _labels(self, labels: object) -> dict[str, str]:
        if labels is None:
            labels = {}
        if not isinstance(labels, dict):
            raise _BadRecordError('"labels" is not an object')
        try:
            key = tuple(labels.items())
            shared = self.labels_cache.get(key)
        except TypeError:
            shared = None
            key = None
        if shared is not None:
            return shared
        if key is None or not all(isinstance(value, str) for value in labels.values()):
            raise _BadRecordError('"labels" values must be strings')
        if len(self.labels_cache) >= MAX_INTERNED_LABELS:
            self.labels_cache.clear()
        self.labels_cache[key] = labels
        return labels


class _CriReader:
    def __init__(self, name: str, source: FileSource) -> None:
        self.name = name
        self.source = source
        self.labels = {
            "stdout": {"filename": name, "stream": "stdout"},
            "stderr": {"filename": name, "stream": "stderr"},
        }
        # Per stream: ts of the first partial and the partial pieces so far.
        self.partial_ts: dict[str, int] = {}
        self.partials: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.partial_size: dict[str, int] = {"stdout": 0, "stderr": 0}

    def read(self, chunk: list[bytes], first_line_no: int) -> Batch:
        records: Batch = []
        line_no = first_line_no
        for text in _decode_chunk(chunk):
            line_no += 1
            if not text:
                continue
            parts = text.split(" ", 3)
            if len(parts) < 3 or parts[1] not in self.labels or parts[2] not in ("F", "P"):
                self.source.bad_record(
                    self.name, line_no, "not a CRI log line (<ts> stdout|stderr F|P <line>)"
                )
                continue
            try:
                ts = rfc3339_ns(parts[0])
            except ValueError:
                self.source.bad_record(self.name, line_no, f"unparseable ts {parts[0]!r}")
                continue
            content = parts[3] if len(parts) == 4 else ""
            record = self._take(parts[1], parts[2], ts, content)
            if record is not None:
                records.append(record)
        return records

    def _take(self, stream: str, tag: str, ts: int, content: str) -> LogRecord | None:
        pieces = self.partials[stream]
        if tag == "P":
            if not pieces:
                self.partial_ts[stream] = ts
            pieces.append(content)
            self.partial_size[stream] += len(content)
            if self.partial_size[stream] < MAX_JOINED_PARTIAL:
                return None
            return self._joined(stream)
        if pieces:
            pieces.append(content)
            return self._joined(stream)
        return LogRecord(ts, self.labels[stream], content)

    def _joined(self, stream: str) -> LogRecord:
        pieces = self.partials[stream]
        record = LogRecord(self.partial_ts[stream], self.labels[stream], "".join(pieces))
        pieces.clear()
        self.partial_size[stream] = 0
        return record

    def finish(self) -> Batch:
        return [self._joined(stream) for stream, pieces in self.partials.items() if pieces]


class _KubectlReader:
    def __init__(self, name: str, source: FileSource) -> None:
        self.name = name
        self.source = source
        self.labels = {"filename": name}

    def read(self, chunk: list[bytes], first_line_no: int) -> Batch:
        records: Batch = []
        labels = self.labels
        line_no = first_line_no
        for text in _decode_chunk(chunk):
            line_no += 1
            if not text:
                continue
            stamp, _, line = text.partition(" ")
            try:
                ts = rfc3339_ns(stamp)
            except ValueError:
                self.source.bad_record(
                    self.name, line_no, "line does not start with an RFC 3339 timestamp"
                )
                continue
            records.append(LogRecord(ts, labels, line))
        return records

    def finish(self) -> Batch:
        return []


class _PlainReader:
    def __init__(self, name: str, source: FileSource) -> None:
        self.labels = {"filename": name}
        self.clock = _PlainClock()

    def read(self, chunk: list[bytes], first_line_no: int) -> Batch:
        labels = self.labels
        ts_of = self.clock.ts_of
        return [LogRecord(ts_of(text), labels, text) for text in _decode_chunk(chunk) if text]

    def finish(self) -> Batch:
        return []


_Reader = _JsonlReader | _CriReader | _KubectlReader | _PlainReader
_READERS: dict[str, Callable[[str, FileSource], _Reader]] = {
    "jsonl": _JsonlReader,
    "cri": _CriReader,
    "kubectl": _KubectlReader,
    "plain": _PlainReader,
}
