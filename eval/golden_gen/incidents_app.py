"""Injected incidents on the application side: network, DNS, TLS, auth, dependencies,
limits, exceptions, plus recovered blips and scary-but-benign noise.
"""

from __future__ import annotations

from .background import make_workload
from .common import (
    Ctx,
    Incident,
    Workload,
    clf_ts,
    finding,
    jdump,
    klog,
    pg_ts,
    pod_ip,
    py_ts,
    rand_str,
    rfc3339,
    spring_ts,
    svc_ip,
    uid,
)
from .kube import backoff, norm


def _uvicorn(ctx: Ctx, w: Workload, ts: int, method: str, path: str, status: str) -> None:
    ctx.add(
        ts,
        w,
        f'INFO:     {pod_ip(ctx.r)}:{ctx.r.randint(32768, 60999)} - "{method} {path} HTTP/1.1" {status}',
    )


def network(ctx: Ctx) -> Incident:
    node = ctx.nodes[-1]
    dst = f"10.42.{ctx.r.randint(1, 3)}."
    grafana = make_workload(ctx, "grafana")
    alloy = make_workload(ctx, "alloy")
    flannel = Workload(
        "kube-flannel", f"kube-flannel-ds-{rand_str(ctx.r, 5)}", "kube-flannel", node, "flannel"
    )
    t0 = ctx.r.uniform(0.2, 0.5)
    ts = ctx.at(t0)
    ctx.add(
        ts,
        flannel,
        klog(
            ts,
            "E",
            1,
            "vxlan_network.go:180",
            f'"Error adding route to" subnet="{dst}0/24" err="no route to host"',
        ),
    )
    ctx.add(
        ts + 10**9,
        flannel,
        klog(
            ts + 10**9,
            "W",
            1,
            "vxlan_network.go:159",
            '"Failed to add fdb entry" err="network is unreachable"',
        ),
    )
    n = ctx.r.randint(30, 90)
    for t in ctx.uniform_times(n, t0, 0.97):
        ip = f"{dst}{ctx.r.randint(2, 250)}"
        if ctx.r.random() < 0.5:
            ctx.add(
                t,
                alloy,
                f'ts={rfc3339(t)} level=warn msg="error sending batch, will retry" component_path=/ component_id=loki.write.default component=client host=loki-gateway.monitoring.svc:80 status=-1 tenant="" error="Post \\"http://loki-gateway.monitoring.svc:80/loki/api/v1/push\\": dial tcp {ip}:8080: connect: no route to host"',
            )
        else:
            ctx.add(
                t,
                grafana,
                f'logger=tsdb.loki endpoint=queryData pluginId=loki dsName=Loki dsUID=P8E80F9AEF21F6940 uname=admin fromAlert=false t={rfc3339(t)} level=error msg="Error received from Loki" error="Get \\"http://loki-gateway.monitoring.svc/loki/api/v1/query_range\\": dial tcp {ip}:8080: i/o timeout" status=error duration={ctx.r.uniform(10, 30):.6f}s stage=databaseRequest',
            )
    return Incident(
        findings=[
            finding(
                "network",
                "error",
                "flannel",
                ["kube_flannel", "cni", norm(node)],
                f"Pod-to-pod traffic to {dst}0/24 on {node} is broken: flannel cannot add the route (no route to host), so Alloy and Grafana cannot reach Loki.",
                ["route", "network", "flannel"],
                ["no route to host", "i/o timeout"],
            )
        ],
        summary=f"After flannel on {node} failed to add the route to {dst}0/24, connections from Alloy and Grafana to Loki failed with no route to host and i/o timeout.",
        facts=[["no route to host", "network", "unreachable"], ["flannel", "CNI"], ["loki"]],
        tags=["k8s", "network", "logfmt", "klog", "hard"],
    )


