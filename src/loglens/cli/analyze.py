"""`loglens analyze`: read a window, build the report, print it."""

from __future__ import annotations

import typer
from rich.console import Console

from loglens.analysis.analyze import analyze
from loglens.analysis.history import PatternHistory
from loglens.cli import options as opt
from loglens.cli.main import command, settings_from_context
from loglens.cli.progress import read_progress
from loglens.cli.render import render_report
from loglens.model import Report
from loglens.sources.select import open_source


def print_report(report: Report, json_output: bool) -> None:
    if json_output:
        typer.echo(report.model_dump_json(indent=2))
    else:
        render_report(report, Console())


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
        with read_progress("analyze") as progress:
            report = analyze(
                opened.source,
                settings=settings,
                window=opened.window,
                progress=progress,
                history=history,
            )
    finally:
        if history is not None:
            history.close()
    print_report(report, json_output)
