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
from pathlib import Path
from typing import IO, Any, cast

import orjson

from loglens.errors import InputError, MalformedInputError, SourceError
from loglens.model import Batch, LogRecord, ReadStats, SourceInfo, parse_ts
from loglens.sources.shares import StreamShare

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
# Bytes read from a file per call; lines are split out of each block.
READ_BLOCK = 1 << 20
_DETAIL_MAX_CHARS = 120
GZIP_MAGIC = b"\x1f\x8b"
_GLOB_CHARS = frozenset("*?[")

_CRI_LINE_RE = re.compile(rb"\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [FP](?: |\r?\n|$)")
_KUBECTL_LINE_RE = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ")


# Where the kubelet writes container logs; the path names the pod's namespace, pod and
# container (names are DNS-1123, so `_` separates them). Rotated files end in
# `.log.<YYYYMMDD-HHMMSS>`, compressed ones in `.gz` after that.
_KUBELET_POD_LOG_RE = re.compile(
    r"(?:^|/)pods/(?P<namespace>[a-z0-9.-]+)_(?P<pod>[a-z0-9.-]+)_[0-9a-f-]+"
    r"/(?P<container>[a-z0-9.-]+)/\d+\.log(?:\.\d{8}-\d{6})?(?:\.gz)?$"
)
_KUBELET_CONTAINER_LINK_RE = re.compile(
    r"(?:^|/)containers/(?P<pod>[a-z0-9.-]+)_(?P<namespace>[a-z0-9.-]+)"
    r"_(?P<container>[a-z0-9.-]+)-[0-9a-f]{64}\.log$"
)


def path_labels(name: str) -> dict[str, str]:
    """Labels of the records of a non-JSONL file: its name, and what a kubelet path tells.

    `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log` and
    `/var/log/containers/<pod>_<namespace>_<container>-<id>.log` add `namespace`, `pod`
    and `container`, so streams and components are told apart as they are from Loki.
    """
    labels = {"filename": name}
    found = _KUBELET_POD_LOG_RE.search(name) or _KUBELET_CONTAINER_LINK_RE.search(name)
    if found is not None:
        labels["namespace"] = found["namespace"]
        labels["pod"] = found["pod"]
        labels["container"] = found["container"]
    return labels


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


def _known_second_ns(ts: str) -> int | None:
    """Nanoseconds of a `...SS.fffZ` ts whose second is already cached, else None."""
    if ts[-1:] != "Z" or ts[19:20] != ".":
        return None
    seconds = _SECONDS_BY_PREFIX.get(ts[:19])
    fraction = ts[20:-1]
    if seconds is None or not fraction.isdigit() or len(fraction) > 9:
        return None
    return seconds * 1_000_000_000 + int(fraction) * _FRACTION_SCALE[len(fraction)]


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


def sample_lines(path: str, *, blocks: int = 16, block_bytes: int = 1 << 16) -> list[bytes]:
    """Whole lines from `blocks` places spread over a file (gzip: from its start), unparsed.

    For estimating what a large file holds without reading it: each block's first
    (partial) line is dropped except at offset 0, and so is its last.
    """
    try:
        with Path(path).open("rb") as handle:
            if handle.read(2) == GZIP_MAGIC:
                handle.seek(0)
                with gzip.GzipFile(fileobj=handle) as unpacked:
                    return unpacked.read(blocks * block_bytes).split(b"\n")[:-1]
            size = handle.seek(0, io.SEEK_END)
            lines: list[bytes] = []
            for number in range(blocks):
                offset = size * number // blocks
                handle.seek(offset)
                block = handle.read(block_bytes).split(b"\n")
                lines.extend(block[(1 if offset else 0) : -1])
            return lines
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"cannot read {path!r}: {exc}") from exc


def sample_records(path: str, lines: list[bytes], fmt: str) -> Batch:
    """Records of lines sampled from a file in `fmt` (not JSONL), as its reader makes them.

    Lines that do not fit the format are dropped; labels are the file's (`path_labels`).
    """
    reader = _READERS[fmt](path, FileSource([path], skip_bad=True))
    return reader.read(lines, 0) + reader.finish()


# --- shares: one worker's part of a JSONL input (`StreamShare`) --------------------------


