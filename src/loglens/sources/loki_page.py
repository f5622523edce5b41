"""One `query_range` answer of Loki as records: the per-entry work of the Loki source.

`LokiPage` turns the `streams` of an answer into `LogRecord`s in time order and gives
each entry its identity (`EntryKey`), which `sources.loki.LokiSource` uses to page
past equal timestamps without losing or repeating entries. It runs once per entry,
so it lives apart from the HTTP client and is one of the modules `loglens.native`
compiles.
"""

from __future__ import annotations

from typing import Any

from loglens.errors import SourceError
from loglens.records import LogRecord

# Identity of an entry: (stream labels as a sorted tuple, ts, line). Loki keeps one
# entry per such key, so it tells page-edge repeats from distinct entries.
EntryKey = tuple[tuple[tuple[str, str], ...], int, str]


class LokiPage:
    """The entries of one `query_range` answer as records in time order, with their keys."""

    def __init__(self, payload: dict[str, Any], *, reverse: bool) -> None:
        self.records: list[LogRecord] = []
        self._label_keys: dict[int, tuple[tuple[str, str], ...]] = {}
        data = payload.get("data")
        if not isinstance(data, dict):
            raise SourceError("Loki's answer has no dict in 'data'")
        try:
            for stream in data.get("result") or ():
                self._add_stream(stream, reverse)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise SourceError(
                f"Loki answered a malformed stream entry: {exc!r}",
                hint="is LOGLENS_LOKI_URL a Loki (or compatible) server?",
            ) from exc
        self.records.sort(key=_record_ts)

    def _add_stream(self, stream: dict[str, Any], reverse: bool) -> None:
        labels: dict[str, str] = stream.get("stream") or {}
        self._label_keys[id(labels)] = tuple(sorted(labels.items()))
        values: list[list[Any]] = stream["values"]
        records = self.records
        for value in reversed(values) if reverse else values:
            attrs = metadata_attrs(value[2]) if len(value) > 2 else None
            records.append(LogRecord(int(value[0]), labels, value[1], attrs=attrs))

    def __len__(self) -> int:
        return len(self.records)

    def key(self, record: LogRecord) -> EntryKey:
        return (self._label_keys[id(record.labels)], record.ts, record.line)

    def keys_at(self, ts: int) -> set[EntryKey]:
        """Keys of the records at timestamp `ts` (records are sorted, so scan from the end)."""
        keys: set[EntryKey] = set()
        for record in reversed(self.records):
            if record.ts != ts:
                break
            keys.add(self.key(record))
        return keys


def _record_ts(record: LogRecord) -> int:
    return record.ts


def metadata_attrs(metadata: Any) -> dict[str, Any] | None:
    """Structured metadata of a 3-element entry as flat attrs.

    Loki sends either `{name: value}` or, with categorised labels, `{"structuredMetadata":
    {...}, "parsed": {...}}`; both become one flat dict.
    """
    if not metadata:
        return None
    if not isinstance(metadata, dict):
        raise TypeError(f"entry metadata is not an object: {metadata!r}")
    if "structuredMetadata" in metadata or "parsed" in metadata:
        merged = dict(metadata.get("structuredMetadata") or {})
        merged.update(metadata.get("parsed") or {})
        return merged or None
    return dict(metadata)


def utf8_bytes(records: list[LogRecord]) -> int:
    """Bytes of the records' lines in UTF-8."""
    return sum(len(record.line.encode("utf-8")) for record in records)
