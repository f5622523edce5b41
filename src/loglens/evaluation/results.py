"""What an evaluation run produces: per-case outcomes, aggregated metrics, the run itself.

These are pydantic models because they leave the process: as `loglens eval --json`,
as rows in the history database and as the baseline a later run is compared with.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Stable metric names (JSON keys, history, OpenTelemetry and Prometheus names).
# Rates in [0, 1]; a metric is null when no case of the run exercises it.
FINDING_METRICS: tuple[str, ...] = (
    "severity_accuracy",
    "category_accuracy",
    "component_accuracy",
    "top1",
    "recall_at_3",
    "keyword_recall",
    "evidence_hit_rate",
    "summary_fact_recall",
)
COMPARE_METRICS: tuple[str, ...] = ("compare_precision", "compare_recall")
LINE_METRICS: tuple[str, ...] = (
    "line_severity_accuracy",
    "line_category_accuracy",
    "line_component_accuracy",
)
LATENCY_METRICS: tuple[str, ...] = ("latency_p50_ms", "latency_p95_ms")
# The LLM step (`--backend llm`): share of the model's answers that passed the schema,
# share of cases where the model could not help fully (a fallback reason), generation
# speed, and the LLM step's own wall time per case.
LLM_LATENCY_METRICS: tuple[str, ...] = ("llm_latency_p50_ms", "llm_latency_p95_ms")
LLM_METRICS: tuple[str, ...] = (
    "schema_valid_rate",
    "fallback_rate",
    "llm_tokens_per_s",
    *LLM_LATENCY_METRICS,
)
# Retrieval in the analysis (evaluation/retrieval_eval.py): the right category's knowledge
# among the items attached to the case's finding.
RETRIEVAL_METRICS: tuple[str, ...] = ("retrieval_hit_at_1", "retrieval_hit_at_3", "retrieval_mrr")
METRIC_NAMES: tuple[str, ...] = (
    *FINDING_METRICS,
    *COMPARE_METRICS,
    *LINE_METRICS,
    "false_alarm_rate",
    "pass_rate",
    *LATENCY_METRICS,
    *LLM_METRICS,
    *RETRIEVAL_METRICS,
)
# Metrics where a smaller value is better; every other metric is better when larger.
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"false_alarm_rate", *LATENCY_METRICS, "fallback_rate", *LLM_LATENCY_METRICS}
)
# Metrics that are timings or speeds rather than rates in [0, 1]: judged relatively.
FIGURE_METRICS: frozenset[str] = frozenset(
    {*LATENCY_METRICS, *LLM_LATENCY_METRICS, "llm_tokens_per_s"}
)

Metrics = dict[str, float | None]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseScore(_Model):
    """How one case scored: the per-case value of every metric that applies to it."""

    passed: bool
    scores: dict[str, float] = Field(default_factory=dict)
    expected_severity: str | None = Field(
        default=None, description="severity the case expects first ('none' for a benign case)"
    )
    got_severity: str | None = Field(default=None, description="severity reported first, or 'none'")
    expected: str = ""
    got: str = ""


class CaseOutcome(CaseScore):
    """A scored case with where it came from and how long the library call took."""

    id: str
    kind: str
    dataset: str
    tags: list[str] = Field(default_factory=list)
    latency_ms: float | None = None
    llm_latency_ms: float | None = Field(default=None, description="wall time of the LLM step")
    error: str | None = None


class EvalMetrics(_Model):
    cases: int
    passed: int
    cases_by_kind: dict[str, int]
    headline: Metrics
    by_kind: dict[str, Metrics]
    by_tag: dict[str, Metrics]
    confusion: dict[str, dict[str, dict[str, int]]] = Field(
        description="severity confusion matrices ('findings', 'line'): expected → got → count"
    )


class EvalRun(_Model):
    run_id: int | None = None
    started_at: str
    git_commit: str | None = None
    backend: str
    model: str | None = None
    prompt_version: str | None = None
    datasets: list[str]
    metrics: EvalMetrics
    outcomes: list[CaseOutcome]
    retrieval: str | None = Field(
        default=None, description="where the retrieval metrics come from, or why they are absent"
    )
