"""Benign background logs of the demo cluster, one stream per service, in each one's real format.

node-1 runs the control plane (klog components, etcd's zap JSON, CoreDNS's log
plugin, Flux controllers' JSON, Grafana's logfmt, the loglens API's uvicorn access
lines); node-2 runs llama-server, Loki, Qdrant, Postgres and Alloy. Rates are lines
per second at the nominal volume; the scheduler rescales them to the requested line
count. A few lines look alarming but are benign (canceled queries, a retried push,
stale discovery), as in a real cluster.
"""

from __future__ import annotations

import random

from loglens.sources.demo_cluster import (
    NODE_IPS,
    Clock,
    Cluster,
    Stream,
    between,
    event_json,
    event_labels,
    hex_id,
    node_labels,
    uuid4,
)
from loglens.sources.demo_node2 import alloy, llama_server, loki, postgres, qdrant

_GO_UA = ("kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46", "kube-probe/1.31", "flux/v2.4.0")
_NAMES_INTERNAL = (
    "postgres.db.svc.cluster.local.",
    "loki.monitoring.svc.cluster.local.",
    "qdrant.qdrant.svc.cluster.local.",
    "llama-server.llm.svc.cluster.local.",
    "grafana.monitoring.svc.cluster.local.",
    "kubernetes.default.svc.cluster.local.",
)
_NAMES_SEARCH_MISS = (
    "github.com.flux-system.svc.cluster.local.",
    "grafana.com.monitoring.svc.cluster.local.",
    "ghcr.io.flux-system.svc.cluster.local.",
)


def kube_apiserver(cl: Cluster) -> Stream:
    pod = cl["kube-apiserver"]
    uris = (
        ("GET", "/api/v1/namespaces/kube-system/pods?limit=500"),
        ("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"),
        ("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-2"),
        ("GET", "/apis/helm.toolkit.fluxcd.io/v2/namespaces/qdrant/helmreleases/qdrant"),
        ("PATCH", "/api/v1/namespaces/llm/pods/" + cl["llama-server"].name + "/status"),
    )

    def http(r: random.Random, c: Clock) -> str:
        verb, uri = r.choice(uris)
        return (
            c.klog_head("I", 1, "httplog.go:134")
            + f'"HTTP" verb="{verb}" URI="{uri}" latency="{between(r, 0.4, 9):.3f}ms" '
            f'userAgent="{r.choice(_GO_UA)}" audit-ID="{uuid4(r)}" '
            f'srcIP="{cl["kube-controller-manager"].ip}:{r.randint(30000, 60999)}" resp=200'
        )

    def quota(r: random.Random, c: Clock) -> str:
        kind = r.choice(("leases.coordination.k8s.io", "events.events.k8s.io", "jobs.batch"))
        return c.klog_head("I", 1, "controller.go:615") + (
            f"quota admission added evaluator for: {kind}"
        )

    def watch_closed(r: random.Random, c: Clock) -> str:
        return c.klog_head("W", 1, "reflector.go:484") + (
            "watch of *v1.PartialObjectMetadata ended with: an error on the server "
            '("unable to decode an event from the watch stream: http2: client connection lost") '
            "has prevented the request from succeeding"
        )

    return Stream(
        "kube-apiserver",
        pod.labels(),
        3.0,
        ((0.9, http), (0.08, quota), (0.02, watch_closed)),
    )


def kube_scheduler(cl: Cluster) -> Stream:
    pod = cl["kube-scheduler"]
    targets = [p for p in cl.pods.values() if p.namespace not in ("kube-system",)]

    def bound(r: random.Random, c: Clock) -> str:
        target = r.choice(targets)
        return c.klog_head("I", 1, "schedule_one.go:314") + (
            f'"Successfully bound pod to node" pod="{target.ref}" node="{target.node}" '
            "evaluatedNodes=2 feasibleNodes=2"
        )

    def renewed(r: random.Random, c: Clock) -> str:
        return c.klog_head("I", 1, "leaderelection.go:271") + (
            "successfully acquired lease kube-system/kube-scheduler"
            if r.random() < 0.01
            else "successfully renewed lease kube-system/kube-scheduler"
        )

    return Stream("kube-scheduler", pod.labels(), 0.2, ((0.3, bound), (0.7, renewed)))