def dns(ctx: Ctx) -> Incident:
    cd = make_workload(ctx, "coredns")
    t0 = ctx.r.uniform(0.15, 0.5)
    upstream = ctx.r.choice(("1.1.1.1", "192.168.1.1", "9.9.9.9"))
    for t in ctx.uniform_times(ctx.r.randint(20, 60), t0, 0.97):
        name = ctx.r.choice(("api.github.com.", "ghcr.io.", "huggingface.co.", "pypi.org."))
        ctx.add(
            t,
            cd,
            f"[ERROR] plugin/errors: 2 {name} {ctx.r.choice(('A', 'AAAA'))}: read udp {pod_ip(ctx.r)}:{ctx.r.randint(32768, 60999)}->{upstream}:53: i/o timeout",
        )
        if ctx.r.random() < 0.5:
            ctx.add(
                t + 10**6,
                cd,
                f'[INFO] {pod_ip(ctx.r)}:{ctx.r.randint(32768, 60999)} - {ctx.r.randint(1, 65535)} "A IN {name} udp 43 false 512" SERVFAIL qr,rd {ctx.r.randint(30, 60)} 2.00{ctx.r.randint(1000, 9999)}s',
            )
    worker = make_workload(ctx, "worker")
    llama = make_workload(ctx, "llama")
    for t in ctx.uniform_times(ctx.r.randint(10, 40), t0 + 0.01, 0.98):
        if ctx.r.random() < 0.5:
            ctx.add(
                t,
                worker,
                f"{py_ts(t)} ERROR worker.tasks: fetch failed for job id={uid(ctx.r)[:8]}: httpx.ConnectError: [Errno -3] Temporary failure in name resolution",
            )
        else:
            ctx.add(
                t,
                llama,
                "common_download_file: curl_easy_perform() failed: Could not resolve host: huggingface.co",
            )
    return Incident(
        findings=[
            finding(
                "dns",
                "error",
                "coredns",
                ["kube_dns", "dns"],
                f"CoreDNS cannot reach its upstream resolver {upstream} (read udp ... i/o timeout) and answers SERVFAIL for external names, so pods cannot resolve hosts.",
                ["CoreDNS", "upstream", "resolve"],
                ["plugin/errors", f"->{upstream}:53: i/o timeout", "name resolution"],
            )
        ],
        summary=f"External DNS failed: CoreDNS timed out forwarding to {upstream} and answered SERVFAIL, so the worker and llama-server could not resolve external hosts.",
        facts=[["DNS", "resolve", "resolution"], ["CoreDNS"], [upstream, "upstream"]],
        tags=["k8s", "coredns", "dns", "medium"],
    )


def tls_expired(ctx: Ctx) -> Incident:
    variant = ctx.r.randint(0, 1)
    expiry = rfc3339(ctx.start - ctx.r.randint(1, 40) * 3600 * 10**9, 0)
    if variant == 0:
        api = Workload(
            "kube-system",
            f"kube-apiserver-{ctx.nodes[0]}",
            "kube-apiserver",
            ctx.nodes[0],
            "kube-apiserver",
        )
        hook = ctx.r.choice(
            ("webhook.cert-manager.io", "validate.kyverno.svc", "vingress.elbv2.k8s.aws")
        )
        svc = ctx.r.choice(("cert-manager-webhook", "kyverno-svc"))
        for t in ctx.uniform_times(ctx.r.randint(15, 45), 0.1, 0.97):
            now = rfc3339(t, 0)
            ctx.add(
                t,
                api,
                klog(
                    t,
                    "W",
                    1,
                    "dispatcher.go:217",
                    f'Failed calling webhook, failing closed {hook}: failed calling webhook "{hook}": failed to call webhook: Post "https://{svc}.{svc.split("-")[0]}.svc:443/validate?timeout=10s": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time {now} is after {expiry}',
                ),
            )
        comp, ev = svc, ["x509: certificate has expired", "Failed calling webhook"]
        cause = f"The serving certificate of the {svc} admission webhook expired at {expiry}; the apiserver rejects every call to it, so matching API requests fail closed."
        sev = "critical"
    else:
        w = make_workload(ctx, "search")
        for t in ctx.uniform_times(ctx.r.randint(15, 45), 0.1, 0.97):
            rec = {
                "time": rfc3339(t)[:-1] + "+00:00",
                "level": "ERROR",
                "msg": "qdrant request failed",
                "error": f'Post "https://qdrant.search.svc:6333/collections/docs/points/search": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time {rfc3339(t, 0)} is after {expiry}',
                "attempt": ctx.r.randint(1, 3),
            }
            ctx.add(t, w, jdump(rec))
        comp, ev = "search-api", ["x509: certificate has expired"]
        cause = (
            f"search-api cannot talk to Qdrant over TLS: Qdrant's certificate expired at {expiry}."
        )
        sev = "error"
    return Incident(
        findings=[
            finding(
                "tls",
                sev,
                norm(comp),
                ["cert_manager", "qdrant"] if variant else ["kube_apiserver", "webhook"],
                cause,
                ["certificate", "expired"],
                ev,
            )
        ],
        summary=cause,
        facts=[["expired"], ["certificate", "x509", "TLS"], [comp]],
        tags=["tls", "k8s" if variant == 0 else "app", "klog" if variant == 0 else "json", "easy"],
    )


