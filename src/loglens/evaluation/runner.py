"""Run golden datasets through the same library calls as the CLI and score every case.

`run_eval` loads each dataset, hands each case to an `Analyzer` (by default the
real `loglens.analysis` functions; tests inject a fake), times the call, scores the
result with `loglens.evaluation.metrics` and returns an `EvalRun`.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from loglens.config import Settings
from loglens.errors import ConfigError, InputError, LogLensError
from loglens.evaluation.golden import AnalyzeCase, CompareCase, GoldenCase, LineCase, load_dataset
from loglens.evaluation.metrics import (
    aggregate,
    analyze_case_scores,
    compare_case_scores,
    line_case_scores,
    llm_case_scores,
)
from loglens.evaluation.results import CaseOutcome, CaseScore, EvalRun
from loglens.evaluation.retrieval_eval import RetrievalScope
from loglens.llm.backend import chosen_backend, describe_missing_backend
from loglens.model import (
    Classification,
    Diff,
    DiffSide,
    LlmInfo,
    LogRecord,
    Report,
    SourceInfo,
    Stats,
    Window,
)
from loglens.sources.window import TimeWindow

Backend = Literal["rules", "llm"]
BACKENDS: tuple[Backend, ...] = ("rules", "llm")
# Called after each case: (cases done, cases in all, id of the case just scored).
EvalProgress = Callable[[int, int, str], None]


class Analyzer(Protocol):
    """The three library calls a golden case needs."""

    def analyze(self, records: list[LogRecord], *, window: TimeWindow | None) -> Report: ...

    def compare(
        self,
        before: list[LogRecord],
        after: list[LogRecord],
        *,
        before_window: TimeWindow | None,
        after_window: TimeWindow | None,
    ) -> Diff: ...

    def classify(self, records: list[LogRecord]) -> list[Classification]: ...


class LibraryAnalyzer:
    """`Analyzer` over `loglens.analysis.analyze_records`, `compare_records`, `classify_records`.

    The analysis stack is imported on first use, so the runner stays usable (and cheap
    to import) with an injected analyzer.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def analyze(self, records: list[LogRecord], *, window: TimeWindow | None) -> Report:
        from loglens.analysis import analyze_records

        return analyze_records(records, settings=self.settings, window=window)

    def compare(
        self,
        before: list[LogRecord],
        after: list[LogRecord],
        *,
        before_window: TimeWindow | None,
        after_window: TimeWindow | None,
    ) -> Diff:
        from loglens.analysis import compare_records

        return compare_records(
            before,
            after,
            settings=self.settings,
            before_window=before_window,
            after_window=after_window,
        )

    def classify(self, records: list[LogRecord]) -> list[Classification]:
        from loglens.analysis import classify_records

        return classify_records(records, settings=self.settings)


def settings_for_backend(settings: Settings, backend: str) -> Settings:
    """Settings that make the analysis use `backend`; an error when that backend cannot run."""
    if backend == "rules":
        return settings.model_copy(update={"llm_backend": "none"})
    if backend != "llm":
        raise InputError(f"unknown backend {backend!r}", hint="use --backend rules or llm")
    hint = describe_missing_backend()
    # The same choice `analyze` makes: a model path alone means the local backend.
    chosen = chosen_backend(settings)
    if chosen == "none":
        raise ConfigError("--backend llm needs an LLM and none is configured", hint=hint)
    if chosen == "openai" and not settings.llm_url:
        raise ConfigError("LOGLENS_LLM_BACKEND=openai needs LOGLENS_LLM_URL", hint=hint)
    if chosen == "local" and settings.model_path is None:
        raise ConfigError("LOGLENS_LLM_BACKEND=local needs LOGLENS_MODEL_PATH", hint=hint)
    return settings