def kube_controller_manager(cl: Cluster) -> Stream:
    pod = cl["kube-controller-manager"]
    replica_sets = [p for p in cl.pods.values() if p.kind == "deploy"]

    def synced(r: random.Random, c: Clock) -> str:
        target = r.choice(replica_sets)
        key = target.namespace + "/" + target.name.rsplit("-", 1)[0]
        return c.klog_head("I", 1, "replica_set.go:679") + (
            f'"Finished syncing" logger="replicaset-controller" kind="ReplicaSet" '
            f'key="{key}" duration="{between(r, 20, 400):.1f}µs"'
        )

    def endpoints(r: random.Random, c: Clock) -> str:
        target = r.choice(replica_sets)
        return c.klog_head("I", 1, "endpointslice_controller.go:344") + (
            f'"Finished syncing service endpoint slices" logger="endpointslice-controller" '
            f'key="{target.namespace}/{target.container}" duration="{between(r, 0.1, 3):.3f}ms"'
        )

    def stale_discovery(r: random.Random, c: Clock) -> str:
        return c.klog_head("E", 1, "resource_quota_controller.go:446") + (
            '"Unhandled Error" err="unable to retrieve the complete list of server APIs: '
            'metrics.k8s.io/v1beta1: stale GroupVersion discovery: metrics.k8s.io/v1beta1" '
            'logger="UnhandledError"'
        )

    return Stream(
        "kube-controller-manager",
        pod.labels(),
        1.5,
        ((0.6, synced), (0.38, endpoints), (0.02, stale_discovery)),
    )


def etcd(cl: Cluster) -> Stream:
    pod = cl["etcd"]
    revision = [3_481_200]

    def compaction(r: random.Random, c: Clock) -> str:
        revision[0] += r.randint(200, 900)
        return (
            f'{{"level":"info","ts":"{c.rfc3339_us}","caller":"mvcc/kvstore_compaction.go:72",'
            f'"msg":"finished scheduled compaction","compact-revision":{revision[0]},'
            f'"took":"{between(r, 8, 40):.6f}ms","hash":{r.randint(10**9, 4 * 10**9)},'
            f'"current-db-size-bytes":{r.randint(60, 70) * 1_048_576},'
            f'"current-db-size":"{r.randint(60, 70)} MB"}}'
        )

    def index(r: random.Random, c: Clock) -> str:
        return (
            f'{{"level":"info","ts":"{c.rfc3339_us}","caller":"mvcc/index.go:214",'
            f'"msg":"compact tree index","revision":{revision[0]}}}'
        )

    def slow_read(r: random.Random, c: Clock) -> str:
        return (
            f'{{"level":"warn","ts":"{c.rfc3339_us}","caller":"etcdserver/util.go:170",'
            f'"msg":"apply request took too long","took":"{between(r, 101, 160):.6f}ms",'
            '"expected-duration":"100ms","prefix":"read-only range ",'
            '"request":"key:\\"/registry/leases/kube-system/kube-scheduler\\" ",'
            '"response":"range_response_count:1 size:480"}'
        )

    return Stream("etcd", pod.labels(), 1.0, ((0.45, compaction), (0.45, index), (0.1, slow_read)))


def coredns(cl: Cluster) -> Stream:
    pod = cl["coredns"]
    clients = [p.ip for p in cl.pods.values() if p.ip.startswith("10.42.")]

    def query(r: random.Random, c: Clock) -> str:
        name = r.choice(_NAMES_INTERNAL)
        return (
            f"[INFO] {r.choice(clients)}:{r.randint(32768, 60999)} - {r.randint(1, 65535)} "
            f'"A IN {name} udp {len(name) + 29} false 512" NOERROR qr,aa,rd '
            f"{len(name) * 2 + 40} {r.random() * 0.0004:.9f}s"
        )

    def search_miss(r: random.Random, c: Clock) -> str:
        name = r.choice(_NAMES_SEARCH_MISS)
        return (
            f"[INFO] {r.choice(clients)}:{r.randint(32768, 60999)} - {r.randint(1, 65535)} "
            f'"AAAA IN {name} udp {len(name) + 29} false 512" NXDOMAIN qr,aa,rd '
            f"{len(name) + 120} {r.random() * 0.0003:.9f}s"
        )

    return Stream("coredns", pod.labels(), 6.0, ((0.8, query), (0.2, search_miss)))


def kube_proxy(cl: Cluster, key: str) -> Stream:
    pod = cl[key]

    def sync(r: random.Random, c: Clock) -> str:
        if r.random() < 0.5:
            return c.klog_head("I", 1, "proxier.go:828") + '"Syncing iptables rules"'
        return c.klog_head("I", 1, "proxier.go:1540") + (
            f'"SyncProxyRules complete" elapsed="{between(r, 8, 60):.6f}ms"'
        )

    return Stream(key, pod.labels(), 0.15, ((1.0, sync),))


