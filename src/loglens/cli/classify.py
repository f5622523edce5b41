"""`loglens classify`: severity, category, component and pattern of every record."""

from __future__ import annotations

from collections import Counter

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loglens.analysis.classify import classify
from loglens.cli import options as opt
from loglens.cli.main import command, settings_from_context
from loglens.sources.select import open_source


@command("classify")
def classify_command(
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
    json_output: opt.JsonOutput = False,
) -> None:
    """Classify each record on its own: one JSON object per input record, in input order."""
    settings = settings_from_context()
    request = opt.source_request(
        paths, fmt=fmt, skip_bad=skip_bad, since=since, from_=from_, to=to,
        namespace=namespace, pod=pod, container=container, node=node, selector=selector,
    )  # fmt: skip
    opened = open_source(request, settings)
    results = classify(opened.source, settings=settings, window=opened.window)
    if json_output:
        for result in results:
            typer.echo(result.model_dump_json())
        return
    counts: Counter[tuple[str, str, str]] = Counter(
        (str(r.severity), str(r.category), r.component or "-") for r in results
    )
    table = Table(title="Records by severity, category and component")
    for column in ("severity", "category", "component"):
        table.add_column(column)
    table.add_column("records", justify="right")
    for (severity, category, component), count in counts.most_common():
        table.add_row(severity, category, Text(component), f"{count:,}")
    Console().print(table)