def auth(ctx: Ctx) -> Incident:
    variant = ctx.r.randint(0, 2)
    if variant == 0:
        w = make_workload(ctx, "alloy")
        res = ctx.r.choice(("pods", "nodes", "events"))
        for t in ctx.uniform_times(ctx.r.randint(10, 40), 0.05, 0.97):
            ctx.add(
                t,
                w,
                f'ts={rfc3339(t)} level=error msg="Unhandled Error" err="k8s.io/client-go@v0.31.2/tools/cache/reflector.go:243: Failed to watch *v1.{res.capitalize()[:-1]}: failed to list *v1.{res.capitalize()[:-1]}: {res} is forbidden: User \\"system:serviceaccount:monitoring:alloy\\" cannot list resource \\"{res}\\" in API group \\"\\" at the cluster scope" logger=UnhandledError',
            )
        return Incident(
            findings=[
                finding(
                    "auth",
                    "error",
                    "alloy",
                    ["grafana_alloy"],
                    f"Alloy's ServiceAccount has no RBAC permission to list {res} at the cluster scope (forbidden), so discovery for {res} is broken.",
                    ["RBAC", "forbidden", res],
                    ["is forbidden", "cannot list resource"],
                )
            ],
            summary=f"Alloy cannot list {res}: the apiserver answers forbidden for system:serviceaccount:monitoring:alloy, so its ClusterRole lacks that permission.",
            facts=[["forbidden", "RBAC", "permission"], ["alloy"], [res]],
            tags=["k8s", "logfmt", "easy"],
        )
    if variant == 1:
        w = make_workload(ctx, "grafana")
        for t in ctx.uniform_times(ctx.r.randint(10, 40), 0.2, 0.97):
            ctx.add(
                t,
                w,
                f'logger=tsdb.prometheus endpoint=queryData pluginId=prometheus dsName=Mimir dsUID=mimir uname=admin fromAlert=true t={rfc3339(t)} level=error msg="Error received from Prometheus" error="client_error: client error: 401" status=error duration={ctx.r.uniform(0.01, 0.2):.6f}s stage=databaseRequest',
            )
            if ctx.r.random() < 0.4:
                ctx.add(
                    t + 10**7,
                    w,
                    f'logger=ngalert.scheduler rule_uid={rand_str(ctx.r, 14, "abcdefghijklmnopqrstuvwxyz0123456789")} org_id=1 t={rfc3339(t + 10**7)} level=error msg="Failed to evaluate rule" error="failed to execute query A: client_error: client error: 401" duration={ctx.r.uniform(0.01, 0.2):.6f}s',
                )
        return Incident(
            findings=[
                finding(
                    "auth",
                    "error",
                    "grafana",
                    ["mimir", "prometheus"],
                    "The Grafana datasource for Mimir is rejected with 401: its credentials (basic auth or token) are wrong or expired, so dashboards and alert rules fail.",
                    ["401", "credentials", "token"],
                    ["client error: 401"],
                )
            ],
            summary="Grafana's Mimir datasource gets 401 on every query; alert rules fail to evaluate until the datasource credentials are fixed.",
            facts=[["401", "unauthorized", "credentials"], ["grafana"], ["alert", "rule"]],
            tags=["app", "logfmt", "medium"],
        )
    w = make_workload(ctx, "payments")
    for t in ctx.uniform_times(ctx.r.randint(10, 40), 0.3, 0.97):
        ctx.add(
            t,
            w,
            f"{spring_ts(t)}  WARN 1 --- [payments] [nio-8080-exec-{ctx.r.randint(1, 10)}] o.s.s.o.s.r.a.JwtAuthenticationProvider   : Failed to authenticate since the JWT was invalid: An error occurred while attempting to decode the Jwt: Jwt expired at {rfc3339(ctx.at(0.3), 0)}",
        )
    return Incident(
        findings=[
            finding(
                "auth",
                "warn",
                "payments",
                ["payments_api"],
                "Clients call payments with an expired JWT; requests are rejected as unauthenticated (401). The caller's token refresh is broken.",
                ["JWT", "expired", "token"],
                ["Jwt expired at"],
            )
        ],
        summary="From the 30% mark payments rejects requests because the presented JWT has expired; a caller is not refreshing its token.",
        facts=[["JWT", "token"], ["expired"], ["payments"]],
        tags=["app", "java", "medium"],
    )