def kubelet(cl: Cluster, node: str) -> Stream:
    pods = [p for p in cl.pods.values() if p.node == node]
    pid = 1893 if node == "node-1" else 2211

    def probe_ok(r: random.Random, c: Clock) -> str:
        target = r.choice(pods)
        return c.klog_head("I", pid, "kubelet.go:2542") + (
            f'"SyncLoop (probe)" probe="readiness" status="ready" pod="{target.ref}"'
        )

    def volume(r: random.Random, c: Clock) -> str:
        target = r.choice(pods)
        return c.klog_head("I", pid, "reconciler_common.go:218") + (
            f'"operationExecutor.MountVolume started for volume \\"kube-api-access-{hex_id(r, 5)}'
            f'\\" (UniqueName: \\"kubernetes.io/projected/{target.uid}-kube-api-access\\") '
            f'pod \\"{target.name}\\" (UID: \\"{target.uid}\\") " pod="{target.ref}"'
        )

    def cadvisor(r: random.Random, c: Clock) -> str:
        target = r.choice(pods)
        return c.klog_head("E", pid, "cadvisor_stats_provider.go:522") + (
            '"Partial failure issuing cadvisor.ContainerInfoV2" err="partial failures: '
            f'[\\"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod'
            f'{target.uid.replace("-", "_")}.slice\\": RecentStats: unable to find data in '
            'memory cache]"'
        )

    return Stream(
        f"kubelet-{node}",
        node_labels(node, "kubelet.service"),
        1.0,
        ((0.8, probe_ok), (0.15, volume), (0.05, cadvisor)),
    )


def _flux_json(c: Clock, level: str, msg: str, kind: str, group: str, name: str, ns: str) -> str:
    return (
        f'{{"level":"{level}","ts":"{c.rfc3339_ms}","msg":"{msg}","controller":"{kind.lower()}",'
        f'"controllerGroup":"{group}","controllerKind":"{kind}",'
        f'"{kind}":{{"name":"{name}","namespace":"{ns}"}},"namespace":"{ns}","name":"{name}",'
        f'"reconcileID":"{c.sec:08x}-{c.ns % 65536:04x}-4a1e-9c2b-{c.ns:012x}"}}'
    )


def flux_source(cl: Cluster) -> Stream:
    pod = cl["source-controller"]
    revision = "main@sha1:" + "3f9c2a7be1d04c6a9e2f51b8d7c3a0e4f6b29d15"
    charts = ("grafana", "loki", "qdrant", "alloy")

    def git(r: random.Random, c: Clock) -> str:
        return _flux_json(
            c,
            "info",
            f"no changes since last reconcilation: observed revision '{revision}'",
            "GitRepository",
            "source.toolkit.fluxcd.io",
            "flux-system",
            "flux-system",
        )

    def chart(r: random.Random, c: Clock) -> str:
        name = r.choice(charts)
        return _flux_json(
            c,
            "info",
            "artifact up-to-date with remote revision: 'sha256:" + hex_id(r, 12) + "'",
            "HelmRepository",
            "source.toolkit.fluxcd.io",
            name,
            "flux-system",
        )

    def timeout(r: random.Random, c: Clock) -> str:
        # Benign: a transient clone timeout the next reconcile recovers from.
        line = _flux_json(
            c,
            "error",
            "Reconciler error",
            "GitRepository",
            "source.toolkit.fluxcd.io",
            "flux-system",
            "flux-system",
        )
        return line[:-1] + (
            ',"error":"failed to checkout and determine revision: unable to clone '
            "'https://github.com/homelab/fleet': context deadline exceeded\"}"
        )

    return Stream(
        "source-controller", pod.labels(), 0.3, ((0.6, git), (0.38, chart), (0.02, timeout))
    )


def flux_kustomize(cl: Cluster) -> Stream:
    pod = cl["kustomize-controller"]
    kustomizations = ("flux-system", "infrastructure", "monitoring", "apps")

    def reconciled(r: random.Random, c: Clock) -> str:
        name = r.choice(kustomizations)
        return _flux_json(
            c,
            "info",
            f"Reconciliation finished in {r.randint(400, 2900)}ms, next run in 10m0s",
            "Kustomization",
            "kustomize.toolkit.fluxcd.io",
            name,
            "flux-system",
        )

    return Stream("kustomize-controller", pod.labels(), 0.2, ((1.0, reconciled),))


