"""Evaluation results as metrics: OpenTelemetry (OTLP/HTTP) and a Prometheus textfile.

OpenTelemetry follows the standard `OTEL_*` environment: metrics are exported over
OTLP/HTTP when `OTEL_METRICS_EXPORTER` names `otlp`, or when it is unset and an
OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` / `..._METRICS_ENDPOINT`) is set;
`OTEL_SDK_DISABLED=true` turns it off. Names: a gauge `loglens.eval.<metric>`
per metric (attribute `backend`), `loglens.eval.cases` (backend, kind, outcome)
and a histogram `loglens.eval.case.latency` in ms (backend, kind).

The Prometheus textfile (node-exporter textfile collector format, written
atomically) carries the same figures: `loglens_eval_<metric>{backend}`,
`loglens_eval_cases{backend,kind,outcome}`, the histogram
`loglens_eval_case_latency_seconds{backend,kind}` and
`loglens_eval_last_run_timestamp_seconds{backend}`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, Gauge, Histogram, write_to_textfile

from loglens import __version__
from loglens.errors import InputError
from loglens.evaluation.results import (
    LATENCY_METRICS,
    LLM_LATENCY_METRICS,
    METRIC_NAMES,
    EvalRun,
)

_LATENCY_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _description(metric: str) -> str:
    if metric in LATENCY_METRICS or metric in LLM_LATENCY_METRICS:
        return f"loglens evaluation {metric.removesuffix('_ms')} latency per case, milliseconds"
    if metric == "llm_tokens_per_s":
        return "loglens evaluation LLM generation speed of the latest run, tokens per second"
    return f"loglens evaluation {metric} (0 to 1) of the latest run"


def _unit(metric: str) -> str:
    if metric in LATENCY_METRICS or metric in LLM_LATENCY_METRICS:
        return "ms"
    return "{token}/s" if metric == "llm_tokens_per_s" else "1"


# --- OpenTelemetry --------------------------------------------------------------------


def otlp_configured(env: Mapping[str, str]) -> bool:
    """Whether the standard OTEL_* variables ask for metrics over OTLP."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_METRICS_EXPORTER")
    if exporters is not None:
        return "otlp" in {name.strip().lower() for name in exporters.split(",")}
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    )


def record_run(run: EvalRun, provider: MeterProvider) -> None:
    """Record the run's metrics on `provider` (which the caller collects and shuts down)."""
    meter = provider.get_meter("loglens.evaluation", __version__)
    backend = {"backend": run.backend}
    for name in METRIC_NAMES:
        value = run.metrics.headline.get(name)
        if value is not None:
            unit = _unit(name)
            gauge = meter.create_gauge(
                f"loglens.eval.{name}", unit=unit, description=_description(name)
            )
            gauge.set(value, backend)
    cases = meter.create_gauge(
        "loglens.eval.cases", unit="{case}", description="cases by kind and outcome"
    )
    for (kind, outcome), count in _case_counts(run).items():
        cases.set(count, {**backend, "kind": kind, "outcome": outcome})
    latency = meter.create_histogram(
        "loglens.eval.case.latency", unit="ms", description="wall time of the library call per case"
    )
    for case in run.outcomes:
        if case.latency_ms is not None:
            latency.record(case.latency_ms, {**backend, "kind": case.kind})


def export_otel(run: EvalRun, env: Mapping[str, str] | None = None) -> bool:
    """Export the run over OTLP/HTTP when OTEL_* asks for it; True when an export was made."""
    environment = os.environ if env is None else env
    if not otlp_configured(environment):
        return False
    # Imported here: the exporter pulls in protobuf and requests, needed only when exporting.
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    reader = PeriodicExportingMetricReader(OTLPMetricExporter())
    provider = MeterProvider(resource=_resource(), metric_readers=[reader])
    try:
        record_run(run, provider)
    finally:
        provider.shutdown()  # collects and exports once more before it stops
    return True


def _resource() -> Resource:
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "loglens"}))
    return resource


def _case_counts(run: EvalRun) -> Counter[tuple[str, str]]:
    return Counter((case.kind, "pass" if case.passed else "fail") for case in run.outcomes)


# --- Prometheus textfile --------------------------------------------------------------


def prometheus_registry(run: EvalRun) -> CollectorRegistry:
    """A registry holding the run's metrics under `loglens_eval_*` names."""
    registry = CollectorRegistry()
    for name in METRIC_NAMES:
        value = run.metrics.headline.get(name)
        if value is not None:
            gauge = Gauge(
                f"loglens_eval_{name}", _description(name), ["backend"], registry=registry
            )
            gauge.labels(run.backend).set(value)
    cases = Gauge(
        "loglens_eval_cases", "evaluation cases by kind and outcome", ["backend", "kind", "outcome"],
        registry=registry,
    )  # fmt: skip
    for (kind, outcome), count in _case_counts(run).items():
        cases.labels(run.backend, kind, outcome).set(count)
    latency = Histogram(
        "loglens_eval_case_latency_seconds", "wall time of the library call per case",
        ["backend", "kind"], buckets=_LATENCY_BUCKETS_S, registry=registry,
    )  # fmt: skip
    for case in run.outcomes:
        if case.latency_ms is not None:
            latency.labels(run.backend, case.kind).observe(case.latency_ms / 1000)
    started = Gauge(
        "loglens_eval_last_run_timestamp_seconds", "when the evaluation run started",
        ["backend"], registry=registry,
    )  # fmt: skip
    started.labels(run.backend).set(datetime.fromisoformat(run.started_at).timestamp())
    return registry


def write_prom_textfile(run: EvalRun, path: Path) -> None:
    """Write the run's metrics for node-exporter's textfile collector (atomic replace)."""
    if not path.parent.is_dir():
        raise InputError(
            f"--prom-textfile {path}: folder {path.parent} does not exist",
            hint="point it into node-exporter's --collector.textfile.directory",
        )
    write_to_textfile(str(path), prometheus_registry(run))