def dependency_postgres(ctx: Ctx) -> Incident:
    pg = make_workload(ctx, "postgres")
    t0 = ctx.r.uniform(0.2, 0.5)
    t1 = min(t0 + ctx.r.uniform(0.2, 0.4), 0.97)
    ts = ctx.at(t0)
    ctx.add(ts, pg, f"{pg_ts(ts)} [1] LOG:  received fast shutdown request")
    ctx.add(ts + 10**8, pg, f"{pg_ts(ts + 10**8)} [1] LOG:  aborting any active transactions")
    ctx.add(ts + 3 * 10**8, pg, f"{pg_ts(ts + 3 * 10**8)} [1] LOG:  database system is shut down")
    te = ctx.at(t1)
    ctx.add(te, pg, f"{pg_ts(te)} [1] LOG:  database system is ready to accept connections")
    api = make_workload(ctx, "orders")
    pay = make_workload(ctx, "payments")
    for t in ctx.uniform_times(ctx.r.randint(30, 90), t0 + 0.005, t1):
        if ctx.r.random() < 0.5:
            ctx.add(
                t,
                api,
                f'{py_ts(t)} ERROR orders.db: could not acquire connection: connection failed: connection to server at "{svc_ip(ctx.r)}", port 5432 failed: Connection refused',
            )
            _uvicorn(ctx, api, t + 10**6, "POST", "/api/v1/orders", "503 Service Unavailable")
        else:
            ctx.add(
                t,
                pay,
                f"{spring_ts(t)}  WARN 1 --- [payments] [nio-8080-exec-{ctx.r.randint(1, 10)}] com.zaxxer.hikari.pool.PoolBase          : HikariPool-1 - Failed to validate connection org.postgresql.jdbc.PgConnection@{rand_str(ctx.r, 8, '0123456789abcdef')} (This connection has been closed.). Possibly consider using a shorter maxLifetime value.",
            )
    minutes = (t1 - t0) * ctx.minutes
    return Incident(
        findings=[
            finding(
                "dependency",
                "error",
                "postgres",
                ["postgresql", "db", "orders_api"],
                f"Postgres was shut down (fast shutdown request) and was unavailable for about {minutes:.0f} minutes; orders-api and payments lost their database connections and failed requests until it came back.",
                ["postgres", "connection refused", "shutdown"],
                ["received fast shutdown request", "Connection refused"],
            )
        ],
        summary=f"Postgres received a fast shutdown and was down for about {minutes:.0f} minutes; orders-api answered 503 with connection refused and payments' pool dropped connections until the database was ready again.",
        facts=[
            ["postgres", "database"],
            ["shut down", "shutdown", "unavailable", "down"],
            ["connection refused", "503"],
        ],
        tags=["app", "postgres", "python", "java", "medium"],
    )


