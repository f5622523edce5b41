"""`compare` cases: two windows of the same streams; what is new, gone, up or down.

Background rates are per minute and jittered by up to ±30% between the windows (the
comparison must not report that), windows often differ in length, and the changes are
injected incidents (new or gone) or one pattern whose rate moves by 4x or more.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import incidents_app as app
from . import incidents_k8s as k8s
from .analyze import NODE_SETS
from .background import SERVICES, make_workload
from .common import (
    BASE_DAY_NS,
    NS_PER_MIN,
    NS_PER_S,
    Ctx,
    Incident,
    case_rng,
    pg_ts,
    pod_ip,
    py_ts,
    record_json,
    rfc3339,
    window_json,
)


@dataclass(frozen=True)
class RatePattern:
    """A pattern emitted at a controllable rate, with a substring unique to it."""

    service: str
    substring: str
    line: Callable[[random.Random, int], str]


RATE_PATTERNS = (
    RatePattern(
        "postgres",
        "ms  statement: SELECT o.id, o.total FROM orders",
        lambda r, t: (
            f"{pg_ts(t)} [{r.randint(100, 9999)}] LOG:  duration: {r.uniform(500, 4000):.3f} ms  statement: SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1"
        ),
    ),
    RatePattern(
        "worker",
        "ReadTimeout; retrying in",
        lambda r, t: (
            f"{py_ts(t)} WARNING worker.http: GET https://api.github.com/repos/example/app/releases failed (attempt {r.randint(1, 2)}/5): ReadTimeout; retrying in 1.0s"
        ),
    ),
    RatePattern(
        "nginx",
        "upstream prematurely closed connection",
        lambda r, t: (
            f'{rfc3339(t, 0)[:10].replace("-", "/")} {rfc3339(t, 0)[11:19]} [error] {r.randint(20, 40)}#{r.randint(20, 40)}: *{r.randint(10**5, 10**7)} upstream prematurely closed connection while reading response header from upstream, client: {pod_ip(r)}, server: shop.home.arpa, request: "GET /api/v1/cart HTTP/1.1", upstream: "http://{pod_ip(r)}:8080/api/v1/cart", host: "shop.home.arpa"'
        ),
    ),
    RatePattern(
        "grafana",
        'msg="Request error" error="context canceled"',
        lambda r, t: (
            f'logger=context userId=1 orgId=1 uname=admin t={rfc3339(t)} level=error msg="Request error" error="context canceled" remote_addr={pod_ip(r)} traceID='
        ),
    ),
    RatePattern(
        "llama",
        "request: POST /v1/embeddings",
        lambda r, t: f"srv  log_server_r: request: POST /v1/embeddings {pod_ip(r)} 200",
    ),
    RatePattern(
        "orders",
        '"GET /api/v1/orders/export HTTP/1.1" 200 OK',
        lambda r, t: (
            f'INFO:     {pod_ip(r)}:{r.randint(32768, 60999)} - "GET /api/v1/orders/export HTTP/1.1" 200 OK'
        ),
    ),
)

NEW_INCIDENTS: dict[str, Callable[[Ctx], Incident]] = {
    "dns-upstream": app.dns,
    "cert-expired": app.tls_expired,
    "loki-ingest-limit": app.limit_loki_ingest,
    "auth": app.auth,
    "python-500": app.app_python_traceback,
    "image-pull": k8s.image_pull,
    "oom-cascade": k8s.oom_cascade,
    "java-npe": app.app_java_npe,
    "llama-context": app.limit_context,
}

# (case id, new incident, gone incident, increased pattern, decreased pattern, after/before length ratio)
PLAN: tuple[tuple[str, str | None, str | None, int | None, int | None, float], ...] = (
    ("new-dns-errors", "dns-upstream", None, None, None, 1.0),
    ("new-expired-certificate", "cert-expired", None, None, None, 2.0),
    ("new-loki-rate-limit", "loki-ingest-limit", None, 2, None, 1.0),
    ("new-auth-failures", "auth", None, None, None, 0.5),
    ("new-python-500s-after-deploy", "python-500", None, None, 4, 1.0),
    ("new-image-pull-failure", "image-pull", None, None, None, 1.0),
    ("new-oom-cascade", "oom-cascade", None, None, None, 2.0),
    ("gone-npe-after-fix", None, "java-npe", None, None, 1.0),
    ("gone-context-errors-after-resize", None, "llama-context", None, None, 0.5),
    ("gone-dns-errors-new-auth", "auth", "dns-upstream", None, None, 1.0),
    ("slow-queries-increased", None, None, 0, None, 1.0),
    ("retries-decreased", None, None, None, 1, 2.0),
    ("upstream-resets-increased", None, None, 2, 3, 0.5),
    ("embeddings-traffic-increased", None, None, 4, None, 1.0),
    ("jitter-only-same-length", None, None, None, None, 1.0),
    ("jitter-only-longer-after", None, None, None, None, 3.0),
    ("jitter-only-shorter-after", None, None, None, None, 0.25),
)


def _window(
    r: random.Random, start: int, minutes: float, nodes: list[str], shared: dict[str, Any]
) -> Ctx:
    ctx = Ctx(r, start, start + int(minutes * NS_PER_MIN), nodes)
    ctx.workloads = shared
    return ctx


def _background(ctx: Ctx, rates: dict[str, float], jitter: bool) -> None:
    for key, rate in rates.items():
        factor = ctx.r.uniform(0.7, 1.3) if jitter else 1.0
        w = make_workload(ctx, key)
        for ts in ctx.uniform_times(max(1, round(rate * ctx.minutes * factor))):
            ctx.add_block(ts, w, SERVICES[key].emit(ctx.r, ts, w))


def _pattern(ctx: Ctx, p: RatePattern, per_min: float) -> None:
    w = make_workload(ctx, p.service)
    for ts in ctx.uniform_times(max(2, round(per_min * ctx.minutes))):
        ctx.add(ts, w, p.line(ctx.r, ts))


def build(
    index: int, spec: tuple[str, str | None, str | None, int | None, int | None, float]
) -> dict[str, Any]:
    case_id, new, gone, up, down, ratio = spec
    r = case_rng(f"compare/{case_id}")
    nodes = list(r.choice(NODE_SETS))
    before_min = r.choice((20, 30, 60))
    start = BASE_DAY_NS + 40 * 86_400 * NS_PER_S + index * 86_400 * NS_PER_S // 2
    shared: dict[str, Any] = {}
    before = _window(r, start, before_min, nodes, shared)
    after = _window(
        r, before.end + r.randint(0, 3) * 10 * NS_PER_MIN, before_min * ratio, nodes, shared
    )
    keys = sorted(r.sample(sorted(k for k in SERVICES if k != "events"), r.randint(4, 7)))
    total_rate = r.uniform(150, 220) / before_min
    weights = [r.uniform(*SERVICES[k].rate) for k in keys]
    rates = {k: total_rate * w / sum(weights) for k, w in zip(keys, weights, strict=True)}
    expected: dict[str, Any] = {"new": [], "gone": [], "increased": [], "decreased": []}
    tags = ["jitter"]
    for idx, heading, low, high in ((up, "increased", 0.15, 1.2), (down, "decreased", 1.2, 0.15)):
        if idx is None:
            continue
        p = RATE_PATTERNS[idx]
        base = r.uniform(0.3, 0.8)
        _pattern(before, p, base * low * 2)
        _pattern(after, p, base * high * 2)
        expected[heading].append(p.substring)
        tags.append(heading)
    findings = []
    if new:
        inc = NEW_INCIDENTS[new](after)
        expected["new"] += inc.findings[0]["evidence"][:2]
        findings.append({k: inc.findings[0][k] for k in ("category", "severity", "component")})
        tags += ["new", *inc.tags]
    if gone:
        inc = NEW_INCIDENTS[gone](before)
        expected["gone"] += [
            ev for ev in inc.findings[0]["evidence"][:2] if ev not in expected["new"]
        ]
        tags.append("gone")
    _background(before, rates, jitter=False)
    _background(after, rates, jitter=True)
    if findings:
        expected["findings"] = findings
    case = {
        "id": case_id,
        "kind": "compare",
        "description": _describe(before_min, ratio, new, gone, expected),
        "tags": [
            *sorted(set(tags) - {"easy", "medium", "hard"}),
            "medium" if new or gone or up is not None or down is not None else "hard",
        ],
        "before": {
            "window": window_json(before.start, before.end),
            "logs": [record_json(rec) for rec in before.sorted_records()],
        },
        "after": {
            "window": window_json(after.start, after.end),
            "logs": [record_json(rec) for rec in after.sorted_records()],
        },
        "expected": expected,
    }
    _check(case)
    return case


def _describe(
    before_min: int, ratio: float, new: str | None, gone: str | None, expected: dict[str, Any]
) -> str:
    parts = [
        f"before {before_min} min, after {before_min * ratio:g} min; background rates jittered ±30%"
    ]
    if new:
        parts.append(f"new incident: {new}")
    if gone:
        parts.append(f"resolved incident: {gone}")
    for heading in ("increased", "decreased"):
        if expected[heading]:
            parts.append(f"{heading}: {expected[heading][0]!r} (per-minute rate)")
    if len(parts) == 1:
        parts.append("nothing changed")
    return "; ".join(parts)


def _check(case: dict[str, Any]) -> None:
    before = [rec["line"] for rec in case["before"]["logs"]]
    after = [rec["line"] for rec in case["after"]["logs"]]
    exp = case["expected"]
    for s in exp["new"]:
        assert any(s in ln for ln in after) and not any(s in ln for ln in before), (case["id"], s)
    for s in exp["gone"]:
        assert any(s in ln for ln in before) and not any(s in ln for ln in after), (case["id"], s)
    for s in exp["increased"] + exp["decreased"]:
        assert any(s in ln for ln in before) and any(s in ln for ln in after), (case["id"], s)


def build_all() -> list[dict[str, Any]]:
    return [build(i, spec) for i, spec in enumerate(PLAN)]
