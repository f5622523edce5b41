"""`analyze` cases: a window of background traffic with zero to three injected incidents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import incidents_app as app
from . import incidents_k8s as k8s
from .background import SERVICES, fill_background
from .common import (
    BASE_DAY_NS,
    NS_PER_MIN,
    NS_PER_S,
    SEVERITY_RANK,
    Ctx,
    Incident,
    case_rng,
    record_json,
    window_json,
)

Scenario = Callable[[Ctx], Incident]

SCENARIOS: dict[str, Scenario] = {
    "oom-cascade": k8s.oom_cascade,
    "oom-java-heap": k8s.oom_java_heap,
    "cuda-oom-llama": k8s.cuda_oom_llama,
    "crashloop": k8s.crashloop_exit,
    "image-pull": k8s.image_pull,
    "probe-slow": k8s.probe_slow,
    "scheduling": k8s.scheduling,
    "disk-full-postgres": k8s.storage_disk_full,
    "volume-mount": k8s.storage_mount,
    "node-not-ready": k8s.node_not_ready,
    "etcd-leader-lost": k8s.control_plane,
    "node-pressure": k8s.resource_pressure,
    "helm-upgrade-failed": k8s.deployment,
    "config-error": k8s.config_missing_secret,
    "cpu-throttling": k8s.cpu_throttling,
    "cni-route": app.network,
    "dns-upstream": app.dns,
    "cert-expired": app.tls_expired,
    "auth": app.auth,
    "postgres-down": app.dependency_postgres,
    "model-server-down": app.dependency_model_server,
    "redis-blip": app.dependency_blip,
    "llama-context": app.limit_context,
    "loki-ingest-limit": app.limit_loki_ingest,
    "body-too-large": app.limit_body_size,
    "python-500": app.app_python_traceback,
    "java-npe": app.app_java_npe,
    "go-panic": app.app_go_panic,
}

REPEATS = [
    "oom-cascade",
    "oom-cascade",
    "oom-cascade",
    "config-error",
    "config-error",
    "auth",
    "auth",
    "image-pull",
    "cert-expired",
    "disk-full-postgres",
    "helm-upgrade-failed",
]
NODE_SETS = (
    ["node-1", "node-2", "node-3"],
    ["k3s-cp-1", "k3s-w-1", "k3s-w-2"],
    ["pi-01", "pi-02", "pi-03", "pi-04"],
    ["nuc1", "nuc2", "nuc3"],
    ["talos-cp-a", "talos-w-a", "talos-w-b"],
)
DURATIONS_MIN = (15, 30, 30, 60, 60, 60, 120, 180)
DIFFICULTY = ("easy", "medium", "hard")
LOGS_FILE_THRESHOLD = 1500
# The few windows near the 5,000-line maximum (kept few to bound the dataset size).
BIG_CASES = ("oom-cascade-2", "benign-03")


def plan() -> list[tuple[str, list[str]]]:
    """Case ids and their incident lists, fixed so that the dataset's shape is stable."""
    cases: list[tuple[str, list[str]]] = [(name, [name]) for name in SCENARIOS]
    counts: dict[str, int] = {}
    for name in REPEATS:
        counts[name] = counts.get(name, 1) + 1
        cases.append((f"{name}-{counts[name]}", [name]))
    r = case_rng("plan")
    names = list(SCENARIOS)
    for i in range(16):
        picked = r.sample(names, 3 if i % 4 == 3 else 2)
        cases.append((f"mixed-{i + 1:02d}-{'-'.join(p.split('-')[0] for p in picked)}", picked))
    for i in range(8):
        cases.append((f"benign-{i + 1:02d}", []))
    return cases


def _window_size(ctx: Ctx, case_id: str) -> int:
    if case_id in BIG_CASES:
        return ctx.r.randint(3000, 5000)
    if ctx.r.random() < 0.85:
        return ctx.r.randint(300, 420)
    return ctx.r.randint(420, 900)


def _rank(incidents: list[Incident]) -> list[dict[str, Any]]:
    keyed = []
    for inc in incidents:
        for pos, f in enumerate(inc.findings):
            keyed.append((-SEVERITY_RANK[f["severity"]], pos > 0, len(keyed), f))
    return [f for *_, f in sorted(keyed, key=lambda k: k[:3])]


def _difficulty(tags: list[str], n_incidents: int) -> str:
    levels = [DIFFICULTY.index(t) for t in tags if t in DIFFICULTY]
    level = max(levels, default=1)
    if n_incidents >= 3:
        level = 2
    return DIFFICULTY[level]


def build(
    index: int, case_id: str, names: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the case and its records (the caller decides inline vs logs_file)."""
    r = case_rng(f"analyze/{case_id}")
    minutes = r.choice(DURATIONS_MIN)
    start = BASE_DAY_NS + index * 86_400 * NS_PER_S // 3 + r.randint(0, 20) * 30 * NS_PER_MIN
    ctx = Ctx(r, start, start + minutes * NS_PER_MIN, list(r.choice(NODE_SETS)))
    incidents = [SCENARIOS[name](ctx) for name in names]
    benign = not names
    size = max(_window_size(ctx, case_id), len(ctx.records) + r.randint(120, 300))
    scary = r.randint(20, 60) if benign else (r.randint(4, 20) if r.random() < 0.5 else 0)
    app.scary_noise(ctx, scary)
    keys = sorted(
        set(r.sample(sorted(SERVICES), r.randint(5, 10))) | (set(ctx.workloads) & set(SERVICES))
    )
    fill_background(ctx, keys, max(size - len(ctx.records), 100))
    records = [record_json(rec) for rec in ctx.sorted_records()]
    _check_evidence(case_id, incidents, records)
    tags = ["benign"] if benign else []
    for inc in incidents:
        tags += inc.tags
    if scary:
        tags.append("scary-noise")
    tags += [t for k in keys for t in SERVICES[k].tags]
    diff = (
        "hard"
        if benign and scary > 40
        else ("medium" if benign else _difficulty(tags, len(incidents)))
    )
    tags = [*sorted({t for t in tags if t not in DIFFICULTY}), diff]
    case = {
        "id": case_id,
        "kind": "analyze",
        "description": _description(names, minutes, len(records)),
        "tags": tags,
        "window": window_json(ctx.start, ctx.end),
        "logs": records,
        "expected": _expected(incidents),
    }
    return case, records


def _description(names: list[str], minutes: int, n: int) -> str:
    what = (
        ", ".join(names)
        if names
        else "no incident, benign background (with alarming-looking lines)"
    )
    return f"{minutes}-minute window, {n} lines: {what}"


def _expected(incidents: list[Incident]) -> dict[str, Any]:
    if not incidents:
        return {
            "findings": [],
            "summary": "Nothing is wrong in this window: routine traffic only; the few error-looking lines are cancelled queries, retries that succeeded and counters reporting 0 errors.",
            "summary_facts": [["nothing", "no issue", "no problem", "healthy", "benign", "normal"]],
        }
    return {
        "findings": _rank(incidents),
        "summary": " ".join(inc.summary for inc in incidents),
        "summary_facts": [fact for inc in incidents for fact in inc.facts],
    }


def _check_evidence(case_id: str, incidents: list[Incident], records: list[dict[str, Any]]) -> None:
    lines = [rec["line"] for rec in records]
    for inc in incidents:
        for f in inc.findings:
            for ev in f["evidence"]:
                if not any(ev in line for line in lines):
                    raise AssertionError(f"{case_id}: evidence {ev!r} not in any line")