class _ShareFilter:
    """Decides per raw JSONL line whether a share keeps it, mostly without parsing it.

    The bytes of the `"labels":{...}` object are looked up in a cache; only a line
    with labels not seen before is parsed (and a line whose labels cannot be cut
    out that simply, which is parsed every time).
    """

    def __init__(self, share: StreamShare) -> None:
        self.share = share
        self.decided: dict[bytes, bool] = {}

    def keeps(self, raw: bytes) -> bool:
        start = raw.find(b'"labels":')
        end = raw.find(b"}", start) + 1 if start != -1 else 0
        if end:
            kept = self.decided.get(raw[start:end])
            if kept is not None:
                return kept
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            try:  # as the reader does: bad UTF-8 is replaced, not a reason to drop the record
                record = orjson.loads(raw.decode("utf-8", "replace"))
            except orjson.JSONDecodeError:
                return self.share.index == 0
        if not isinstance(record, dict):
            return self.share.index == 0
        labels = record.get("labels")
        kept = self.share.keeps_labels(labels)
        if end and _is_labels_object(raw[start + len(b'"labels":') : end], labels):
            if len(self.decided) >= MAX_INTERNED_LABELS:
                self.decided.clear()
            self.decided[raw[start:end]] = kept
        return kept


def _kept_lines(
    share: _ShareFilter, chunk: list[bytes], numbers: Sequence[int]
) -> tuple[list[bytes], list[int]]:
    """The lines a share keeps, with their numbers (`_ShareFilter.keeps`, its cache inlined)."""
    decided = share.decided.get
    keeps = share.keeps
    kept: list[bytes] = []
    kept_numbers: list[int] = []
    for raw, line_no in zip(chunk, numbers, strict=True):
        start = raw.find(b'"labels":')
        verdict = decided(raw[start : raw.find(b"}", start) + 1]) if start != -1 else None
        if verdict is None:
            verdict = keeps(raw)
        if verdict:
            kept.append(raw)
            kept_numbers.append(line_no)
    return kept, kept_numbers


def _is_labels_object(text: bytes, labels: object) -> bool:
    """Whether `text` is exactly the JSON of `labels` (so equal bytes mean equal labels)."""
    try:
        return bool(orjson.loads(text) == labels)
    except orjson.JSONDecodeError:
        return False


# --- the source ---------------------------------------------------------------------------


def _expand_paths(paths: Sequence[str]) -> list[str]:
    if not paths:
        raise InputError("no input files given", hint="pass file paths, globs, or - for stdin")
    expanded: list[str] = []
    for path in paths:
        if path == "-":
            expanded.append(path)
        elif _GLOB_CHARS & set(path) and not Path(path).exists():
            # A pattern; an existing file whose name holds glob characters (`app[1].log`) is
            # taken as it is by the branches below.
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
        share: StreamShare | None = None,
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
        self.share = share
        self.stats = ReadStats()
        # Format actually used per path, filled as files are opened.
        self.formats: dict[str, str] = {}
        # Bytes read per file (a share skips the files of other shares' streams).
        self.path_bytes: dict[str, int] = {}
        # (path index, line number) of each of stats.skipped_examples, to order merged ones.
        self.skipped_at: list[tuple[int, int]] = []
        self._path_index = 0

    def describe(self) -> SourceInfo:
        if self.paths == ["-"]:
            return SourceInfo(kind="stdin", detail="-")
        names = ", ".join(self.paths)
        if len(names) > _DETAIL_MAX_CHARS:
            names = names[: _DETAIL_MAX_CHARS - 1] + f"… ({len(self.paths)} files)"
        return SourceInfo(kind="files", detail=names)

    def batches(self) -> Iterator[Batch]:
        for index, path in enumerate(self.paths):
            self._path_index = index
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
            # A file in another format is one stream (two for CRI): one share reads it whole.
            share = self.share
            if share is not None and fmt != "jsonl" and not share.keeps_labels(path_labels(name)):
                return
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
            self.path_bytes[name] = lines.bytes_read
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
            if buffered.peek(2)[:2] == GZIP_MAGIC:
                return gzip.GzipFile(fileobj=buffered)
            return buffered
        try:
            handle = Path(path).open("rb")  # noqa: SIM115 (the caller closes it)
            if handle.read(2) == GZIP_MAGIC:
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
            self.skipped_at.append((self._path_index, line_no))