def git_commit(cwd: Path | None = None) -> str | None:
    """`git rev-parse HEAD` of the working directory, or None outside a repository."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def load_datasets(datasets: Sequence[Path]) -> list[tuple[str, GoldenCase]]:
    """(dataset name, case) for every case; a (dataset, id) pair may occur once."""
    loaded: list[tuple[str, GoldenCase]] = []
    seen: set[tuple[str, str]] = set()
    for path in datasets:
        name = path.resolve().name
        for case in load_dataset(path):
            if (name, case.id) in seen:
                raise InputError(
                    f"case {name}/{case.id} appears in more than one dataset folder",
                    hint="pass each dataset once; folders with one name share an id space",
                )
            seen.add((name, case.id))
            loaded.append((name, case))
    return loaded


def run_eval(
    datasets: list[Path],
    *,
    settings: Settings,
    backend: str = "rules",
    progress: EvalProgress | None = None,
    analyzer: Analyzer | None = None,
) -> EvalRun:
    """Evaluate every case of `datasets` with `backend` and return the scored run."""
    effective = settings_for_backend(settings, backend)
    cases = load_datasets(datasets)
    scope = (
        RetrievalScope.open(effective) if analyzer is None else RetrievalScope.passive(effective)
    )
    engine = analyzer if analyzer is not None else LibraryAnalyzer(scope.settings)
    started_at = datetime.now(tz=UTC).isoformat(timespec="seconds")
    outcomes: list[CaseOutcome] = []
    llm_info: LlmInfo | None = None
    try:
        for done, (dataset, case) in enumerate(cases, start=1):
            outcome, info = _run_case(engine, dataset, case, scope)
            outcomes.append(outcome)
            if info is not None and info.used and llm_info is None:
                llm_info = info
            if progress is not None:
                progress(done, len(cases), case.id)
    finally:
        scope.close()
    return EvalRun(
        started_at=started_at,
        git_commit=git_commit(),
        backend=backend,
        model=llm_info.model if llm_info else None,
        prompt_version=llm_info.prompt_version if llm_info else None,
        datasets=[str(path) for path in datasets],
        metrics=aggregate(outcomes),
        outcomes=outcomes,
        retrieval=scope.note,
    )


def _run_case(
    engine: Analyzer, dataset: str, case: GoldenCase, retrieval: RetrievalScope
) -> tuple[CaseOutcome, LlmInfo | None]:
    """Run and score one case; a LogLensError fails the case and is scored as an empty answer."""
    error: str | None = None
    started = time.perf_counter()
    try:
        result = _call(engine, case)
    except LogLensError as exc:
        error = f"{type(exc).__name__}: {exc}"
        result = _empty_result(case)
    latency_ms = (time.perf_counter() - started) * 1000
    fields = _score(case, result).model_dump()
    fields["passed"] = fields["passed"] and error is None
    llm = result.llm if isinstance(result, Report | Diff) else None
    if llm is not None:
        fields["scores"].update(llm_case_scores(llm))
        fields["llm_latency_ms"] = llm.latency_ms
    fields["scores"].update(retrieval.case_scores(case, result))
    outcome = CaseOutcome(
        **fields,
        id=case.id,
        kind=case.kind,
        dataset=dataset,
        tags=list(case.tags),
        latency_ms=None if error else round(latency_ms, 3),
        error=error,
    )
    return outcome, result.llm if isinstance(result, Report) else None


def _call(engine: Analyzer, case: GoldenCase) -> Report | Diff | list[Classification]:
    if isinstance(case, AnalyzeCase):
        return engine.analyze(case.logs.records, window=case.logs.window)
    if isinstance(case, CompareCase):
        return engine.compare(
            case.before.records,
            case.after.records,
            before_window=case.before.window,
            after_window=case.after.window,
        )
    return engine.classify([case.record])


def _score(case: GoldenCase, result: Report | Diff | list[Classification]) -> CaseScore:
    if isinstance(case, AnalyzeCase) and isinstance(result, Report):
        return analyze_case_scores(case, result)
    if isinstance(case, CompareCase) and isinstance(result, Diff):
        return compare_case_scores(case, result)
    if isinstance(case, LineCase) and isinstance(result, list):
        return line_case_scores(case, result)
    raise LogLensError(f"case {case.id}: the analyzer returned {type(result).__name__}")


def _empty_result(case: GoldenCase) -> Report | Diff | list[Classification]:
    if isinstance(case, AnalyzeCase):
        return Report(
            window=Window(), source=SourceInfo(kind="inline"), stats=Stats.model_validate({})
        )
    if isinstance(case, CompareCase):
        side = DiffSide(window=Window(), stats=Stats.model_validate({}))
        return Diff(before=side, after=side)
    return []
