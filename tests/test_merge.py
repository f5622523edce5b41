"""Cascade merging in triage: one incident told by several components or lines is one finding."""

from __future__ import annotations

from loglens.model import Category, Level, Severity
from loglens.triage.rank import Assessment, Example, PatternFacts, rank_findings

S = 10**9
MIN = 60 * S
HOUR = 60 * MIN


def _assess(
    pid: str,
    category: Category,
    severity: Severity,
    component: str,
    *,
    at: int,
    pod: str | None = None,
    node: str = "node-1",
    count: int = 3,
    signature: str | None = None,
    line: str | None = None,
) -> Assessment:
    labels = {"node": node} if pod is None else {"node": node, "pod": pod, "namespace": "ns"}
    text = line or f"line of {pid}"
    facts = PatternFacts(
        id=pid,
        template=text,
        count=count,
        level=Level.ERROR,
        first_ts=at,
        last_ts=at + 5 * MIN,
        examples=[Example(at + i * S, labels, text) for i in range(min(count, 3))],
        labels={key: [value] for key, value in labels.items()},
    )
    return Assessment(
        facts=facts,
        severity=severity,
        category=category,
        component=component,
        signature_id=signature,
        title=f"title {pid}",
    )


def test_control_plane_symptoms_fold_into_the_most_basic_provider() -> None:
    findings = rank_findings(
        [
            _assess(
                "p-etcd",
                Category.CONTROL_PLANE,
                Severity.WARN,
                "etcd",
                at=10 * MIN,
                pod="etcd-cp-1",
                count=40,
            ),
            _assess(
                "p-api",
                Category.CONTROL_PLANE,
                Severity.ERROR,
                "kube_apiserver",
                at=12 * MIN,
                pod="kube-apiserver-cp-1",
            ),
            _assess(
                "p-lease",
                Category.CONTROL_PLANE,
                Severity.CRITICAL,
                "kube_scheduler",
                at=13 * MIN,
                pod="kube-scheduler-cp-1",
                count=1,
            ),
        ],
        window_span_ns=HOUR,
    )
    assert len(findings) == 1
    only = findings[0]
    assert (only.component, only.severity, only.count) == ("etcd", "critical", 44)
    assert only.title == "title p-etcd"
    assert {e.line for e in only.evidence} >= {"line of p-etcd", "line of p-lease"}


def test_a_provider_that_starts_later_does_not_absorb_earlier_failures() -> None:
    findings = rank_findings(
        [
            _assess("p-dns", Category.DNS, Severity.ERROR, "coredns", at=40 * MIN, pod="coredns-1"),
            _assess("p-cli", Category.DNS, Severity.ERROR, "worker", at=5 * MIN, pod="worker-1"),
        ],
        window_span_ns=HOUR,
    )
    assert sorted(f.component for f in findings) == ["coredns", "worker"]


def test_node_pressure_absorbs_evictions_only_on_its_node() -> None:
    pressure = _assess(
        "p-mem", Category.RESOURCE_PRESSURE, Severity.ERROR, "kubelet", at=MIN, node="node-2"
    )
    here = _assess(
        "p-evict",
        Category.RESOURCE_PRESSURE,
        Severity.ERROR,
        "notifier",
        at=2 * MIN,
        node="node-2",
    )
    elsewhere = _assess(
        "p-throttle",
        Category.RESOURCE_PRESSURE,
        Severity.WARN,
        "llama_server",
        at=2 * MIN,
        node="node-3",
    )
    findings = rank_findings([pressure, here, elsewhere], window_span_ns=HOUR)
    assert [(f.component, f.count) for f in findings] == [("kubelet", 6), ("llama_server", 3)]


def test_a_programs_5xx_lines_join_the_failure_it_logged_with_them() -> None:
    db_error = _assess(
        "p-db",
        Category.DEPENDENCY,
        Severity.ERROR,
        "postgres",
        at=10 * MIN,
        pod="orders-api-7d9f8c6b5d-x2x4z",
    )
    http_503 = _assess(
        "p-503",
        Category.APPLICATION_ERROR,
        Severity.ERROR,
        "orders_api",
        at=10 * MIN + S // 1000,
        pod="orders-api-7d9f8c6b5d-x2x4z",
        count=30,
    )
    findings = rank_findings([db_error, http_503], window_span_ns=HOUR)
    assert len(findings) == 1
    assert (findings[0].category, findings[0].component) == ("dependency", "postgres")
    assert findings[0].patterns == ["p-503", "p-db"]


