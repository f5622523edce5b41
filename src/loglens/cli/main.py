"""The `loglens` command: a thin Typer layer over the library.

Each command parses its options, calls one library function and renders the
result (Rich for people, JSON for machines). Errors derived from `LogLensError`
become one red line on stderr and the error's exit code.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from loglens import __version__
from loglens.config import Settings, load_settings
from loglens.errors import LogLensError

app = typer.Typer(
    name="loglens",
    help="Log intelligence for small Kubernetes clusters: patterns, findings, what changed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"loglens {__version__}")
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
]


@app.callback()
def main(version: VersionOption = False) -> None:
    """loglens: collapse a window of logs into patterns, find what is wrong and explain it."""


def settings_from_context() -> Settings:
    """Settings are built once per process invocation, when a command first needs them."""
    return load_settings()


def command(
    name: str | None = None, *, group: typer.Typer | None = None, **kwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command on the app (or a sub-group) and give it a `--version` option.

    Usage in a `loglens.cli.*` module::

        @command("patterns")
        def patterns_command(...) -> None: ...
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(func, include_extras=True)
        signature = inspect.signature(func)
        version_param = inspect.Parameter(
            "version", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=VersionOption
        )

        @functools.wraps(func)
        def wrapper(*args: Any, version: bool = False, **kw: Any) -> Any:
            return func(*args, **kw)

        params = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
        ]
        wrapper.__signature__ = signature.replace(parameters=[*params, version_param])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {**hints, "version": VersionOption}
        (group or app).command(name=name, **kwargs)(wrapper)
        return func

    return decorate


def _load_commands() -> None:
    # Each module registers its commands on import; keep this list in one place.
    from loglens.cli import commands  # noqa: F401


def run() -> None:
    """Console-script entry point."""
    _load_commands()
    try:
        app(standalone_mode=False)
    except LogLensError as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("[red]aborted[/]")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/]")
        sys.exit(130)
    except typer.exceptions.TyperException as exc:  # usage errors, in non-standalone mode
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(int(getattr(exc, "exit_code", 2)))
