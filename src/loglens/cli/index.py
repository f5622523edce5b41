"""`loglens index`: record a window's patterns and findings in the vector store.

Once, over files or a Loki window (the same source options as `analyze`), or with
`--follow` from Loki every `--every` (an indexer Deployment): each tick indexes the last
`--every` of logs; a failing tick is reported and the next one tries again; Ctrl-C stops
it (closing the store), possibly in the middle of a tick's writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from loglens.cli import options as opt
from loglens.cli.main import command, err_console, settings_from_context
from loglens.cli.progress import read_progress
from loglens.config import Settings, parse_duration
from loglens.errors import ConfigError, InputError, LogLensError
from loglens.retrieval.indexer import (
    IndexFigures,
    RetrievalContext,
    follow,
    index_source,
    open_retrieval,
)
from loglens.sources.base import LogSource
from loglens.sources.select import SourceRequest, loki_source_for, open_source
from loglens.sources.window import TimeWindow

log = logging.getLogger(__name__)

Follow = Annotated[
    bool, typer.Option("--follow", help="Keep indexing from Loki every --every (Ctrl-C stops).")
]
Every = Annotated[str, typer.Option("--every", help="With --follow: the tick and window, e.g. 5m.")]
Ticks = Annotated[
    int | None,
    typer.Option("--ticks", min=1, help="With --follow: stop after this many ticks."),
]


@command("index")
def index_command(
    paths: opt.Paths = None,
    fmt: opt.Format = "auto",
    skip_bad: opt.SkipBad = False,
    since: opt.Since = None,
    from_: opt.From = None,
    to: opt.To = None,
    namespace: opt.Namespace = None,
    pod: opt.Pod = None,
    container: opt.Container = None,
    node: opt.Node = None,
    selector: opt.Selector = None,
    grep: opt.Grep = None,
    grep_regex: opt.GrepRegex = None,
    follow_loki: Follow = False,
    every: Every = "5m",
    ticks: Ticks = None,
    json_output: opt.JsonOutput = False,
) -> None:
    """Record a window's patterns and findings (and the knowledge base) for search and ask."""
    settings = settings_from_context()
    request = opt.source_request(
        paths, fmt=fmt, skip_bad=skip_bad, since=since, from_=from_, to=to,
        namespace=namespace, pod=pod, container=container, node=node, selector=selector,
        grep=grep, grep_regex=grep_regex,
    )  # fmt: skip
    if follow_loki:
        _check_follow(request, settings)
    with open_context(settings) as context:
        if follow_loki:
            every_s = parse_duration(every).total_seconds()
            _follow(
                context, request, settings, every_s=every_s, ticks=ticks, json_output=json_output
            )
            return
        opened = open_source(request, settings)
        with read_progress("index") as progress:
            figures = index_source(
                context, opened.source, settings=settings, window=opened.window, progress=progress
            )
        print_figures(figures, json_output=json_output)


@contextmanager
def open_context(settings: Settings) -> Iterator[RetrievalContext]:
    """The retrieval context, with a status line while knowledge is (re)indexed."""
    if settings.retrieval == "off":
        raise ConfigError(
            "retrieval is off (LOGLENS_RETRIEVAL=off)", hint="set LOGLENS_RETRIEVAL=auto to index"
        )
    with err_console.status("opening the vector store and syncing knowledge…"):
        context = open_retrieval(settings)
    try:
        yield context
    finally:
        context.close()


def _check_follow(request: SourceRequest, settings: Settings) -> None:
    if request.paths:
        raise InputError("--follow reads from Loki, not files", hint="leave out the file paths")
    if request.since or request.from_ or request.to:
        raise InputError(
            "--follow windows are set by --every", hint="leave out --since/--from/--to"
        )
    if not settings.loki_url:
        raise ConfigError("--follow needs Loki", hint="set LOGLENS_LOKI_URL")


def _follow(
    context: RetrievalContext,
    request: SourceRequest,
    settings: Settings,
    *,
    every_s: float,
    ticks: int | None,
    json_output: bool,
) -> None:

    def open_window(window: TimeWindow) -> LogSource:
        return loki_source_for(request, settings, window)

    def on_tick(tick: int, result: IndexFigures | LogLensError) -> None:
        if isinstance(result, LogLensError):
            log.warning("index tick %d failed: %s", tick, result)
            err_console.print(
                f"[yellow]tick {tick} failed, retrying next tick:[/] {escape(str(result))}"
            )
        elif json_output:
            typer.echo(result.model_dump_json())
        else:
            err_console.print(f"tick {tick}: {escape(_summary(result))}", highlight=False)

    done = 0
    try:
        done = follow(
            context,
            open_window,
            settings=settings,
            every_s=every_s,
            max_iterations=ticks,
            on_tick=on_tick,
        )
    except KeyboardInterrupt:
        err_console.print("[bold]stopped[/] (Ctrl-C)")
        return
    err_console.print(f"{done} of {ticks} ticks indexed")


def _summary(figures: IndexFigures) -> str:
    return (
        f"{figures.patterns:,} patterns, {figures.incidents:,} incidents, "
        f"{figures.knowledge_indexed:,} knowledge chunks indexed in {figures.seconds:.1f} s"
    )


def print_figures(figures: IndexFigures, *, json_output: bool) -> None:
    if json_output:
        typer.echo(figures.model_dump_json(indent=2))
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    window = figures.window
    table.add_row("store", Text(figures.store))
    table.add_row("embedder", Text(figures.embedder))
    if window is not None:
        table.add_row("window", f"{window.start or '?'} → {window.end or '?'}")
    table.add_row("patterns", f"{figures.patterns:,}")
    table.add_row("incidents", f"{figures.incidents:,}")
    table.add_row(
        "knowledge",
        f"{figures.documents:,} documents, {figures.chunks:,} chunks "
        f"({figures.tokens_mean:.0f} tokens mean, {figures.tokens_max} max), "
        f"{figures.knowledge_indexed:,} indexed now, {figures.knowledge_removed:,} stale "
        f"removed, {figures.duplicates_skipped:,} duplicates skipped",
    )
    table.add_row("time", f"{figures.seconds:.2f} s")
    Console().print(table)
