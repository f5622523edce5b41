"""`loglens config`: print the effective settings."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loglens import native
from loglens.cli.main import command, settings_from_context


@command("config")
def config_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings (environment, .env, defaults) with secrets masked."""
    values = settings_from_context().masked()
    # Not a setting read by Settings (it is decided when loglens is imported), but shown here.
    values["native"] = native.state().describe()
    if json_output:
        typer.echo(orjson.dumps(values, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title="loglens settings", show_header=True)
    table.add_column("setting")
    table.add_column("value")
    for name, value in values.items():
        table.add_row(f"LOGLENS_{name.upper()}", Text("" if value is None else str(value)))
    Console().print(table)