def test_a_generic_application_error_never_absorbs_a_specific_failure() -> None:
    pod = "orders-api-7d9f8c6b5d-x2x4z"
    traceback = _assess(
        "p-tb", Category.APPLICATION_ERROR, Severity.ERROR, "orders_api", at=MIN, pod=pod
    )
    config = _assess("p-cfg", Category.CONFIG, Severity.CRITICAL, "orders_api", at=MIN + 1, pod=pod)
    findings = rank_findings([traceback, config], window_span_ns=HOUR)
    assert [(f.category, f.count) for f in findings] == [("config", 6)]


def test_failures_far_apart_in_time_stay_separate() -> None:
    pod = "orders-api-7d9f8c6b5d-x2x4z"
    findings = rank_findings(
        [
            _assess("p-a", Category.DEPENDENCY, Severity.ERROR, "redis", at=MIN, pod=pod),
            _assess(
                "p-b",
                Category.APPLICATION_ERROR,
                Severity.ERROR,
                "orders_api",
                at=30 * MIN,
                pod=pod,
            ),
        ],
        window_span_ns=HOUR,
    )
    assert len(findings) == 2


def test_callers_own_their_dependency_failure_when_the_upstream_has_its_own_finding() -> None:
    disk = _assess(
        "p-disk", Category.STORAGE, Severity.CRITICAL, "postgres", at=MIN, pod="postgres-0"
    )
    refusals = _assess(
        "p-recovery", Category.DEPENDENCY, Severity.ERROR, "postgres", at=2 * MIN, pod="postgres-0"
    )
    callers = _assess(
        "p-client",
        Category.DEPENDENCY,
        Severity.ERROR,
        "postgres",
        at=2 * MIN,
        pod="orders-api-7d9f8c6b5d-x2x4z",
    )
    findings = rank_findings([disk, refusals, callers], window_span_ns=HOUR)
    by_key = {(f.category, f.component): f for f in findings}
    assert set(by_key) == {("storage", "postgres"), ("dependency", "orders_api")}
    assert by_key[("storage", "postgres")].patterns == ["p-disk", "p-recovery"]
    assert by_key[("dependency", "orders_api")].symptom_of == [
        by_key[("storage", "postgres")].fingerprint
    ]


def test_an_unavailable_upstream_cites_what_it_logged_just_before() -> None:
    shutdown = _assess(
        "p-shutdown",
        Category.NONE,
        Severity.INFO,
        "postgres",
        at=10 * MIN,
        pod="postgres-0",
        count=1,
        line="LOG:  received fast shutdown request",
    )
    steady = _assess(
        "p-steady",
        Category.NONE,
        Severity.INFO,
        "postgres",
        at=10 * MIN,
        pod="postgres-0",
        count=500,
        line="LOG:  connection received",
    )
    refused = _assess(
        "p-refused",
        Category.DEPENDENCY,
        Severity.ERROR,
        "postgres",
        at=10 * MIN + 20 * S,
        pod="orders-api-7d9f8c6b5d-x2x4z",
        line="connection to postgres:5432 failed: Connection refused",
    )
    findings = rank_findings([shutdown, steady, refused], window_span_ns=HOUR)
    assert len(findings) == 1
    lines = [e.line for e in findings[0].evidence]
    assert lines[0] == "LOG:  received fast shutdown request"
    assert "LOG:  connection received" not in lines
    assert findings[0].patterns == ["p-refused"]


def test_a_neighbours_retries_are_not_the_root_cause_of_another_apps_failure() -> None:
    retries = _assess(
        "p-retry",
        Category.NETWORK,
        Severity.WARN,
        "thumbnail_worker",
        at=MIN,
        pod="thumbnail-worker-1",
    )
    failing = _assess(
        "p-dep",
        Category.DEPENDENCY,
        Severity.ERROR,
        "llama_server",
        at=8 * MIN,
        pod="open-webui-7d9f8c6b5d-x2x4z",
        count=40,
    )
    findings = rank_findings([retries, failing], window_span_ns=HOUR)
    assert [f.component for f in findings] == ["llama_server", "thumbnail_worker"]
    assert findings[0].symptom_of == []