def flux_helm(cl: Cluster) -> Stream:
    pod = cl["helm-controller"]
    releases = (("grafana", "monitoring"), ("loki", "monitoring"), ("qdrant", "qdrant"))

    def in_sync(r: random.Random, c: Clock) -> str:
        name, ns = r.choice(releases)
        return _flux_json(
            c,
            "info",
            "release in-sync with desired state",
            "HelmRelease",
            "helm.toolkit.fluxcd.io",
            name,
            ns,
        )

    return Stream("helm-controller", pod.labels(), 0.2, ((1.0, in_sync),))


def grafana(cl: Cluster) -> Stream:
    pod = cl["grafana"]
    paths = ("/api/live/ws", "/api/ds/query", "/api/dashboards/uid/loglens", "/api/health")

    def request(r: random.Random, c: Clock) -> str:
        path = r.choice(paths)
        return (
            f"logger=context userId=1 orgId=1 uname=admin t={c.rfc3339_ns} level=info "
            f'msg="Request Completed" method=GET path={path} status=200 remote_addr=10.42.0.1 '
            f"time_ms={r.randint(1, 90)} duration={between(r, 0.5, 90):.2f}ms "
            f"size={r.randint(90, 9000)} "
            f"referer= handler={path} status_source=server"
        )

    def cleanup(r: random.Random, c: Clock) -> str:
        return (
            f'logger=cleanup t={c.rfc3339_ns} level=info msg="Completed cleanup jobs" '
            f"duration={between(r, 4, 30):.6f}ms"
        )

    def canceled(r: random.Random, c: Clock) -> str:
        # Benign: a dashboard refresh cancels the previous panel query.
        return (
            "logger=tsdb.loki endpoint=queryData pluginId=loki dsName=Loki uname=admin "
            f'fromAlert=false t={c.rfc3339_ns} level=error msg="Error received from Loki" '
            f'error="context canceled" status=cancelled duration={between(r, 10, 400):.3f}ms '
            "stage=databaseRequest"
        )

    return Stream("grafana", pod.labels(), 2.0, ((0.85, request), (0.1, cleanup), (0.05, canceled)))


def loglens_api(cl: Cluster) -> Stream:
    pod = cl["loglens"]
    node_ip = NODE_IPS[pod.node]
    grafana_ip = cl["grafana"].ip

    def health(r: random.Random, c: Clock) -> str:
        return f'INFO:     {node_ip}:{r.randint(32768, 60999)} - "GET /healthz HTTP/1.1" 200 OK'

    def api(r: random.Random, c: Clock) -> str:
        route = r.choice(("POST /v1/analyze", "GET /v1/patterns?since=1h", "GET /metrics"))
        return f'INFO:     {grafana_ip}:{r.randint(32768, 60999)} - "{route} HTTP/1.1" 200 OK'

    return Stream("loglens", pod.labels(), 3.0, ((0.5, health), (0.5, api)))


def event_exporter_normal(cl: Cluster) -> Stream:
    backup = ("Pod", "db", "postgres-backup-29871600-" + cl["postgres"].uid[:5])

    def job_event(r: random.Random, c: Clock) -> str:
        reason, message = r.choice(
            (
                ("Scheduled", f"Successfully assigned db/{backup[2]} to node-2"),
                ("Pulled", 'Container image "postgres:16.4" already present on machine'),
                ("Created", "Created container: backup"),
                ("Started", "Started container backup"),
            )
        )
        return event_json(
            c,
            backup,
            type_="Normal",
            reason=reason,
            message=message,
            source="kubelet",
            host="node-2",
        )

    return Stream("events-db", event_labels(cl, "db"), 0.1, ((1.0, job_event),))


def background_streams(cl: Cluster) -> list[Stream]:
    """Every benign stream of the cluster, in a fixed order (the order is part of the seed)."""
    return [
        kube_apiserver(cl),
        kube_scheduler(cl),
        kube_controller_manager(cl),
        etcd(cl),
        coredns(cl),
        kube_proxy(cl, "kube-proxy-1"),
        kube_proxy(cl, "kube-proxy-2"),
        kubelet(cl, "node-1"),
        kubelet(cl, "node-2"),
        flux_source(cl),
        flux_kustomize(cl),
        flux_helm(cl),
        grafana(cl),
        loglens_api(cl),
        event_exporter_normal(cl),
        llama_server(cl),
        loki(cl),
        qdrant(cl),
        postgres(cl),
        alloy(cl, "alloy-1"),
        alloy(cl, "alloy-2"),
    ]
