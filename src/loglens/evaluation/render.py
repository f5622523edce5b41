"""Rich tables for `loglens eval`: metrics per kind and tag, confusion matrices, cases, drift."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loglens.evaluation.drift import DriftReport
from loglens.evaluation.history import RunSummary
from loglens.evaluation.results import (
    FIGURE_METRICS,
    METRIC_NAMES,
    EvalRun,
    Metrics,
)

# Columns of the per-tag table (the rest is in the JSON).
TAG_COLUMNS: tuple[str, ...] = (
    "pass_rate",
    "severity_accuracy",
    "category_accuracy",
    "top1",
    "recall_at_3",
    "compare_recall",
    "line_severity_accuracy",
    "false_alarm_rate",
)


def fmt_value(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if name in FIGURE_METRICS else f"{value:.3f}"


def render_run(console: Console, run: EvalRun) -> None:
    metrics = run.metrics
    kinds = ", ".join(f"{count} {kind}" for kind, count in metrics.cases_by_kind.items())
    stored = f"run {run.run_id}" if run.run_id is not None else "not stored"
    console.print(
        f"[bold]loglens eval[/] {stored} · backend {run.backend}"
        f"{f' · model {run.model}' if run.model else ''} · commit {(run.git_commit or '?')[:12]}"
        f" · {metrics.cases} cases ({kinds}) · {metrics.passed} passed",
        highlight=False,
    )
    console.print(_metrics_table(run))
    if run.retrieval:
        console.print(f"[dim]{escape(run.retrieval)}[/]")
    if metrics.by_tag:
        console.print(_tag_table(metrics.by_tag))
    for name, matrix in metrics.confusion.items():
        if any(any(row.values()) for row in matrix.values()):
            console.print(_confusion_table(name, matrix))
    console.print(_cases_table(run))


def _metrics_table(run: EvalRun) -> Table:
    kinds = list(run.metrics.by_kind)
    table = Table(title="metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("all", justify="right")
    for kind in kinds:
        table.add_column(kind, justify="right")
    for name in METRIC_NAMES:
        row = [fmt_value(name, run.metrics.headline[name])]
        row += [fmt_value(name, run.metrics.by_kind[kind].get(name)) for kind in kinds]
        table.add_row(name, *row)
    return table


def _tag_table(by_tag: dict[str, Metrics]) -> Table:
    columns = [c for c in TAG_COLUMNS if any(m.get(c) is not None for m in by_tag.values())]
    table = Table(title="per tag", title_justify="left")
    table.add_column("tag")
    for column in columns:
        table.add_column(column, justify="right")
    for tag, metrics in by_tag.items():
        table.add_row(tag, *(fmt_value(c, metrics.get(c)) for c in columns))
    return table


def _confusion_table(name: str, matrix: dict[str, dict[str, int]]) -> Table:
    labels = list(matrix)
    table = Table(title=f"severity confusion ({name}): expected ↓ got →", title_justify="left")
    table.add_column("expected")
    for label in labels:
        table.add_column(label, justify="right")
    for expected, row in matrix.items():
        if any(row.values()):
            table.add_row(expected, *(str(row[label]) if row[label] else "·" for label in labels))
    return table


def _cases_table(run: EvalRun) -> Table:
    table = Table(title="cases", title_justify="left")
    for column in ("", "kind", "case", "ms", "expected", "got"):
        table.add_column(column, overflow="fold")
    for case in run.outcomes:
        status = "[green]PASS[/]" if case.passed else "[red]FAIL[/]"
        got = f"[red]{case.error}[/]" if case.error else case.got
        latency = fmt_value("latency_p50_ms", case.latency_ms)
        table.add_row(status, case.kind, case.id, latency, case.expected, got)
    return table


def render_drift(console: Console, drift: DriftReport) -> None:
    table = Table(title=f"compared with run {drift.baseline_run_id}", title_justify="left")
    for column in ("metric", "baseline", "now", "delta", "allowed", ""):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for delta in drift.metrics:
        if delta.baseline is None and delta.current is None:
            continue
        mark = "[red]REGRESSED[/]" if delta.regressed else ""
        change = "–" if delta.delta is None else f"{delta.delta:+.3f}"
        table.add_row(
            delta.name,
            fmt_value(delta.name, delta.baseline),
            fmt_value(delta.name, delta.current),
            change,
            f"{delta.allowed:g}",
            mark,
        )
    console.print(table)
    console.print(
        f"{drift.paired_cases} paired cases · pass→fail {len(drift.pass_to_fail)} · "
        f"fail→pass {len(drift.fail_to_pass)} · McNemar exact p = {drift.mcnemar_p:.3g}",
        highlight=False,
    )
    for label, cases in (("pass→fail", drift.pass_to_fail), ("fail→pass", drift.fail_to_pass)):
        if cases:
            console.print(f"  {label}: {', '.join(cases)}", highlight=False)


def render_history(console: Console, summaries: Sequence[RunSummary]) -> None:
    table = Table(title="stored evaluation runs", title_justify="left")
    for column in ("run", "started", "backend", "model", "commit", "cases", "passed", "top1"):
        table.add_column(column)
    table.add_column("datasets", overflow="fold")
    for run in summaries:
        table.add_row(
            str(run.run_id),
            run.started_at,
            run.backend,
            run.model or "",
            (run.git_commit or "")[:12],
            str(run.cases),
            str(run.passed),
            fmt_value("top1", run.headline.get("top1")),
            ", ".join(run.datasets),
        )
    console.print(table)
