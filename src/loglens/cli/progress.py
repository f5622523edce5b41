"""A Rich progress display for long reads, shown on stderr only when it is a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from loglens.analysis.pipeline import Progress, ProgressCallback


@contextmanager
def read_progress(description: str = "reading") -> Iterator[ProgressCallback]:
    """Yield a callback that updates a live line: lines read, MB, patterns so far."""
    console = Console(stderr=True)
    display = RichProgress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with display:
        task = display.add_task(description, total=None, detail="")

        def update(progress: Progress) -> None:
            detail = f"{progress.lines:,} lines  {progress.bytes / 1e6:,.1f} MB"
            if progress.patterns:
                detail += f"  {progress.patterns:,} patterns"
            display.update(task, description=progress.stage, detail=detail)

        yield update
