"""The incident scenarios of the demo cluster (`SCENARIOS`), each written as the real programs log it."""

from __future__ import annotations

import random
from collections.abc import Callable

from loglens.model import Category, Severity
from loglens.sources.demo_cluster import (
    CLUSTER_DNS,
    NS,
    Clock,
    Emitter,
    Pod,
    event_json,
    event_labels,
    hex_id,
    node_labels,
)
from loglens.sources.demo_incidents import Scenario, Script, backoffs

_MS = 1_000_000


def _quote(text: str) -> str:
    """Escape double quotes the way klog and logfmt print a quoted value."""
    return text.replace('"', '\\"')


def _pod_event(
    s: Script, ts: int, pod: Pod, type_: str, reason: str, message: str, count: int = 1
) -> None:
    line = event_json(
        s.clock(ts),
        ("Pod", pod.namespace, pod.name),
        type_=type_,
        reason=reason,
        message=message,
        source="kubelet",
        host=pod.node,
        count=count,
        field_path=f"spec.containers{{{pod.container}}}",
    )
    s.add(ts, event_labels(s.cluster, pod.namespace), line, essential=type_ == "Warning")


def _api_access(s: Script, status: str) -> Emitter:
    caller = s.cluster["grafana"].ip

    def access(r: random.Random, c: Clock) -> str:
        route = r.choice(("POST /v1/analyze", "GET /v1/history?limit=20"))
        return f'INFO:     {caller}:{r.randint(32768, 60999)} - "{route} HTTP/1.1" {status}'

    return access


def _python_log(level: str, logger: str, message: str) -> Emitter:
    def line(r: random.Random, c: Clock) -> str:
        return f"{c.pg},{c.ns // _MS:03d} {level} {logger}: {message}"

    return line


# (a) ----------------------------------------------------------------------------------


def _llama_oom(s: Script) -> None:
    llama = s.cluster["llama-server"]
    kernel = node_labels("node-2", "kernel")
    kubelet = node_labels("node-2", "kubelet.service")
    refused = f"dial tcp {llama.ip}:8080: connect: connection refused"
    probe_out = f'Get "http://{llama.ip}:8080/health": {refused}'
    s.add(
        s.offset(0),
        llama.labels(),
        "slot update_slots: id  0 | task 4711 | new prompt, n_ctx_slot = 32768, n_keep = 0, "
        "n_prompt_tokens = 30112",
        essential=True,
    )
    for restart, (ts, delay) in enumerate(backoffs(s, 2)):
        pid = 48213 + restart * 37
        first = restart == 0
        s.add(
            ts,
            kernel,
            "llama-server invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
            "oom_score_adj=999",
            essential=first,
        )
        s.add(
            ts + 1000,
            kernel,
            f"Memory cgroup out of memory: Killed process {pid} (llama-server) "
            f"total-vm:14623412kB, anon-rss:{10_400_000 + s.rng.randint(0, 90_000)}kB, "
            "file-rss:81920kB, shmem-rss:0kB, UID:0 pgtables:21324kB oom_score_adj:999",
            essential=first,
        )
        node_event = event_json(
            s.clock(ts + 40 * _MS),
            ("Node", "", "node-2"),
            type_="Warning",
            reason="OOMKilling",
            message=f"Memory cgroup out of memory: Killed process {pid} (llama-server)",
            source="kernel-monitor",
            host="node-2",
        )
        s.add(ts + 40 * _MS, event_labels(s.cluster, "llm"), node_event, essential=first)
        c = s.clock(ts + 900 * _MS)
        s.add(
            ts + 900 * _MS,
            kubelet,
            c.klog_head("E", 2211, "pod_workers.go:1301")
            + f'"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"llama\\" '
            f'with CrashLoopBackOff: \\"back-off {delay} restarting failed container=llama '
            f'pod={llama.name}_llm({llama.uid})\\"" pod="{llama.ref}" podUID="{llama.uid}"',
            essential=restart == 1,
        )
        _pod_event(
            s,
            ts + 950 * _MS,
            llama,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container llama in pod {llama.name}_llm({llama.uid})",
            count=restart + 1,
        )
        for probe_ts in s.every(10, start=ts + 3 * NS, end=min(s.end_ns, ts + 40 * NS)):
            c = s.clock(probe_ts)
            s.add(
                probe_ts,
                kubelet,
                c.klog_head("I", 2211, "prober.go:107")
                + f'"Probe failed" probeType="Readiness" pod="{llama.ref}" podUID="{llama.uid}" '
                f'containerName="llama" probeResult="failure" output="{_quote(probe_out)}"',
            )
            if first:
                _pod_event(
                    s,
                    probe_ts + 2 * _MS,
                    llama,
                    "Warning",
                    "Unhealthy",
                    f"Readiness probe failed: {probe_out}",
                )
    s.override("llama-server", rate_factor=0.0)
    llm_failed = _python_log(
        "WARNING",
        "loglens.llm.client",
        "llama.cpp server http://llama-server.llm.svc.cluster.local:8080 failed: "
        "ConnectError: [Errno 111] Connection refused; falling back to rules",
    )
    s.override(
        "loglens",
        emitters=((0.4, llm_failed), (0.6, _api_access(s, "503 Service Unavailable"))),
        share=0.5,
    )


