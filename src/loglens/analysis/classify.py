"""`classify(records) -> one Classification per input record`, in input order.

Records are parsed but not joined into multi-line events, so the output lines up
with the input one to one. Each record is classified on its own message; identical
(message, level) pairs are classified once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from loglens.analysis.analyze import miner_for
from loglens.config import Settings
from loglens.detect.classify import classify_message
from loglens.model import Classification, Level, LogRecord, ReadStats
from loglens.parsing.formats import parse_batch
from loglens.sources.base import LogSource
from loglens.sources.memory import RecordsSource
from loglens.sources.window import TimeWindow


def _classify_batch(
    batch: list[LogRecord], cache: dict[tuple[str, Level], tuple[str, str, str | None, str | None]]
) -> list[tuple[str, str, str | None, str | None]]:
    out = []
    for record in batch:
        text = record.message or record.line
        key = (text, record.level)
        verdict = cache.get(key)
        if verdict is None:
            result = classify_message(text, record.level, record.labels, record.attrs)
            verdict = (
                result.severity.value,
                result.category.value,
                result.component,
                result.signature.id if result.signature else None,
            )
            if len(cache) < 200_000:
                cache[key] = verdict
        out.append(verdict)
    return out


def classify(
    source: LogSource, *, settings: Settings, window: TimeWindow | None = None
) -> Iterator[Classification]:
    """Classify every record of `source` (inside `window`); patterns come from the same records."""
    # The same miner settings as `analyze`, so user masks and overrides give the same ids.
    miner = miner_for(settings, window)
    stats: ReadStats = source.stats
    cache: dict[tuple[str, Level], tuple[str, str, str | None, str | None]] = {}
    pending: list[tuple[list[int], list[tuple[str, str, str | None, str | None]]]] = []
    for batch in source.batches():
        if window is not None:
            batch = [record for record in batch if window.contains(record.ts)]
        parse_batch(batch, stats)
        groups: list[int] = []
        miner.add_batch(batch, assignments=groups)
        pending.append((groups, _classify_batch(batch, cache)))
    # Pattern ids are final only once every record was mined.
    for groups, verdicts in pending:
        for pid, (severity, category, component, signature) in zip(
            miner.pattern_ids(groups), verdicts, strict=True
        ):
            yield Classification(
                severity=severity,  # type: ignore[arg-type]
                category=category,  # type: ignore[arg-type]
                component=component,
                pattern=pid,
                signature=signature,
            )


def classify_records(records: Iterable[LogRecord], *, settings: Settings) -> list[Classification]:
    """`classify` over records in memory (golden line cases, API bodies)."""
    return list(classify(RecordsSource(records, batch_size=settings.batch_size), settings=settings))
