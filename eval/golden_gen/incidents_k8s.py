"""Injected incidents on the platform side: memory, restarts, images, probes, scheduling,
storage, nodes, the control plane, resource pressure and rollouts.

Every function writes its records into the case and returns what a good analysis
should find, ranked, with evidence substrings taken from the lines it wrote.
"""

from __future__ import annotations

from .background import make_workload
from .common import (
    Ctx,
    Incident,
    Workload,
    finding,
    jdump,
    klog,
    pg_ts,
    pod_ip,
    rand_str,
    rfc3339,
    uid,
)
from .kube import (
    crash_loop,
    event,
    kernel,
    kubelet,
    norm,
    probe_failed,
    probes_and_503s,
)

OOM_TARGETS = {
    "llama": ("llama-server", "10Gi", ["llama_cpp", "llama", "llama_server"]),
    "orders": ("uvicorn", "512Mi", ["orders", "orders_api"]),
    "search": ("search-api", "256Mi", ["search", "search_api"]),
    "payments": ("java", "1Gi", ["payments"]),
}


def _oom_kernel(ctx: Ctx, ts: int, w: Workload, proc: str) -> None:
    pid = ctx.r.randint(3000, 90000)
    rss = ctx.r.randint(400_000, 10_400_000)
    scope = f"cri-containerd-{rand_str(ctx.r, 64, '0123456789abcdef')}.scope"
    kernel(
        ctx,
        ts,
        w.node,
        f"{proc} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=999",
    )
    kernel(
        ctx,
        ts + 2_000_000,
        w.node,
        f"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset={scope},mems_allowed=0,oom_memcg=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid(ctx.r).replace('-', '_')}.slice,task_memcg=/kubepods.slice/{scope},task={proc},pid={pid},uid=0",
    )
    kernel(
        ctx,
        ts + 3_000_000,
        w.node,
        f"Memory cgroup out of memory: Killed process {pid} ({proc}) total-vm:{rss + 900_000}kB, anon-rss:{rss}kB, file-rss:{ctx.r.randint(1000, 90000)}kB, shmem-rss:0kB, UID:0 pgtables:{ctx.r.randint(1000, 30000)}kB oom_score_adj:999",
    )


def oom_cascade(ctx: Ctx) -> Incident:
    """Rare root cause, many symptoms: 1-3 OOM kills, dozens of BackOffs, hundreds of probe failures and 503s."""
    key = ctx.r.choice(list(OOM_TARGETS))
    proc, limit, aliases = OOM_TARGETS[key]
    w = make_workload(ctx, key)
    kills = ctx.r.randint(1, 3)
    start = ctx.r.uniform(0.1, 0.3)
    for ts in ctx.spread(kills, start, start + 0.1):
        _oom_kernel(ctx, ts, w, proc)
    if ctx.r.random() < 0.6:
        event(
            ctx,
            ctx.at(start + 0.01),
            "OOMKilling",
            f"Memory cgroup out of memory: Killed process {ctx.r.randint(3000, 90000)} ({proc}) total-vm:11834164kB, anon-rss:10482012kB, file-rss:0kB, shmem-rss:0kB",
            None,
            component="kernel-monitor",
            kind="Node",
            name=w.node,
            namespace="default",
        )
    crash_loop(ctx, w, ctx.r.randint(24, 60), start + 0.12, 0.98)
    probes_and_503s(ctx, w, ctx.r.randint(150, 320), ctx.r.randint(100, 260), start + 0.1, 0.99)
    return Incident(
        findings=[
            finding(
                "oom",
                "critical",
                norm(w.app),
                aliases,
                f"The {w.container} container of {w.pod} exceeded its {limit} memory limit and was OOMKilled by the kernel; the restarts that followed caused the crash loop, failed probes and 503s.",
                ["memory", "OOM"],
                ["Memory cgroup out of memory", f"({proc})"],
            ),
            finding(
                "crashloop",
                "error",
                norm(w.app),
                aliases,
                f"{w.pod} is in CrashLoopBackOff after repeated OOM kills.",
                ["back-off", "restart"],
                ["Back-off restarting failed container"],
            ),
        ],
        summary=f"{w.app} in {w.namespace} was OOMKilled {kills} time(s) on {w.node} (memory limit {limit}); the kubelet then backed off restarting it, so readiness and liveness probes failed and the ingress answered 503 for the rest of the window.",
        facts=[
            ["OOMKilled", "out of memory", "OOM"],
            [w.app, *aliases],
            ["503", "CrashLoopBackOff", "back-off"],
        ],
        tags=["k8s", "cascade", "memory", "hard"],
    )


def oom_java_heap(ctx: Ctx) -> Incident:
    w = make_workload(ctx, "payments")
    ts = ctx.at(ctx.r.uniform(0.3, 0.7))
    thread = f"nio-8080-exec-{ctx.r.randint(1, 10)}"
    heap = ctx.r.choice(("Java heap space", "GC overhead limit exceeded"))
    lines = [
        f"{rfc3339(ts)[:23].replace('T', ' ')} ERROR 1 --- [payments] [{thread:>15}] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Handler dispatch failed: java.lang.OutOfMemoryError: {heap}] with root cause",
        "",
        f"java.lang.OutOfMemoryError: {heap}",
        "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3541)",
        "\tat java.base/java.io.ByteArrayOutputStream.ensureCapacity(ByteArrayOutputStream.java:100)",
        "\tat com.example.payments.export.StatementExporter.render(StatementExporter.java:88)",
        "\tat com.example.payments.api.StatementController.export(StatementController.java:41)",
    ]
    ctx.add_block(ts, w, [ln for ln in lines if ln])
    for t in ctx.spread(ctx.r.randint(3, 8), 0.72, 0.95):
        ctx.add(
            t,
            w,
            f"{rfc3339(t)[:23].replace('T', ' ')}  WARN 1 --- [payments] [{thread:>15}] c.z.hikari.pool.HikariPool                : HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta=1m{ctx.r.randint(2, 50)}s).",
        )
    return Incident(
        findings=[
            finding(
                "oom",
                "error",
                "payments",
                ["payments_api", "java"],
                f"The payments JVM ran out of heap ({heap}) while exporting a statement; the heap is too small for large exports.",
                ["OutOfMemoryError", "heap"],
                ["java.lang.OutOfMemoryError"],
            )
        ],
        summary=f"payments threw java.lang.OutOfMemoryError ({heap}) while rendering a statement export; the pool then reported thread starvation.",
        facts=[["OutOfMemoryError", "out of memory", "heap"], ["payments"]],
        tags=["app", "java", "multiline", "memory", "medium"],
    )