def dependency_model_server(ctx: Ctx) -> Incident:
    w = Workload(
        "llm",
        f"open-webui-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}",
        "open-webui",
        ctx.node(),
        "open-webui",
    )
    llama_svc = "http://llama-server.llm.svc:8080/v1/chat/completions"
    t0 = ctx.r.uniform(0.3, 0.6)
    for t in ctx.uniform_times(ctx.r.randint(15, 50), t0, 0.98):
        ctx.add_block(
            t,
            w,
            [
                f"{py_ts(t)} - open_webui.routers.openai - ERROR - Connection error: Cannot connect to host llama-server.llm.svc:8080 ssl:default [Connect call failed ('{svc_ip(ctx.r)}', 8080)]",
            ],
        )
        _uvicorn(ctx, w, t + 10**6, "POST", "/api/chat/completions", "500 Internal Server Error")
    return Incident(
        findings=[
            finding(
                "dependency",
                "error",
                "llama_server",
                ["llama", "llama_cpp", "open_webui"],
                f"open-webui cannot connect to its model server at {llama_svc}: nothing is listening (connect call failed), so chats fail with 500.",
                ["llama", "connect", "model server"],
                ["Cannot connect to host llama-server.llm.svc:8080"],
            )
        ],
        summary="open-webui lost its model server: every chat completion failed with Cannot connect to host llama-server.llm.svc:8080 and returned 500.",
        facts=[
            ["llama", "model server"],
            ["cannot connect", "connection", "connect"],
            ["open-webui", "webui"],
        ],
        tags=["llm", "app", "python", "medium"],
    )


def dependency_blip(ctx: Ctx) -> Incident:
    """A dependency hiccup that retries absorb: warn, not error."""
    w = make_workload(ctx, "notifier")
    t0 = ctx.r.uniform(0.2, 0.8)
    n = ctx.r.randint(3, 8)
    for i, t in enumerate(ctx.spread(n, t0, t0 + 0.03)):
        ctx.add(
            t,
            w,
            jdump(
                {
                    "level": "warn",
                    "service": "notifier",
                    "error": "dial tcp 10.43.88.12:6379: connect: connection refused",
                    "attempt": i % 3 + 1,
                    "backoff": f"{2 ** (i % 3)}s",
                    "time": rfc3339(t, 0),
                    "message": "redis unavailable, retrying",
                }
            ),
        )
    t = ctx.at(t0 + 0.035)
    ctx.add(
        t,
        w,
        jdump(
            {
                "level": "info",
                "service": "notifier",
                "attempts": 3,
                "time": rfc3339(t, 0),
                "message": "redis connection re-established",
            }
        ),
    )
    return Incident(
        findings=[
            finding(
                "dependency",
                "warn",
                "redis",
                ["notifier"],
                "Redis refused connections for a few seconds; notifier retried and reconnected, no notifications were lost.",
                ["redis", "retry"],
                ["redis unavailable, retrying", "connection refused"],
            )
        ],
        summary="A short Redis blip: notifier saw connection refused, retried with back-off and reconnected within seconds.",
        facts=[["redis"], ["retr", "recovered", "re-established", "reconnected"]],
        tags=["app", "json", "benign-ish", "medium"],
    )


def limit_context(ctx: Ctx) -> Incident:
    w = make_workload(ctx, "llama")
    n_ctx = ctx.r.choice((4096, 8192, 16384))
    for t in ctx.uniform_times(ctx.r.randint(6, 30), 0.2, 0.97):
        task = ctx.r.randint(1000, 99999)
        n_prompt = n_ctx + ctx.r.randint(10, 9000)
        ctx.add(
            t, w, f"slot launch_slot_: id  {ctx.r.randint(0, 3)} | task {task} | processing task"
        )
        ctx.add(
            t + 10**6,
            w,
            f"srv    send_error: task id = {task}, error: the request exceeds the available context size, try increasing it",
        )
        ctx.add(
            t + 2 * 10**6,
            w,
            f"srv  log_server_r: request: POST /v1/chat/completions {pod_ip(ctx.r)} 400",
        )
        _ = n_prompt
    return Incident(
        findings=[
            finding(
                "limit_exceeded",
                "warn",
                "llama_server",
                ["llama", "llama_cpp"],
                f"Some chat requests are longer than llama-server's context window ({n_ctx} tokens per slot) and are rejected with 400.",
                ["context", "exceeds"],
                ["exceeds the available context size"],
            )
        ],
        summary=f"llama-server rejected several requests with 400 because the prompt exceeded the available context size ({n_ctx} tokens per slot); other requests were served normally.",
        facts=[["context size", "context window", "ctx"], ["llama"], ["400", "rejected"]],
        tags=["llm", "llama.cpp", "easy"],
    )


