from __future__ import annotations

from loglens.detect.signals import Signal
from loglens.model import Category, Level, Severity
from loglens.triage.rank import Assessment, Example, PatternFacts, fingerprint, rank_findings

MIN = 60 * 10**9
HOUR = 60 * MIN


def _assess(
    pid: str,
    template: str,
    count: int,
    first_min: int,
    category: Category,
    severity: Severity,
    component: str,
    *,
    namespace: str = "llm",
    signature: str | None = None,
    benign: bool = False,
    causes: tuple[str, ...] = (),
) -> Assessment:
    examples = [
        Example(ts=(first_min + i) * MIN, labels={"namespace": namespace}, line=f"{template} #{i}")
        for i in range(min(count, 3))
    ]
    facts = PatternFacts(
        id=pid,
        template=template,
        count=count,
        level=Level.ERROR,
        first_ts=first_min * MIN,
        last_ts=(first_min + 5) * MIN,
        examples=examples,
        labels={"namespace": [namespace], "node": ["node-2"]},
    )
    return Assessment(
        facts=facts,
        severity=severity,
        category=category,
        component=component,
        signature_id=signature,
        title=f"title {pid}",
        root_cause=f"because {pid}",
        action=f"do {pid}",
        benign=benign,
        causes=causes,
    )


def test_rare_root_cause_ranks_before_its_many_symptoms() -> None:
    assessments = [
        _assess(
            "p-probe",
            "Readiness probe failed: connection refused",
            400,
            11,
            Category.PROBE_FAILURE,
            Severity.ERROR,
            "llama_server",
        ),
        _assess(
            "p-503",
            "GET /v1/explain 503",
            900,
            12,
            Category.DEPENDENCY,
            Severity.ERROR,
            "loglens_api",
            namespace="loglens",
        ),
        _assess(
            "p-backoff",
            "Back-off restarting failed container llama",
            60,
            10,
            Category.CRASHLOOP,
            Severity.ERROR,
            "llama_server",
        ),
        _assess(
            "p-oom",
            "Memory cgroup out of memory: Killed process (llama-server)",
            2,
            9,
            Category.OOM,
            Severity.CRITICAL,
            "llama_server",
            signature="k8s.oomkilled",
        ),
    ]
    # the 503s mention the llama server, which links them to it across namespaces
    assessments[1].facts.examples = [
        Example(ts=12 * MIN, labels={"namespace": "loglens"}, line="upstream llama-server 503")
    ]
    findings = rank_findings(assessments, window_span_ns=HOUR)
    assert [f.category for f in findings] == ["oom", "crashloop", "probe_failure", "dependency"]
    assert findings[0].count == 2 and findings[0].severity == "critical"
    assert findings[0].signature == "k8s.oomkilled"


def test_unrelated_incidents_are_ranked_by_their_own_weight() -> None:
    findings = rank_findings(
        [
            _assess(
                "p-dns",
                "lookup db: no such host",
                50,
                40,
                Category.DNS,
                Severity.ERROR,
                "coredns",
                namespace="kube-system",
            ),
            _assess(
                "p-pg",
                "FATAL: password authentication failed",
                30,
                5,
                Category.AUTH,
                Severity.CRITICAL,
                "postgres",
                namespace="db",
            ),
        ],
        window_span_ns=HOUR,
    )
    assert [f.category for f in findings] == ["auth", "dns"]


def test_benign_and_info_patterns_make_no_finding() -> None:
    findings = rank_findings(
        [
            _assess(
                "p-ctx",
                'level=error msg="context canceled"',
                500,
                1,
                Category.NETWORK,
                Severity.ERROR,
                "loki",
                benign=True,
            ),
            _assess("p-ok", "GET /health 200", 5000, 0, Category.NONE, Severity.INFO, "api"),
        ],
        window_span_ns=HOUR,
    )
    assert findings == []


def test_patterns_of_one_problem_group_into_one_finding() -> None:
    findings = rank_findings(
        [
            _assess(
                "p-a",
                "dial tcp 10.0.0.1:5432: connect: connection refused",
                20,
                3,
                Category.NETWORK,
                Severity.ERROR,
                "api",
            ),
            _assess(
                "p-b",
                "read tcp: connection reset by peer",
                5,
                4,
                Category.NETWORK,
                Severity.WARN,
                "api",
            ),
        ],
        window_span_ns=HOUR,
    )
    assert len(findings) == 1
    finding = findings[0]
    assert finding.count == 25 and finding.severity == "error"
    assert finding.patterns == ["p-a", "p-b"]
    assert {e.line.split(" #")[0] for e in finding.evidence} == {
        "dial tcp 10.0.0.1:5432: connect: connection refused",
        "read tcp: connection reset by peer",
    }
    assert finding.first_seen == "1970-01-01T00:03:00Z"


