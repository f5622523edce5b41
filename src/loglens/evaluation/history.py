"""Stored evaluation runs (SQLite at `settings.eval_db`), so a run can be compared with earlier ones.

One row per run: when, which commit, backend, model and prompt version, the dataset
paths, the aggregated metrics and every per-case outcome (both as JSON).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from loglens.errors import InputError
from loglens.evaluation.results import CaseOutcome, EvalMetrics, EvalRun, Metrics

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at     TEXT NOT NULL,
    git_commit     TEXT,
    backend        TEXT NOT NULL,
    model          TEXT,
    prompt_version TEXT,
    datasets       TEXT NOT NULL,
    metrics        TEXT NOT NULL,
    outcomes       TEXT NOT NULL
)
"""
_COLUMNS = "id, started_at, git_commit, backend, model, prompt_version, datasets, metrics, outcomes"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of `loglens eval history`."""

    run_id: int
    started_at: str
    git_commit: str | None
    backend: str
    model: str | None
    datasets: list[str]
    cases: int
    passed: int
    headline: Metrics


class RunHistory:
    """The runs stored in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path)) as connection, connection:
            connection.execute(_SCHEMA)
            yield connection

    def store(self, run: EvalRun) -> EvalRun:
        """Insert `run`; returns it with its new `run_id`."""
        with self._connect() as connection:
            cursor = connection.execute(
                f"INSERT INTO runs ({_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.started_at,
                    run.git_commit,
                    run.backend,
                    run.model,
                    run.prompt_version,
                    orjson.dumps(run.datasets).decode(),
                    run.metrics.model_dump_json(),
                    orjson.dumps([o.model_dump(mode="json") for o in run.outcomes]).decode(),
                ),
            )
            run_id = cursor.lastrowid
        return run.model_copy(update={"run_id": run_id})

    def get(self, run_id: int) -> EvalRun:
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise InputError(
                f"no stored evaluation run {run_id}", hint="`loglens eval history` lists the runs"
            )
        return _run_from_row(row)

    def last(self, *, backend: str | None = None) -> EvalRun | None:
        """The most recent run (of `backend`, when given), or None."""
        query = f"SELECT {_COLUMNS} FROM runs"
        params: tuple[str, ...] = ()
        if backend is not None:
            query += " WHERE backend = ?"
            params = (backend,)
        with self._connect() as connection:
            row = connection.execute(query + " ORDER BY id DESC LIMIT 1", params).fetchone()
        return None if row is None else _run_from_row(row)

    def resolve(self, ref: str, *, backend: str) -> EvalRun:
        """`last` (the latest run of the same backend) or a run id, as given to `--baseline`."""
        if ref == "last":
            run = self.last(backend=backend)
            if run is None:
                raise InputError(
                    f"--baseline last: no stored run of backend {backend!r} yet",
                    hint="run `loglens eval` once without --no-store first",
                )
            return run
        if not ref.isdigit():
            raise InputError(f"--baseline {ref!r} is neither 'last' nor a run id")
        return self.get(int(ref))

    def summaries(self, limit: int = 20) -> list[RunSummary]:
        """The latest `limit` runs, newest first."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT id, started_at, git_commit, backend, model, datasets, metrics FROM runs"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_summary_from_row(row) for row in rows]


def _run_from_row(row: tuple[object, ...]) -> EvalRun:
    run_id, started_at, commit, backend, model, prompt_version, datasets, metrics, outcomes = row
    return EvalRun(
        run_id=int(str(run_id)),
        started_at=str(started_at),
        git_commit=None if commit is None else str(commit),
        backend=str(backend),
        model=None if model is None else str(model),
        prompt_version=None if prompt_version is None else str(prompt_version),
        datasets=orjson.loads(str(datasets)),
        metrics=EvalMetrics.model_validate_json(str(metrics)),
        outcomes=[CaseOutcome.model_validate(o) for o in orjson.loads(str(outcomes))],
    )


def _summary_from_row(row: tuple[object, ...]) -> RunSummary:
    run_id, started_at, commit, backend, model, datasets, metrics_json = row
    metrics = EvalMetrics.model_validate_json(str(metrics_json))
    return RunSummary(
        run_id=int(str(run_id)),
        started_at=str(started_at),
        git_commit=None if commit is None else str(commit),
        backend=str(backend),
        model=None if model is None else str(model),
        datasets=orjson.loads(str(datasets)),
        cases=metrics.cases,
        passed=metrics.passed,
        headline=metrics.headline,
    )
