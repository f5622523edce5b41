"""Compare an evaluation run with a baseline: metric deltas, flipped cases, McNemar's test.

A metric *regresses* when it moves the wrong way by more than its threshold
(`DriftThresholds`, from `LOGLENS_EVAL_*` variables): rates by an absolute amount,
latency quantiles by a relative one. McNemar's exact test (a two-sided binomial
test on the cases that flipped) says whether the pass/fail changes on the cases
both runs share are more than chance; it is reported, not used for the exit code.
"""

from __future__ import annotations

from math import comb

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from loglens.evaluation.results import (
    FIGURE_METRICS,
    LATENCY_METRICS,
    LLM_LATENCY_METRICS,
    LOWER_IS_BETTER,
    METRIC_NAMES,
    EvalRun,
)


class DriftThresholds(BaseSettings):
    """How far a metric may move against us before a run counts as a regression."""

    model_config = SettingsConfigDict(env_prefix="LOGLENS_EVAL_", extra="ignore")

    # Absolute drop allowed in a rate (accuracy, recall, precision, pass rate): two points
    # is about one case in fifty, below that it is noise on a small dataset.
    max_drop: float = 0.02
    # Absolute rise allowed in false_alarm_rate.
    max_false_alarm_rise: float = 0.02
    # Relative rise allowed in a latency quantile (0.5 = +50%): timings on shared
    # machines are noisy, a real slowdown is usually a multiple.
    max_latency_rise: float = 0.5
    # Latency rises smaller than this many milliseconds are never regressions.
    latency_noise_ms: float = 5.0
    # Per-metric overrides of the allowed change (absolute for rates, relative for latency).
    per_metric: dict[str, float] = Field(default_factory=dict)

    def allowed(self, metric: str) -> float:
        if metric in self.per_metric:
            return self.per_metric[metric]
        if metric in FIGURE_METRICS:
            return self.max_latency_rise
        if metric == "false_alarm_rate":
            return self.max_false_alarm_rise
        return self.max_drop


class MetricDelta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    baseline: float | None
    current: float | None
    delta: float | None
    allowed: float
    regressed: bool


class DriftReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    baseline_run_id: int | None
    metrics: list[MetricDelta]
    paired_cases: int
    pass_to_fail: list[str]
    fail_to_pass: list[str]
    only_in_baseline: list[str]
    only_in_current: list[str]
    mcnemar_p: float = Field(description="exact two-sided McNemar p-value on the paired cases")

    @property
    def regressions(self) -> list[str]:
        return [m.name for m in self.metrics if m.regressed]


def mcnemar_exact(pass_to_fail: int, fail_to_pass: int) -> float:
    """Two-sided exact McNemar p-value: binomial(n = b + c, 1/2) tail at min(b, c), doubled."""
    n = pass_to_fail + fail_to_pass
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(min(pass_to_fail, fail_to_pass) + 1))
    return min(1.0, 2 * tail / (1 << n))


def metric_delta(
    name: str, baseline: float | None, current: float | None, thresholds: DriftThresholds
) -> MetricDelta:
    allowed = thresholds.allowed(name)
    delta: float | None = None
    regressed = False
    if baseline is not None and current is not None:
        delta = current - baseline
        regressed = _regressed(name, baseline, delta, allowed, thresholds)
    return MetricDelta(
        name=name,
        baseline=baseline,
        current=current,
        delta=delta,
        allowed=allowed,
        regressed=regressed,
    )


def _regressed(
    name: str, baseline: float, delta: float, allowed: float, thresholds: DriftThresholds
) -> bool:
    if name in LATENCY_METRICS or name in LLM_LATENCY_METRICS:
        return delta > thresholds.latency_noise_ms and delta > allowed * baseline
    if name in FIGURE_METRICS:  # a speed (tokens/s): a relative drop
        return -delta > allowed * baseline
    if name in LOWER_IS_BETTER:
        return delta > allowed
    return -delta > allowed


def compare_runs(
    baseline: EvalRun, current: EvalRun, thresholds: DriftThresholds | None = None
) -> DriftReport:
    """Deltas of every metric and the paired per-case comparison of `current` with `baseline`."""
    limits = thresholds if thresholds is not None else DriftThresholds()
    old = {(o.dataset, o.id): o.passed for o in baseline.outcomes}
    new = {(o.dataset, o.id): o.passed for o in current.outcomes}
    shared = sorted(old.keys() & new.keys())
    pass_to_fail = [f"{d}/{i}" for d, i in shared if old[d, i] and not new[d, i]]
    fail_to_pass = [f"{d}/{i}" for d, i in shared if not old[d, i] and new[d, i]]
    return DriftReport(
        baseline_run_id=baseline.run_id,
        metrics=[
            metric_delta(
                name,
                baseline.metrics.headline.get(name),
                current.metrics.headline.get(name),
                limits,
            )
            for name in METRIC_NAMES
        ],
        paired_cases=len(shared),
        pass_to_fail=pass_to_fail,
        fail_to_pass=fail_to_pass,
        only_in_baseline=[f"{d}/{i}" for d, i in sorted(old.keys() - new.keys())],
        only_in_current=[f"{d}/{i}" for d, i in sorted(new.keys() - old.keys())],
        mcnemar_p=mcnemar_exact(len(pass_to_fail), len(fail_to_pass)),
    )
