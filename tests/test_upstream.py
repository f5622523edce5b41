from __future__ import annotations

import pytest

from loglens.detect.classify import classify_message
from loglens.detect.upstream import call_failed, named_upstream
from loglens.model import Category, Level, Severity

WORKER = {"namespace": "shop", "pod": "thumbnail-worker-89c7ps69w-hbm8j", "container": "worker"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cannot connect to host llama-server.llm.svc:8080 ssl:default", "llama-server"),
        ('Get "http://loki-gateway.monitoring.svc/loki/api/v1/query_range": EOF', "loki"),
        ('"inventory.shop.svc.cluster.local:8080" "-" outbound', "inventory"),
        ("GET https://api.github.com/repos/x/y/releases returned 503", "github"),
        ('connection to server at "10.43.54.7", port 5432 failed: Connection refused', "postgres"),
        ("dial tcp 10.96.0.7:6379: connect: connection refused", "redis"),
        ("redis unavailable, retrying in 2s", "redis"),
        ("dial tcp 10.42.0.9:8080: connect: connection refused", None),
        ('Get "https://kubernetes.default.svc:443/api": EOF', None),
    ],
)
def test_named_upstream(text: str, expected: str | None) -> None:
    assert named_upstream(text) == expected


def test_timeouts_and_missing_routes_are_path_faults_not_upstream_failures() -> None:
    assert call_failed("connect: connection refused")
    assert not call_failed("dial tcp 10.43.17.12:8080: i/o timeout")
    assert not call_failed("dial tcp 10.42.3.1:8472: connect: no route to host")


def test_refused_call_to_named_database_is_a_dependency_finding_on_the_database() -> None:
    line = (
        "orders.db: could not acquire connection: connection failed: connection to server at "
        '"10.43.54.7", port 5432 failed: Connection refused'
    )
    verdict = classify_message(line, Level.ERROR, {"pod": "orders-api-65p4fx646-l26gk"})
    assert (verdict.severity, verdict.category, verdict.component) == (
        Severity.ERROR,
        Category.DEPENDENCY,
        "postgres",
    )
    assert verdict.upstream == "postgres"


def test_aiohttp_connect_failure_is_not_tls() -> None:
    line = (
        "Connection error: Cannot connect to host llama-server.llm.svc:8080 ssl:default "
        "[Connect call failed ('10.43.52.8', 8080)]"
    )
    verdict = classify_message(line, Level.ERROR, {"pod": "open-webui-8ntfm9jn8k-l9d29"})
    assert (verdict.category, verdict.component) == (Category.DEPENDENCY, "llama_server")


def test_exhausted_retries_to_object_store_stay_critical_on_the_upstream() -> None:
    line = (
        "worker.storage: upload to s3://thumbnails failed after 5 attempts, giving up: "
        "botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "
        '"http://minio.storage.svc:9000/thumbnails"'
    )
    verdict = classify_message(line, Level.ERROR, WORKER)
    assert (verdict.severity, verdict.category, verdict.component) == (
        Severity.CRITICAL,
        Category.DEPENDENCY,
        "minio",
    )


def test_timeout_to_named_service_stays_network_on_the_caller() -> None:
    line = 'inventory call failed: Get "http://inventory.shop.svc:8080/stock": dial tcp 10.43.17.12:8080: i/o timeout'
    verdict = classify_message(line, Level.ERROR, {"pod": "cart-4hbblzkn7-796wt"})
    assert (verdict.category, verdict.component) == (Category.NETWORK, "cart")
