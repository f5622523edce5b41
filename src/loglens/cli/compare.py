"""`loglens compare`: what changed between two windows (of Loki, or two sets of files)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from loglens.analysis.compare import compare
from loglens.cli import options as opt
from loglens.cli.analyze import SummaryStream, live_summary, print_result
from loglens.cli.main import command, settings_from_context
from loglens.cli.render import render_diff
from loglens.config import Settings
from loglens.errors import InputError
from loglens.sources.select import OpenedSource, SourceRequest, open_source
from loglens.sources.spans import looks_like_span, parse_span

Side = Annotated[
    list[str],
    typer.Option(
        help="A window of the configured source (2h..1h, 1h..now, RFC3339..RFC3339) "
        "or log files/globs (repeat the option for several).",
        show_default=False,
    ),
]


def _open_side(values: list[str], base: SourceRequest, settings: Settings) -> OpenedSource:
    if len(values) == 1 and looks_like_span(values[0]):
        window = parse_span(values[0])
        if window.duration_ns > settings.max_window_delta.total_seconds() * 1e9:
            raise InputError(f"window {values[0]} is larger than LOGLENS_MAX_WINDOW")
        span = window.to_model()
        return open_source(replace(base, from_=span.start, to=span.end), settings)
    request = SourceRequest(paths=values, fmt=base.fmt, skip_bad=base.skip_bad)
    return open_source(request, settings)


@command("compare")
def compare_command(
    before: Side,
    after: Side,
    fmt: opt.Format = "auto",
    skip_bad: opt.SkipBad = False,
    namespace: opt.Namespace = None,
    pod: opt.Pod = None,
    container: opt.Container = None,
    node: opt.Node = None,
    selector: opt.Selector = None,
    grep: opt.Grep = None,
    grep_regex: opt.GrepRegex = None,
    json_output: opt.JsonOutput = False,
) -> None:
    """What changed: patterns new, gone, increased, decreased (as rates), and new findings."""
    settings = settings_from_context()
    base = opt.source_request(
        None, fmt=fmt, skip_bad=skip_bad, namespace=namespace, pod=pod, container=container,
        node=node, selector=selector, grep=grep, grep_regex=grep_regex,
    )  # fmt: skip
    side_before = _open_side(before, base, settings)
    side_after = _open_side(after, base, settings)
    stream = SummaryStream("what changed") if live_summary(settings, json_output) else None
    diff = compare(
        side_before.source,
        side_after.source,
        settings=settings,
        before_window=side_before.window,
        after_window=side_after.window,
        on_summary_token=stream,
    )
    print_result(diff, json_output, stream, render_diff)
