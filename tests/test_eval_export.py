"""Evaluation metrics out: OpenTelemetry (in-memory and OTLP/HTTP) and Prometheus textfile."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client.parser import text_string_to_metric_families

from loglens.errors import InputError
from loglens.evaluation.export import (
    export_otel,
    otlp_configured,
    record_run,
    write_prom_textfile,
)
from loglens.evaluation.metrics import aggregate
from loglens.evaluation.results import CaseOutcome, EvalRun


def make_run() -> EvalRun:
    outcomes = [
        CaseOutcome(id="a", kind="analyze", dataset="g", passed=True, latency_ms=4.0,
                    scores={"top1": 1.0, "severity_accuracy": 1.0}),
        CaseOutcome(id="b", kind="analyze", dataset="g", passed=False, latency_ms=40.0,
                    scores={"top1": 0.0, "severity_accuracy": 1.0}),
        CaseOutcome(id="l", kind="line", dataset="g", passed=True, latency_ms=2.0,
                    scores={"line_severity_accuracy": 1.0}),
    ]  # fmt: skip
    return EvalRun(
        started_at="2026-11-20T10:00:00+00:00", backend="rules", datasets=["g"],
        metrics=aggregate(outcomes), outcomes=outcomes,
    )  # fmt: skip


def collected(reader: InMemoryMetricReader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        metric.name: metric
        for resource_metrics in data.resource_metrics
        for scope in resource_metrics.scope_metrics
        for metric in scope.metrics
    }


def test_otlp_configuration_follows_the_standard_variables() -> None:
    assert not otlp_configured({})
    assert otlp_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert otlp_configured({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4318/v1/metrics"})
    assert otlp_configured({"OTEL_METRICS_EXPORTER": "console, otlp"})
    assert not otlp_configured(
        {"OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"}
    )
    assert not otlp_configured({"OTEL_SDK_DISABLED": "true", "OTEL_METRICS_EXPORTER": "otlp"})


def test_record_run_sets_gauges_per_metric_and_backend_and_a_latency_histogram() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    record_run(make_run(), provider)
    metrics = collected(reader)
    top1 = metrics["loglens.eval.top1"].data.data_points
    assert [(p.value, dict(p.attributes)) for p in top1] == [(0.5, {"backend": "rules"})]
    assert "loglens.eval.compare_recall" not in metrics  # no compare case: no value
    cases = {
        (p.attributes["kind"], p.attributes["outcome"]): p.value
        for p in metrics["loglens.eval.cases"].data.data_points
    }
    assert cases == {("analyze", "pass"): 1, ("analyze", "fail"): 1, ("line", "pass"): 1}
    latency = {
        p.attributes["kind"]: p for p in metrics["loglens.eval.case.latency"].data.data_points
    }
    assert (latency["analyze"].count, latency["analyze"].sum) == (2, 44.0)
    assert metrics["loglens.eval.case.latency"].unit == "ms"
    provider.shutdown()


class _Receiver(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append((self.path, self.headers["Content-Type"], body))
        reply = ExportMetricsServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Receiver.requests
    server.shutdown()
    server.server_close()


def test_export_posts_metrics_over_otlp_http_protocol_to_a_local_receiver(
    otlp_receiver: tuple[str, list[tuple[str, str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, requests = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "loglens-eval-test")
    assert export_otel(make_run()) is True
    assert requests, "the exporter posted nothing"
    path, content_type, body = requests[0]
    assert path == "/v1/metrics"
    assert content_type == "application/x-protobuf"
    message = ExportMetricsServiceRequest.FromString(body)
    resource = message.resource_metrics[0].resource
    service = {a.key: a.value.string_value for a in resource.attributes}["service.name"]
    assert service == "loglens-eval-test"
    names = {
        m.name for rm in message.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    assert {"loglens.eval.top1", "loglens.eval.cases", "loglens.eval.case.latency"} <= names


def test_export_does_nothing_without_otel_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_METRICS_EXPORTER",
    ):
        monkeypatch.delenv(name, raising=False)
    assert export_otel(make_run()) is False


def test_prom_textfile_parses_and_carries_the_run(tmp_path: Path) -> None:
    path = tmp_path / "loglens_eval.prom"
    write_prom_textfile(make_run(), path)
    text = path.read_text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    top1 = families["loglens_eval_top1"]
    assert top1.type == "gauge"
    assert [(s.labels, s.value) for s in top1.samples] == [({"backend": "rules"}, 0.5)]
    assert families["loglens_eval_pass_rate"].samples[0].value == pytest.approx(2 / 3)
    latency = families["loglens_eval_case_latency_seconds"]
    assert latency.type == "histogram"
    counts = {s.labels["kind"]: s.value for s in latency.samples if s.name.endswith("_count")}
    assert counts == {"analyze": 2.0, "line": 1.0}
    started = families["loglens_eval_last_run_timestamp_seconds"].samples[0].value
    assert started == 1795168800.0
    assert "loglens_eval_compare_recall" not in families
    assert all(line.startswith(("#", "loglens_eval_")) for line in text.splitlines())


def test_prom_textfile_into_a_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_prom_textfile(make_run(), tmp_path / "nope" / "x.prom")