def cuda_oom_llama(ctx: Ctx) -> Incident:
    w = make_workload(ctx, "llama")
    model = ctx.r.choice(
        (
            "qwen2.5-14b-instruct-q4_k_m.gguf",
            "llama-3.1-8b-instruct-q6_k.gguf",
            "mistral-small-24b-q4_k_m.gguf",
        )
    )
    mib = ctx.r.choice((6144.0, 8192.0, 9216.0, 11264.0))
    restarts = ctx.r.randint(3, 7)
    for i, ts in enumerate(ctx.spread(restarts, 0.1, 0.9)):
        ctx.add_block(
            ts,
            w,
            [
                "ggml_cuda_init: found 1 CUDA devices:",
                "  Device 0: NVIDIA GeForce RTX 3060, compute capability 8.6, VMM: yes",
                f"llama_model_loader: loaded meta data with 36 key-value pairs and 339 tensors from /models/{model} (version GGUF V3 (latest))",
                f"llama_kv_cache_init: kv_size = {ctx.r.choice((16384, 32768))}, offload = 1, type_k = 'f16', type_v = 'f16', n_layer = 48",
                f"ggml_backend_cuda_buffer_type_alloc_buffer: allocating {mib:.2f} MiB on device 0: cudaMalloc failed: out of memory",
                f"alloc_tensor_range: failed to allocate CUDA0 buffer of size {int(mib * 1048576)}",
                "llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache",
                f"common_init_from_params: failed to create context with model '/models/{model}'",
                f"srv    load_model: failed to load model, '/models/{model}'",
                "main: exiting due to model loading error",
            ],
        )
        event(
            ctx,
            ts + 5 * 10**9,
            "BackOff",
            f"Back-off restarting failed container {w.container} in pod {w.pod}_{w.namespace}({uid(ctx.r)})",
            w,
            count=i + 2,
            field_path=f"spec.containers{{{w.container}}}",
        )
    return Incident(
        findings=[
            finding(
                "oom",
                "critical",
                "llama_server",
                ["llama_cpp", "llama"],
                f"llama-server cannot allocate {mib:.0f} MiB of GPU memory for the KV cache of {model}; cudaMalloc fails with out of memory and the server exits at start-up.",
                ["CUDA", "out of memory"],
                ["cudaMalloc failed: out of memory"],
            ),
            finding(
                "crashloop",
                "error",
                "llama_server",
                ["llama_cpp", "llama"],
                "The container keeps exiting at start-up and kubelet backs off restarting it.",
                ["back-off"],
                ["Back-off restarting failed container"],
            ),
        ],
        summary=f"llama-server never came up: each start tried to allocate {mib:.0f} MiB on the GPU for the KV cache of {model}, cudaMalloc failed with out of memory, and the container restarted {restarts} times.",
        facts=[["out of memory", "cudaMalloc", "CUDA"], ["llama"], ["kv cache", "context", "ctx"]],
        tags=["llm", "app", "gpu", "medium"],
    )


def crashloop_exit(ctx: Ctx) -> Incident:
    key = ctx.r.choice(("worker", "notifier", "search"))
    w = make_workload(ctx, key)
    code = ctx.r.choice((1, 2, 139))
    n = ctx.r.randint(12, 40)
    for ts in ctx.spread(4, 0.05, 0.9):
        event(
            ctx,
            ts,
            "Killing",
            f"Container {w.container} failed liveness probe, will be restarted"
            if code == 139
            else f"Stopping container {w.container}",
            w,
            type_="Normal",
        )
    for ts in ctx.spread(6, 0.05, 0.95):
        kubelet(
            ctx,
            ts,
            w.node,
            "I",
            "kuberuntime_container.go:809",
            f'"Killing container with a grace period" pod="{w.namespace}/{w.pod}" podUID="{uid(ctx.r)}" containerName="{w.container}" containerID="containerd://{rand_str(ctx.r, 64, "0123456789abcdef")}" gracePeriod=30',
        )
        kubelet(
            ctx,
            ts + 10**9,
            w.node,
            "I",
            "kubelet.go:2453",
            f'"SyncLoop (PLEG): event for pod" pod="{w.namespace}/{w.pod}" event={{"ID":"{uid(ctx.r)}","Type":"ContainerDied","Data":"{rand_str(ctx.r, 64, "0123456789abcdef")}"}} exitCode={code}',
        )
    crash_loop(ctx, w, n, 0.05, 0.98)
    return Incident(
        findings=[
            finding(
                "crashloop",
                "error",
                norm(w.app),
                [w.container, norm(w.pod.rsplit("-", 2)[0])],
                f"{w.app} exits with code {code} shortly after every start and is in CrashLoopBackOff; its own output gives no reason, so the previous container's logs are needed.",
                ["CrashLoopBackOff", "exit"],
                ["Back-off restarting failed container", "CrashLoopBackOff"],
            )
        ],
        summary=f"{w.app} in {w.namespace} restarted repeatedly with exit code {code} and is in CrashLoopBackOff; nothing else in the window explains why.",
        facts=[["CrashLoopBackOff", "back-off", "restarting"], [w.app]],
        tags=["k8s", "k8s-events", "easy"],
    )