# (b) ----------------------------------------------------------------------------------


def _loki_disk_full(s: Script) -> None:
    loki = s.cluster["loki"]
    kubelet = node_labels("node-2", "kubelet.service")
    c = s.clock(s.offset(0))
    s.add(
        s.offset(0),
        loki.labels(),
        f"level=error ts={c.rfc3339_ns} caller=ingester.go:1032 component=ingester "
        'msg="Error writing to WAL, disk full, no further messages will be logged for this error" '
        'err="write /var/loki/wal/00004417: no space left on device"',
        essential=True,
    )
    for ts in s.every(60, start=s.offset(20)):
        c = s.clock(ts)
        s.add(
            ts,
            kubelet,
            c.klog_head("I", 2211, "image_gc_manager.go:391")
            + '"Disk usage on image filesystem is over the high threshold, trying to free bytes '
            f'down to the low threshold" usage={91 + s.rng.randint(0, 7)} highThreshold=85 '
            f"amountToFree={s.rng.randint(2, 9) * 1_073_741_824} lowThreshold=80",
        )

    def flush_failed(r: random.Random, c: Clock) -> str:
        return (
            f"level=error ts={c.rfc3339_ns} caller=flush.go:143 component=ingester org_id=fake "
            'msg="failed to flush" err="failed to flush chunks: store put chunk: write '
            f"/var/loki/chunks/ZmFrZS8{hex_id(r, 16)}: no space left on device, "
            f'num_chunks: {r.randint(1, 4)}, labels: {{namespace=\\"llm\\"}}"'
        )

    def push_failed(r: random.Random, c: Clock) -> str:
        return (
            f'ts={c.rfc3339_ns} level=warn msg="error sending batch, will retry" '
            'component_path=/ component_id=loki.write.default status=500 tenant="" '
            'error="server returned HTTP status 500 Internal Server Error (500): '
            "rpc error: code = Unknown desc = write /var/loki/wal/00004417: "
            'no space left on device"'
        )

    s.override("loki", rate_factor=0.8, emitters=((1.0, flush_failed),), share=0.6)
    for key in ("alloy-1", "alloy-2"):
        s.override(key, emitters=((1.0, push_failed),), share=0.5)


# (c) ----------------------------------------------------------------------------------


