"""`line` cases: single records with hand-assigned severity, category and component.

Most lines are written by hand per situation (including the tricky ones: ERROR-level
benign lines, INFO lines that report failures, recovered vs exhausted retries, 429 vs
503, `0 errors`, stack-trace heads, Kubernetes events as JSON); the rest are samples
of each background program's ordinary output, labelled info/none.
"""

from __future__ import annotations

import random
from typing import Any

from .background import SERVICES, k8s_event
from .common import (
    BASE_DAY_NS,
    NS_PER_S,
    Workload,
    case_rng,
    deployment_pod,
    klog,
    pg_ts,
    pod_ip,
    py_ts,
    rand_str,
    record_json,
    rfc3339,
    spring_ts,
    uid,
)

# (namespace, app, container, severity, category or None, component or None, line builder)
Spec = tuple[str, str, str, str, str | None, str | None, Any]


def _k(level: str, where: str, msg: str) -> Any:
    return lambda r, t: klog(
        t,
        level,
        r.randint(1, 4000),
        where,
        msg.format(ip=pod_ip(r), n=r.randint(2, 99), h=rand_str(r, 5)),
    )


def _raw(text: str) -> Any:
    return lambda r, t: text.format(
        ip=pod_ip(r),
        n=r.randint(2, 99),
        h=rand_str(r, 5),
        ts=rfc3339(t),
        pg=pg_ts(t),
        py=py_ts(t),
        sp=spring_ts(t),
        u=uid(r),
        port=r.randint(32768, 60999),
    )


def _ev(
    reason: str,
    msg: str,
    type_: str = "Warning",
    comp: str = "kubelet",
    kind: str = "Pod",
    ns: str = "shop",
    name: str = "cart",
) -> Any:
    return lambda r, t: k8s_event(
        r,
        t,
        reason,
        msg.format(ip=pod_ip(r), n=r.randint(2, 99), h=rand_str(r, 5), u=uid(r)),
        type_,
        comp,
        ns,
        kind,
        f"{name}-{rand_str(r, 10)}-{rand_str(r, 5)}" if kind == "Pod" else name,
        "node-2" if comp == "kubelet" else "",
    )


