"""`loglens demo`: generate the demo cluster's logs and analyse them (no cluster needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from loglens.analysis.analyze import analyze
from loglens.cli import options as opt
from loglens.cli.analyze import print_report, progress_and_summary
from loglens.cli.main import command, err_console, settings_from_context
from loglens.errors import InputError
from loglens.sources.demo import DemoSource, write_jsonl, write_plain

Lines = Annotated[int, typer.Option("--lines", min=1, help="Lines to generate (up to 10 million).")]
Seed = Annotated[
    int, typer.Option("--seed", help="Random seed: the same seed gives the same logs.")
]
Write = Annotated[
    Path | None,
    typer.Option(
        "--write",
        help="Write the generated logs to this file instead of analysing them "
        "(.jsonl records, anything else plain lines).",
    ),
]

MAX_DEMO_LINES = 10_000_000


@command("demo")
def demo_command(
    lines: Lines = 20_000,
    seed: Seed = 42,
    write: Write = None,
    json_output: opt.JsonOutput = False,
) -> None:
    """Generate a seeded two-node homelab cluster's logs with incidents, then analyse them."""
    if lines > MAX_DEMO_LINES:
        raise InputError(f"--lines {lines:,} is more than the demo's {MAX_DEMO_LINES:,}")
    if write is not None:
        writer = write_jsonl if write.suffix in (".jsonl", ".json") else write_plain
        count = writer(write, lines=lines, seed=seed)
        err_console.print(f"wrote {count:,} lines to {escape(str(write))}")
        return
    settings = settings_from_context()
    source = DemoSource(lines=lines, seed=seed, batch_size=settings.batch_size)
    with progress_and_summary("demo", settings, json_output) as (progress, stream):
        report = analyze(source, settings=settings, progress=progress, on_summary_token=stream)
    print_report(report, json_output, stream)