def _coredns_timeout(s: Script) -> None:
    coredns = s.cluster["coredns"]
    upstream = "1.1.1.1:53"

    def upstream_timeout(r: random.Random, c: Clock) -> str:
        name = r.choice(("github.com.", "ghcr.io.", "grafana.com.", "api.github.com."))
        return (
            f"[ERROR] plugin/errors: 2 {name} {r.choice(('A', 'AAAA'))}: read udp "
            f"{coredns.ip}:{r.randint(32768, 60999)}->{upstream}: i/o timeout"
        )

    def overloaded(r: random.Random, c: Clock) -> str:
        name = r.choice(("loki.monitoring.svc.cluster.local.", "postgres.db.svc.cluster.local."))
        return f"[ERROR] plugin/errors: 2 {name} A: concurrent queries exceeded maximum 1000"

    c = s.clock(s.offset(0))
    s.add(
        s.offset(0),
        coredns.labels(),
        f"[ERROR] plugin/errors: 2 github.com. A: read udp {coredns.ip}:41233->{upstream}: "
        "i/o timeout",
        essential=True,
    )
    lookup = (
        f"dial tcp: lookup loki.monitoring.svc.cluster.local on {CLUSTER_DNS}:53: "
        f"read udp {s.cluster['grafana'].ip}:51234->{CLUSTER_DNS}:53: i/o timeout"
    )
    c = s.clock(s.offset(45))
    s.add(
        s.offset(45),
        s.cluster["grafana"].labels(),
        "logger=tsdb.loki endpoint=queryData pluginId=loki dsName=Loki uname=admin "
        f'fromAlert=false t={c.rfc3339_ns} level=error msg="Error received from Loki" '
        f'error="Get \\"http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/query_range\\": '
        f'{lookup}" status=error duration=5.002s stage=databaseRequest',
        essential=True,
    )

    def alloy_no_host(r: random.Random, c: Clock) -> str:
        return (
            f'ts={c.rfc3339_ns} level=warn msg="error sending batch, will retry" '
            'component_path=/ component_id=loki.write.default status=-1 tenant="" '
            'error="Post \\"http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push\\": '
            'dial tcp: lookup loki.monitoring.svc.cluster.local: no such host"'
        )

    s.override(
        "coredns",
        rate_factor=1.5,
        emitters=((0.6, upstream_timeout), (0.4, overloaded)),
        share=0.5,
    )
    s.override(
        "loglens",
        emitters=(
            (
                1.0,
                _python_log(
                    "ERROR",
                    "loglens.history",
                    'could not translate host name "postgres.db.svc.cluster.local" to '
                    "address: Temporary failure in name resolution",
                ),
            ),
        ),
        share=0.2,
    )
    for key in ("alloy-1", "alloy-2"):
        s.override(key, emitters=((1.0, alloy_no_host),), share=0.4)


# (d) ----------------------------------------------------------------------------------


def _postgres_auth(s: Script) -> None:
    kustomize = s.cluster["kustomize-controller"]
    c = s.clock(s.offset(0))
    s.add(
        s.offset(0),
        kustomize.labels(),
        f'{{"level":"info","ts":"{c.rfc3339_ms}","msg":"server-side apply completed",'
        '"controller":"kustomization","controllerGroup":"kustomize.toolkit.fluxcd.io",'
        '"controllerKind":"Kustomization","Kustomization":{"name":"apps","namespace":'
        '"flux-system"},"namespace":"flux-system","name":"apps","output":'
        '{"Secret/db/postgres-credentials":"configured","Secret/loglens/loglens-db":"unchanged"}}',
        essential=True,
    )

    def auth_failed(r: random.Random, c: Clock) -> str:
        return (
            f"{c.postgres} [{r.randint(1000, 32000)}] FATAL:  password authentication failed "
            'for user "loglens"'
        )

    def detail(r: random.Random, c: Clock) -> str:
        return (
            f"{c.postgres} [{r.randint(1000, 32000)}] DETAIL:  Connection matched file "
            '"/var/lib/postgresql/data/pg_hba.conf" line 128: "host all all all scram-sha-256"'
        )

    s.override("postgres", emitters=((0.6, auth_failed), (0.4, detail)), share=0.7)
    api_error = _python_log(
        "ERROR",
        "loglens.history",
        'psycopg.OperationalError: connection failed: connection to server at "10.43.12.7", '
        'port 5432 failed: FATAL:  password authentication failed for user "loglens"',
    )
    s.override(
        "loglens",
        emitters=((0.5, api_error), (0.5, _api_access(s, "500 Internal Server Error"))),
        share=0.3,
    )
    c = s.clock(s.offset(1))
    s.add(
        s.offset(1),
        s.cluster["postgres"].labels(),
        f'{c.postgres} [4821] FATAL:  password authentication failed for user "loglens"',
        essential=True,
    )


# (e) ----------------------------------------------------------------------------------