def image_pull(ctx: Ctx) -> Incident:
    ns, app = ctx.r.choice(
        (
            ("shop", "checkout"),
            ("llm", "open-webui"),
            ("apps", "paperless"),
            ("monitoring", "blackbox-exporter"),
        )
    )
    w = Workload(ns, f"{app}-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}", app, ctx.node(), app)
    variant = ctx.r.randint(0, 2)
    tag = f"v{ctx.r.randint(1, 4)}.{ctx.r.randint(0, 20)}.{ctx.r.randint(0, 9)}"
    image = f"ghcr.io/example/{app}:{tag}"
    if variant == 0:
        reason = f'failed to pull and unpack image "{image}": failed to resolve reference "{image}": {image}: not found'
        cause, sev, kw = (
            f"The tag {tag} does not exist in the registry (manifest unknown / not found); the deployment references a typo or an unpushed image.",
            "error",
            ["not found", "tag"],
        )
    elif variant == 1:
        reason = f'failed to pull and unpack image "{image}": failed to resolve reference "{image}": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aexample%2F{app}%3Apull&service=ghcr.io: 401 Unauthorized'
        cause, sev, kw = (
            "The registry rejects the pull with 401 Unauthorized: the image is private and the pod has no valid imagePullSecret.",
            "error",
            ["401", "Unauthorized", "imagePullSecret"],
        )
    else:
        image = f"docker.io/library/{app}:{tag}"
        reason = f'failed to pull and unpack image "{image}": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/{app}/manifests/sha256:{rand_str(ctx.r, 64, "0123456789abcdef")}: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.'
        cause, sev, kw = (
            "Docker Hub refuses the pull with 429 toomanyrequests: the anonymous pull rate limit is exhausted.",
            "error",
            ["rate limit", "toomanyrequests"],
        )
    n = ctx.r.randint(6, 20)
    for i, ts in enumerate(ctx.spread(n, 0.1, 0.95)):
        event(
            ctx,
            ts,
            "Pulling",
            f'Pulling image "{image}"',
            w,
            type_="Normal",
            count=i + 1,
            field_path=f"spec.containers{{{app}}}",
        )
        event(
            ctx,
            ts + 2 * 10**9,
            "Failed",
            f'Failed to pull image "{image}": {reason}',
            w,
            count=i + 1,
            field_path=f"spec.containers{{{app}}}",
        )
        event(
            ctx,
            ts + 2 * 10**9 + 10**6,
            "Failed",
            "Error: ErrImagePull",
            w,
            count=i + 1,
            field_path=f"spec.containers{{{app}}}",
        )
        event(
            ctx,
            ts + 3 * 10**9,
            "BackOff",
            f'Back-off pulling image "{image}"',
            w,
            type_="Normal",
            count=i + 1,
            field_path=f"spec.containers{{{app}}}",
        )
        event(
            ctx,
            ts + 3 * 10**9 + 10**6,
            "Failed",
            "Error: ImagePullBackOff",
            w,
            count=i + 1,
            field_path=f"spec.containers{{{app}}}",
        )
        kubelet(
            ctx,
            ts + 2 * 10**9,
            w.node,
            "E",
            "log.go:32",
            f'"PullImage from image service failed" err="rpc error: code = NotFound desc = {reason[:80]}" image="{image}"'
            if variant == 0
            else f'"PullImage from image service failed" err="rpc error: code = Unknown desc = {reason[:90]}" image="{image}"',
        )
    return Incident(
        findings=[
            finding(
                "image_pull",
                sev,
                norm(app),
                [app],
                cause,
                ["image", *kw],
                ["ErrImagePull", "ImagePullBackOff", "Failed to pull image"],
            )
        ],
        summary=f"The new {app} pod in {ns} cannot start: every pull of {image} fails ({cause}) and the pod sits in ImagePullBackOff.",
        facts=[["ImagePullBackOff", "ErrImagePull", "pull"], [app], [tag]],
        tags=["k8s", "k8s-events", "easy" if variant == 0 else "medium"],
    )