def limit_loki_ingest(ctx: Ctx) -> Incident:
    alloy = make_workload(ctx, "alloy")
    loki = make_workload(ctx, "loki")
    t0 = ctx.r.uniform(0.1, 0.5)
    rate = ctx.r.choice((4, 8))
    for t in ctx.uniform_times(ctx.r.randint(20, 80), t0, 0.98):
        ctx.add(
            t,
            alloy,
            f'ts={rfc3339(t)} level=warn msg="error sending batch, will retry" component_path=/ component_id=loki.write.default component=client host=loki-gateway.monitoring.svc:80 status=429 tenant="" error="server returned HTTP status 429 Too Many Requests (429): ingestion rate limit exceeded for user fake (limit: {rate * 1048576} bytes/sec) while attempting to ingest \'{ctx.r.randint(100, 4000)}\' lines totaling \'{ctx.r.randint(10**5, 10**6)}\' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased"',
        )
    for t in ctx.uniform_times(ctx.r.randint(3, 10), t0, 0.98):
        ctx.add(
            t,
            loki,
            f"level=warn ts={rfc3339(t)} caller=grpc_logging.go:76 method=/logproto.Pusher/Push duration={ctx.r.uniform(0.1, 3):.3f}ms msg=gRPC err=\"rpc error: code = Code(429) desc = ingestion rate limit exceeded for user fake (limit: {rate * 1048576} bytes/sec) while attempting to ingest '{ctx.r.randint(100, 4000)}' lines\"",
        )
    return Incident(
        findings=[
            finding(
                "limit_exceeded",
                "error",
                "loki",
                ["alloy", "loki_distributor"],
                f"Alloy pushes more than Loki's ingestion rate limit ({rate} MB/s for tenant fake); pushes are rejected with 429 and logs are delayed or dropped.",
                ["429", "rate limit", "ingestion"],
                ["429 Too Many Requests", "ingestion rate limit exceeded"],
            )
        ],
        summary=f"Loki rejected Alloy's pushes with 429: ingestion rate limit exceeded ({rate} MB/s); Alloy kept retrying, so logs arrived late and some may be lost.",
        facts=[["429", "rate limit"], ["loki"], ["ingestion", "ingest"]],
        tags=["logfmt", "monitoring", "medium"],
    )


def limit_body_size(ctx: Ctx) -> Incident:
    nginx = make_workload(ctx, "nginx")
    for t in ctx.uniform_times(ctx.r.randint(5, 20), 0.1, 0.97):
        size = ctx.r.randint(2, 40) * 1048576 + ctx.r.randint(0, 99999)
        ctx.add(
            t,
            nginx,
            f'{rfc3339(t, 0)[:10].replace("-", "/")} {rfc3339(t, 0)[11:19]} [error] {ctx.r.randint(20, 40)}#{ctx.r.randint(20, 40)}: *{ctx.r.randint(10**5, 10**7)} client intended to send too large body: {size} bytes, client: {pod_ip(ctx.r)}, server: photos.home.arpa, request: "POST /api/assets HTTP/1.1", host: "photos.home.arpa"',
        )
        ctx.add(
            t + 10**6,
            nginx,
            f'{pod_ip(ctx.r)} - - [{clf_ts(t)}] "POST /api/assets HTTP/1.1" 413 176 "-" "Immich_Android_1.121.0" {size} 0.000 [apps-immich-server-2283] [] - - - - {rand_str(ctx.r, 32, "0123456789abcdef")}',
        )
    return Incident(
        findings=[
            finding(
                "limit_exceeded",
                "warn",
                "ingress_nginx",
                ["nginx", "immich", "ingress_nginx_controller"],
                "Uploads larger than the ingress' client_max_body_size (proxy-body-size) are rejected with 413.",
                ["body", "413", "size"],
                ["client intended to send too large body"],
            )
        ],
        summary="The ingress rejected large photo uploads to photos.home.arpa with 413 because they exceed the configured body size limit.",
        facts=[["413", "too large", "body size"], ["nginx", "ingress"]],
        tags=["nginx", "app", "easy"],
    )