def _flux_helm_failed(s: Script) -> None:
    helm = s.cluster["helm-controller"]
    failure = (
        "Helm upgrade failed for release qdrant/qdrant with chart qdrant@1.13.0: cannot patch "
        '"qdrant" with kind StatefulSet: StatefulSet.apps "qdrant" is invalid: spec: Forbidden: '
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
        "forbidden"
    )
    events = event_labels(s.cluster, "qdrant")
    for attempt, ts in enumerate(s.every(300, start=s.offset(0))):
        c = s.clock(ts)
        s.add(
            ts,
            helm.labels(),
            f'{{"level":"error","ts":"{c.rfc3339_ms}","msg":"Reconciler error",'
            '"controller":"helmrelease","controllerGroup":"helm.toolkit.fluxcd.io",'
            '"controllerKind":"HelmRelease","HelmRelease":{"name":"qdrant","namespace":"qdrant"},'
            f'"namespace":"qdrant","name":"qdrant","reconcileID":"{hex_id(s.rng, 8)}-6c1d-4f0e-'
            f'9a3b-{hex_id(s.rng, 12)}","error":"{_quote(failure)}"}}',
            essential=attempt == 0,
        )
        obj = ("HelmRelease", "qdrant", "qdrant")
        s.add(
            ts + 5 * _MS,
            events,
            event_json(
                c,
                obj,
                type_="Warning",
                reason="UpgradeFailed",
                message=failure,
                source="helm-controller",
                count=attempt + 1,
            ),
            essential=attempt == 0,
        )
        c = s.clock(ts + 2 * NS)
        s.add(
            ts + 2 * NS,
            events,
            event_json(
                c,
                obj,
                type_="Normal",
                reason="RollbackSucceeded",
                message="Helm rollback to previous release qdrant/qdrant.v7 with chart "
                "qdrant@1.12.4 succeeded",
                source="helm-controller",
                count=attempt + 1,
            ),
        )


# (f) ----------------------------------------------------------------------------------


def _grafana_x509(s: Script) -> None:
    expired_at = f"{s.clock(s.start_ns - 7 * NS).iso}Z"

    def tls_failed(r: random.Random, c: Clock) -> str:
        return (
            "logger=tsdb.loki endpoint=queryData pluginId=loki dsName=Loki uname=admin "
            f'fromAlert=false t={c.rfc3339_ns} level=error msg="Error received from Loki" '
            'error="Get \\"https://loki.monitoring.svc.cluster.local:3100/loki/api/v1/query_range'
            '\\": tls: failed to verify certificate: x509: certificate has expired or is not yet '
            f'valid: current time {c.iso}Z is after {expired_at}" status=error '
            f"duration={r.randint(2, 9)}.{r.randint(100, 999)}ms stage=databaseRequest"
        )

    def rule_failed(r: random.Random, c: Clock) -> str:
        return (
            f"logger=ngalert.scheduler rule_uid=loglens-errors org_id=1 version=3 "
            f't={c.rfc3339_ns} level=error msg="Failed to evaluate rule" error="[sse.dataQueryError] '
            'failed to execute query [A]: x509: certificate has expired or is not yet valid" '
            f"duration={r.randint(3, 40)}.{r.randint(100, 999)}ms"
        )

    s.override("grafana", emitters=((0.8, tls_failed), (0.2, rule_failed)), share=0.4)
    c = s.clock(s.offset(0))
    s.add(s.offset(0), s.cluster["grafana"].labels(), tls_failed(s.rng, c), essential=True)


# (g) ----------------------------------------------------------------------------------


