"""`loglens patterns`: the templates of a window, with counts, levels and a sparkline."""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from loglens.analysis.analyze import miner_for
from loglens.analysis.history import PatternHistory
from loglens.analysis.pipeline import Progress, StageTimer, WindowCounters, read_window
from loglens.cli import options as opt
from loglens.cli.main import command, settings_from_context
from loglens.cli.progress import read_progress
from loglens.patterns.render import render_patterns
from loglens.sources.select import open_source

Assignments = Annotated[
    Path | None,
    typer.Option(
        "--assignments",
        help="Also write one JSON object per input line, in input order: "
        '{"pattern": "p-…", "template": "…"} (multi-line events are not joined then).',
    ),
]
Limit = Annotated[int, typer.Option("--limit", min=1, help="Patterns to show in the table.")]


@command("patterns")
def patterns_command(
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
    assignments: Assignments = None,
    limit: Limit = 50,
    json_output: opt.JsonOutput = False,
) -> None:
    """Collapse a window of logs into patterns. With --format plain each line is one message."""
    settings = settings_from_context()
    request = opt.source_request(
        paths, fmt=fmt, skip_bad=skip_bad, since=since, from_=from_, to=to,
        namespace=namespace, pod=pod, container=container, node=node, selector=selector,
        grep=grep, grep_regex=grep_regex,
    )  # fmt: skip
    opened = open_source(request, settings)
    source, window = opened.source, opened.window
    miner = miner_for(settings, window)
    groups: array[int] = array("I")
    counters = WindowCounters()
    raw_messages = fmt == "plain"
    with read_progress("patterns") as progress:
        batches = (
            source.batches()
            if raw_messages
            else read_window(
                source, StageTimer(), window=window, counters=counters, multiline=not assignments
            )
        )
        for batch in batches:
            if raw_messages:
                miner.add_messages((record.line for record in batch), assignments=groups)
            else:
                miner.add_batch(batch, assignments=groups if assignments else None)
            stats = source.stats
            progress(Progress("patterns", stats.lines, stats.bytes, miner.group_count))
    pattern_set = miner.pattern_set()
    start = window.start_ns if window else counters.first_ts
    end = window.end_ns if window else (counters.last_ts + 1 if counters.last_ts else None)
    if settings.record_history and start is not None and end is not None and not raw_messages:
        history = PatternHistory.open(settings)
        info = source.describe()
        history.record(pattern_set, start, end, f"{info.kind}:{info.detail}")
        history.close()
    if assignments is not None:
        templates = {p.id: p.template for p in pattern_set.patterns}
        with assignments.open("wb") as out:
            for pid in miner.pattern_ids(groups):
                out.write(
                    orjson.dumps({"pattern": pid, "template": templates[pattern_set.resolve(pid)]})
                )
                out.write(b"\n")
    patterns = pattern_set.to_pattern_out(window_start_ns=start, window_end_ns=end)
    if json_output:
        typer.echo(
            orjson.dumps([p.model_dump() for p in patterns], option=orjson.OPT_INDENT_2).decode()
        )
    else:
        render_patterns(patterns, Console(), limit=limit)
