"""A source over records already in memory (golden cases, API requests, tests)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from loglens.model import Batch, LogRecord, ReadStats, SourceInfo


class RecordsSource:
    """Yield the given records in batches, counting lines and bytes as a file source would."""

    def __init__(
        self,
        records: Iterable[LogRecord],
        *,
        info: SourceInfo | None = None,
        batch_size: int = 4096,
    ) -> None:
        self._records = records
        self._info = info or SourceInfo(kind="inline", detail="records")
        self._batch_size = batch_size
        self.stats = ReadStats()

    def describe(self) -> SourceInfo:
        return self._info

    def batches(self) -> Iterator[Batch]:
        """Fresh raw records (ts, labels, line), as a file source reads them.

        Parsing and multi-line joining fill in and rewrite the records they are given, so
        handing out the caller's own objects would change its data: analysing the same
        list twice would join tracebacks twice.
        """
        iterator = iter(self._records)
        while chunk := list(islice(iterator, self._batch_size)):
            batch = [LogRecord(record.ts, record.labels, record.line) for record in chunk]
            self.stats.lines += len(batch)
            self.stats.bytes += sum(len(record.line) + 1 for record in batch)
            yield batch
