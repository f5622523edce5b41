"""Benign background traffic: the everyday lines of a small cluster, in each program's format.

Each `Service` knows how to name its pod and how to write one ordinary line (or a few,
for multi-line programs) at a given time. Rates are lines per minute; cases pick a
random subset of services and a random rate for each.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .common import (
    HEX,
    Ctx,
    Workload,
    clf_ts,
    daemonset_pod,
    deployment_pod,
    jdump,
    journal,
    klog,
    pg_ts,
    pod_ip,
    py_ts,
    rand_str,
    rfc3339,
    spring_ts,
    uid,
)

Emit = Callable[[random.Random, int, Workload], list[str]]

USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15",
    "Grafana/11.3.0",
    "kube-probe/1.31",
    "python-httpx/0.27.2",
    "Go-http-client/1.1",
)
DOMAINS = (
    "api.github.com.",
    "ghcr.io.",
    "registry-1.docker.io.",
    "objects.githubusercontent.com.",
    "huggingface.co.",
    "loki.monitoring.svc.cluster.local.",
    "postgres.db.svc.cluster.local.",
    "tempo.monitoring.svc.cluster.local.",
    "qdrant.search.svc.cluster.local.",
    "pypi.org.",
    "time.cloudflare.com.",
)


@dataclass(frozen=True)
class Service:
    key: str
    namespace: str
    app: str
    container: str
    pod_style: str  # "deploy", "sts", "ds", "journal"
    emit: Emit
    rate: tuple[float, float]
    tags: tuple[str, ...] = ()

    def make(self, ctx: Ctx) -> Workload:
        r = ctx.r
        if self.pod_style == "journal":
            return journal(ctx.node(), self.container)
        if self.pod_style == "sts":
            pod = f"{self.app}-{r.randint(0, 1)}"
        elif self.pod_style == "ds":
            pod = daemonset_pod(r, self.app)
        else:
            pod = deployment_pod(r, self.app)
        return Workload(self.namespace, pod, self.container, ctx.node(), self.app)


def _ms(r: random.Random, lo: float, hi: float) -> str:
    return f"{r.uniform(lo, hi):.3f}ms"


def apiserver(r: random.Random, ts: int, w: Workload) -> list[str]:
    choice = r.random()
    if choice < 0.4:
        res = r.choice(("pods", "configmaps", "endpointslices.discovery.k8s.io", "leases"))
        msg = f"cacher ({res}): {r.randint(1, 4)} objects queued in incoming channel."
        return [klog(ts, "I", 1, "cacher.go:1032", msg)]
    if choice < 0.7:
        ips = f'{{"IPv4":"10.43.{r.randint(0, 255)}.{r.randint(1, 254)}"}}'
        svc = r.choice(("shop/cart", "llm/llama-server", "monitoring/loki-gateway"))
        return [
            klog(
                ts,
                "I",
                1,
                "alloc.go:330",
                f'"allocated clusterIPs" service="{svc}" clusterIPs={ips}',
            )
        ]
    if choice < 0.85:
        return [
            klog(
                ts,
                "I",
                1,
                "controller.go:624",
                '"quota admission added evaluator for" resources="deployments.apps"',
            )
        ]
    secs = r.uniform(0.5, 1.9)
    return [
        klog(
            ts,
            "I",
            1,
            "trace.go:236",
            f'Trace[{r.randint(10**8, 10**9)}]: "List" accept:application/json,audit-id:{uid(r)} (20-Nov-2026) (total time: {secs * 1000:.0f}ms):',
        )
    ]


def kubelet(r: random.Random, ts: int, w: Workload) -> list[str]:
    ns, app = r.choice(
        (("shop", "cart"), ("llm", "llama-server"), ("monitoring", "loki"), ("db", "postgres"))
    )
    pod = f"{app}-{rand_str(r, 10)}-{rand_str(r, 5)}"
    tid = r.randint(900, 4000)
    choice = r.random()
    if choice < 0.45:
        return [
            klog(
                ts,
                "I",
                tid,
                "kubelet.go:2453",
                f'"SyncLoop (PLEG): event for pod" pod="{ns}/{pod}" event={{"ID":"{uid(r)}","Type":"ContainerStarted","Data":"{rand_str(r, 64, HEX)}"}}',
            )
        ]
    if choice < 0.7:
        return [
            klog(
                ts,
                "I",
                tid,
                "kubelet.go:2428",
                f'"SyncLoop UPDATE" source="api" pods=["{ns}/{pod}"]',
            )
        ]
    if choice < 0.85:
        return [
            klog(
                ts,
                "I",
                tid,
                "reconciler_common.go:258",
                f'"operationExecutor.VerifyControllerAttachedVolume started for volume \\"kube-api-access-{rand_str(r, 5)}\\" (UniqueName: \\"kubernetes.io/projected/{uid(r)}-kube-api-access\\") pod \\"{pod}\\" (UID: \\"{uid(r)}\\") " pod="{ns}/{pod}"',
            )
        ]
    return [
        klog(
            ts,
            "I",
            tid,
            "image_gc_manager.go:391",
            f'"Disk usage on image filesystem is below the low threshold, no need to free space" usage={r.randint(35, 68)} lowThreshold=80',
        )
    ]


def containerd(r: random.Random, ts: int, w: Workload) -> list[str]:
    cid = rand_str(r, 64, HEX)
    msg = r.choice(
        (
            f'msg="StartContainer for \\"{cid}\\" returns successfully"',
            f'msg="shim disconnected" id={cid} namespace=k8s.io',
            f'msg="ImageCreate event name:\\"ghcr.io/example/cart:v1.{r.randint(2, 9)}.{r.randint(0, 20)}\\""',
            f'msg="CreateContainer within sandbox \\"{cid[:12]}\\" for container &ContainerMetadata{{Name:worker,Attempt:0,}}"',
        )
    )
    return [f'time="{rfc3339(ts)}" level=info {msg}']


def coredns(r: random.Random, ts: int, w: Workload) -> list[str]:
    name = r.choice(DOMAINS)
    qtype = r.choice(("A", "AAAA", "A"))
    internal = name.endswith("cluster.local.")
    rcode = "NOERROR" if internal or r.random() < 0.85 else "NXDOMAIN"
    flags = "qr,aa,rd" if internal else "qr,rd,ra"
    src = f"{pod_ip(r)}:{r.randint(32768, 60999)}"
    size = r.randint(40, 60)
    return [
        f'[INFO] {src} - {r.randint(1, 65535)} "{qtype} IN {name} udp {size} false 512" {rcode} {flags} {r.randint(60, 400)} {r.uniform(0.00005, 0.03):.9f}s'
    ]


def loki(r: random.Random, ts: int, w: Workload) -> list[str]:
    t = rfc3339(ts, 9)
    choice = r.random()
    if choice < 0.2:
        ns = r.choice(("llm", "shop", "monitoring", "db"))
        dur = r.uniform(0.01, 2.5)
        return [
            f'level=info ts={t} caller=metrics.go:237 component=frontend org_id=fake latency=fast query="{{namespace=\\"{ns}\\"}} |= \\"error\\"" query_hash={r.randint(10**8, 4 * 10**9)} query_type=filter range_type=range length=1h0m0s start_delta=1h0m{r.randint(0, 59)}s end_delta={r.randint(0, 9)}s step=15s duration={dur:.6f}s status=200 limit=1000 returned_lines={r.randint(0, 1000)} throughput={r.uniform(1, 90):.0f}MB total_bytes={r.uniform(1, 90):.0f}MB total_entries={r.randint(0, 1000)} queue_time={r.uniform(10, 900):.1f}µs subqueries=1 cache_chunk_req=0 cache_chunk_hit=0 source=grafana-lokiexplore-app'
        ]
    if choice < 0.65:
        return [
            f'level=info ts={t} caller=flush.go:305 component=ingester msg="flushing stream" user=fake fp={rand_str(r, 16, HEX)} immediate=false num_chunks=1 total_comp="{r.randint(8, 300)} kB" avg_comp="{r.randint(8, 300)} kB" total_uncomp="{r.randint(50, 900)} kB" avg_uncomp="{r.randint(50, 900)} kB" full=0 idle=1 max_age=0 labels="{{namespace=\\"shop\\"}}"'
        ]
    if choice < 0.85:
        return [
            f'level=info ts={t} caller=table_manager.go:136 index-store=tsdb-2024-04-01 msg="uploading tables"'
        ]
    return [f'level=info ts={t} caller=checkpoint.go:498 msg="starting checkpoint"']


def grafana(r: random.Random, ts: int, w: Workload) -> list[str]:
    t = rfc3339(ts, 9)
    path, handler = r.choice(
        (
            ("/api/dashboards/uid/k8s-pods", "/api/dashboards/uid/:uid"),
            ("/api/ds/query", "/api/ds/query"),
            ("/api/search", "/api/search"),
            ("/api/live/ws", "/api/live/ws"),
        )
    )
    if r.random() < 0.8:
        return [
            f'logger=context userId=1 orgId=1 uname=admin t={t} level=info msg="Request Completed" method=GET path={path} status=200 remote_addr={pod_ip(r)} time_ms={r.randint(1, 900)} duration={r.uniform(1, 900):.3f}ms size={r.randint(100, 90000)} referer= handler={handler} status_source=server'
        ]
    return [
        f'logger=cleanup t={t} level=info msg="Completed cleanup jobs" duration={_ms(r, 5, 60)}'
    ]


def alloy(r: random.Random, ts: int, w: Workload) -> list[str]:
    t = rfc3339(ts, 9)
    ns = r.choice(("shop", "llm", "db", "monitoring"))
    msg = r.choice(
        (
            f'msg="tailer running" component_path=/ component_id=loki.source.kubernetes.pods target={ns}/{rand_str(r, 8)}:app',
            f'msg="opened log stream" component_path=/ component_id=loki.source.kubernetes.pods target={ns}/{rand_str(r, 8)}:app "start time"={t}',
            'msg="finished node evaluation" controller_path=/ controller_id="" trace_id='
            + rand_str(r, 32, HEX)
            + f" node_id=discovery.kubernetes.pods duration={_ms(r, 0.1, 9)}",
        )
    )
    return [f"ts={t} level=info {msg}"]


def postgres(r: random.Random, ts: int, w: Workload) -> list[str]:
    pid = r.randint(100, 9999)
    choice = r.random()
    if choice < 0.35:
        return [
            f"{pg_ts(ts)} [{pid}] LOG:  connection received: host={pod_ip(r)} port={r.randint(32768, 60999)}"
        ]
    if choice < 0.7:
        db = r.choice(("app", "shop", "grafana"))
        return [
            f"{pg_ts(ts)} [{pid}] LOG:  connection authorized: user={db} database={db} SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"
        ]
    if choice < 0.85:
        return [
            f"{pg_ts(ts)} [{pid}] LOG:  disconnection: session time: 0:00:{r.uniform(0, 59):06.3f} user=app database=app host={pod_ip(r)} port={r.randint(32768, 60999)}"
        ]
    bufs = r.randint(5, 900)
    return [
        f"{pg_ts(ts)} [{r.randint(20, 60)}] LOG:  checkpoint complete: wrote {bufs} buffers ({bufs / 163.84:.1f}%); 0 WAL file(s) added, 0 removed, 1 recycled; write={r.uniform(0.1, 30):.3f} s, sync={r.uniform(0, 0.1):.3f} s, total={r.uniform(0.2, 30):.3f} s; sync files={r.randint(2, 40)}, longest=0.002 s, average=0.001 s; distance={r.randint(10, 9000)} kB, estimate={r.randint(900, 9000)} kB"
    ]


UVICORN_ROUTES = (
    ("GET", "/health", "200 OK"),
    ("GET", "/health", "200 OK"),
    ("GET", "/api/v1/orders?limit=20", "200 OK"),
    ("POST", "/api/v1/orders", "201 Created"),
    ("GET", "/api/v1/orders/{id}", "200 OK"),
    ("GET", "/api/v1/orders/{id}", "404 Not Found"),
    ("GET", "/metrics", "200 OK"),
)


def uvicorn(r: random.Random, ts: int, w: Workload) -> list[str]:
    method, path, status = r.choice(UVICORN_ROUTES)
    path = path.replace("{id}", str(r.randint(1000, 99999)))
    return [
        f'INFO:     {pod_ip(r)}:{r.randint(32768, 60999)} - "{method} {path} HTTP/1.1" {status}'
    ]


def python_worker(r: random.Random, ts: int, w: Workload) -> list[str]:
    job = uid(r)[:8]
    msg = r.choice(
        (
            f"INFO worker.tasks: processed job id={job} kind=thumbnail duration={r.uniform(0.05, 3):.2f}s",
            f"INFO worker.tasks: picked up job id={job} queue=default",
            f"INFO worker.scheduler: queue depth={r.randint(0, 40)} workers=4",
            "DEBUG worker.health: heartbeat ok",
        )
    )
    return [f"{py_ts(ts)} {msg}"]


def nginx(r: random.Random, ts: int, w: Workload) -> list[str]:
    method, path = r.choice(
        (
            ("GET", "/"),
            ("GET", "/api/v1/cart"),
            ("POST", "/api/v1/cart/items"),
            ("GET", "/static/app.js"),
            ("GET", "/api/v1/products?page=2"),
        )
    )
    status = r.choice((200, 200, 200, 200, 304, 201, 404))
    up = f"{pod_ip(r)}:8080"
    dur = r.uniform(0.001, 0.3)
    return [
        f'{pod_ip(r)} - - [{clf_ts(ts)}] "{method} {path} HTTP/1.1" {status} {r.randint(0, 50000)} "https://shop.home.arpa/" "{r.choice(USER_AGENTS)}" {r.randint(200, 900)} {dur:.3f} [shop-frontend-80] [] {up} {r.randint(0, 50000)} {dur:.3f} {status} {rand_str(r, 32, HEX)}'
    ]


def envoy(r: random.Random, ts: int, w: Workload) -> list[str]:
    method, path = r.choice(
        (
            ("GET", "/api/v1/cart"),
            ("GET", "/api/v1/products"),
            ("POST", "/api/v1/checkout"),
            ("GET", "/healthz"),
        )
    )
    dur = r.randint(1, 120)
    return [
        f'[{rfc3339(ts, 3)}] "{method} {path} HTTP/1.1" 200 - via_upstream - "-" {r.randint(0, 900)} {r.randint(10, 9000)} {dur} {max(dur - 1, 0)} "{pod_ip(r)}" "{r.choice(USER_AGENTS)}" "{uid(r)}" "cart.shop.svc.cluster.local:8080" "{pod_ip(r)}:8080" outbound|8080||cart.shop.svc.cluster.local {pod_ip(r)}:{r.randint(32768, 60999)} {pod_ip(r)}:8080 {pod_ip(r)}:{r.randint(32768, 60999)} - default'
    ]


def flux(r: random.Random, ts: int, w: Workload) -> list[str]:
    name = r.choice(("apps", "infrastructure", "monitoring", "llm"))
    obj = {"name": name, "namespace": "flux-system"}
    rec = {
        "level": "info",
        "ts": rfc3339(ts, 3),
        "msg": f"Reconciliation finished in {r.uniform(0.2, 9):.0f}{r.choice(('ms', 's'))}, next run in 10m0s",
        "controller": "kustomization",
        "controllerGroup": "kustomize.toolkit.fluxcd.io",
        "controllerKind": "Kustomization",
        "Kustomization": obj,
        "namespace": "flux-system",
        "name": name,
        "reconcileID": uid(r),
    }
    return [jdump(rec)]


def etcd(r: random.Random, ts: int, w: Workload) -> list[str]:
    rev = r.randint(1_200_000, 1_900_000)
    if r.random() < 0.5:
        rec = {
            "level": "info",
            "ts": rfc3339(ts, 6),
            "caller": "mvcc/index.go:214",
            "msg": "compact tree index",
            "revision": rev,
        }
    else:
        rec = {
            "level": "info",
            "ts": rfc3339(ts, 6),
            "caller": "mvcc/kvstore_compaction.go:72",
            "msg": "finished scheduled compaction",
            "compact-revision": rev,
            "took": _ms(r, 3, 40),
            "hash": r.randint(10**8, 4 * 10**9),
            "current-db-size-bytes": r.randint(20, 80) * 2**20,
            "current-db-size": f"{r.randint(20, 80)} MB",
        }
    return [jdump(rec)]


def llama_server(r: random.Random, ts: int, w: Workload) -> list[str]:
    task = r.randint(100, 99999)
    slot = r.randint(0, 3)
    n_prompt = r.randint(40, 3000)
    choice = r.random()
    if choice < 0.3:
        return [f"srv  log_server_r: request: POST /v1/chat/completions {pod_ip(r)} 200"]
    if choice < 0.5:
        return [f"slot launch_slot_: id  {slot} | task {task} | processing task"]
    if choice < 0.7:
        ms = n_prompt * r.uniform(0.2, 0.6)
        return [
            f"prompt eval time = {ms:10.2f} ms / {n_prompt:5d} tokens ({ms / n_prompt:8.2f} ms per token, {1000 * n_prompt / ms:8.2f} tokens per second)"
        ]
    if choice < 0.85:
        n = r.randint(20, 600)
        ms = n * r.uniform(14, 40)
        return [
            f"       eval time = {ms:10.2f} ms / {n:5d} tokens ({ms / n:8.2f} ms per token, {1000 * n / ms:8.2f} tokens per second)"
        ]
    return [
        f"slot      release: id  {slot} | task {task} | stop processing: n_past = {n_prompt + r.randint(20, 600)}, truncated = 0"
    ]


def spring(r: random.Random, ts: int, w: Workload) -> list[str]:
    thread = f"nio-8080-exec-{r.randint(1, 10)}"
    cls, msg = r.choice(
        (
            (
                "c.e.payments.api.PaymentController",
                f"Payment {uid(r)[:13]} authorised in {r.randint(20, 400)} ms",
            ),
            (
                "c.e.payments.service.LedgerService",
                f"Posted {r.randint(1, 9)} ledger entries for batch {r.randint(1000, 9999)}",
            ),
            ("o.s.web.servlet.DispatcherServlet", "Completed initialization in 2 ms"),
            (
                "c.z.hikari.pool.HikariPool",
                "HikariPool-1 - Pool stats (total=10, active=1, idle=9, waiting=0)",
            ),
        )
    )
    return [f"{spring_ts(ts)}  INFO 1 --- [payments] [{thread:>15}] {cls:<40} : {msg}"]


def slog_api(r: random.Random, ts: int, w: Workload) -> list[str]:
    path = r.choice(("/v1/search", "/v1/documents", "/healthz", "/v1/embeddings"))
    rec = {
        "time": rfc3339(ts, 9)[:-1] + "+00:00",
        "level": "INFO",
        "msg": "request served",
        "method": r.choice(("GET", "POST")),
        "path": path,
        "status": 200,
        "duration_ms": r.randint(1, 300),
        "request_id": rand_str(r, 16, HEX),
    }
    return [jdump(rec)]


def zerolog_gw(r: random.Random, ts: int, w: Workload) -> list[str]:
    rec = {
        "level": "info",
        "service": "notifier",
        "channel": r.choice(("email", "ntfy", "matrix")),
        "queued": r.randint(0, 12),
        "time": rfc3339(ts, 0),
        "message": r.choice(("notification delivered", "batch flushed", "queue poll")),
    }
    return [jdump(rec)]


def qdrant(r: random.Random, ts: int, w: Workload) -> list[str]:
    coll = r.choice(("docs", "runbooks", "incidents"))
    return [
        f'{rfc3339(ts, 6)}  INFO actix_web::middleware::logger: {pod_ip(r)} "POST /collections/{coll}/points/search HTTP/1.1" 200 {r.randint(90, 9000)} "-" "python-httpx/0.27.2" {r.uniform(0.0005, 0.05):.6f}'
    ]


def event_exporter(r: random.Random, ts: int, w: Workload) -> list[str]:
    ns, app, image = r.choice(
        (
            ("shop", "cart", "ghcr.io/example/cart:v1.8.2"),
            ("llm", "embedder", "ghcr.io/example/embedder:0.4.1"),
            ("monitoring", "alloy", "grafana/alloy:v1.5.0"),
            ("batch", "report-job", "ghcr.io/example/report:2.1.0"),
        )
    )
    pod = deployment_pod(r, app)
    reason, msg, comp = r.choice(
        (
            (
                "Scheduled",
                f"Successfully assigned {ns}/{pod} to node-{r.randint(1, 3)}",
                "default-scheduler",
            ),
            ("Pulled", f'Container image "{image}" already present on machine', "kubelet"),
            ("Created", f"Created container {app}", "kubelet"),
            ("Started", f"Started container {app}", "kubelet"),
            ("SuccessfulCreate", f"Created pod: {pod}", "replicaset-controller"),
        )
    )
    return [
        k8s_event(r, ts, reason, msg, "Normal", comp, ns, "Pod", pod, f"node-{r.randint(1, 3)}")
    ]


def k8s_event(
    r: random.Random,
    ts: int,
    reason: str,
    message: str,
    type_: str,
    component: str,
    namespace: str,
    kind: str,
    name: str,
    host: str = "",
    count: int = 1,
    field_path: str = "",
) -> str:
    """An event as kubernetes-event-exporter writes it to stdout (one JSON object per line)."""
    stamp = rfc3339(ts, 0)
    involved: dict[str, str] = {"kind": kind, "namespace": namespace, "name": name}
    if field_path:
        involved["fieldPath"] = field_path
    event = {
        "metadata": {"name": f"{name}.{rand_str(r, 16, HEX)}", "namespace": namespace},
        "reason": reason,
        "message": message,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": count,
        "type": type_,
        "reportingComponent": component,
        "involvedObject": involved,
    }
    return jdump(event)


SERVICES: dict[str, Service] = {
    s.key: s
    for s in (
        Service(
            "apiserver",
            "kube-system",
            "kube-apiserver",
            "kube-apiserver",
            "static",
            apiserver,
            (2, 8),
            ("klog",),
        ),
        Service(
            "kubelet", "", "kubelet", "kubelet.service", "journal", kubelet, (3, 10), ("klog",)
        ),
        Service(
            "containerd",
            "",
            "containerd",
            "containerd.service",
            "journal",
            containerd,
            (1, 5),
            ("logfmt",),
        ),
        Service(
            "coredns", "kube-system", "coredns", "coredns", "deploy", coredns, (5, 30), ("coredns",)
        ),
        Service("loki", "monitoring", "loki", "loki", "sts", loki, (4, 20), ("logfmt",)),
        Service(
            "grafana", "monitoring", "grafana", "grafana", "deploy", grafana, (2, 10), ("logfmt",)
        ),
        Service("alloy", "monitoring", "alloy", "alloy", "ds", alloy, (2, 8), ("logfmt",)),
        Service("postgres", "db", "postgres", "postgres", "sts", postgres, (2, 12), ("postgres",)),
        Service(
            "orders", "shop", "orders-api", "orders-api", "deploy", uvicorn, (5, 30), ("uvicorn",)
        ),
        Service(
            "worker",
            "shop",
            "thumbnail-worker",
            "worker",
            "deploy",
            python_worker,
            (2, 10),
            ("python",),
        ),
        Service(
            "nginx",
            "ingress-nginx",
            "ingress-nginx-controller",
            "controller",
            "deploy",
            nginx,
            (5, 25),
            ("nginx",),
        ),
        Service("envoy", "shop", "cart", "istio-proxy", "deploy", envoy, (3, 15), ("envoy",)),
        Service(
            "flux",
            "flux-system",
            "kustomize-controller",
            "manager",
            "deploy",
            flux,
            (0.3, 1.5),
            ("json",),
        ),
        Service("etcd", "kube-system", "etcd", "etcd", "static", etcd, (0.3, 2), ("json",)),
        Service(
            "llama", "llm", "llama-server", "llama", "deploy", llama_server, (3, 20), ("llama.cpp",)
        ),
        Service("payments", "shop", "payments", "payments", "deploy", spring, (2, 12), ("java",)),
        Service("search", "search", "search-api", "api", "deploy", slog_api, (2, 15), ("json",)),
        Service(
            "notifier", "apps", "notifier", "notifier", "deploy", zerolog_gw, (1, 5), ("json",)
        ),
        Service("qdrant", "search", "qdrant", "qdrant", "sts", qdrant, (2, 10), ("rust",)),
        Service(
            "events",
            "monitoring",
            "event-exporter",
            "event-exporter",
            "deploy",
            event_exporter,
            (1, 6),
            ("k8s-events",),
        ),
    )
}


def make_workload(ctx: Ctx, key: str) -> Workload:
    """The case's stream for a service (created once per case)."""
    service = SERVICES[key]

    def build(c: Ctx) -> Workload:
        if service.pod_style == "static":
            node = c.nodes[0]
            return Workload(
                "kube-system",
                f"{service.container}-{node}",
                service.container,
                node,
                service.container,
            )
        return service.make(c)

    return ctx.workload(key, build)


def fill_background(
    ctx: Ctx, keys: list[str], target_lines: int, rate_scale: dict[str, float] | None = None
) -> None:
    """Write about `target_lines` benign lines, shared among `keys` in random proportions."""
    weights = [ctx.r.uniform(*SERVICES[k].rate) for k in keys]
    total = sum(weights)
    for key, weight in zip(keys, weights, strict=True):
        scale = (rate_scale or {}).get(key, 1.0)
        count = max(1, round(target_lines * weight / total * scale))
        emit_service(ctx, key, count)


def emit_service(ctx: Ctx, key: str, count: int, lo: float = 0.0, hi: float = 1.0) -> None:
    w = make_workload(ctx, key)
    emit = SERVICES[key].emit
    for ts in ctx.uniform_times(count, lo, hi):
        ctx.add_block(ts, w, emit(ctx.r, ts, w))
