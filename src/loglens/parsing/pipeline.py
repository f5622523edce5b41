"""The parse stage as one call: per-line parsing, then multi-line joining, batch by batch.

`parsed_batches` is what every reader of logs (analyze, patterns, classify, the API,
the benchmarks) runs over a source's batches. Formats and levels are counted after
joining, so a 30-line traceback counts as one error event, not 30 plain lines;
`stats.lines` (set by the source) still counts the records read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from loglens.model import Batch, ReadStats
from loglens.parsing.formats import count_formats_and_levels, parse_batch
from loglens.parsing.multiline import MultilineJoiner


def parsed_batches(
    batches: Iterable[Batch], stats: ReadStats, *, multiline: bool = True
) -> Iterator[Batch]:
    """Parse each batch in place and, with `multiline`, fold continuation lines into events."""
    if not multiline:
        for batch in batches:
            parse_batch(batch, stats)
            yield batch
        return
    joiner = MultilineJoiner()
    for batch in batches:
        parse_batch(batch)
        joined = joiner.feed(batch)
        if joined:
            count_formats_and_levels(joined, stats)
            yield joined
    rest = joiner.flush()
    if rest:
        count_formats_and_levels(rest, stats)
        yield rest
