"""Rich table for `loglens patterns`: template, count, level and a sparkline of the buckets."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loglens.model import PatternOut

_BARS = " ▁▂▃▄▅▆▇█"
_LEVEL_STYLE = {"fatal": "bold red", "error": "red", "warn": "yellow", "info": "green"}


def sparkline(counts: Sequence[int], width: int = 30) -> str:
    """Counts as block characters, squeezed to at most `width` characters by summing."""
    if not counts:
        return ""
    step = max(1, -(-len(counts) // width))
    sums = [sum(counts[i : i + step]) for i in range(0, len(counts), step)]
    peak = max(sums)
    if peak == 0:
        return _BARS[0] * len(sums)
    return "".join(_BARS[0 if s == 0 else max(1, round(s / peak * 8))] for s in sums)


def patterns_table(patterns: Sequence[PatternOut], *, limit: int | None = 50) -> Table:
    """The table of patterns, most frequent first as given."""
    shown = patterns[:limit] if limit is not None else patterns
    table = Table(title=f"Patterns ({len(shown):,} of {len(patterns):,})", expand=True)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("over time", no_wrap=True)
    table.add_column("template", ratio=1, overflow="fold")
    table.add_column("id", no_wrap=True, style="dim")
    for pattern in shown:
        table.add_row(
            f"{pattern.count:,}",
            Text(pattern.level, style=_LEVEL_STYLE.get(pattern.level, "dim")),
            sparkline(pattern.buckets),
            Text(pattern.template),
            pattern.id,
        )
    return table


def render_patterns(
    patterns: Sequence[PatternOut], console: Console, *, limit: int | None = 50
) -> None:
    """Print the patterns table to `console`."""
    console.print(patterns_table(patterns, limit=limit))