class _LineChunks:
    """Raw lines of a stream (without their `\\n`) in chunks; lines over MAX_LINE_BYTES are cut.

    The stream is read in blocks of READ_BLOCK bytes and split at newlines, which
    costs far less per line than `readline`. Only the unfinished line at the end of
    a block is carried over, and it is cut at MAX_LINE_BYTES (the rest of that line
    is dropped), so one endless line (a binary file, a log with no newlines) cannot
    take unbounded memory.
    """

    def __init__(self, stream: io.BufferedIOBase, name: str) -> None:
        self.name = name
        self.stream = stream
        self.bytes_read = 0
        self._ready: list[bytes] = []
        self._rest = b""  # the start of a line whose end has not been read yet
        self._cutting = False  # inside the dropped rest of an over-long line
        self._ended = False

    def take(self, count: int) -> list[bytes]:
        """The next `count` lines (fewer only at the end of the stream)."""
        while len(self._ready) < count and not self._ended:
            self._read_block()
        chunk = self._ready[:count]
        del self._ready[:count]
        return chunk

    def chunks(self, head: list[bytes], size: int) -> Iterator[list[bytes]]:
        for start in range(0, len(head), size):
            yield head[start : start + size]
        while chunk := self.take(size):
            yield chunk

    def _read_block(self) -> None:
        try:
            block = self.stream.read1(READ_BLOCK)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(
                f"cannot read {self.name}: {exc}", hint="is the file complete and not corrupt?"
            ) from exc
        if not block:
            self._ended = True
            if self._rest and not self._cutting:
                self._ready.append(self._rest)
            self._rest = b""
            return
        self.bytes_read += len(block)
        lines = block.split(b"\n")
        if len(lines) == 1:
            self._carry(block)
            return
        self._finish_line(lines[0])
        unfinished = lines.pop()
        del lines[0]
        limit = MAX_LINE_BYTES
        if max(map(len, lines), default=0) > limit:
            lines = [line[:limit] for line in lines]
        self._ready.extend(lines)
        self._carry(unfinished)

    def _finish_line(self, tail: bytes) -> None:
        """The block's text up to its first newline ends the carried-over line."""
        if self._cutting:
            self._cutting = False
        else:
            self._ready.append((self._rest + tail)[:MAX_LINE_BYTES])
        self._rest = b""

    def _carry(self, start: bytes) -> None:
        """Keep the unfinished end of a block, cut to MAX_LINE_BYTES."""
        if self._cutting:
            return
        rest = self._rest + start if self._rest else start
        if len(rest) > MAX_LINE_BYTES:
            self._ready.append(rest[:MAX_LINE_BYTES])
            self._cutting = True
            rest = b""
        self._rest = rest


# --- readers: raw line chunks → records ----------------------------------------------------


def _decode_chunk(chunk: list[bytes]) -> list[str]:
    """UTF-8 lines without their line ends; one decode call per chunk."""
    if not chunk:
        return []
    text = b"\n".join(chunk).decode("utf-8", "replace")
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


_Z, _T, _DOT, _CLOSE_BRACE = b"Z"[0], b"T"[0], b"."[0], b"}"[0]