def probe_slow(ctx: Ctx) -> Incident:
    w = make_workload(ctx, ctx.r.choice(("orders", "search", "qdrant")))
    ip = pod_ip(ctx.r)
    liveness = ctx.r.random() < 0.4
    n = ctx.r.randint(20, 70)
    for ts in ctx.uniform_times(n, 0.3, 0.8):
        probe_failed(
            ctx,
            ts,
            w,
            "Readiness",
            f'Get \\"http://{ip}:8080/health\\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        )
    for ts in ctx.uniform_times(max(3, n // 6), 0.3, 0.8):
        event(
            ctx,
            ts,
            "Unhealthy",
            f'Readiness probe failed: Get "http://{ip}:8080/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            w,
            field_path=f"spec.containers{{{w.container}}}",
            count=ctx.r.randint(2, 40),
        )
    if liveness:
        ts = ctx.at(0.78)
        event(
            ctx,
            ts,
            "Unhealthy",
            f'Liveness probe failed: Get "http://{ip}:8080/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            w,
            field_path=f"spec.containers{{{w.container}}}",
            count=3,
        )
        event(
            ctx,
            ts + 10**9,
            "Killing",
            f"Container {w.container} failed liveness probe, will be restarted",
            w,
            type_="Normal",
            field_path=f"spec.containers{{{w.container}}}",
        )
    sev = "error" if liveness else "warn"
    return Incident(
        findings=[
            finding(
                "probe_failure",
                sev,
                norm(w.app),
                [w.container],
                f"{w.app} answers its /health probe too slowly (timeouts) during a busy period"
                + (
                    "; the liveness probe then restarted it."
                    if liveness
                    else "; it was taken out of the Service endpoints but not restarted."
                ),
                ["probe", "timeout"],
                ["probe failed", "context deadline exceeded"],
            )
        ],
        summary=f"{w.app} failed its readiness probe {n} times between the 30% and 80% marks of the window because /health timed out"
        + (
            ", and the liveness probe restarted the container."
            if liveness
            else "; it recovered without a restart."
        ),
        facts=[["probe", "Readiness"], [w.app], ["timeout", "deadline exceeded", "timed out"]],
        tags=["k8s", "medium"],
    )


def scheduling(ctx: Ctx) -> Incident:
    ns, app, req = ctx.r.choice(
        (
            ("llm", "vllm", "nvidia.com/gpu"),
            ("batch", "report-job", "memory"),
            ("shop", "recommender", "cpu"),
            ("apps", "immich-ml", "memory"),
        )
    )
    pod = f"{app}-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}"
    total = len(ctx.nodes)
    msg = {
        "nvidia.com/gpu": f"0/{total} nodes are available: 1 node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}, {total - 1} Insufficient nvidia.com/gpu. preemption: 0/{total} nodes are available: 1 Preemption is not helpful for scheduling, {total - 1} No preemption victims found for incoming pod.",
        "memory": f"0/{total} nodes are available: {total} Insufficient memory. preemption: 0/{total} nodes are available: {total} No preemption victims found for incoming pod.",
        "cpu": f"0/{total} nodes are available: 1 node(s) didn't match Pod's node affinity/selector, {total - 1} Insufficient cpu. preemption: 0/{total} nodes are available: 1 Preemption is not helpful for scheduling, {total - 1} No preemption victims found for incoming pod.",
    }[req]
    for i, ts in enumerate(ctx.spread(ctx.r.randint(5, 16), 0.15, 0.98)):
        event(
            ctx,
            ts,
            "FailedScheduling",
            msg,
            None,
            component="default-scheduler",
            namespace=ns,
            name=pod,
            count=i + 1,
        )
    sched = Workload(
        "kube-system",
        f"kube-scheduler-{ctx.nodes[0]}",
        "kube-scheduler",
        ctx.nodes[0],
        "kube-scheduler",
    )
    for ts in ctx.spread(ctx.r.randint(3, 8), 0.15, 0.98):
        ctx.add(
            ts,
            sched,
            klog(
                ts,
                "I",
                1,
                "schedule_one.go:1055",
                f'"Unable to schedule pod; no fit; waiting" pod="{ns}/{pod}" err="{msg}"',
            ),
        )
    return Incident(
        findings=[
            finding(
                "scheduling",
                "error",
                norm(app),
                [app],
                f"The {app} pod stays Pending: no node has enough {req} for its requests.",
                ["Insufficient", req.split("/")[-1]],
                ["FailedScheduling", f"Insufficient {req}"],
            )
        ],
        summary=f"{app} in {ns} cannot be scheduled: the scheduler reports Insufficient {req} on every eligible node, so the pod remains Pending.",
        facts=[
            ["FailedScheduling", "Pending", "cannot be scheduled", "unschedulable"],
            [req.split("/")[-1]],
            [app],
        ],
        tags=["k8s", "k8s-events", "easy"],
    )


def storage_disk_full(ctx: Ctx) -> Incident:
    """Cascade: Postgres' volume fills, it PANICs, and every client reports errors."""
    pg = make_workload(ctx, "postgres")
    t0 = ctx.r.uniform(0.2, 0.4)
    ts = ctx.at(t0)
    pid = ctx.r.randint(30, 90)
    seg = f"0000000100000{ctx.r.randint(10, 99)}0000{ctx.r.randint(10, 99)}"
    ctx.add(
        ts,
        pg,
        f'{pg_ts(ts)} [{pid}] PANIC:  could not write to file "pg_wal/xlogtemp.{pid}": No space left on device',
    )
    ctx.add(
        ts + 10**7,
        pg,
        f"{pg_ts(ts + 10**7)} [1] LOG:  WAL writer process (PID {pid}) was terminated by signal 6: Aborted",
    )
    ctx.add(
        ts + 2 * 10**7,
        pg,
        f"{pg_ts(ts + 2 * 10**7)} [1] LOG:  terminating any other active server processes",
    )
    for t in ctx.spread(ctx.r.randint(4, 10), t0 + 0.02, 0.95):
        ctx.add(
            t,
            pg,
            f"{pg_ts(t)} [{ctx.r.randint(100, 999)}] FATAL:  the database system is in recovery mode",
        )
        if ctx.r.random() < 0.5:
            ctx.add(
                t + 10**8,
                pg,
                f'{pg_ts(t + 10**8)} [{ctx.r.randint(100, 999)}] LOG:  could not write to file "pg_wal/{seg}": No space left on device',
            )
    api = make_workload(ctx, "orders")
    n = ctx.r.randint(40, 140)
    for t in ctx.uniform_times(n, t0 + 0.01, 0.99):
        if ctx.r.random() < 0.5:
            ctx.add(
                t,
                api,
                f'INFO:     {pod_ip(ctx.r)}:{ctx.r.randint(32768, 60999)} - "POST /api/v1/orders HTTP/1.1" 500 Internal Server Error',
            )
        else:
            ctx.add_block(
                t,
                api,
                [
                    "ERROR:    Exception in ASGI application",
                    "Traceback (most recent call last):",
                    '  File "/app/.venv/lib/python3.12/site-packages/psycopg/connection.py", line 119, in connect',
                    "    raise last_ex.with_traceback(None)",
                    'psycopg.OperationalError: connection failed: connection to server at "10.43.12.7", port 5432 failed: FATAL:  the database system is in recovery mode',
                ],
            )
    return Incident(
        findings=[
            finding(
                "storage",
                "critical",
                "postgres",
                ["postgresql", "db"],
                "The Postgres data volume is full: writing WAL failed with No space left on device, Postgres PANICked and stays in recovery mode.",
                ["No space left on device", "disk", "WAL"],
                ["No space left on device", "PANIC"],
            ),
            finding(
                "dependency",
                "error",
                "orders_api",
                ["orders"],
                "orders-api cannot reach its database while Postgres is in recovery, and answers 500.",
                ["postgres", "database"],
                ["the database system is in recovery mode"],
            ),
        ],
        summary="Postgres ran out of disk for its WAL (No space left on device) and PANICked; it kept refusing connections in recovery mode, so orders-api returned 500 and logged psycopg errors for the rest of the window.",
        facts=[
            ["No space left on device", "disk full", "out of disk"],
            ["postgres"],
            ["500", "orders"],
        ],
        tags=["cascade", "postgres", "python", "multiline", "hard"],
    )


def storage_mount(ctx: Ctx) -> Incident:
    ns, app, pvc = ctx.r.choice(
        (
            ("apps", "nextcloud", "nextcloud-data"),
            ("monitoring", "prometheus", "prometheus-db"),
            ("db", "mariadb", "data-mariadb-0"),
        )
    )
    w = Workload(ns, f"{app}-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}", app, ctx.node(), app)
    pv = f"pvc-{uid(ctx.r)}"
    variant = ctx.r.randint(0, 1)
    n = ctx.r.randint(5, 14)
    for i, ts in enumerate(ctx.spread(n, 0.1, 0.95)):
        if variant == 0:
            msg = f'Multi-Attach error for volume "{pv}" Volume is already exclusively attached to one node and can\'t be attached to another'
            event(
                ctx,
                ts,
                "FailedAttachVolume",
                msg,
                w,
                component="attachdetach-controller",
                count=i + 1,
            )
        else:
            msg = f'MountVolume.SetUp failed for volume "{pv}" : rpc error: code = Internal desc = mount failed: exit status 32 Mounting command: mount Mounting arguments: -t nfs 192.168.1.20:/export/{pvc} /var/lib/kubelet/pods/{uid(ctx.r)}/volumes/kubernetes.io~csi/{pv}/mount Output: mount.nfs: Connection timed out'
            event(ctx, ts, "FailedMount", msg, w, count=i + 1)
    for ts in ctx.spread(max(2, n // 3), 0.3, 0.95):
        event(
            ctx,
            ts,
            "FailedMount",
            f"Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-{rand_str(ctx.r, 5)}]: timed out waiting for the condition",
            w,
        )
    ev = "Multi-Attach error" if variant == 0 else "MountVolume.SetUp failed"
    cause = (
        "The ReadWriteOnce volume is still attached to the old node, so the rescheduled pod cannot attach it (Multi-Attach error)."
        if variant == 0
        else "The NFS server does not answer, so mounting the volume times out."
    )
    return Incident(
        findings=[
            finding(
                "storage",
                "error",
                norm(app),
                [app, pvc],
                cause,
                ["volume", "mount" if variant else "attach"],
                [ev, "Unable to attach or mount volumes"],
            )
        ],
        summary=f"{app} in {ns} is stuck in ContainerCreating: {cause}",
        facts=[["volume", "mount", "attach"], [app]],
        tags=["k8s", "k8s-events", "medium"],
    )


def node_not_ready(ctx: Ctx) -> Incident:
    node = ctx.nodes[-1]
    t0 = ctx.r.uniform(0.2, 0.5)
    cm = Workload(
        "kube-system",
        f"kube-controller-manager-{ctx.nodes[0]}",
        "kube-controller-manager",
        ctx.nodes[0],
        "kube-controller-manager",
    )
    variant = ctx.r.randint(0, 1)
    for ts in ctx.spread(ctx.r.randint(6, 14), t0 - 0.1, t0):
        if variant == 0:
            kubelet(
                ctx,
                ts,
                node,
                "E",
                "kubelet.go:2412",
                f'"Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m{ctx.r.randint(0, 59)}.{ctx.r.randint(100, 999)}s ago; threshold is 3m0s"',
            )
        else:
            kubelet(
                ctx,
                ts,
                node,
                "E",
                "kubelet.go:2900",
                '"Container runtime network not ready" networkReady="NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"',
            )
    ts = ctx.at(t0)
    event(
        ctx,
        ts,
        "NodeNotReady",
        f"Node {node} status is now: NodeNotReady",
        None,
        component="node-controller",
        kind="Node",
        name=node,
        namespace="default",
        type_="Normal",
    )
    ctx.add(
        ts,
        cm,
        klog(
            ts,
            "I",
            1,
            "node_lifecycle_controller.go:1105",
            f'"Node became not ready" node="{node}" reason="KubeletNotReady"'
            if variant == 0
            else f'"Node became not ready" node="{node}"',
        ),
    )
    ctx.add(
        ts + 10**9,
        cm,
        klog(
            ts + 10**9,
            "I",
            1,
            "node_lifecycle_controller.go:1023",
            '"Controller detected that some Nodes are not-Ready. Entering partial disruption mode"',
        ),
    )
    for t in ctx.spread(ctx.r.randint(4, 12), t0 + 0.05, 0.95):
        ns, app = ctx.r.choice((("shop", "cart"), ("monitoring", "loki"), ("apps", "notifier")))
        event(
            ctx,
            t,
            "NodeNotReady",
            "Node is not ready",
            None,
            component="node-controller",
            namespace=ns,
            name=f"{app}-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}",
        )
    cause = (
        "PLEG is not healthy: the container runtime on the node stopped answering kubelet's relist"
        if variant == 0
        else "the CNI plugin is not initialised, so the container network on the node is down"
    )
    return Incident(
        findings=[
            finding(
                "node",
                "critical",
                node,
                ["kubelet", norm(node)],
                f"{node} went NotReady: {cause}; its pods are marked not ready.",
                ["NotReady", "PLEG" if variant == 0 else "CNI"],
                [
                    f"Node {node} status is now: NodeNotReady",
                    "PLEG is not healthy" if variant == 0 else "cni plugin not initialized",
                ],
            )
        ],
        summary=f"{node} became NotReady ({cause}); the node controller marked its pods not ready and entered partial disruption mode.",
        facts=[
            ["NotReady"],
            [node],
            ["PLEG", "runtime"] if variant == 0 else ["CNI", "network plugin"],
        ],
        tags=["k8s", "node", "klog", "medium"],
    )


def control_plane(ctx: Ctx) -> Incident:
    etcd = make_workload(ctx, "etcd")
    node = ctx.nodes[0]
    t0 = ctx.r.uniform(0.3, 0.6)
    for ts in ctx.uniform_times(ctx.r.randint(15, 50), t0 - 0.2, t0 + 0.05):
        took = ctx.r.uniform(0.2, 2.5)
        rec = {
            "level": "warn",
            "ts": rfc3339(ts, 6),
            "caller": "etcdserver/util.go:170",
            "msg": "apply request took too long",
            "took": f"{took:.9f}s",
            "expected-duration": "100ms",
            "prefix": "read-only range ",
            "request": f'key:"/registry/leases/kube-system/{ctx.r.choice(("kube-controller-manager", "kube-scheduler"))}" ',
            "response": "range_response_count:1 size:485",
        }
        ctx.add(ts, etcd, jdump(rec))
    for ts in ctx.spread(ctx.r.randint(2, 6), t0 - 0.15, t0):
        ctx.add(
            ts,
            etcd,
            jdump(
                {
                    "level": "warn",
                    "ts": rfc3339(ts, 6),
                    "caller": "wal/wal.go:805",
                    "msg": "slow fdatasync",
                    "took": f"{ctx.r.uniform(1, 4):.9f}s",
                    "expected-duration": "1s",
                }
            ),
        )
    comp = ctx.r.choice(("kube-controller-manager", "kube-scheduler"))
    cm = Workload("kube-system", f"{comp}-{node}", comp, node, comp)
    ts = ctx.at(t0)
    ctx.add(
        ts,
        cm,
        klog(
            ts,
            "E",
            1,
            "leaderelection.go:340",
            f'Failed to update lock optimitically: Put "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{comp}?timeout=5s": context deadline exceeded, falling back to slow path',
        ),
    )
    ctx.add(
        ts + 10**9,
        cm,
        klog(
            ts + 10**9,
            "E",
            1,
            "leaderelection.go:369",
            "Failed to update lock: client rate limiter Wait returned an error: context deadline exceeded",
        ),
    )
    ctx.add(
        ts + 2 * 10**9,
        cm,
        klog(
            ts + 2 * 10**9,
            "I",
            1,
            "leaderelection.go:285",
            f"failed to renew lease kube-system/{comp}: timed out waiting for the condition",
        ),
    )
    ctx.add(
        ts + 3 * 10**9,
        cm,
        klog(
            ts + 3 * 10**9,
            "E",
            1,
            "controllermanager.go:340" if "controller" in comp else "server.go:262",
            '"leaderelection lost"',
        ),
    )
    return Incident(
        findings=[
            finding(
                "control_plane",
                "critical",
                "etcd",
                ["kube_apiserver", norm(comp)],
                f"etcd is slow (apply request took too long, slow fdatasync: a slow disk), so {comp} could not renew its lease and lost leader election.",
                ["etcd", "leader", "slow"],
                ["apply request took too long", "leaderelection lost"],
            )
        ],
        summary=f"etcd on {node} answered slowly (apply requests over 100ms, slow fdatasync), {comp} failed to renew its lease and exited with leaderelection lost.",
        facts=[
            ["etcd"],
            ["leader election", "leaderelection", "lease"],
            ["slow", "took too long", "fdatasync"],
        ],
        tags=["k8s", "control-plane", "klog", "json", "hard"],
    )


def resource_pressure(ctx: Ctx) -> Incident:
    node = ctx.node()
    variant = ctx.r.randint(0, 1)
    if variant == 0:
        event(
            ctx,
            ctx.at(0.2),
            "NodeHasDiskPressure",
            f"Node {node} status is now: NodeHasDiskPressure",
            None,
            type_="Normal",
            kind="Node",
            name=node,
            namespace="default",
        )
        kubelet(
            ctx,
            ctx.at(0.21),
            node,
            "W",
            "eviction_manager.go:369",
            '"Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"',
        )
        for ts in ctx.spread(ctx.r.randint(3, 9), 0.22, 0.9):
            ns, app = ctx.r.choice(
                (
                    ("shop", "thumbnail-worker"),
                    ("batch", "report-job"),
                    ("apps", "notifier"),
                    ("monitoring", "alloy"),
                )
            )
            pod = f"{app}-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}"
            event(
                ctx,
                ts,
                "Evicted",
                f"The node was low on resource: ephemeral-storage. Threshold quantity: {ctx.r.randint(2, 6)}Gi, available: {ctx.r.randint(900_000, 2_900_000)}Ki. Container {app} was using {ctx.r.randint(4, 12)}Gi, request is 0, has larger consumption of ephemeral-storage.",
                None,
                namespace=ns,
                name=pod,
            )
            kubelet(
                ctx,
                ts,
                node,
                "I",
                "eviction_manager.go:596",
                f'"Eviction manager: pod is evicted successfully" pod="{ns}/{pod}"',
            )
        kw, ev, res = (
            ["DiskPressure", "ephemeral-storage", "evict"],
            ["NodeHasDiskPressure", "low on resource: ephemeral-storage"],
            "ephemeral storage",
        )
    else:
        event(
            ctx,
            ctx.at(0.2),
            "NodeHasInsufficientMemory",
            f"Node {node} status is now: NodeHasInsufficientMemory",
            None,
            type_="Normal",
            kind="Node",
            name=node,
            namespace="default",
        )
        for ts in ctx.spread(ctx.r.randint(3, 9), 0.22, 0.9):
            ns, app = ctx.r.choice(
                (("shop", "thumbnail-worker"), ("llm", "embedder"), ("apps", "notifier"))
            )
            pod = f"{app}-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}"
            event(
                ctx,
                ts,
                "Evicted",
                f"The node was low on resource: memory. Threshold quantity: 100Mi, available: {ctx.r.randint(20_000, 99_000)}Ki. Container {app} was using {ctx.r.randint(300, 2000)}Mi, request is 128Mi, has larger consumption of memory.",
                None,
                namespace=ns,
                name=pod,
            )
            kubelet(
                ctx,
                ts,
                node,
                "I",
                "eviction_manager.go:596",
                f'"Eviction manager: pod is evicted successfully" pod="{ns}/{pod}"',
            )
        kw, ev, res = (
            ["memory", "evict", "pressure"],
            ["NodeHasInsufficientMemory", "low on resource: memory"],
            "memory",
        )
    return Incident(
        findings=[
            finding(
                "resource_pressure",
                "error",
                node,
                ["kubelet", norm(node)],
                f"{node} is under {res} pressure and kubelet evicts pods to reclaim it.",
                kw,
                ev,
            )
        ],
        summary=f"{node} reported {res} pressure and the kubelet evicted several pods to reclaim {res}.",
        facts=[["pressure", "evict"], [node], [res.split()[-1]]],
        tags=["k8s", "k8s-events", "node", "medium"],
    )


def deployment(ctx: Ctx) -> Incident:
    helm = Workload(
        "flux-system",
        f"helm-controller-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}",
        "manager",
        ctx.node(),
        "helm-controller",
    )
    name, ns, chart = ctx.r.choice(
        (
            ("loki", "monitoring", "loki@6.21.0"),
            ("immich", "apps", "immich@0.9.0"),
            ("open-webui", "llm", "open-webui@5.4.0"),
            ("cert-manager", "cert-manager", "cert-manager@v1.16.2"),
        )
    )
    variant = ctx.r.randint(0, 1)
    for i, ts in enumerate(ctx.spread(ctx.r.randint(3, 6), 0.1, 0.9)):
        if variant == 0:
            msg = f"Helm upgrade failed for release {ns}/{name} with chart {chart}: context deadline exceeded"
        else:
            msg = f"Helm upgrade failed for release {ns}/{name} with chart {chart}: cannot patch \"{name}\" with kind StatefulSet: StatefulSet.apps \"{name}\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        rec = {
            "level": "error",
            "ts": rfc3339(ts, 3),
            "msg": "Reconciler error",
            "controller": "helmrelease",
            "controllerGroup": "helm.toolkit.fluxcd.io",
            "controllerKind": "HelmRelease",
            "HelmRelease": {"name": name, "namespace": ns},
            "namespace": ns,
            "name": name,
            "reconcileID": uid(ctx.r),
            "error": msg,
        }
        ctx.add(ts, helm, jdump(rec))
        event(
            ctx,
            ts + 10**8,
            "UpgradeFailed",
            msg,
            None,
            component="helm-controller",
            kind="HelmRelease",
            namespace=ns,
            name=name,
            count=i + 1,
        )
    ts = ctx.at(0.93)
    final = (
        f"Helm upgrade failed for release {ns}/{name} with chart {chart}: upgrade retries exhausted"
    )
    event(
        ctx,
        ts,
        "UpgradeFailed",
        final,
        None,
        component="helm-controller",
        kind="HelmRelease",
        namespace=ns,
        name=name,
        count=5,
    )
    if variant == 0:
        event(
            ctx,
            ts + 10**9,
            "ProgressDeadlineExceeded",
            f'Deployment "{name}" has timed out progressing.',
            None,
            component="deployment-controller",
            kind="Deployment",
            namespace=ns,
            name=name,
        )
    return Incident(
        findings=[
            finding(
                "deployment",
                "critical",
                norm(name),
                [f"helmrelease_{norm(name)}", "helm_controller", "flux"],
                f"The Flux HelmRelease {ns}/{name} ({chart}) fails to upgrade"
                + (
                    ": the new pods never became ready before the timeout"
                    if variant == 0
                    else ": the chart changes an immutable StatefulSet field"
                )
                + "; retries are exhausted.",
                ["Helm", "upgrade", "retries exhausted"]
                if variant == 0
                else ["Helm", "upgrade", "StatefulSet", "Forbidden"],
                ["Helm upgrade failed", "upgrade retries exhausted"],
            )
        ],
        summary=f"Flux could not upgrade HelmRelease {ns}/{name} to {chart}; every attempt failed and the upgrade retries are exhausted.",
        facts=[["Helm", "HelmRelease", "upgrade"], [name], ["retries exhausted", "exhausted"]],
        tags=["k8s", "flux", "json", "k8s-events", "medium"],
    )


def config_missing_secret(ctx: Ctx) -> Incident:
    """Config root cause with crash-loop symptoms (or CreateContainerConfigError)."""
    variant = ctx.r.randint(0, 2)
    if variant == 0:
        ns, app = ctx.r.choice((("shop", "checkout"), ("apps", "notifier"), ("llm", "rag-api")))
        w = Workload(ns, f"{app}-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}", app, ctx.node(), app)
        secret = f"{app}-db-credentials"
        for i, ts in enumerate(ctx.spread(ctx.r.randint(8, 25), 0.1, 0.97)):
            event(
                ctx,
                ts,
                "Failed",
                f'Error: secret "{secret}" not found',
                w,
                count=i + 1,
                field_path=f"spec.containers{{{app}}}",
            )
        cause, ev, kw = (
            f'The pod references the Secret "{secret}", which does not exist in {ns}; the container cannot be created (CreateContainerConfigError).',
            [f'secret "{secret}" not found'],
            ["secret", "not found"],
        )
        findings = [finding("config", "error", norm(app), [app], cause, kw, ev)]
    elif variant == 1:
        w = make_workload(ctx, "loki")
        field = ctx.r.choice(("max_look_back_period", "shared_store", "enforce_metric_name"))
        for ts in ctx.spread(ctx.r.randint(6, 12), 0.1, 0.95):
            ctx.add_block(
                ts,
                w,
                [
                    "failed parsing config: /etc/loki/config/config.yaml: yaml: unmarshal errors:",
                    f"  line {ctx.r.randint(20, 90)}: field {field} not found in type config.ChunkStoreConfig. Use `-config.expand-env=true` flag if you want to expand environment variables in your config file",
                ],
            )
        crash_loop(ctx, w, ctx.r.randint(15, 35), 0.1, 0.98)
        cause, ev, kw = (
            f"Loki's config.yaml contains the field {field}, removed in Loki 3; Loki fails to parse its config at start-up and crash-loops.",
            ["failed parsing config", f"field {field} not found"],
            ["config", field],
        )
        findings = [
            finding("config", "critical", "loki", ["loki_write", "loki_backend"], cause, kw, ev),
            finding(
                "crashloop",
                "error",
                "loki",
                ["loki"],
                "Loki restarts in a loop because of the config error.",
                ["back-off"],
                ["Back-off restarting failed container"],
            ),
        ]
    else:
        w = make_workload(ctx, "orders")
        var = ctx.r.choice(("DATABASE_URL", "STRIPE_API_KEY", "JWT_SECRET"))
        for ts in ctx.spread(ctx.r.randint(6, 14), 0.1, 0.95):
            ctx.add_block(
                ts,
                w,
                [
                    "Traceback (most recent call last):",
                    '  File "/app/main.py", line 12, in <module>',
                    "    settings = Settings()",
                    '  File "/app/.venv/lib/python3.12/site-packages/pydantic_settings/main.py", line 171, in __init__',
                    "    super().__init__(",
                    "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
                    var.lower(),
                    "  Field required [type=missing, input_value={}, input_type=dict]",
                    "    For further information visit https://errors.pydantic.dev/2.9/v/missing",
                ],
            )
        crash_loop(ctx, w, ctx.r.randint(15, 35), 0.1, 0.98)
        cause, ev, kw = (
            f"orders-api exits at start-up because the required setting {var} is not set (pydantic ValidationError: Field required); the env var or its Secret is missing.",
            ["ValidationError", "Field required"],
            [var, "missing"],
        )
        findings = [
            finding("config", "critical", "orders_api", ["orders"], cause, kw, ev),
            finding(
                "crashloop",
                "error",
                "orders_api",
                ["orders"],
                "orders-api restarts in a loop because of the missing setting.",
                ["back-off"],
                ["Back-off restarting failed container"],
            ),
        ]
    return Incident(
        findings=findings,
        summary=cause,
        facts=[
            ["config", "secret", "setting", "field"],
            [findings[0]["component"].replace("_", "-"), findings[0]["component"]],
        ],
        tags=[
            "k8s",
            "cascade" if len(findings) > 1 else "k8s-events",
            "multiline" if variant == 2 else "logfmt",
            "medium",
        ],
    )


def cpu_throttling(ctx: Ctx) -> Incident:
    w = make_workload(ctx, "llama")
    for ts in ctx.spread(ctx.r.randint(8, 20), 0.2, 0.95):
        n = ctx.r.randint(200, 3000)
        ms = n * ctx.r.uniform(4, 9)
        ctx.add(
            ts,
            w,
            f"prompt eval time = {ms:10.2f} ms / {n:5d} tokens ({ms / n:8.2f} ms per token, {1000 * n / ms:8.2f} tokens per second)",
        )
    alloy = make_workload(ctx, "alloy")
    for ts in ctx.spread(ctx.r.randint(3, 8), 0.2, 0.95):
        pct = ctx.r.randint(62, 95)
        ctx.add(
            ts,
            alloy,
            f'ts={rfc3339(ts)} level=warn msg="CPUThrottlingHigh" component_path=/ component_id=prometheus.relabel.alerts alertname=CPUThrottlingHigh namespace={w.namespace} pod={w.pod} container={w.container} value={pct}% description="{pct}% throttling of CPU in namespace {w.namespace} for container {w.container} in pod {w.pod}."',
        )
    return Incident(
        findings=[
            finding(
                "resource_pressure",
                "warn",
                "llama_server",
                ["llama", "llama_cpp"],
                "llama-server is CPU-throttled by its CPU limit, so prompt evaluation is several times slower than usual.",
                ["throttling", "CPU"],
                ["CPUThrottlingHigh", "throttling of CPU"],
            )
        ],
        summary="llama-server was heavily CPU-throttled (CPUThrottlingHigh alerts) and prompt evaluation slowed to a few ms per token.",
        facts=[["throttl"], ["CPU"], ["llama"]],
        tags=["llm", "logfmt", "hard"],
    )