def _image_pull(s: Script) -> None:
    image = "ghcr.io/homelab/loglens:0.2.0-rc1"
    worker = Pod(
        "loglens",
        f"loglens-worker-5f6d7c8b9-{hex_id(s.rng, 5)}",
        "worker",
        "node-1",
        "10.42.0.61",
        f"{hex_id(s.rng, 8)}-2f1c-4d7e-9b0a-{hex_id(s.rng, 12)}",
    )
    not_found = (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}": {image}: not found'
    )
    _pod_event(
        s,
        s.offset(0),
        worker,
        "Normal",
        "Scheduled",
        f"Successfully assigned loglens/{worker.name} to node-1",
    )
    kubelet = node_labels("node-1", "kubelet.service")
    for attempt, (ts, _delay) in enumerate(backoffs(s, 1)):
        first = attempt == 0
        _pod_event(s, ts, worker, "Normal", "Pulling", f'Pulling image "{image}"', attempt + 1)
        _pod_event(
            s,
            ts + 800 * _MS,
            worker,
            "Warning",
            "Failed",
            f'Failed to pull image "{image}": {not_found}',
            attempt + 1,
        )
        _pod_event(
            s, ts + 801 * _MS, worker, "Warning", "Failed", "Error: ErrImagePull", attempt + 1
        )
        _pod_event(
            s,
            ts + 2 * NS,
            worker,
            "Normal",
            "BackOff",
            f'Back-off pulling image "{image}"',
            attempt + 1,
        )
        _pod_event(
            s,
            ts + 2 * NS + _MS,
            worker,
            "Warning",
            "Failed",
            "Error: ImagePullBackOff",
            attempt + 1,
        )
        c = s.clock(ts + 2 * NS + 2 * _MS)
        s.add(
            ts + 2 * NS + 2 * _MS,
            kubelet,
            c.klog_head("E", 1893, "pod_workers.go:1301")
            + '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"worker\\" '
            f'with ImagePullBackOff: \\"Back-off pulling image \\\\\\"{image}\\\\\\"\\"" '
            f'pod="{worker.ref}" podUID="{worker.uid}"',
            essential=first,
        )


# (h) ----------------------------------------------------------------------------------


def _etcd_slow(s: Script) -> None:
    etcd = s.cluster["etcd"]

    def slow_apply(r: random.Random, c: Clock) -> str:
        return (
            f'{{"level":"warn","ts":"{c.rfc3339_us}","caller":"etcdserver/util.go:170",'
            f'"msg":"apply request took too long","took":"{r.uniform(0.9, 4.5):.6f}s",'
            '"expected-duration":"100ms","prefix":"","request":"header:<ID:7587883624593318 > '
            'lease_grant:<ttl:15-second id:694d8f2a1c3b>","response":"size:41"}'
        )

    def slow_fsync(r: random.Random, c: Clock) -> str:
        return (
            f'{{"level":"warn","ts":"{c.rfc3339_us}","caller":"wal/wal.go:805",'
            f'"msg":"slow fdatasync","took":"{r.uniform(1.0, 6.0):.6f}s","expected-duration":"1s"}}'
        )

    s.override("etcd", rate_factor=3.0, emitters=((0.6, slow_apply), (0.4, slow_fsync)), share=0.8)
    c = s.clock(s.offset(0))
    s.add(s.offset(0), etcd.labels(), slow_fsync(s.rng, c), essential=True)
    s.add(s.offset(0.5), etcd.labels(), slow_apply(s.rng, s.clock(s.offset(0.5))), essential=True)
    lease = "kube-system/kube-controller-manager"
    kcm = s.cluster["kube-controller-manager"]
    lines = (
        (
            "E",
            "leaderelection.go:429",
            "Failed to update lock optimistically: Put "
            '"https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/'
            'kube-controller-manager?timeout=5s": context deadline exceeded, falling back to slow path',
        ),
        (
            "E",
            "leaderelection.go:436",
            f"error retrieving resource lock {lease}: Get "
            '"https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/'
            'kube-controller-manager?timeout=5s": context deadline exceeded',
        ),
        (
            "I",
            "leaderelection.go:297",
            f"failed to renew lease {lease}: timed out waiting for the condition",
        ),
        ("E", "controllermanager.go:340", '"leaderelection lost"'),
    )
    for step, (severity, source, body) in enumerate(lines):
        ts = s.offset(20 + step * 2.5)
        s.add(
            ts, kcm.labels(), s.clock(ts).klog_head(severity, 1, source) + body, essential=step == 3
        )
    s.override(
        "kube-apiserver",
        emitters=((1.0, _apiserver_timeout),),
        share=0.3,
    )


def _apiserver_timeout(r: random.Random, c: Clock) -> str:
    return c.klog_head("E", 1, "status.go:71") + (
        '"Unhandled Error" err="apiserver received an error that is not an metav1.Status: '
        '&errors.errorString{s:\\"context deadline exceeded\\"}: context deadline exceeded" '
        'logger="UnhandledError"'
    )