def app_python_traceback(ctx: Ctx) -> Incident:
    w = make_workload(ctx, "orders")
    exc = ctx.r.choice(
        (
            (
                "KeyError: 'shipping_address'",
                "orders/service.py",
                "build_shipment",
                '    address = payload["shipping_address"]',
                "KeyError",
            ),
            (
                "TypeError: unsupported operand type(s) for +: 'decimal.Decimal' and 'float'",
                "orders/pricing.py",
                "total",
                "    return subtotal + shipping_fee",
                "TypeError",
            ),
            (
                "AttributeError: 'NoneType' object has no attribute 'id'",
                "orders/service.py",
                "attach_customer",
                "    order.customer_id = customer.id",
                "AttributeError",
            ),
        )
    )
    n = ctx.r.randint(8, 40)
    for t in ctx.uniform_times(n, 0.1, 0.97):
        _uvicorn(ctx, w, t, "POST", "/api/v1/orders", "500 Internal Server Error")
        ctx.add_block(
            t + 10**5,
            w,
            [
                "ERROR:    Exception in ASGI application",
                "Traceback (most recent call last):",
                '  File "/app/.venv/lib/python3.12/site-packages/uvicorn/protocols/http/httptools_impl.py", line 409, in run_asgi',
                "    result = await app(  # type: ignore[func-returns-value]",
                '  File "/app/.venv/lib/python3.12/site-packages/fastapi/routing.py", line 212, in run_endpoint_function',
                "    return await dependant.call(**values)",
                f'  File "/app/{exc[1]}", line {ctx.r.randint(20, 200)}, in {exc[2]}',
                exc[3],
                exc[0],
            ],
        )
    return Incident(
        findings=[
            finding(
                "application_error",
                "error",
                "orders_api",
                ["orders"],
                f"POST /api/v1/orders raises {exc[4]} in {exc[2]} ({exc[1]}) and returns 500: a code bug for some order payloads.",
                [exc[4], "500"],
                [exc[0], "500 Internal Server Error"],
            )
        ],
        summary=f"orders-api returned 500 on {n} order submissions; each logged a Python traceback ending in {exc[0]}.",
        facts=[[exc[4]], ["500", "exception", "traceback"], ["orders"]],
        tags=["app", "python", "uvicorn", "multiline", "easy"],
    )


def app_java_npe(ctx: Ctx) -> Incident:
    w = make_workload(ctx, "payments")
    n = ctx.r.randint(5, 25)
    for t in ctx.uniform_times(n, 0.1, 0.97):
        ctx.add_block(
            t,
            w,
            [
                f'{spring_ts(t)} ERROR 1 --- [payments] [nio-8080-exec-{ctx.r.randint(1, 10)}] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: java.lang.NullPointerException: Cannot invoke "com.example.payments.model.Card.getToken()" because "card" is null] with root cause',
                'java.lang.NullPointerException: Cannot invoke "com.example.payments.model.Card.getToken()" because "card" is null',
                "\tat com.example.payments.service.ChargeService.charge(ChargeService.java:57)",
                "\tat com.example.payments.api.PaymentController.pay(PaymentController.java:34)",
                "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
                "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)",
                "\t... 48 common frames omitted",
            ],
        )
    return Incident(
        findings=[
            finding(
                "application_error",
                "error",
                "payments",
                ["payments_api"],
                "ChargeService.charge dereferences a null Card (NullPointerException) for payments without a stored card; those requests fail with 500.",
                ["NullPointerException", "card"],
                ["java.lang.NullPointerException", "ChargeService.charge"],
            )
        ],
        summary=f"payments threw NullPointerException in ChargeService.charge {n} times because the card was null.",
        facts=[["NullPointerException", "null"], ["payments"], ["card"]],
        tags=["app", "java", "multiline", "easy"],
    )


