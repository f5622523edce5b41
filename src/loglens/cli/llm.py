"""`loglens llm check`: which model answers, with what context, and how fast.

Exit 2 (ConfigError) says what to set when no backend is configured; exit 5
(BackendError) when the server cannot be reached or the model cannot be loaded.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loglens.cli.main import app, command, settings_from_context
from loglens.llm.backend import ProbeResult, check_llm

llm_app = typer.Typer(help="The LLM backend: check what is configured.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")


@command("check", group=llm_app)
def llm_check_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the backend, model, context size and slots, and time a short test generation."""
    result = asyncio.run(check_llm(settings_from_context()))
    if json_output:
        typer.echo(orjson.dumps(asdict(result), option=orjson.OPT_INDENT_2).decode())
        return
    Console().print(_table(result))


def _table(result: ProbeResult) -> Table:
    info = result.info
    table = Table(title="loglens llm check", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("backend", info.backend)
    table.add_row("model", Text(info.model))
    table.add_row("context", f"{info.context_size} tokens ({info.context_source})")
    table.add_row("slots", str(info.slots))
    table.add_row("test generation", Text(result.text))
    table.add_row("schema-valid JSON", "yes" if result.json_valid else "[red]no[/]")
    table.add_row("tokens", f"{result.prompt_tokens} prompt, {result.completion_tokens} generated")
    table.add_row("latency", f"{result.seconds * 1000:.0f} ms")
    table.add_row("speed", f"{result.tokens_per_second:.1f} tokens/s")
    return table