def _scenario(
    name: str,
    title: str,
    category: Category,
    severity: Severity,
    component: str,
    root_cause: str,
    evidence: tuple[str, ...],
    duration_s: int,
    build: Callable[[Script], None],
) -> tuple[str, Scenario]:
    return name, Scenario(
        name, title, category, severity, component, root_cause, evidence, duration_s, build
    )


SCENARIOS: dict[str, Scenario] = dict(
    (
        _scenario(
            "llama-oom",
            "llama-server OOMKilled",
            Category.OOM,
            Severity.CRITICAL,
            "llama_server",
            "llama-server on node-2 exceeded its memory limit on a 30k-token prompt and was "
            "OOMKilled by the kernel; it is in CrashLoopBackOff and the loglens API answers 503 "
            "while it is down.",
            ("Memory cgroup out of memory", "OOMKilling", "Back-off restarting failed container"),
            900,
            _llama_oom,
        ),
        _scenario(
            "loki-disk-full",
            "Loki ingester disk full",
            Category.STORAGE,
            Severity.CRITICAL,
            "loki",
            "Loki's volume on node-2 is full: the ingester cannot write its WAL or flush chunks "
            "(no space left on device), so Alloy's pushes fail and logs are being lost.",
            ("no space left on device", "disk full"),
            1200,
            _loki_disk_full,
        ),
        _scenario(
            "coredns-timeout",
            "CoreDNS upstream timeouts",
            Category.DNS,
            Severity.ERROR,
            "coredns",
            "CoreDNS's upstream resolver 1.1.1.1 stopped answering; the forward plugin hit its "
            "concurrency limit and in-cluster lookups (loki, postgres) timed out as well.",
            ("plugin/errors", "i/o timeout", "lookup loki.monitoring.svc.cluster.local"),
            600,
            _coredns_timeout,
        ),
        _scenario(
            "postgres-auth",
            "Postgres password authentication failed",
            Category.AUTH,
            Severity.ERROR,
            "postgres",
            "Flux applied a rotated postgres-credentials secret but the loglens-db secret was "
            "not updated, so the loglens API's connections fail password authentication.",
            ('password authentication failed for user "loglens"',),
            900,
            _postgres_auth,
        ),
        _scenario(
            "flux-helm-upgrade",
            "Flux HelmRelease qdrant upgrade failed",
            Category.DEPLOYMENT,
            Severity.ERROR,
            "helm_controller",
            "The qdrant chart 1.13.0 changes an immutable StatefulSet field, so every Helm "
            "upgrade attempt fails and Flux rolls back to 1.12.4.",
            ("Helm upgrade failed", "UpgradeFailed"),
            1500,
            _flux_helm_failed,
        ),
        _scenario(
            "grafana-x509",
            "Grafana Loki datasource certificate expired",
            Category.TLS,
            Severity.ERROR,
            "grafana",
            "The TLS certificate Loki serves to Grafana's datasource has expired, so every "
            "dashboard query and alert rule evaluation against Loki fails x509 verification.",
            ("x509: certificate has expired",),
            900,
            _grafana_x509,
        ),
        _scenario(
            "image-pull",
            "loglens-worker ImagePullBackOff",
            Category.IMAGE_PULL,
            Severity.ERROR,
            "loglens_worker",
            "The new loglens-worker Deployment references image tag "
            "ghcr.io/homelab/loglens:0.2.0-rc1, which does not exist in the registry, so the pod "
            "is stuck in ImagePullBackOff.",
            ("ImagePullBackOff", "not found"),
            900,
            _image_pull,
        ),
        _scenario(
            "etcd-slow",
            "etcd slow disk, controller-manager lost leadership",
            Category.CONTROL_PLANE,
            Severity.CRITICAL,
            "etcd",
            "etcd's disk on node-1 is too slow (fdatasync over 1s), so requests take seconds, "
            "lease renewals time out and kube-controller-manager lost leader election.",
            ("slow fdatasync", "apply request took too long", "leaderelection lost"),
            600,
            _etcd_slow,
        ),
    )
)


def list_scenarios() -> list[Scenario]:
    """Every scenario the demo cluster can inject, in catalogue order."""
    return list(SCENARIOS.values())