def app_go_panic(ctx: Ctx) -> Incident:
    w = Workload(
        "apps",
        f"linkding-sync-{rand_str(ctx.r, 10)}-{rand_str(ctx.r, 5)}",
        "sync",
        ctx.node(),
        "linkding-sync",
    )
    n = ctx.r.randint(3, 8)
    for t in ctx.spread(n, 0.1, 0.95):
        ctx.add_block(
            t,
            w,
            [
                "panic: runtime error: invalid memory address or nil pointer dereference",
                "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8b2f4a]",
                "",
                f"goroutine {ctx.r.randint(20, 400)} [running]:",
                "github.com/example/linkding-sync/internal/feed.(*Poller).handle(0xc0001a2000, 0x0)",
                "\t/src/internal/feed/poller.go:88 +0x2a",
                "github.com/example/linkding-sync/internal/feed.(*Poller).Run(0xc0001a2000, {0xa1c2e0, 0xc000120000})",
                "\t/src/internal/feed/poller.go:54 +0x1c5",
                "created by main.main in goroutine 1",
                "\t/src/cmd/sync/main.go:41 +0x3b8",
            ],
        )
        backoff(ctx, t + 2 * 10**9, w, 2, "10s")
    return Incident(
        findings=[
            finding(
                "application_error",
                "error",
                "linkding_sync",
                ["sync"],
                "linkding-sync panics with a nil pointer dereference in Poller.handle (poller.go:88) when a feed item is nil, and the process restarts.",
                ["panic", "nil pointer"],
                [
                    "panic: runtime error: invalid memory address or nil pointer dereference",
                    "poller.go:88",
                ],
            )
        ],
        summary=f"linkding-sync crashed {n} times with a Go panic: nil pointer dereference in Poller.handle.",
        facts=[["panic", "nil pointer"], ["linkding"]],
        tags=["app", "go", "multiline", "easy"],
    )


def scary_noise(ctx: Ctx, n: int) -> None:
    """Benign lines that look alarming: cancelled queries, recovered retries, `0 errors`."""
    loki = make_workload(ctx, "loki")
    grafana = make_workload(ctx, "grafana")
    worker = make_workload(ctx, "worker")
    pg = make_workload(ctx, "postgres")
    alloy = make_workload(ctx, "alloy")
    for t in ctx.uniform_times(n):
        pick = ctx.r.randint(0, 7)
        if pick == 0:
            ctx.add(
                t,
                loki,
                f'level=error ts={rfc3339(t)} caller=retry.go:95 org_id=fake traceID={rand_str(ctx.r, 16, "0123456789abcdef")} msg="error processing request" try=0 query="{{namespace=\\"shop\\"}}" query_hash={ctx.r.randint(10**8, 4 * 10**9)} start={rfc3339(t - 3600 * 10**9, 0)} end={rfc3339(t, 0)} start_delta=1h0m0s end_delta=1s length=1h0m0s retry_in=0s err="context canceled"',
            )
        elif pick == 1:
            ctx.add(
                t,
                grafana,
                f'logger=context userId=1 orgId=1 uname=admin t={rfc3339(t)} level=error msg="Request error" error="context canceled" remote_addr={pod_ip(ctx.r)} traceID=',
            )
        elif pick == 2:
            ctx.add(
                t,
                worker,
                f"{py_ts(t)} INFO worker.tasks: batch finished: {ctx.r.randint(20, 400)} processed, 0 errors, 0 retries",
            )
        elif pick == 3:
            ctx.add(
                t,
                worker,
                f"{py_ts(t)} WARNING worker.http: GET https://api.github.com/repos/example/app/releases failed (attempt 1/5): ReadTimeout; retrying in 1.0s",
            )
            ctx.add(
                t + 1_300_000_000,
                worker,
                f"{py_ts(t + 1_300_000_000)} INFO worker.http: GET https://api.github.com/repos/example/app/releases succeeded on attempt 2",
            )
        elif pick == 4:
            ctx.add(
                t,
                pg,
                f"{pg_ts(t)} [{ctx.r.randint(100, 9999)}] LOG:  could not receive data from client: Connection reset by peer",
            )
        elif pick == 5:
            ctx.add(
                t,
                alloy,
                f'ts={rfc3339(t)} level=info msg="tail routine: tail channel closed, stopping tailer" component_path=/ component_id=loki.source.kubernetes.pods target=batch/report-job-{rand_str(ctx.r, 5)}:report reason="container terminated"',
            )
        elif pick == 6:
            ctx.add(
                t,
                pg,
                f'{pg_ts(t)} [{ctx.r.randint(100, 9999)}] ERROR:  duplicate key value violates unique constraint "idempotency_keys_pkey"',
            )
            ctx.add(
                t + 10**6,
                pg,
                f"{pg_ts(t + 10**6)} [{ctx.r.randint(100, 9999)}] DETAIL:  Key (key)=({uid(ctx.r)}) already exists.",
            )
        else:
            ctx.add(
                t,
                grafana,
                f'logger=cleanup t={rfc3339(t)} level=info msg="Completed cleanup jobs" duration={ctx.r.uniform(5, 60):.3f}ms errors=0',
            )
