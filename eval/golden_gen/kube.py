"""Helpers that write Kubernetes-side lines into a case: events, kubelet, kernel, probes.

The wording follows what kubelet, the scheduler, node-problem-detector and the kernel
actually print, so incidents built from these look like real cluster output.
"""

from __future__ import annotations

import re

from .background import k8s_event, make_workload
from .common import Ctx, Workload, clf_ts, journal, klog, pod_ip, uid


def norm(name: str) -> str:
    """Component normalisation of golden-format.md."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower())


def event(
    ctx: Ctx,
    ts: int,
    reason: str,
    message: str,
    obj: Workload | None,
    *,
    type_: str = "Warning",
    component: str = "kubelet",
    kind: str = "Pod",
    name: str = "",
    namespace: str = "",
    count: int = 1,
    field_path: str = "",
) -> str:
    exporter = make_workload(ctx, "events")
    host = obj.node if obj and component == "kubelet" else ""
    line = k8s_event(
        ctx.r,
        ts,
        reason,
        message,
        type_,
        component,
        namespace or (obj.namespace if obj else "default"),
        kind,
        name or (obj.pod if obj else ""),
        host,
        count,
        field_path,
    )
    ctx.add(ts, exporter, line)
    return line


def kubelet(ctx: Ctx, ts: int, node: str, level: str, where: str, msg: str) -> None:
    w = ctx.workload(f"kubelet@{node}", lambda c: journal(node, "kubelet.service"))
    ctx.add(ts, w, klog(ts, level, ctx.r.randint(900, 4000), where, msg))


def kernel(ctx: Ctx, ts: int, node: str, msg: str) -> None:
    w = ctx.workload(f"kernel@{node}", lambda c: journal(node, "kernel"))
    ctx.add(ts, w, msg)


def pod_ref(w: Workload) -> str:
    return f"{w.namespace}/{w.pod}"


def probe_failed(ctx: Ctx, ts: int, w: Workload, probe: str, output: str) -> None:
    """The kubelet prober line for one failed probe."""
    msg = (
        f'"Probe failed" probeType="{probe}" pod="{pod_ref(w)}" podUID="{uid(ctx.r)}" '
        f'containerName="{w.container}" probeResult="failure" output="{output}"'
    )
    kubelet(ctx, ts, w.node, "I", "prober.go:107", msg)


def probe_output(ctx: Ctx, ip: str, port: int, path: str) -> str:
    return ctx.r.choice(
        (
            f'Get \\"http://{ip}:{port}{path}\\": dial tcp {ip}:{port}: connect: connection refused',
            f'Get \\"http://{ip}:{port}{path}\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        )
    )


def backoff(ctx: Ctx, ts: int, w: Workload, count: int, delay: str) -> None:
    """The kubelet side of a crash loop: the BackOff event and the pod worker error."""
    event(
        ctx,
        ts,
        "BackOff",
        f"Back-off restarting failed container {w.container} in pod {w.pod}_{w.namespace}({uid(ctx.r)})",
        w,
        count=count,
        field_path=f"spec.containers{{{w.container}}}",
    )
    err = (
        f'"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"{w.container}\\" with CrashLoopBackOff: '
        f'\\"back-off {delay} restarting failed container={w.container} pod={w.pod}_{w.namespace}({uid(ctx.r)})\\"" pod="{pod_ref(w)}" podUID="{uid(ctx.r)}"'
    )
    kubelet(ctx, ts + 1_000_000, w.node, "E", "pod_workers.go:1301", err)


BACKOFF_DELAYS = ("10s", "20s", "40s", "1m20s", "2m40s", "5m0s")


def crash_loop(ctx: Ctx, w: Workload, n: int, lo: float, hi: float) -> None:
    for i, ts in enumerate(ctx.spread(n, lo, hi)):
        backoff(ctx, ts, w, i + 2, BACKOFF_DELAYS[min(i, len(BACKOFF_DELAYS) - 1)])


def probes_and_503s(
    ctx: Ctx, w: Workload, n_probe: int, n_503: int, lo: float, hi: float, path: str = "/health"
) -> None:
    """Symptoms of a backend that keeps restarting: failed probes and 503 at the edge."""
    ip = pod_ip(ctx.r)
    kinds = ("Readiness", "Readiness", "Liveness")
    for ts in ctx.uniform_times(n_probe, lo, hi):
        probe_failed(ctx, ts, w, ctx.r.choice(kinds), probe_output(ctx, ip, 8080, path))
        if ctx.r.random() < 0.15:
            event(
                ctx,
                ts,
                "Unhealthy",
                f'Readiness probe failed: Get "http://{ip}:8080{path}": dial tcp {ip}:8080: connect: connection refused',
                w,
                field_path=f"spec.containers{{{w.container}}}",
            )
    edge = make_workload(ctx, "nginx")
    svc = f"{w.namespace}-{w.app}-8080"
    for ts in ctx.uniform_times(n_503, lo, hi):
        dur = ctx.r.uniform(0.0005, 0.004)
        line = (
            f'{pod_ip(ctx.r)} - - [{clf_ts(ts)}] "POST /v1/chat/completions HTTP/1.1" 503 190 "-" "python-httpx/0.27.2" '
            f"{ctx.r.randint(300, 4000)} {dur:.3f} [{svc}] [] - - - - {uid(ctx.r).replace('-', '')}"
        )
        if w.app != "llama-server":
            line = line.replace(
                "/v1/chat/completions", ctx.r.choice(("/api/v1/orders", "/api/v1/cart", "/"))
            )
        ctx.add(ts, edge, line)
