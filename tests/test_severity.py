"""Severity rules that apply to every line: levels, retry wording, HTTP status."""

from __future__ import annotations

import pytest

from loglens.detect.severity import (
    adjust_for_wording,
    classify_http_status,
    http_status,
    max_severity,
    min_severity,
    reports_failure,
    retries_exhausted,
    severity_from_level,
    will_retry,
)
from loglens.model import Category, Level, Severity


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.FATAL, Severity.CRITICAL),
        (Level.ERROR, Severity.ERROR),
        (Level.WARN, Severity.WARN),
        (Level.INFO, Severity.INFO),
        (Level.DEBUG, Severity.INFO),
        (Level.UNKNOWN, Severity.INFO),
    ],
)
def test_severity_from_level(level: Level, expected: Severity) -> None:
    assert severity_from_level(level) is expected


@pytest.mark.parametrize(
    "message",
    [
        'level=warn msg="upstream unavailable, retrying" attempt=2/5',
        "Failed to send batch, retrying",
        "error sending batch, will retry",
        "connection lost; retry in 5s",
        "Reconciliation failed after 1.2s, next try in 10m0s",
        "backing off 10s before next attempt",
        "attempt 3 of 10 failed",
    ],
)
def test_will_retry(message: str) -> None:
    assert will_retry(message)
    assert not retries_exhausted(message)


@pytest.mark.parametrize(
    "message",
    [
        "giving up after 5 attempts: connection refused",
        "upgrade retries exhausted",
        "Max retries exceeded with url: /v1/chat (Caused by NewConnectionError)",
        "attempt 5/5 failed: i/o timeout",
        "reached maximum number of retries",
    ],
)
def test_retries_exhausted(message: str) -> None:
    assert retries_exhausted(message)


def test_back_off_restarting_is_not_a_recovering_retry() -> None:
    assert not will_retry("Back-off restarting failed container llama in pod x")


@pytest.mark.parametrize(
    ("message", "failing"),
    [
        ('msg="failed to connect"', True),
        ("error: cannot open /data", True),
        ("Traceback (most recent call last):", True),
        ("connection refused", True),
        ("uploaded 3 tables errors=0", False),
        ("sync complete, error=nil", False),
        ("compaction finished with 0 errors", False),
        ("finished with 0 errors but 2 failures", True),
        ("listening on :8080", False),
    ],
)
def test_reports_failure(message: str, failing: bool) -> None:
    assert reports_failure(message) is failing


def test_adjust_for_wording_caps_transient_retries_at_warn() -> None:
    text = "dial tcp 10.0.0.1:5432: connection refused, retrying in 2s"
    assert adjust_for_wording(Severity.ERROR, text, Category.NETWORK) is Severity.WARN
    # A crash loop is not transient, even if the program says it retries.
    assert adjust_for_wording(Severity.ERROR, text, Category.CRASHLOOP) is Severity.ERROR


def test_adjust_for_wording_raises_exhausted_retries_to_critical() -> None:
    text = "giving up on qdrant after 5 attempts"
    assert adjust_for_wording(Severity.WARN, text, Category.DEPENDENCY) is Severity.CRITICAL


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ('INFO:     10.0.0.1:5432 - "GET /health HTTP/1.1" 200 OK', 200),
        ('10.0.0.7 - - [20/Nov/2026:10:14:02 +0000] "POST /x HTTP/1.1" 502 157 "-" "curl"', 502),
        ('[2026-11-20T10:14:02.123Z] "GET /a HTTP/2" 503 UH 0 19 0 - "-" "-" "-" "h" "-"', 503),
        ("no access line here, status 500 somewhere", None),
    ],
)
def test_http_status_from_request_line(message: str, status: int | None) -> None:
    assert http_status(message) == status


def test_http_status_from_structured_attrs() -> None:
    attrs = {"method": "GET", "path": "/api", "status": "429"}
    assert http_status("request", attrs) == 429
    assert http_status("request", {"status": 500}) is None  # no request fields: not access log
    assert http_status("request", {"method": "GET", "status": True}) is None
    assert http_status("request", {"method": "GET", "code": 14}) is None


@pytest.mark.parametrize(
    ("status", "gateway", "expected"),
    [
        (500, False, (Severity.ERROR, Category.APPLICATION_ERROR)),
        (503, True, (Severity.ERROR, Category.DEPENDENCY)),
        (503, False, (Severity.ERROR, Category.APPLICATION_ERROR)),
        (500, True, (Severity.ERROR, Category.APPLICATION_ERROR)),
        (429, False, (Severity.WARN, Category.LIMIT_EXCEEDED)),
        (401, False, (Severity.WARN, Category.AUTH)),
        (403, True, (Severity.WARN, Category.AUTH)),
        (404, False, (Severity.INFO, Category.NONE)),
        (302, False, (Severity.INFO, Category.NONE)),
        (200, True, (Severity.INFO, Category.NONE)),
    ],
)
def test_classify_http_status(
    status: int, gateway: bool, expected: tuple[Severity, Category]
) -> None:
    assert classify_http_status(status, gateway=gateway) == expected


def test_max_and_min_severity() -> None:
    assert max_severity(Severity.WARN, Severity.CRITICAL) is Severity.CRITICAL
    assert min_severity(Severity.WARN, Severity.CRITICAL) is Severity.WARN


def test_a_retried_deployment_is_transient_only_when_its_fault_is() -> None:
    timeout = (
        "Helm upgrade failed for release apps/immich: context deadline exceeded; retrying (1/3)"
    )
    assert adjust_for_wording(Severity.ERROR, timeout, Category.DEPLOYMENT) is Severity.WARN
    build = "Reconciliation failed after 1.93s, next try in 10m0s: kustomize build failed"
    assert adjust_for_wording(Severity.ERROR, build, Category.DEPLOYMENT) is Severity.ERROR
