"""`loglens analyze`: read a window, build the report, print it.

With an LLM configured and no `--json`, the summary is printed live as the model
writes it (the progress line is cleared first); the report that follows then
leaves it out, unless the written summary was not kept.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

import typer
from rich.console import Console

from loglens.analysis.analyze import analyze
from loglens.analysis.history import PatternHistory
from loglens.analysis.pipeline import ProgressCallback
from loglens.cli import options as opt
from loglens.cli.main import command, settings_from_context
from loglens.cli.progress import read_progress
from loglens.cli.render import render_report
from loglens.config import Settings
from loglens.llm.backend import chosen_backend
from loglens.model import Diff, Report
from loglens.sources.select import open_source


class SummaryStream:
    """Prints summary pieces to stdout as they arrive; remembers what it printed."""

    def __init__(self, title: str, before_first: Callable[[], None] | None = None) -> None:
        self.title = title
        self._before_first = before_first
        self._pieces: list[str] = []

    def __call__(self, piece: str) -> None:
        if not self._pieces:
            if self._before_first is not None:
                self._before_first()
            Console().print(f"[bold]{self.title}[/] [dim](written by the model)[/]")
        self._pieces.append(piece)
        sys.stdout.write(piece)
        sys.stdout.flush()

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def finish(self) -> None:
        if self._pieces:
            sys.stdout.write("\n\n")
            sys.stdout.flush()

    def showed(self, summary: str | None) -> bool:
        """True when `summary` is what was printed live (so it need not be shown again)."""
        return bool(self._pieces) and summary is not None and summary == self.text.strip()


Shown = TypeVar("Shown", Report, Diff)


def live_summary(settings: Settings, json_output: bool) -> bool:
    """Whether an LLM-written summary is printed live as it streams."""
    return not json_output and chosen_backend(settings) != "none"


def print_result(
    result: Shown,
    json_output: bool,
    stream: SummaryStream | None,
    render: Callable[[Shown, Console], None],
) -> None:
    """JSON, or `render` without the summary when `stream` already printed it live."""
    if json_output:
        typer.echo(result.model_dump_json(indent=2))
        return
    if stream is not None:
        stream.finish()
        if stream.showed(result.summary):
            result = result.model_copy(update={"summary": None})
    render(result, Console())


def print_report(report: Report, json_output: bool, stream: SummaryStream | None = None) -> None:
    print_result(report, json_output, stream, render_report)


@contextmanager
def progress_and_summary(
    description: str, settings: Settings, json_output: bool
) -> Iterator[tuple[ProgressCallback, SummaryStream | None]]:
    """The progress line, and a live summary printer when an LLM will write one.

    The printer closes the progress line before its first piece, so the two never
    share the terminal.
    """
    with ExitStack() as stack:
        progress = stack.enter_context(read_progress(description))
        live = live_summary(settings, json_output)
        yield progress, SummaryStream("summary", before_first=stack.close) if live else None


@command("analyze")
def analyze_command(
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
    json_output: opt.JsonOutput = False,
) -> None:
    """Find what is wrong in a window of logs: patterns, ranked findings, evidence."""
    settings = settings_from_context()
    request = opt.source_request(
        paths, fmt=fmt, skip_bad=skip_bad, since=since, from_=from_, to=to,
        namespace=namespace, pod=pod, container=container, node=node, selector=selector,
        grep=grep, grep_regex=grep_regex,
    )  # fmt: skip
    opened = open_source(request, settings)
    history = PatternHistory.open(settings) if settings.record_history else None
    try:
        with progress_and_summary("analyze", settings, json_output) as (progress, stream):
            report = analyze(
                opened.source,
                settings=settings,
                window=opened.window,
                progress=progress,
                history=history,
                on_summary_token=stream,
            )
    finally:
        if history is not None:
            history.close()
    print_report(report, json_output, stream)