class _JsonlReader:
    def __init__(self, name: str, source: FileSource) -> None:
        self.name = name
        self.source = source
        self.labels_cache: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        # `,"labels":{...}` as a compact record has it → the interned labels (see `_read`).
        self.labels_by_bytes: dict[bytes, dict[str, str]] = {}
        # `YYYY-MM-DDTHH:MM:SS.` → epoch seconds (see `_read`).
        self.seconds_by_bytes: dict[bytes, int] = {}
        self.share_filter = _ShareFilter(source.share) if source.share is not None else None

    def read(self, chunk: list[bytes], first_line_no: int) -> Batch:
        numbers = range(first_line_no + 1, first_line_no + 1 + len(chunk))
        if self.share_filter is None:
            return self._read(chunk, numbers)
        return self._read(*_kept_lines(self.share_filter, chunk, numbers))

    def _read(self, chunk: list[bytes], numbers: Sequence[int]) -> Batch:
        """Records of `chunk`, whose lines have the given numbers (for error messages).

        Most records take the compact path: `{"ts":"...SS.fffZ","labels":{...},"line":...}`
        as orjson writes it, with labels seen before and a ts in a second seen before,
        has its ts and labels cut straight out of the bytes; only the line is decoded.
        Other records are parsed whole (`_parsed_record`, then `_to_record`, which also
        explains what is wrong). Every path gives the same record.
        """
        records: Batch = []
        append = records.append
        loads = orjson.loads
        labels_of = self.labels_by_bytes.get
        seconds_of = self.seconds_by_bytes.get
        scale = _FRACTION_SCALE
        for raw, line_no in zip(chunk, numbers, strict=True):
            if raw[:7] == b'{"ts":"':
                quote = raw.find(b'"', 7)
                close = raw.find(b"}", quote) + 1
                # Keys hold the text around the values too: `,"labels":{...}`, `...:SS.`
                labels = labels_of(raw[quote + 1 : close])
                seconds = seconds_of(raw[7:27])
                if seconds is None and labels is not None:
                    seconds = self._learn_second(raw[7:27])
                if (
                    labels is not None
                    and seconds is not None
                    and raw[quote - 1] == _Z
                    and raw[-1] == _CLOSE_BRACE
                    and raw[close : close + 8] == b',"line":'
                ):
                    fraction = raw[27 : quote - 1]
                    if fraction.isdigit() and len(fraction) <= 9:
                        try:
                            line = loads(raw[close + 8 : -1])
                        except orjson.JSONDecodeError:
                            line = None
                        if type(line) is str:
                            nanos = seconds * 1_000_000_000 + int(fraction) * scale[len(fraction)]
                            append(LogRecord(nanos, labels, line))
                            continue
            record = self._parsed_record(raw)
            if record is not None:
                append(record)
            elif raw and not raw.isspace():
                try:
                    append(self._to_record(raw))
                except _BadRecordError as exc:
                    self.source.bad_record(self.name, line_no, str(exc))
        return records

    def _parsed_record(self, raw: bytes) -> LogRecord | None:
        """A record in any layout with known labels and a ts in a known second; else None."""
        try:
            record = orjson.loads(raw)
            ts = record["ts"]
            labels = self.labels_cache.get(tuple(record["labels"].items()))
            line = record["line"]
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            return None
        if labels is None or type(line) is not str or type(ts) is not str:
            return None
        nanos = _known_second_ns(ts)
        return LogRecord(nanos, labels, line) if nanos is not None else None

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
        record_labels = record.get("labels")
        labels = self._labels(record_labels)
        self._remember_labels_bytes(raw, labels)
        return LogRecord(self._ts(record.get("ts")), labels, line)

    def _remember_labels_bytes(self, raw: bytes, labels: dict[str, str]) -> None:
        """Map the bytes of a compact record's labels object to the interned labels."""
        if not raw.startswith(b'{"ts":"'):
            return
        quote = raw.find(b'"', 7)
        if raw[quote + 1 : quote + 11] != b',"labels":':
            return
        close = raw.find(b"}", quote + 11) + 1
        key = raw[quote + 1 : close]
        if close and key not in self.labels_by_bytes and _is_labels_object(key[10:], labels):
            self.labels_by_bytes[key] = labels

    def _learn_second(self, key: bytes) -> int | None:
        """Epoch seconds of `YYYY-MM-DDTHH:MM:SS.` (remembered), or None if `key` is not that."""
        if len(key) != 20 or key[10] != _T or key[19] != _DOT:
            return None
        try:
            seconds = _seconds_of(key[:19].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return None
        if len(self.seconds_by_bytes) >= 100_000:
            self.seconds_by_bytes.clear()
        self.seconds_by_bytes[key] = seconds
        return seconds

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
            self.labels_by_bytes.clear()
        self.labels_cache[key] = labels
        return labels


class _CriReader:
    def __init__(self, name: str, source: FileSource) -> None:
        self.name = name
        self.source = source
        base = path_labels(name)
        self.labels = {
            "stdout": {**base, "stream": "stdout"},
            "stderr": {**base, "stream": "stderr"},
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
        self.labels = path_labels(name)

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
        self.labels = path_labels(name)
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
