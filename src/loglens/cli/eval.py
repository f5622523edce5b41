"""`loglens eval [DATASET…]` and `loglens eval history`: score golden datasets, track runs.

`eval` is a group whose default command is `run`: any first argument that is not a
sub-command name (a dataset path, an option) is handed to `run`, so
`loglens eval eval/golden --json` and `loglens eval run eval/golden --json` are one
command. Exit code 3 when a metric regresses against `--baseline`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from loglens.cli.main import app, command, err_console, settings_from_context
from loglens.errors import InputError
from loglens.evaluation.drift import DriftReport, DriftThresholds, compare_runs
from loglens.evaluation.export import export_otel, write_prom_textfile
from loglens.evaluation.history import RunHistory
from loglens.evaluation.render import render_drift, render_history, render_run
from loglens.evaluation.results import EvalRun
from loglens.evaluation.runner import EvalProgress, run_eval

DEFAULT_DATASET = Path("eval/golden")
REGRESSION_EXIT_CODE = 3


class _RunByDefault(TyperGroup):
    """A group that treats anything but a sub-command name as arguments of `run`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_RunByDefault,
    help="Score golden datasets (default eval/golden); `loglens eval history` lists runs.",
    add_completion=False,
)
app.add_typer(eval_app, name="eval")


@command("run", group=eval_app)
def eval_run_command(
    datasets: Annotated[
        list[Path] | None,
        typer.Argument(help="Golden dataset folders (default: eval/golden).", show_default=False),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    backend: Annotated[str, typer.Option(help="rules, or llm (needs LOGLENS_LLM_*).")] = "rules",
    baseline: Annotated[
        str | None, typer.Option(help="Compare with a stored run: 'last' or a run id.")
    ] = None,
    prom_textfile: Annotated[
        Path | None, typer.Option(help="Also write a Prometheus textfile (node-exporter).")
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not store the run.")] = False,
) -> None:
    """Run golden cases through loglens and report accuracy, recall and latency.

    `loglens eval history` lists stored runs. Exit code 3 when a metric regresses
    beyond its threshold against --baseline.
    """
    settings = settings_from_context()
    paths = datasets or [_default_dataset()]
    history = RunHistory(settings.eval_db)
    before = history.resolve(baseline, backend=backend) if baseline else None
    with _progress_bar(enabled=not json_output) as advance:
        run = run_eval(paths, settings=settings, backend=backend, progress=advance)
    if not no_store:
        run = history.store(run)
    drift = compare_runs(before, run, DriftThresholds()) if before is not None else None
    if prom_textfile is not None:
        write_prom_textfile(run, prom_textfile)
    export_otel(run)
    _print(run, drift, json_output=json_output)
    if drift is not None and drift.regressions:
        err_console.print(f"[bold red]regressed:[/] {', '.join(drift.regressions)}")
        raise typer.Exit(REGRESSION_EXIT_CODE)


@command("history", group=eval_app)
def eval_history_command(
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List stored evaluation runs, newest first."""
    summaries = RunHistory(settings_from_context().eval_db).summaries(limit)
    if json_output:
        typer.echo(orjson.dumps(summaries, option=orjson.OPT_INDENT_2).decode())
        return
    render_history(Console(), summaries)


def _default_dataset() -> Path:
    if not DEFAULT_DATASET.is_dir():
        raise InputError(
            f"no dataset given and {DEFAULT_DATASET}/ does not exist in {Path.cwd()}",
            hint="pass a golden dataset folder, or run from the repository root",
        )
    return DEFAULT_DATASET


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[EvalProgress]:
    """A Rich progress bar on stderr; yields the callback `run_eval` calls after each case."""
    progress = Progress(
        TextColumn("eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not enabled,
    )
    task = progress.add_task("", total=None)

    def advance(done: int, total: int, case_id: str) -> None:
        progress.update(task, completed=done, total=total, description=case_id)

    with progress:
        yield advance


def _print(run: EvalRun, drift: DriftReport | None, *, json_output: bool) -> None:
    if json_output:
        payload = run.model_dump(mode="json")
        payload["drift"] = None if drift is None else drift.model_dump(mode="json")
        typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    render_run(console, run)
    if drift is not None:
        render_drift(console, drift)