SPECS: list[Spec] = [
    # oom
    (
        "kube-system",
        "kernel",
        "",
        "critical",
        "oom",
        "llama_server",
        _raw(
            "Memory cgroup out of memory: Killed process 4{n}17 (llama-server) total-vm:14982344kB, anon-rss:10480312kB, file-rss:20480kB, shmem-rss:0kB, UID:0 pgtables:21012kB oom_score_adj:999"
        ),
    ),
    (
        "kube-system",
        "kernel",
        "",
        "critical",
        "oom",
        "postgres",
        _raw(
            "Out of memory: Killed process 2{n}1 (postgres) total-vm:4183420kB, anon-rss:3911044kB, file-rss:0kB, shmem-rss:131072kB, UID:999 pgtables:7840kB oom_score_adj:-997"
        ),
    ),
    (
        "shop",
        "payments",
        "payments",
        "error",
        "oom",
        "payments",
        _raw("java.lang.OutOfMemoryError: Java heap space"),
    ),
    (
        "llm",
        "llama-server",
        "llama",
        "critical",
        "oom",
        "llama_server",
        _raw(
            "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 8192.00 MiB on device 0: cudaMalloc failed: out of memory"
        ),
    ),
    (
        "llm",
        "embedder",
        "embedder",
        "error",
        "oom",
        "embedder",
        _raw(
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 11.76 GiB of which 1.12 GiB is free. Process 1{n}2 has 10.63 GiB memory in use."
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "critical",
        "oom",
        "loki",
        _ev(
            "OOMKilling",
            "Memory cgroup out of memory: Killed process 3{n}44 (loki) total-vm:6120044kB, anon-rss:2093100kB, file-rss:0kB, shmem-rss:0kB",
            comp="kernel-monitor",
            kind="Node",
            ns="default",
            name="node-3",
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "error",
        "oom",
        "thumbnail_worker",
        _raw(
            "{py} ERROR worker.tasks: job id={h} failed: MemoryError: Unable to allocate 3.{n} GiB for an array with shape (21000, 21000) and data type float64"
        ),
    ),
    # crashloop
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "crashloop",
        "notifier",
        _ev(
            "BackOff",
            "Back-off restarting failed container notifier in pod notifier-6d5f{h}_apps({u})",
            ns="apps",
            name="notifier",
        ),
    ),
    (
        "",
        "kubelet",
        "kubelet.service",
        "error",
        "crashloop",
        "loki",
        _k(
            "E",
            "pod_workers.go:1301",
            '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"loki\\" with CrashLoopBackOff: \\"back-off 5m0s restarting failed container=loki pod=loki-0_monitoring(8e1c{h})\\"" pod="monitoring/loki-0"',
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "warn",
        "crashloop",
        "report_job",
        _ev(
            "BackOff",
            "Back-off restarting failed container report in pod report-job-{h}_batch({u})",
            ns="batch",
            name="report-job",
        ),
    ),
    # image_pull
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "image_pull",
        "checkout",
        _ev(
            "Failed",
            'Failed to pull image "ghcr.io/example/checkout:v2.{n}.0": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/example/checkout:v2.{n}.0": failed to resolve reference "ghcr.io/example/checkout:v2.{n}.0": ghcr.io/example/checkout:v2.{n}.0: not found',
            name="checkout",
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "image_pull",
        "open_webui",
        _ev("Failed", "Error: ImagePullBackOff", ns="llm", name="open-webui"),
    ),
    (
        "",
        "kubelet",
        "kubelet.service",
        "error",
        "image_pull",
        "paperless",
        _k(
            "E",
            "log.go:32",
            '"PullImage from image service failed" err="rpc error: code = Unknown desc = failed to pull and unpack image \\"ghcr.io/example/paperless:2.{n}\\": failed to resolve reference: unexpected status from HEAD request: 401 Unauthorized" image="ghcr.io/example/paperless:2.{n}"',
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "info",
        "none",
        "cart",
        _ev(
            "Pulled",
            'Successfully pulled image "ghcr.io/example/cart:v1.{n}.0" in 2.{n}s (2.{n}s including waiting). Image size: 4{n}12345 bytes.',
            type_="Normal",
        ),
    ),
    # probe_failure
    (
        "",
        "kubelet",
        "kubelet.service",
        "warn",
        "probe_failure",
        "cart",
        _k(
            "I",
            "prober.go:107",
            '"Probe failed" probeType="Readiness" pod="shop/cart-7c9d{h}" containerName="cart" probeResult="failure" output="HTTP probe failed with statuscode: 503"',
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "probe_failure",
        "qdrant",
        _ev(
            "Unhealthy",
            'Liveness probe failed: Get "http://{ip}:6333/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            ns="search",
            name="qdrant",
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "warn",
        "probe_failure",
        "llama_server",
        _ev(
            "Unhealthy",
            'Startup probe failed: Get "http://{ip}:8080/health": dial tcp {ip}:8080: connect: connection refused',
            ns="llm",
            name="llama-server",
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "probe_failure",
        "postgres",
        _ev(
            "Killing",
            "Container postgres failed liveness probe, will be restarted",
            type_="Normal",
            ns="db",
            name="postgres",
        ),
    ),
    # scheduling
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "scheduling",
        "vllm",
        _ev(
            "FailedScheduling",
            "0/3 nodes are available: 1 node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}, 2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
            comp="default-scheduler",
            ns="llm",
            name="vllm",
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "scheduling",
        "mariadb",
        _ev(
            "FailedScheduling",
            "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
            comp="default-scheduler",
            ns="db",
            name="mariadb",
        ),
    ),
    (
        "kube-system",
        "kube-scheduler",
        "kube-scheduler",
        "warn",
        "scheduling",
        "recommender",
        _k(
            "I",
            "schedule_one.go:1055",
            '"Unable to schedule pod; no fit; waiting" pod="shop/recommender-{h}" err="0/3 nodes are available: 3 node(s) didn\'t match pod anti-affinity rules."',
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "info",
        "none",
        "cart",
        _ev(
            "Scheduled",
            "Successfully assigned shop/cart-{h} to node-2",
            type_="Normal",
            comp="default-scheduler",
        ),
    ),
    # storage
    (
        "db",
        "postgres",
        "postgres",
        "critical",
        "storage",
        "postgres",
        _raw(
            '{pg} [4{n}] PANIC:  could not write to file "pg_wal/xlogtemp.4{n}": No space left on device'
        ),
    ),
    (
        "monitoring",
        "loki",
        "loki",
        "error",
        "storage",
        "loki",
        _raw(
            'level=error ts={ts} caller=flush.go:143 component=ingester org_id=fake msg="failed to flush" err="failed to flush chunks: store put chunk: open /var/loki/chunks/fake/{h}: read-only file system, num_chunks: 1, labels: {{namespace=\\"shop\\"}}"'
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "storage",
        "nextcloud",
        _ev(
            "FailedMount",
            'MountVolume.SetUp failed for volume "pvc-{u}" : rpc error: code = Internal desc = mount failed: exit status 32 Output: mount.nfs: Connection timed out',
            ns="apps",
            name="nextcloud",
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "storage",
        "prometheus",
        _ev(
            "FailedAttachVolume",
            'Multi-Attach error for volume "pvc-{u}" Volume is already exclusively attached to one node and can\'t be attached to another',
            comp="attachdetach-controller",
            ns="monitoring",
            name="prometheus",
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "warn",
        "storage",
        "immich",
        _ev(
            "ProvisioningFailed",
            'failed to provision volume with StorageClass "longhorn": rpc error: code = Internal desc = insufficient storage',
            comp="persistentvolume-controller",
            kind="PersistentVolumeClaim",
            ns="apps",
            name="immich-library",
        ),
    ),
    # network
    (
        "monitoring",
        "alloy",
        "alloy",
        "warn",
        "network",
        "alloy",
        _raw(
            'ts={ts} level=warn msg="error sending batch, will retry" component_path=/ component_id=loki.write.default status=-1 tenant="" error="Post \\"http://loki-gateway.monitoring.svc:80/loki/api/v1/push\\": read tcp {ip}:4{n}10->10.43.21.7:80: read: connection reset by peer"'
        ),
    ),
    (
        "kube-flannel",
        "kube-flannel",
        "kube-flannel",
        "error",
        "network",
        "flannel",
        _k(
            "E",
            "vxlan_network.go:180",
            '"Error adding route to" subnet="10.42.3.0/24" err="no route to host"',
        ),
    ),
    (
        "shop",
        "cart",
        "cart",
        "error",
        "network",
        "cart",
        _raw(
            '{{"level":"error","ts":"{ts}","caller":"client/inventory.go:77","msg":"inventory call failed","error":"Get \\"http://inventory.shop.svc:8080/stock\\": dial tcp 10.43.{n}.12:8080: i/o timeout"}}'
        ),
    ),
    (
        "kube-system",
        "cilium",
        "cilium-agent",
        "error",
        "network",
        "cilium",
        _raw(
            'time="{ts}" level=error msg="Unable to update ipcache map entry on pod add" error="no route to host" hostIP={ip} subsys=k8s-watcher'
        ),
    ),
    # dns
    (
        "kube-system",
        "coredns",
        "coredns",
        "error",
        "dns",
        "coredns",
        _raw(
            "[ERROR] plugin/errors: 2 api.github.com. A: read udp {ip}:{port}->1.1.1.1:53: i/o timeout"
        ),
    ),
    (
        "kube-system",
        "coredns",
        "coredns",
        "warn",
        "dns",
        "coredns",
        _raw(
            '[INFO] {ip}:{port} - 2{n}1 "AAAA IN huggingface.co. udp 44 false 512" SERVFAIL qr,rd 44 2.004011354s'
        ),
    ),
    (
        "kube-system",
        "coredns",
        "coredns",
        "info",
        "none",
        "coredns",
        _raw(
            '[INFO] {ip}:{port} - 4{n}1 "A IN wpad.home.arpa. udp 32 false 512" NXDOMAIN qr,rd,ra 32 0.000412s'
        ),
    ),
    (
        "apps",
        "notifier",
        "notifier",
        "error",
        "dns",
        "notifier",
        _raw(
            '{{"level":"error","error":"dial tcp: lookup redis.apps.svc.cluster.local on 10.43.0.10:53: no such host","time":"{ts}","message":"redis unavailable"}}'
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "error",
        "dns",
        "thumbnail_worker",
        _raw(
            "{py} ERROR worker.tasks: fetch failed: httpx.ConnectError: [Errno -3] Temporary failure in name resolution"
        ),
    ),
    (
        "kube-system",
        "coredns",
        "coredns",
        "info",
        "none",
        "coredns",
        _raw(
            "[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908"
        ),
    ),
    # tls
    (
        "kube-system",
        "kube-apiserver",
        "kube-apiserver",
        "critical",
        "tls",
        "cert_manager_webhook",
        _k(
            "W",
            "dispatcher.go:217",
            'Failed calling webhook, failing closed webhook.cert-manager.io: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=10s": tls: failed to verify certificate: x509: certificate has expired or is not yet valid',
        ),
    ),
    (
        "search",
        "search-api",
        "api",
        "error",
        "tls",
        "search_api",
        _raw(
            '{{"time":"{ts}","level":"ERROR","msg":"qdrant request failed","error":"tls: failed to verify certificate: x509: certificate signed by unknown authority"}}'
        ),
    ),
    (
        "ingress-nginx",
        "ingress-nginx-controller",
        "controller",
        "warn",
        "tls",
        "ingress_nginx",
        _raw(
            "{ts} [error] 3{n}#3{n}: *1{n}92 SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::certificate verify failed) while SSL handshaking to upstream, client: {ip}, server: grafana.home.arpa"
        ),
    ),
    (
        "cert-manager",
        "cert-manager",
        "cert-manager-controller",
        "info",
        "none",
        "cert_manager",
        _k(
            "I",
            "conditions.go:263",
            'Setting lastTransitionTime for Certificate "grafana-tls" condition "Ready" to 2026-11-20 10:00:01.123 +0000 UTC m=+{n}.5',
        ),
    ),
    (
        "cert-manager",
        "cert-manager",
        "cert-manager-controller",
        "error",
        "tls",
        "cert_manager",
        _k(
            "E",
            "controller.go:167",
            '"re-queuing item due to error processing" err="error getting existing certificate: acme: authorization error for home.arpa: 403 urn:ietf:params:acme:error:unauthorized: Invalid response from http://home.arpa/.well-known/acme-challenge/{h}" logger="cert-manager.controller" key="apps/nextcloud-tls"',
        ),
    ),
    # auth
    (
        "monitoring",
        "alloy",
        "alloy",
        "error",
        "auth",
        "alloy",
        _raw(
            'ts={ts} level=error msg="Unhandled Error" err="k8s.io/client-go@v0.31.2/tools/cache/reflector.go:243: Failed to watch *v1.Pod: failed to list *v1.Pod: pods is forbidden: User \\"system:serviceaccount:monitoring:alloy\\" cannot list resource \\"pods\\" in API group \\"\\" at the cluster scope" logger=UnhandledError'
        ),
    ),
    (
        "monitoring",
        "grafana",
        "grafana",
        "error",
        "auth",
        "grafana",
        _raw(
            'logger=tsdb.prometheus endpoint=queryData pluginId=prometheus dsName=Mimir uname=admin t={ts} level=error msg="Error received from Prometheus" error="client_error: client error: 401" status=error'
        ),
    ),
    (
        "shop",
        "orders-api",
        "orders-api",
        "info",
        "none",
        "orders_api",
        _raw('INFO:     {ip}:{port} - "GET /api/v1/orders HTTP/1.1" 401 Unauthorized'),
    ),
    (
        "shop",
        "payments",
        "payments",
        "warn",
        "auth",
        "payments",
        _raw(
            "{sp}  WARN 1 --- [payments] [nio-8080-exec-3] o.s.s.o.s.r.a.JwtAuthenticationProvider   : Failed to authenticate since the JWT was invalid: An error occurred while attempting to decode the Jwt: Jwt expired at 2026-11-20T09:{n}:00Z"
        ),
    ),
    (
        "db",
        "postgres",
        "postgres",
        "error",
        "auth",
        "postgres",
        _raw('{pg} [1{n}4] FATAL:  password authentication failed for user "grafana"'),
    ),
    (
        "flux-system",
        "source-controller",
        "manager",
        "error",
        "auth",
        "source_controller",
        _raw(
            '{{"level":"error","ts":"{ts}","msg":"Reconciler error","controller":"gitrepository","GitRepository":{{"name":"homelab","namespace":"flux-system"}},"error":"failed to checkout and determine revision: unable to clone \'ssh://git@github.com/example/homelab\': ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain"}}'
        ),
    ),
    # config
    (
        "monitoring",
        "loki",
        "loki",
        "critical",
        "config",
        "loki",
        _raw("failed parsing config: /etc/loki/config/config.yaml: yaml: unmarshal errors:"),
    ),
    (
        "monitoring",
        "loki",
        "loki",
        "critical",
        "config",
        "loki",
        _raw(
            "  line 4{n}: field shared_store not found in type config.ChunkStoreConfig. Use `-config.expand-env=true` flag if you want to expand environment variables in your config file"
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "config",
        "checkout",
        _ev("Failed", 'Error: secret "checkout-db-credentials" not found', name="checkout"),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "config",
        "rag_api",
        _ev("Failed", 'Error: configmap "rag-api-config" not found', ns="llm", name="rag-api"),
    ),
    (
        "llm",
        "llama-server",
        "llama",
        "critical",
        "config",
        "llama_server",
        _raw("error: invalid argument: --flash-attn-type"),
    ),
    (
        "monitoring",
        "alloy",
        "alloy",
        "critical",
        "config",
        "alloy",
        _raw('Error: /etc/alloy/config.alloy:{n}:3: unrecognized attribute name "batch_wait_time"'),
    ),
    (
        "shop",
        "orders-api",
        "orders-api",
        "error",
        "config",
        "orders_api",
        _raw("pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings"),
    ),
    (
        "monitoring",
        "prometheus",
        "prometheus",
        "critical",
        "config",
        "prometheus",
        _raw(
            'ts={ts} caller=main.go:1{n}8 level=error msg="Error loading config (--config.file=/etc/prometheus/prometheus.yml)" file=/etc/prometheus/prometheus.yml err="parsing YAML file /etc/prometheus/prometheus.yml: yaml: line 2{n}: did not find expected key"'
        ),
    ),
    # dependency
    (
        "shop",
        "orders-api",
        "orders-api",
        "error",
        "dependency",
        "postgres",
        _raw(
            '{py} ERROR orders.db: could not acquire connection: connection failed: connection to server at "10.43.{n}.7", port 5432 failed: Connection refused'
        ),
    ),
    (
        "llm",
        "open-webui",
        "open-webui",
        "error",
        "dependency",
        "llama_server",
        _raw(
            "{py} - open_webui.routers.openai - ERROR - Connection error: Cannot connect to host llama-server.llm.svc:8080 ssl:default [Connect call failed ('10.43.{n}.8', 8080)]"
        ),
    ),
    (
        "monitoring",
        "grafana",
        "grafana",
        "error",
        "dependency",
        "loki",
        _raw(
            'logger=tsdb.loki endpoint=queryData pluginId=loki dsName=Loki uname=admin t={ts} level=error msg="Error received from Loki" error="Get \\"http://loki-gateway.monitoring.svc/loki/api/v1/query_range\\": EOF" status=error stage=databaseRequest'
        ),
    ),
    (
        "apps",
        "notifier",
        "notifier",
        "warn",
        "dependency",
        "redis",
        _raw(
            '{{"level":"warn","service":"notifier","error":"dial tcp 10.43.88.12:6379: connect: connection refused","attempt":1,"backoff":"1s","time":"{ts}","message":"redis unavailable, retrying"}}'
        ),
    ),
    (
        "apps",
        "notifier",
        "notifier",
        "critical",
        "dependency",
        "redis",
        _raw(
            '{{"level":"error","service":"notifier","error":"dial tcp 10.43.88.12:6379: connect: connection refused","attempts":10,"time":"{ts}","message":"giving up on redis after 10 attempts, dropping 3{n} queued notifications"}}'
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "warn",
        "dependency",
        "minio",
        _raw(
            '{py} WARNING worker.storage: upload to s3://thumbnails failed (attempt 1/5): botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "http://minio.storage.svc:9000/thumbnails"; retrying in 2.0s'
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "critical",
        "dependency",
        "minio",
        _raw(
            '{py} ERROR worker.storage: upload to s3://thumbnails failed after 5 attempts, giving up: botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: "http://minio.storage.svc:9000/thumbnails"'
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "info",
        "none",
        "thumbnail_worker",
        _raw("{py} INFO worker.storage: upload to s3://thumbnails succeeded on attempt 2"),
    ),
    (
        "shop",
        "cart",
        "istio-proxy",
        "error",
        "dependency",
        "inventory",
        _raw(
            '[{ts}] "GET /stock HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{{connection_failure}} - "-" 0 91 1 - "{ip}" "Go-http-client/1.1" "{u}" "inventory.shop.svc.cluster.local:8080" "-" outbound|8080||inventory.shop.svc.cluster.local - 10.43.{n}.4:8080 {ip}:{port} - default'
        ),
    ),
    (
        "monitoring",
        "tempo",
        "tempo",
        "warn",
        "dependency",
        "minio",
        _raw(
            'level=warn ts={ts} caller=retry.go:56 msg="error uploading block, retrying" err="Put \\"http://minio.storage.svc:9000/tempo/single-tenant/{u}/data\\": dial tcp 10.43.{n}.9:9000: connect: connection refused"'
        ),
    ),
    # resource_pressure
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "resource_pressure",
        "node_2",
        _ev(
            "Evicted",
            "The node was low on resource: ephemeral-storage. Threshold quantity: 4Gi, available: 1{n}2340Ki. Container report was using 9Gi, request is 0, has larger consumption of ephemeral-storage.",
            ns="batch",
            name="report-job",
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "warn",
        "resource_pressure",
        "node_3",
        _ev(
            "NodeHasDiskPressure",
            "Node node-3 status is now: NodeHasDiskPressure",
            type_="Normal",
            kind="Node",
            ns="default",
            name="node-3",
        ),
    ),
    (
        "",
        "kubelet",
        "kubelet.service",
        "warn",
        "resource_pressure",
        "kubelet",
        _k(
            "W",
            "eviction_manager.go:369",
            '"Eviction manager: attempting to reclaim" resourceName="memory"',
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "resource_pressure",
        "report_job",
        _ev(
            "FailedCreate",
            'Error creating: pods "report-job-{h}" is forbidden: exceeded quota: batch-quota, requested: limits.memory=4Gi, used: limits.memory=14Gi, limited: limits.memory=16Gi',
            comp="job-controller",
            kind="Job",
            ns="batch",
            name="report-job",
        ),
    ),
    (
        "",
        "kubelet",
        "kubelet.service",
        "info",
        "none",
        "kubelet",
        _k(
            "I",
            "image_gc_manager.go:391",
            '"Disk usage on image filesystem is below the low threshold, no need to free space" usage=4{n} lowThreshold=80',
        ),
    ),
    # limit_exceeded
    (
        "llm",
        "llama-server",
        "llama",
        "warn",
        "limit_exceeded",
        "llama_server",
        _raw(
            "srv    send_error: task id = 1{n}42, error: the request exceeds the available context size, try increasing it"
        ),
    ),
    (
        "monitoring",
        "alloy",
        "alloy",
        "error",
        "limit_exceeded",
        "loki",
        _raw(
            "ts={ts} level=warn msg=\"error sending batch, will retry\" component_id=loki.write.default status=429 error=\"server returned HTTP status 429 Too Many Requests (429): ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest '1{n}00' lines totaling '9{n}000' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\""
        ),
    ),
    (
        "ingress-nginx",
        "ingress-nginx-controller",
        "controller",
        "warn",
        "limit_exceeded",
        "ingress_nginx",
        _raw(
            '2026/11/20 10:07:12 [error] 31#31: *1{n}0 client intended to send too large body: 2{n}485760 bytes, client: {ip}, server: photos.home.arpa, request: "POST /api/assets HTTP/1.1", host: "photos.home.arpa"'
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "warn",
        "limit_exceeded",
        "github",
        _raw(
            "{py} WARNING worker.http: GET https://api.github.com/repos/example/app/releases returned 429 Too Many Requests (rate limit), retrying after 60s"
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "warn",
        "dependency",
        "github",
        _raw(
            "{py} WARNING worker.http: GET https://api.github.com/repos/example/app/releases returned 503 Service Unavailable, retrying in 2.0s (attempt 1/5)"
        ),
    ),
    (
        "monitoring",
        "loki",
        "loki",
        "warn",
        "limit_exceeded",
        "loki",
        _raw(
            'level=warn ts={ts} caller=manager.go:49 component=distributor path=write insight=true msg="stream limit exceeded" reason=per_stream_rate_limit stream="{{namespace=\\"batch\\"}}" tenant=fake'
        ),
    ),
    (
        "monitoring",
        "grafana",
        "grafana",
        "warn",
        "limit_exceeded",
        "loki",
        _raw(
            'logger=tsdb.loki endpoint=queryData pluginId=loki dsName=Loki t={ts} level=error msg="Error received from Loki" error="max entries limit per query exceeded, limit > max_entries_limit_per_query (10000 > 5000)" status=error'
        ),
    ),
    # node
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "critical",
        "node",
        "node_3",
        _ev(
            "NodeNotReady",
            "Node node-3 status is now: NodeNotReady",
            type_="Normal",
            comp="node-controller",
            kind="Node",
            ns="default",
            name="node-3",
        ),
    ),
    (
        "",
        "kubelet",
        "kubelet.service",
        "error",
        "node",
        "kubelet",
        _k(
            "E",
            "kubelet.go:2412",
            '"Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m{n}.1s ago; threshold is 3m0s"',
        ),
    ),
    (
        "",
        "containerd",
        "containerd.service",
        "error",
        "node",
        "containerd",
        _raw(
            'time="{ts}" level=error msg="failed to reload cni configuration after receiving fs change event(REMOVE        \\"/etc/cni/net.d/10-flannel.conflist\\")" error="cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config"'
        ),
    ),
    (
        "",
        "kubelet",
        "kubelet.service",
        "error",
        "node",
        "kubelet",
        _k(
            "E",
            "kubelet_node_status.go:549",
            '"Error updating node status, will retry" err="error getting node \\"node-2\\": Get \\"https://192.168.1.10:6443/api/v1/nodes/node-2?timeout=10s\\": net/http: request canceled (Client.Timeout exceeded while awaiting headers)"',
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "info",
        "none",
        "node_3",
        _ev(
            "NodeReady",
            "Node node-3 status is now: NodeReady",
            type_="Normal",
            kind="Node",
            ns="default",
            name="node-3",
        ),
    ),
    # control_plane
    (
        "kube-system",
        "etcd",
        "etcd",
        "warn",
        "control_plane",
        "etcd",
        _raw(
            '{{"level":"warn","ts":"{ts}","caller":"etcdserver/util.go:170","msg":"apply request took too long","took":"1.{n}3484s","expected-duration":"100ms","prefix":"read-only range ","request":"key:\\"/registry/leases/kube-system/kube-scheduler\\" ","response":"range_response_count:1 size:485"}}'
        ),
    ),
    (
        "kube-system",
        "kube-controller-manager",
        "kube-controller-manager",
        "critical",
        "control_plane",
        "kube_controller_manager",
        _k("E", "controllermanager.go:340", '"leaderelection lost"'),
    ),
    (
        "kube-system",
        "kube-scheduler",
        "kube-scheduler",
        "error",
        "control_plane",
        "kube_scheduler",
        _k(
            "E",
            "leaderelection.go:369",
            'Failed to update lock: Put "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler?timeout=5s": context deadline exceeded',
        ),
    ),
    (
        "kube-system",
        "etcd",
        "etcd",
        "critical",
        "control_plane",
        "etcd",
        _raw(
            '{{"level":"warn","ts":"{ts}","caller":"etcdserver/server.go:2159","msg":"failed to publish local member to cluster through raft","local-member-id":"8e9e05c52164694d","request-path":"/0/members/8e9e05c52164694d/attributes","publish-timeout":"7s","error":"etcdserver: request timed out"}}'
        ),
    ),
    (
        "kube-system",
        "etcd",
        "etcd",
        "info",
        "none",
        "etcd",
        _raw(
            '{{"level":"info","ts":"{ts}","caller":"mvcc/kvstore_compaction.go:72","msg":"finished scheduled compaction","compact-revision":1{n}4321,"took":"12.{n}ms"}}'
        ),
    ),
    (
        "kube-system",
        "kube-apiserver",
        "kube-apiserver",
        "warn",
        "control_plane",
        "kube_apiserver",
        _k(
            "E",
            "status.go:71",
            '"Unhandled Error" err="apiserver received an error that is not an metav1.Status: &errors.errorString{{s:\\"etcdserver: leader changed\\"}}: etcdserver: leader changed" logger="UnhandledError"',
        ),
    ),
    # deployment
    (
        "flux-system",
        "helm-controller",
        "manager",
        "critical",
        "deployment",
        "loki",
        _raw(
            '{{"level":"error","ts":"{ts}","msg":"Reconciler error","controller":"helmrelease","HelmRelease":{{"name":"loki","namespace":"monitoring"}},"error":"Helm upgrade failed for release monitoring/loki with chart loki@6.2{n}.0: upgrade retries exhausted"}}'
        ),
    ),
    (
        "flux-system",
        "kustomize-controller",
        "manager",
        "error",
        "deployment",
        "apps",
        _raw(
            '{{"level":"error","ts":"{ts}","msg":"Reconciliation failed after 1.{n}s, next try in 10m0s","controller":"kustomization","Kustomization":{{"name":"apps","namespace":"flux-system"}},"revision":"main@sha1:{u}","error":"kustomize build failed: accumulating resources: accumulation err=\'accumulating resources from \'./immich\': missing Resource metadata\'"}}'
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "error",
        "deployment",
        "checkout",
        _ev(
            "ProgressDeadlineExceeded",
            'Deployment "checkout" has timed out progressing.',
            type_="Warning",
            comp="deployment-controller",
            kind="Deployment",
            ns="shop",
            name="checkout",
        ),
    ),
    (
        "flux-system",
        "helm-controller",
        "manager",
        "warn",
        "deployment",
        "immich",
        _raw(
            '{{"level":"info","ts":"{ts}","msg":"Helm upgrade failed for release apps/immich with chart immich@0.9.{n}: context deadline exceeded; retrying (1/3)","controller":"helmrelease","HelmRelease":{{"name":"immich","namespace":"apps"}}}}'
        ),
    ),
    (
        "flux-system",
        "kustomize-controller",
        "manager",
        "info",
        "none",
        "apps",
        _raw(
            '{{"level":"info","ts":"{ts}","msg":"server-side apply completed","controller":"kustomization","Kustomization":{{"name":"apps","namespace":"flux-system"}},"output":{{"Deployment/shop/cart":"configured","Service/shop/cart":"unchanged"}},"revision":"main@sha1:{u}"}}'
        ),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "info",
        "none",
        "cart",
        _ev(
            "ScalingReplicaSet",
            "Scaled up replica set cart-6b8f{h} to 2 from 1",
            type_="Normal",
            comp="deployment-controller",
            kind="Deployment",
            ns="shop",
            name="cart",
        ),
    ),
    # application_error
    (
        "shop",
        "orders-api",
        "orders-api",
        "error",
        "application_error",
        "orders_api",
        _raw("Traceback (most recent call last):"),
    ),
    (
        "shop",
        "orders-api",
        "orders-api",
        "error",
        "application_error",
        "orders_api",
        _raw("KeyError: 'shipping_address'"),
    ),
    (
        "shop",
        "orders-api",
        "orders-api",
        "error",
        "application_error",
        "orders_api",
        _raw('INFO:     {ip}:{port} - "POST /api/v1/orders HTTP/1.1" 500 Internal Server Error'),
    ),
    (
        "shop",
        "payments",
        "payments",
        "error",
        "application_error",
        "payments",
        _raw(
            "{sp} ERROR 1 --- [payments] [nio-8080-exec-7] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: java.lang.IllegalStateException: Ledger batch {n} already closed] with root cause"
        ),
    ),
    (
        "shop",
        "payments",
        "payments",
        "error",
        "application_error",
        "payments",
        _raw(
            'Caused by: java.lang.NullPointerException: Cannot invoke "com.example.payments.model.Card.getToken()" because "card" is null'
        ),
    ),
    (
        "apps",
        "linkding-sync",
        "sync",
        "critical",
        "application_error",
        "linkding_sync",
        _raw("panic: runtime error: invalid memory address or nil pointer dereference"),
    ),
    (
        "apps",
        "linkding-sync",
        "sync",
        "critical",
        "application_error",
        "linkding_sync",
        _raw("fatal error: concurrent map writes"),
    ),
    (
        "search",
        "search-api",
        "api",
        "error",
        "application_error",
        "search_api",
        _raw(
            '{{"time":"{ts}","level":"ERROR","msg":"handler panicked","path":"/v1/search","error":"runtime error: index out of range [3] with length 3","status":500}}'
        ),
    ),
    (
        "apps",
        "notifier",
        "notifier",
        "error",
        "application_error",
        "notifier",
        _raw(
            '{{"level":"error","service":"notifier","error":"json: cannot unmarshal string into Go struct field Message.priority of type int","time":"{ts}","message":"dropping malformed message"}}'
        ),
    ),
    (
        "shop",
        "cart",
        "istio-proxy",
        "error",
        "application_error",
        "cart",
        _raw(
            '[{ts}] "POST /api/v1/checkout HTTP/1.1" 500 - via_upstream - "-" 212 63 41 40 "{ip}" "Mozilla/5.0" "{u}" "cart.shop.svc.cluster.local:8080" "{ip}:8080" inbound|8080|| 127.0.0.6:{port} {ip}:8080 {ip}:{port} - default'
        ),
    ),
    # none, including tricky benign lines
    (
        "monitoring",
        "loki",
        "loki",
        "info",
        "none",
        "loki",
        _raw(
            'level=error ts={ts} caller=retry.go:95 org_id=fake msg="error processing request" try=0 query="{{namespace=\\"shop\\"}}" err="context canceled"'
        ),
    ),
    (
        "monitoring",
        "grafana",
        "grafana",
        "info",
        "none",
        "grafana",
        _raw(
            'logger=context userId=1 orgId=1 uname=admin t={ts} level=error msg="Request error" error="context canceled" remote_addr={ip} traceID='
        ),
    ),
    (
        "shop",
        "thumbnail-worker",
        "worker",
        "info",
        "none",
        "thumbnail_worker",
        _raw("{py} INFO worker.tasks: batch finished: 2{n} processed, 0 errors, 0 retries"),
    ),
    (
        "db",
        "postgres",
        "postgres",
        "info",
        "none",
        "postgres",
        _raw("{pg} [{n}12] LOG:  could not receive data from client: Connection reset by peer"),
    ),
    (
        "monitoring",
        "prometheus",
        "prometheus",
        "info",
        "none",
        "prometheus",
        _raw(
            'ts={ts} caller=compact.go:576 level=info component=tsdb msg="write block" mint=1763625600000 maxt=1763632800000 ulid=01J{h}ZQ duration=1.{n}s ooo=false'
        ),
    ),
    (
        "shop",
        "orders-api",
        "orders-api",
        "info",
        "none",
        "orders_api",
        _raw('INFO:     {ip}:{port} - "GET /health HTTP/1.1" 200 OK'),
    ),
    (
        "shop",
        "orders-api",
        "orders-api",
        "info",
        "none",
        "orders_api",
        _raw('INFO:     {ip}:{port} - "GET /api/v1/orders/9{n}1 HTTP/1.1" 404 Not Found'),
    ),
    (
        "monitoring",
        "alloy",
        "alloy",
        "info",
        "none",
        "alloy",
        _raw(
            'ts={ts} level=info msg="tail routine: tail channel closed, stopping tailer" component_id=loki.source.kubernetes.pods target=batch/report-job-{h}:report reason="container terminated"'
        ),
    ),
    (
        "apps",
        "notifier",
        "notifier",
        "info",
        "none",
        "redis",
        _raw(
            '{{"level":"info","service":"notifier","attempts":2,"time":"{ts}","message":"redis connection re-established"}}'
        ),
    ),
    (
        "shop",
        "payments",
        "payments",
        "info",
        "none",
        "payments",
        _raw(
            "{sp}  INFO 1 --- [payments] [           main] c.e.payments.PaymentsApplication         : Started PaymentsApplication in 7.{n} seconds (process running for 8.1)"
        ),
    ),
    (
        "ci",
        "runner",
        "runner",
        "info",
        "none",
        "runner",
        _raw("===== 2{n}4 passed, 3 skipped, 0 errors in 41.2s ====="),
    ),
    (
        "monitoring",
        "event-exporter",
        "event-exporter",
        "info",
        "none",
        "report_job",
        _ev(
            "Completed",
            "Job completed",
            type_="Normal",
            comp="job-controller",
            kind="Job",
            ns="batch",
            name="report-job",
        ),
    ),
    (
        "db",
        "postgres",
        "postgres",
        "info",
        "none",
        "postgres",
        _raw(
            '{pg} [{n}41] ERROR:  duplicate key value violates unique constraint "idempotency_keys_pkey"'
        ),
    ),
    (
        "db",
        "postgres",
        "postgres",
        "info",
        "none",
        "postgres",
        _raw("{pg} [1] LOG:  database system is ready to accept connections"),
    ),
    (
        "llm",
        "llama-server",
        "llama",
        "info",
        "none",
        "llama_server",
        _raw("srv  log_server_r: request: GET /health {ip} 503"),
    ),
    (
        "monitoring",
        "loki",
        "loki",
        "info",
        "none",
        "loki",
        _raw(
            'level=warn ts={ts} caller=logging.go:128 msg="GET /loki/api/v1/tail?query=%7Bnamespace%3D%22shop%22%7D (500) 1.{n}s Response: \\"websocket: close 1006 (abnormal closure): unexpected EOF\\""'
        ),
    ),
    (
        "kube-system",
        "kube-controller-manager",
        "kube-controller-manager",
        "info",
        "none",
        "kube_controller_manager",
        _k(
            "I",
            "event.go:389",
            '"Event occurred" object="shop/cart" fieldPath="" kind="Deployment" apiVersion="apps/v1" type="Normal" reason="ScalingReplicaSet" message="Scaled down replica set cart-6b8f{h} to 0 from 1"',
        ),
    ),
]


def _background_specs() -> list[tuple[str, str]]:
    """Two ordinary lines of each background program (info/none)."""
    return [(key, f"{key}-{i}") for key in sorted(SERVICES) for i in range(2)]


def _workload(r: random.Random, ns: str, app: str, container: str) -> Workload:
    if not ns:
        return Workload(
            "",
            "",
            "",
            f"node-{r.randint(1, 3)}",
            app,
            (("job", "node/journal"), ("unit", container or app)),
        )
    return Workload(ns, deployment_pod(r, app), container, f"node-{r.randint(1, 3)}", app)


def build_all() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for i, (ns, app, container, sev, cat, comp, make) in enumerate(SPECS):
        r = case_rng(f"line/{i}")
        ts = (
            BASE_DAY_NS
            + 80 * 86_400 * NS_PER_S
            + i * 3_600 * NS_PER_S
            + r.randint(0, 3_599) * NS_PER_S
        )
        w = _workload(r, ns, app, container)
        expected: dict[str, Any] = {"severity": sev}
        if cat:
            expected["category"] = cat
        if comp:
            expected["component"] = comp
        cases.append(_case(f"line-{len(cases) + 1:04d}", w, ts, make(r, ts), expected, cat))
    for key, seed in _background_specs():
        r = case_rng(f"line/{seed}")
        ts = BASE_DAY_NS + 90 * 86_400 * NS_PER_S + len(cases) * 600 * NS_PER_S
        service = SERVICES[key]
        w = _workload(
            r,
            "" if service.pod_style == "journal" else service.namespace,
            service.app,
            service.container,
        )
        line = service.emit(r, ts, w)[0]
        expected = {"severity": "info", "category": "none"}
        if r.random() < 0.7:
            expected["component"] = service.app.replace("-", "_")
        cases.append(
            _case(
                f"line-{len(cases) + 1:04d}",
                w,
                ts,
                line,
                expected,
                "none",
                [*service.tags, "background"],
            )
        )
    return cases


def _case(
    case_id: str,
    w: Workload,
    ts: int,
    line: str,
    expected: dict[str, Any],
    cat: str | None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    tricky = cat == "none" and any(
        word in line.lower() for word in ("error", "fail", "reset", "canceled", "503", "404")
    )
    tag_list = sorted(
        {*(tags or []), *(["tricky"] if tricky else []), "benign" if cat == "none" else "failure"}
    )
    return {
        "id": case_id,
        "kind": "line",
        "tags": tag_list,
        "logs": [record_json((ts, w.labels(), line))],
        "expected": expected,
    }