def test_signals_raise_the_score_and_are_reported() -> None:
    quiet = _assess("p-q", "disk slow", 10, 1, Category.STORAGE, Severity.WARN, "loki")
    loud = _assess(
        "p-l", "cert soon", 10, 1, Category.TLS, Severity.WARN, "grafana", namespace="monitoring"
    )
    loud.signals = [Signal.NEW, Signal.SPIKE]
    findings = rank_findings([quiet, loud], window_span_ns=HOUR)
    assert findings[0].category == "tls"
    assert findings[0].signals == ["new", "spike"]


def test_fingerprints_are_stable_and_distinct() -> None:
    assert fingerprint(Category.OOM, "llama_server", "k8s.oomkilled") == fingerprint(
        Category.OOM, "llama_server", "k8s.oomkilled"
    )
    assert fingerprint(Category.OOM, "llama_server", None) != fingerprint(
        Category.OOM, "loki", None
    )
    assert fingerprint(Category.OOM, "llama_server", None).startswith("f-")


def test_kernel_oom_kill_is_attributed_to_the_workload_that_restarts_after_it() -> None:
    kill = _assess(
        "p-kill",
        "Memory cgroup out of memory: Killed process <*> (uvicorn)",
        2,
        10,
        Category.OOM,
        Severity.CRITICAL,
        "uvicorn",
        signature="kernel.oom_kill",
    )
    kill.component_source = "process"
    crash = _assess(
        "p-crash",
        "Back-off restarting failed container orders-api",
        90,
        16,
        Category.CRASHLOOP,
        Severity.ERROR,
        "orders_api",
        signature="k8s.crashloop",
    )
    unrelated = _assess(
        "p-other",
        "Back-off restarting failed container sync",
        30,
        50,
        Category.CRASHLOOP,
        Severity.ERROR,
        "linkding_sync",
    )
    findings = rank_findings([kill, crash, unrelated], window_span_ns=2 * HOUR)
    assert (findings[0].category, findings[0].component) == ("oom", "orders_api")


def test_kernel_oom_kill_of_a_known_workload_keeps_its_name() -> None:
    kill = _assess(
        "p-kill",
        "Killed process <*> (llama-server)",
        1,
        10,
        Category.OOM,
        Severity.CRITICAL,
        "llama_server",
    )
    kill.component_source = "process"
    app = _assess("p-app", "slot released", 100, 0, Category.NONE, Severity.INFO, "llama_server")
    crash = _assess(
        "p-crash",
        "Back-off restarting failed container api",
        20,
        11,
        Category.CRASHLOOP,
        Severity.ERROR,
        "rag_api",
    )
    findings = rank_findings([kill, app, crash], window_span_ns=HOUR)
    assert {(f.category, f.component) for f in findings} >= {("oom", "llama_server")}


def test_root_cause_quotes_what_the_lines_say() -> None:
    traceback = _assess(
        "p-tb",
        "Exception in ASGI application",
        5,
        3,
        Category.APPLICATION_ERROR,
        Severity.ERROR,
        "orders_api",
        signature="python.traceback",
    )
    traceback.root_cause = "The handler raised an exception."
    traceback.facts.examples = [
        Example(
            ts=3 * MIN,
            labels={"namespace": "shop"},
            line="Exception in ASGI application\nTraceback (most recent call last):\n"
            '  File "/app/main.py", line 9, in pay\n'
            "AttributeError: 'NoneType' object has no attribute 'id'",
        )
    ]
    finding = rank_findings([traceback], window_span_ns=HOUR)[0]
    assert finding.root_cause == (
        'The handler raised an exception. The logs say: "Exception in ASGI application"; '
        "\"AttributeError: 'NoneType' object has no attribute 'id'\"."
    )


def test_without_a_signature_the_root_cause_names_the_pattern() -> None:
    lone = _assess(
        "p-x", "sync of <*> stalled", 4, 1, Category.APPLICATION_ERROR, Severity.ERROR, "sync"
    )
    lone.root_cause = None
    finding = rank_findings([lone], window_span_ns=HOUR)[0]
    assert "sync of <*> stalled" in finding.root_cause
