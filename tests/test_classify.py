"""Per-line classification over realistic lines in each program's true format.

Messages are given as `loglens.parsing` hands them over: klog, Postgres, Python and
Java headers stripped; logfmt/JSON lines keep their text with the rest in attrs;
Kubernetes events become "<reason>: <message>" with the event fields in attrs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from loglens.detect.classify import (
    classify_message,
    component_from_labels,
    keyword_category,
    match_text,
    normalize_component,
)
from loglens.model import LEVEL_ORDER, Category, Level, Severity

E, W, IN, F, D, U = Level.ERROR, Level.WARN, Level.INFO, Level.FATAL, Level.DEBUG, Level.UNKNOWN

KUBELET = {"job": "node/journal", "unit": "kubelet.service", "node": "node-2"}
CONTAINERD = {"job": "node/journal", "unit": "containerd.service", "node": "node-2"}
KERNEL = {"job": "node/kernel", "node": "node-2"}
LLAMA = {"namespace": "llm", "pod": "llama-server-7d9f-x2x", "container": "llama"}
RAG = {"namespace": "llm", "pod": "rag-api-85d9c7f6b4-p9o8i", "container": "rag-api"}
API = {"namespace": "default", "pod": "api-6c9f8d7b5-abcde", "container": "api"}
PG = {"namespace": "db", "pod": "postgres-0", "container": "postgres"}
LOKI = {"namespace": "monitoring", "pod": "loki-0", "container": "loki"}
ALLOY = {"namespace": "monitoring", "pod": "alloy-x7k2p", "container": "alloy"}
GRAFANA = {"namespace": "monitoring", "pod": "grafana-5d8f7c9b6-q2w3e", "container": "grafana"}
PROM = {"namespace": "monitoring", "pod": "prometheus-server-0", "container": "prometheus"}
HELM = {
    "namespace": "flux-system",
    "pod": "helm-controller-7c8b9d6f5-r4t5y",
    "container": "manager",
}
KUSTOMIZE = {
    "namespace": "flux-system",
    "pod": "kustomize-controller-6d5c4b3a2-m4n5b",
    "container": "manager",
}
SOURCE = {
    "namespace": "flux-system",
    "pod": "source-controller-5b4c3d2e1-v6c7x",
    "container": "manager",
}
ENVOY = {
    "namespace": "envoy-gateway-system",
    "pod": "envoy-default-eg-e41e7b31-6f8d6c8f9b-abcde",
    "container": "envoy",
}
NGINX = {
    "namespace": "ingress-nginx",
    "pod": "ingress-nginx-controller-5c8d66c76d-4lq7x",
    "container": "controller",
}
COREDNS = {"namespace": "kube-system", "pod": "coredns-5d78c9869d-8xk2p", "container": "coredns"}
ETCD = {"namespace": "kube-system", "pod": "etcd-cp-1", "container": "etcd"}
APISERVER = {
    "namespace": "kube-system",
    "pod": "kube-apiserver-cp-1",
    "container": "kube-apiserver",
}
KCM = {
    "namespace": "kube-system",
    "pod": "kube-controller-manager-cp-1",
    "container": "kube-controller-manager",
}
SCHED = {"namespace": "kube-system", "pod": "kube-scheduler-cp-1", "container": "kube-scheduler"}
PROXY = {"namespace": "kube-system", "pod": "kube-proxy-x7k2p", "container": "kube-proxy"}
FLANNEL = {"namespace": "kube-flannel", "pod": "kube-flannel-ds-4kz9q", "container": "kube-flannel"}
CALICO = {"namespace": "calico-system", "pod": "calico-node-7hx2m", "container": "calico-node"}
QDRANT = {"namespace": "search", "pod": "qdrant-0", "container": "qdrant"}
WEB = {"namespace": "web", "pod": "frontend-6b7c8d9f4-zx8cv", "container": "frontend"}
ORDERS = {"namespace": "shop", "pod": "orders-7f9c6d5b4-k3j2h", "container": "orders"}
CERTM = {
    "namespace": "cert-manager",
    "pod": "cert-manager-7d9f8c6b5-abcde",
    "container": "cert-manager-controller",
}
REDIS = {"namespace": "cache", "pod": "redis-master-0", "container": "redis"}
EVENTS = {"namespace": "llm", "job": "integrations/kubernetes/eventhandler"}


def event(reason: str, kind: str, name: str, *, warning: bool = True) -> dict[str, Any]:
    return {
        "reason": reason,
        "type": "Warning" if warning else "Normal",
        "involvedObject": {"kind": kind, "name": name, "namespace": "llm"},
    }


@dataclass
class Case:
    message: str
    level: Level
    severity: str
    category: str
    component: str | None
    labels: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.category}:{self.message[:40]}"


def c(message: str, level: Level, expected: str, labels: dict[str, str], **kw: Any) -> Case:
    severity, category, component = expected.split("/")
    return Case(message, level, severity, category, component or None, labels, kw.get("attrs"))


CASES: list[Case] = [
    # ---------------------------------------------------------------- oom
    c(
        "Memory cgroup out of memory: Killed process 48213 (llama-server) total-vm:10485760kB, anon-rss:10223616kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:20480kB oom_score_adj:999",
        E,
        "critical/oom/llama_server",
        KERNEL,
    ),
    c(
        "OOMKilling: Memory cgroup out of memory: Killed process 2231 (postgres) total-vm:4194304kB, anon-rss:2097152kB",
        W,
        "critical/oom/postgres",
        EVENTS,
        attrs=event("OOMKilling", "Node", "node-2"),
    ),
    c(
        '"Container terminated" pod="llm/llama-server-7d9f-x2x" containerName="llama" reason="OOMKilled" exitCode=137',
        IN,
        "critical/oom/llama_server",
        KUBELET,
    ),
    c(
        "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 6144.00 MiB on device 0: cudaMalloc failed: out of memory",
        E,
        "critical/oom/llama_server",
        LLAMA,
    ),
    c(
        "llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache",
        E,
        "critical/oom/llama_server",
        LLAMA,
    ),
    c(
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 11.72 GiB of which 812.00 MiB is free.",
        E,
        "error/oom/rag_api",
        RAG,
    ),
    c(
        'Exception in thread "kafka-consumer-1" java.lang.OutOfMemoryError: Java heap space',
        E,
        "error/oom/orders",
        ORDERS,
    ),
    c(
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        F,
        "critical/oom/frontend",
        WEB,
    ),
    c("fatal error: runtime: out of memory", F, "critical/oom/api", API),
    c(
        "server process (PID 8812) was terminated by signal 9: Killed",
        IN,
        "critical/oom/postgres",
        PG,
    ),
    c(
        "[2026-11-20 10:14:02 +0000] [1] [ERROR] Worker (pid:42) was sent SIGKILL! Perhaps out of memory?",
        E,
        "critical/oom/rag_api",
        RAG,
    ),
    c("OOM command not allowed when used memory > 'maxmemory'.", E, "error/oom/redis", REDIS),
    c(
        "MemoryError: Unable to allocate 3.20 GiB for an array with shape (429496730,) and data type float64",
        E,
        "error/oom/rag_api",
        RAG,
    ),
    # ---------------------------------------------------------------- crashloop
    c(
        "BackOff: Back-off restarting failed container llama in pod llama-server-7d9f-x2x_llm(1b2c3d)",
        W,
        "error/crashloop/llama_server",
        EVENTS,
        attrs=event("BackOff", "Pod", "llama-server-7d9f-x2x"),
    ),
    c(
        '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"api\\" with CrashLoopBackOff: \\"back-off 2m40s restarting failed container=api pod=api-6c9f8d7b5-abcde_default(9f1e)\\"" pod="default/api-6c9f8d7b5-abcde"',
        E,
        "error/crashloop/api",
        KUBELET,
    ),
    c("Last State: Terminated, Reason: Error, Exit Code: 1", U, "error/crashloop/api", API),
    c(
        "Pod llm/rag-api-85d9c7f6b4-p9o8i is in CrashLoopBackOff (restarts: 14)",
        W,
        "error/crashloop/rag_api",
        RAG,
    ),
    c(
        'container "worker" exited with code 2',
        E,
        "error/crashloop/worker",
        {"namespace": "jobs", "pod": "worker-5f6d7c8b9-qq1ww", "container": "worker"},
    ),
    c(
        "BackOff: Back-off restarting failed container grafana in pod grafana-5d8f7c9b6-q2w3e_monitoring(77aa)",
        W,
        "error/crashloop/grafana",
        EVENTS,
        attrs=event("BackOff", "Pod", "grafana-5d8f7c9b6-q2w3e"),
    ),
    # ---------------------------------------------------------------- image_pull
    c(
        'Failed: Failed to pull image "ghcr.io/acme/rag-api:v2.3.1": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/acme/rag-api:v2.3.1": failed to resolve reference "ghcr.io/acme/rag-api:v2.3.1": ghcr.io/acme/rag-api:v2.3.1: not found',
        W,
        "error/image_pull/rag_api",
        EVENTS,
        attrs=event("Failed", "Pod", "rag-api-85d9c7f6b4-p9o8i"),
    ),
    c(
        'BackOff: Back-off pulling image "registry.home.lan/llama:b3561"',
        W,
        "error/image_pull/llama_server",
        EVENTS,
        attrs=event("BackOff", "Pod", "llama-server-7d9f-x2x"),
    ),
    c(
        "Failed: Error: ImagePullBackOff",
        W,
        "error/image_pull/frontend",
        EVENTS,
        attrs=event("Failed", "Pod", "frontend-6b7c8d9f4-zx8cv"),
    ),
    c(
        '"Failed to pull image" err="failed to pull and unpack image \\"docker.io/library/nginx:1.27\\": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit." image="nginx:1.27"',
        E,
        "error/image_pull/nginx",
        {"job": "node/journal", "unit": "kubelet.service", "node": "node-1", "container": "nginx"},
    ),
    c(
        'Failed: Failed to pull image "registry.acme.io/private/orders:1.9": failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized',
        W,
        "error/image_pull/orders",
        EVENTS,
        attrs=event("Failed", "Pod", "orders-7f9c6d5b4-k3j2h"),
    ),
    c(
        '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"qdrant\\" with ErrImagePull: \\"rpc error: code = Unknown desc = failed to pull and unpack image\\""',
        E,
        "error/image_pull/qdrant",
        {**QDRANT, "unit": "kubelet.service"},
    ),
    # ---------------------------------------------------------------- probe_failure
    c(
        'Unhealthy: Liveness probe failed: Get "http://10.244.1.17:8080/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        W,
        "error/probe_failure/llama_server",
        EVENTS,
        attrs=event("Unhealthy", "Pod", "llama-server-7d9f-x2x"),
    ),
    c(
        "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503",
        W,
        "warn/probe_failure/rag_api",
        EVENTS,
        attrs=event("Unhealthy", "Pod", "rag-api-85d9c7f6b4-p9o8i"),
    ),
    c(
        '"Probe failed" probeType="Readiness" pod="monitoring/loki-0" podUID="3f2a" containerName="loki" probeResult="failure" output="HTTP probe failed with statuscode: 503"',
        IN,
        "warn/probe_failure/loki",
        {**LOKI, "unit": "kubelet.service"},
    ),
    c(
        'Startup probe failed: Get "http://10.244.2.8:8080/health": dial tcp 10.244.2.8:8080: connect: connection refused',
        W,
        "warn/probe_failure/llama_server",
        LLAMA,
    ),
    c(
        "Killing: Container llama failed liveness probe, will be restarted",
        IN,
        "error/probe_failure/llama_server",
        EVENTS,
        attrs=event("Killing", "Pod", "llama-server-7d9f-x2x", warning=False),
    ),
    c(
        "Unhealthy: Readiness probe failed: calico/node is not ready: BIRD is not ready: Error querying BIRD: unable to connect to BIRDv4 socket",
        W,
        "error/network/calico",
        EVENTS,
        attrs=event("Unhealthy", "Pod", "calico-node-7hx2m"),
    ),
    # ---------------------------------------------------------------- scheduling
    c(
        "FailedScheduling: 0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        W,
        "error/scheduling/llama_server",
        EVENTS,
        attrs=event("FailedScheduling", "Pod", "llama-server-7d9f-x2x"),
    ),
    c(
        "FailedScheduling: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        W,
        "error/scheduling/llama_server",
        EVENTS,
        attrs=event("FailedScheduling", "Pod", "llama-server-6b5d-q7q"),
    ),
    c(
        "FailedScheduling: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        W,
        "error/scheduling/qdrant",
        EVENTS,
        attrs=event("FailedScheduling", "Pod", "qdrant-0"),
    ),
    c(
        "FailedScheduling: 0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
        W,
        "error/scheduling/postgres",
        EVENTS,
        attrs=event("FailedScheduling", "Pod", "postgres-0"),
    ),
    c(
        '"Unable to schedule pod; no fit; waiting" pod="monitoring/loki-0" err="0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."',
        IN,
        "error/scheduling/loki",
        SCHED,
    ),
    c(
        '"Unable to schedule pod; no fit; waiting" pod="llm/rag-api-85d9c7f6b4-p9o8i" err="0/2 nodes are available: 2 node(s) had volume node affinity conflict."',
        IN,
        "error/scheduling/rag_api",
        SCHED,
    ),
    # ---------------------------------------------------------------- storage
    c(
        'FailedMount: MountVolume.SetUp failed for volume "models" : mount failed: exit status 32 Mounting command: mount Mounting arguments: -t nfs 10.0.0.5:/export/models /var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~nfs/models Output: mount.nfs: Connection timed out',
        W,
        "error/storage/llama_server",
        EVENTS,
        attrs=event("FailedMount", "Pod", "llama-server-7d9f-x2x"),
    ),
    c(
        "FailedMount: Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-9x2lq]: timed out waiting for the condition",
        W,
        "error/storage/postgres",
        EVENTS,
        attrs=event("FailedMount", "Pod", "postgres-0"),
    ),
    c(
        'FailedAttachVolume: Multi-Attach error for volume "pvc-4f1c9a2e" Volume is already exclusively attached to one node and can\'t be attached to another',
        W,
        "error/storage/qdrant",
        EVENTS,
        attrs=event("FailedAttachVolume", "Pod", "qdrant-0"),
    ),
    c(
        'ProvisioningFailed: storageclass.storage.k8s.io "fast-ssd" not found',
        W,
        "error/storage/loki",
        EVENTS,
        attrs=event("ProvisioningFailed", "PersistentVolumeClaim", "data-loki-0"),
    ),
    c(
        'level=error ts=2026-11-20T10:14:02.512Z caller=flush.go:143 org_id=fake msg="failed to flush" err="write /var/loki/chunks/ZmFrZS8xOGY: no space left on device"',
        E,
        "critical/storage/loki",
        LOKI,
    ),
    c(
        'could not extend file "base/16384/24576.1": No space left on device',
        E,
        "critical/storage/postgres",
        PG,
    ),
    c(
        "OSError: [Errno 30] Read-only file system: '/app/.cache/huggingface'",
        E,
        "error/storage/rag_api",
        RAG,
    ),
    c(
        "blk_update_request: I/O error, dev sda, sector 1953525 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0",
        E,
        "critical/storage/kernel",
        KERNEL,
    ),
    c(
        'ts=2026-11-20T10:14:02.000Z caller=head.go:652 level=warn component=tsdb msg="Encountered WAL read error, attempting repair" err="read records: corruption in segment /prometheus/wal/00000042 at 1048576: unexpected checksum"',
        W,
        "critical/storage/prometheus",
        PROM,
    ),
    c(
        'ts=2026-11-20T10:14:02.000Z caller=db.go:989 level=error component=tsdb msg="compaction failed" err="compact blocks [01JD3 01JD4]: overlapping sample with different value"',
        E,
        "error/storage/prometheus",
        PROM,
    ),
    c(
        'logger=sqlstore t=2026-11-20T10:14:02Z level=error msg="Failed to update user last seen" error="database is locked"',
        E,
        "error/storage/grafana",
        GRAFANA,
    ),
    c(
        'level=error msg="error running loki" err="mkdir /var/loki/wal: permission denied"',
        E,
        "error/storage/loki",
        LOKI,
    ),
    # ---------------------------------------------------------------- network
    c(
        'level=error ts=2026-11-20T10:14:02Z msg="search failed" err="Post \\"http://qdrant.search.svc:6333/collections/docs/points/search\\": dial tcp 10.96.22.4:6333: connect: connection refused"',
        E,
        "error/dependency/qdrant",
        RAG,
    ),
    c("ConnectionRefusedError: [Errno 111] Connection refused", E, "error/network/rag_api", RAG),
    c("Error: connect ECONNREFUSED 10.96.51.7:8080", E, "error/network/frontend", WEB),
    c(
        "java.net.ConnectException: Connection refused (Connection refused)",
        E,
        "error/network/orders",
        ORDERS,
    ),
    c("java.net.SocketTimeoutException: Read timed out", E, "error/network/orders", ORDERS),
    c(
        "read tcp 10.244.1.17:41222->10.96.22.4:6333: read: connection reset by peer",
        W,
        "warn/dependency/qdrant",
        API,
    ),
    c("dial tcp 10.244.3.9:9095: connect: no route to host", E, "error/network/loki", LOKI),
    c(
        '"Failed to execute iptables-restore" err="exit status 4: Another app is currently holding the xtables lock. Stopped waiting after 5s." ipFamily="IPv4"',
        E,
        "error/network/kube_proxy",
        PROXY,
    ),
    c(
        'E1120 10:14:02.000000       1 main.go:335] Error registering network: failed to acquire lease: node "node-3" pod cidr not assigned',
        E,
        "error/network/flannel",
        FLANNEL,
    ),
    c(
        'FailedCreatePodSandBox: Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "3f2a": plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory',
        W,
        "error/network/flannel",
        EVENTS,
        attrs=event("FailedCreatePodSandBox", "Pod", "rag-api-85d9c7f6b4-p9o8i"),
    ),
    c("httpx.ReadTimeout: timed out", E, "error/network/rag_api", RAG),
    c("Error: read ECONNRESET", E, "warn/network/frontend", WEB),
    c(
        'msg="request to upstream failed" err="write tcp 10.244.1.5:50122->10.244.2.8:8080: write: broken pipe"',
        W,
        "warn/network/api",
        API,
    ),
    # ---------------------------------------------------------------- dns
    c(
        "[ERROR] plugin/errors: 2 huggingface.co. A: read udp 10.244.0.5:45678->192.168.1.1:53: i/o timeout",
        E,
        "error/dns/coredns",
        COREDNS,
    ),
    c(
        '[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."',
        F,
        "critical/dns/coredns",
        COREDNS,
    ),
    c(
        # The query log records the answer (warn); CoreDNS' plugin/errors line says why.
        '[INFO] 10.244.1.17:41233 - 3 "A IN registry-1.docker.io. udp 38 false 512" SERVFAIL qr,rd 38 2.001842s',
        IN,
        "warn/dns/coredns",
        COREDNS,
    ),
    c(
        'level=error msg="failed to push" err="Post \\"http://loki-gateway.monitoring.svc.cluster.local/loki/api/v1/push\\": dial tcp: lookup loki-gateway.monitoring.svc.cluster.local on 10.96.0.10:53: no such host"',
        E,
        "error/dns/alloy",
        ALLOY,
    ),
    c(
        "socket.gaierror: [Errno -3] Temporary failure in name resolution",
        E,
        "error/dns/rag_api",
        RAG,
    ),
    c("Error: getaddrinfo ENOTFOUND api.internal.svc", E, "error/dns/frontend", WEB),
    c(
        "java.net.UnknownHostException: kafka-0.kafka-headless.data.svc.cluster.local",
        E,
        "error/dns/orders",
        ORDERS,
    ),
    c(
        "dial tcp: lookup postgres.db.svc.cluster.local on 10.96.0.10:53: read udp 10.244.1.17:39211->10.96.0.10:53: i/o timeout",
        E,
        "error/dns/api",
        API,
    ),
    c(
        '[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go@v0.27.4/tools/cache/reflector.go:231: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: Get "https://10.96.0.1:443/apis/discovery.k8s.io/v1/endpointslices?limit=500": dial tcp 10.96.0.1:443: i/o timeout',
        E,
        "error/dns/coredns",
        COREDNS,
    ),
    c("lookup huggingface.co on 10.96.0.10:53: server misbehaving", E, "error/dns/rag_api", RAG),
    # ---------------------------------------------------------------- tls
    c(
        # One client's calls fail: error. An expired admission webhook certificate
        # (every matching API request rejected, cluster-wide) is critical, below.
        'Get "https://registry.home.lan/v2/": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-11-20T10:14:02Z is after 2026-11-19T23:59:59Z',
        E,
        "error/tls/api",
        API,
    ),
    c(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)",
        E,
        "error/tls/rag_api",
        RAG,
    ),
    c(
        'level=error msg="error querying" err="Get \\"https://prometheus.home.lan/api/v1/query\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"',
        E,
        "error/tls/grafana",
        GRAFANA,
    ),
    c(
        "x509: certificate is valid for ingress.local, not grafana.home.lan",
        E,
        "error/tls/alloy",
        ALLOY,
    ),
    c(
        "http: TLS handshake error from 10.244.1.17:55012: remote error: tls: bad certificate",
        IN,
        "warn/tls/kube_apiserver",
        APISERVER,
    ),
    c(
        "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
        E,
        "error/tls/orders",
        ORDERS,
    ),
    c(
        'E1120 10:14:02.000000       1 sync.go:190] "propagation check failed" err="DNS record for \\"home.lan\\" not yet propagated" logger="cert-manager.challenges"',
        E,
        "error/tls/cert_manager",
        CERTM,
    ),
    # ---------------------------------------------------------------- auth
    c('password authentication failed for user "grafana"', F, "error/auth/postgres", PG),
    c(
        'no pg_hba.conf entry for host "10.244.1.17", user "app", database "app", no encryption',
        F,
        "error/auth/postgres",
        PG,
    ),
    c(
        'pods is forbidden: User "system:serviceaccount:monitoring:alloy" cannot list resource "pods" in API group "" at the cluster scope',
        E,
        "error/auth/alloy",
        ALLOY,
    ),
    c(
        'E1120 10:14:02.000000       1 reflector.go:147] failed to list *v1.Secret: secrets is forbidden: User "system:serviceaccount:cert-manager:cert-manager" cannot list resource "secrets" in API group "" in the namespace "llm"',
        E,
        "error/auth/cert_manager",
        CERTM,
    ),
    c(
        'INFO:     10.244.1.9:40112 - "GET /v1/models HTTP/1.1" 401 Unauthorized',
        W,
        "warn/auth/rag_api",
        RAG,
    ),
    c(
        '10.0.0.7 - - [20/Nov/2026:10:14:02 +0000] "GET /api/admin HTTP/1.1" 403 153 "-" "curl/8.5.0"',
        IN,
        "warn/auth/ingress_nginx_controller",
        NGINX,
    ),
    c(
        '{"level":"error","msg":"oidc: token is expired (Token Expiry: 2026-11-20 09:00:00 +0000 UTC)","logger":"auth"}',
        E,
        "warn/auth/grafana",
        GRAFANA,
    ),
    c(
        'Unexpected Response: 401 (Unauthorized) Raw response content: b\'{"status":{"error":"Must provide an API key or an Authorization bearer token"}}\'',
        E,
        "error/auth/qdrant",
        RAG,
    ),
    c(
        'ts=2026-11-20T10:14:02Z level=error msg="final error sending batch" status=401 error="server returned HTTP status 401 Unauthorized (401): no org id"',
        E,
        "error/auth/alloy",
        ALLOY,
    ),
    # ---------------------------------------------------------------- config
    c(
        'CreateContainerConfigError: Error: secret "hf-token" not found',
        W,
        "error/config/llama_server",
        EVENTS,
        attrs=event("Failed", "Pod", "llama-server-7d9f-x2x"),
    ),
    c(
        'Failed: Error: configmap "llama-config" not found',
        W,
        "error/config/llama_server",
        EVENTS,
        attrs=event("Failed", "Pod", "llama-server-7d9f-x2x"),
    ),
    c("envconfig.Process: required key DATABASE_URL missing value", F, "error/config/api", API),
    c(
        "failed parsing config: /etc/loki/config.yaml: yaml: unmarshal errors:\n  line 31: field max_look_back_period not found in type config.ChunkStoreConfig",
        E,
        "critical/config/loki",
        LOKI,
    ),
    c(
        "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\nqdrant_url\n  Field required [type=missing, input_value={}, input_type=dict]",
        E,
        "critical/config/rag_api",
        RAG,
    ),
    c("flag provided but not defined: -config.expand-env", E, "critical/config/loki", LOKI),
    c(
        'ts=2026-11-20T10:14:02Z level=error msg="failed to evaluate config" controller_path=/ controller_id="" node=loki.source.kubernetes.pods err="decoding configuration: /etc/alloy/config.alloy:42:3: unrecognized attribute name \\"forward_to_\\""',
        E,
        "error/config/alloy",
        ALLOY,
    ),
    c(
        "srv    load_model: failed to load model, '/models/qwen2.5-3b-instruct-q4_k_m.gguf'",
        E,
        "critical/config/llama_server",
        LLAMA,
    ),
    c(
        "gguf_init_from_file_impl: invalid magic characters: '<htm', expected 'GGUF'",
        E,
        "critical/config/llama_server",
        LLAMA,
    ),
    c("ModuleNotFoundError: No module named 'qdrant_client'", E, "critical/config/rag_api", RAG),
    c(
        'ts=2026-11-20T10:14:02.000Z caller=main.go:1181 level=error msg="Error reloading config" err="couldn\'t load configuration (--config.file=\\"/etc/prometheus/prometheus.yml\\"): parsing YAML file /etc/prometheus/prometheus.yml: yaml: line 12: did not find expected key"',
        E,
        "error/config/prometheus",
        PROM,
    ),
    c("listen tcp :8080: bind: address already in use", F, "critical/config/api", API),
    c(
        "exec /usr/local/bin/docker-entrypoint.sh: exec format error",
        E,
        "error/config/orders",
        ORDERS,
    ),
    c(
        "Wrong input: Vector dimension error: expected dim: 384, got 768",
        E,
        "error/config/qdrant",
        QDRANT,
    ),
    c('database "grafana" does not exist', F, "error/config/postgres", PG),
    # ---------------------------------------------------------------- dependency
    c(
        '[2026-11-20T10:14:02.123Z] "POST /v1/chat/completions HTTP/1.1" 503 UH 0 19 0 - "10.0.0.7" "python-httpx/0.27.0" "0f9d2a1c-7b1e" "llm.home.lan" "-"',
        IN,
        "critical/dependency/envoy",
        ENVOY,
    ),
    c(
        '[2026-11-20T10:14:02.123Z] "GET /api/items HTTP/1.1" 503 UF,URX 0 91 30 - "10.0.0.7" "curl/8.5.0" "7a1c" "api.home.lan" "10.244.1.17:8080"',
        IN,
        "error/dependency/envoy",
        ENVOY,
    ),
    c(
        '[2026-11-20T10:14:02.123Z] "POST /v1/completions HTTP/1.1" 504 UT 0 24 15001 - "10.0.0.7" "openai-python/1.40.0" "be2c" "llm.home.lan" "10.244.2.8:8080"',
        IN,
        "error/dependency/envoy",
        ENVOY,
    ),
    c(
        '2026/11/20 10:14:02 [error] 31#31: *1042 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.7, server: grafana.home.lan, request: "GET /api/ds/query HTTP/1.1", upstream: "http://10.244.1.17:3000/api/ds/query", host: "grafana.home.lan"',
        E,
        "error/dependency/ingress_nginx_controller",
        NGINX,
    ),
    c(
        '10.0.0.7 - - [20/Nov/2026:10:14:02 +0000] "GET /grafana/ HTTP/1.1" 502 157 "-" "Mozilla/5.0 (X11; Linux x86_64)" 433 0.002 [monitoring-grafana-80] [] 10.244.1.17:3000 0 0.001 502 5e1c',
        E,
        "error/dependency/ingress_nginx_controller",
        NGINX,
    ),
    c(
        'psycopg2.OperationalError: connection to server at "postgres.db.svc" (10.96.40.12), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?',
        E,
        "error/dependency/postgres",
        RAG,
    ),
    c("the database system is in recovery mode", F, "error/dependency/postgres", PG),
    c(
        "redis.exceptions.ConnectionError: Error 111 connecting to redis-master.cache.svc:6379. Connection refused.",
        E,
        "error/dependency/redis",
        API,
    ),
    c(
        'level=error caller=push.go:59 msg="push error" err="rpc error: code = Unknown desc = at least 2 live replicas required, could only find 1 - unhealthy instances: 10.244.1.9:9095"',
        E,
        "error/dependency/loki",
        LOKI,
    ),
    c(
        'logger=tsdb.loki endpoint=queryData pluginId=loki dsName=Loki t=2026-11-20T10:14:02Z level=error msg="Query data error" error="Get \\"http://loki-gateway/loki/api/v1/query_range\\": dial tcp 10.96.12.3:80: connect: connection refused"',
        E,
        "error/dependency/loki",
        GRAFANA,
    ),
    c(
        'level=error component=client host=loki:3100 msg="final error sending batch" status=500 tenant= error="server returned HTTP status 500 Internal Server Error (500)"',
        E,
        "error/dependency/loki",
        ALLOY,
    ),
    c(
        'ts=2026-11-20T10:14:02Z level=warn msg="error sending batch, will retry" component=client host=loki-gateway.monitoring.svc status=-1 error="Post \\"http://loki-gateway.monitoring.svc/loki/api/v1/push\\": dial tcp 10.96.1.2:80: connect: connection refused"',
        W,
        "warn/dependency/loki",
        ALLOY,
    ),
    c(
        'ts=2026-11-20T10:14:02.000Z caller=notifier.go:530 level=error component=notifier alertmanager=http://alertmanager:9093/api/v2/alerts count=3 msg="Error sending alert" err="Post \\"http://alertmanager:9093/api/v2/alerts\\": dial tcp 10.96.3.4:9093: connect: connection refused"',
        E,
        "error/dependency/prometheus",
        PROM,
    ),
    c(
        "Transient error StatusCode.UNAVAILABLE encountered while exporting traces to otel-collector.observability.svc:4317, retrying in 2s.",
        W,
        "warn/dependency/otel_collector",
        RAG,
    ),
    c(
        "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: 111",
        W,
        "error/dependency/envoy",
        ENVOY,
    ),
    c("the database system is starting up", F, "warn/dependency/postgres", PG),
    # ---------------------------------------------------------------- resource_pressure
    c(
        "Evicted: The node was low on resource: ephemeral-storage. Threshold quantity: 4281126156, available: 3521400Ki. Container api was using 2348Ki, request is 0, has larger consumption of ephemeral-storage.",
        W,
        "error/resource_pressure/api",
        EVENTS,
        attrs=event("Evicted", "Pod", "api-6c9f8d7b5-abcde"),
    ),
    c(
        "NodeHasDiskPressure: Node node-2 status is now: NodeHasDiskPressure",
        IN,
        "error/resource_pressure/kubelet",
        EVENTS,
        attrs=event("NodeHasDiskPressure", "Node", "node-2", warning=False),
    ),
    c(
        '"Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"',
        IN,
        "error/resource_pressure/kubelet",
        KUBELET,
    ),
    c(
        '"Eviction manager: pods evicted, waiting for pod to be cleaned up" pods=["monitoring/loki-0"]',
        IN,
        "error/resource_pressure/kubelet",
        KUBELET,
    ),
    c(
        "CPUThrottlingHigh: 67.4% throttling of CPU in namespace llm for container llama in pod llama-server-7d9f-x2x.",
        W,
        "warn/resource_pressure/llama_server",
        LLAMA,
    ),
    c(
        'Error creating: pods "rag-api-85d9c7f6b4-" is forbidden: exceeded quota: compute-quota, requested: requests.memory=2Gi, used: requests.memory=7Gi, limited: requests.memory=8Gi',
        W,
        "error/resource_pressure/kube_controller_manager",
        KCM,
    ),
    c(
        "http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 1s",
        E,
        "error/resource_pressure/api",
        API,
    ),
    c(
        "ImageGCFailed: failed to garbage collect required amount of images. Attempted to free 12842150297 bytes, but only found 0 bytes eligible to free.",
        W,
        "warn/resource_pressure/kubelet",
        EVENTS,
        attrs=event("ImageGCFailed", "Node", "node-2"),
    ),
    c(
        "checkpoints are occurring too frequently (9 seconds apart)",
        IN,
        "warn/resource_pressure/postgres",
        PG,
    ),
    # ---------------------------------------------------------------- limit_exceeded
    c(
        "srv    send_error: task id = 42, error: the request exceeds the available context size, try increasing it",
        E,
        "warn/limit_exceeded/llama_server",
        LLAMA,
    ),
    c(
        'INFO:     10.244.1.17:40112 - "POST /v1/chat/completions HTTP/1.1" 429 Too Many Requests',
        W,
        "warn/limit_exceeded/rag_api",
        RAG,
    ),
    c(
        "level=warn ts=2026-11-20T10:14:02Z caller=grpc_logging.go:43 method=/logproto.Pusher/Push duration=1.2ms msg=gRPC err=\"rpc error: code = Code(429) desc = Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest '2312' lines totaling '1048576' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\"",
        W,
        "error/limit_exceeded/loki",
        LOKI,
    ),
    c(
        'Per stream rate limit exceeded (limit: 3MB/sec) while attempting to ingest for stream \'{app="api", namespace="default"}\' totaling 524288B, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased',
        W,
        "warn/limit_exceeded/loki",
        LOKI,
    ),
    c(
        "entry with timestamp 2026-11-20 09:00:00 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2026-11-20T09:00:00Z, oldest acceptable timestamp is: 2026-11-20T09:41:12Z'",
        W,
        "warn/limit_exceeded/loki",
        LOKI,
    ),
    c("sorry, too many clients already", F, "critical/limit_exceeded/postgres", PG),
    c(
        "remaining connection slots are reserved for roles with the SUPERUSER attribute",
        F,
        "critical/limit_exceeded/postgres",
        PG,
    ),
    c(
        "decode: failed to find a memory slot for batch of size 512",
        E,
        "error/limit_exceeded/llama_server",
        LLAMA,
    ),
    c("canceling statement due to statement timeout", E, "warn/limit_exceeded/postgres", PG),
    c(
        '2026/11/20 10:14:02 [error] 31#31: *2211 client intended to send too large body: 10485761 bytes, client: 10.0.0.7, server: registry.home.lan, request: "PUT /v2/app/blobs/uploads/1 HTTP/1.1"',
        E,
        "warn/limit_exceeded/ingress_nginx_controller",
        NGINX,
    ),
    c(
        '{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9211,"n_ctx":8192}}',
        E,
        "warn/limit_exceeded/llama_server",
        RAG,
    ),
    # ---------------------------------------------------------------- node
    c(
        "NodeNotReady: Node node-2 status is now: NodeNotReady",
        IN,
        "critical/node/kubelet",
        EVENTS,
        attrs=event("NodeNotReady", "Node", "node-2", warning=False),
    ),
    c(
        '"Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m12.34s ago; threshold is 3m0s"',
        E,
        "error/node/kubelet",
        KUBELET,
    ),
    c(
        '"Container runtime sanity check failed" err="rpc error: code = Unavailable desc = connection error: desc = \\"transport: Error while dialing: dial unix /run/containerd/containerd.sock: connect: connection refused\\""',
        E,
        "critical/node/containerd",
        KUBELET,
    ),
    c(
        '"Error updating node status, will retry" err="error getting node \\"node-2\\": Get \\"https://10.0.0.10:6443/api/v1/nodes/node-2?timeout=10s\\": context deadline exceeded"',
        E,
        "warn/node/kubelet",
        KUBELET,
    ),
    c(
        "Rebooted: Node node-1 has been rebooted, boot id: 6c1e0b3a-8c1d-4b1b-9f3e-0f9d2a1c7e55",
        W,
        "warn/node/kubelet",
        EVENTS,
        attrs=event("Rebooted", "Node", "node-1"),
    ),
    c(
        "NVRM: Xid (PCI:0000:01:00): 79, pid=2231, GPU has fallen off the bus.",
        E,
        "error/node/kernel",
        KERNEL,
    ),
    c(
        "FailedCreatePodSandBox: Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: unable to apply cgroup configuration",
        W,
        "error/node/api",
        EVENTS,
        attrs=event("FailedCreatePodSandBox", "Pod", "api-6c9f8d7b5-abcde"),
    ),
    c(
        # The runtime's network condition is a node condition: it keeps the node NotReady.
        '"Container runtime network not ready" networkReady="NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"',
        E,
        "critical/node/kubelet",
        KUBELET,
    ),
    c(
        '"Container runtime network not ready" networkReady="NetworkReady=false"',
        E,
        "critical/node/kubelet",
        KUBELET,
    ),
    # ---------------------------------------------------------------- control_plane
    c(
        'E1120 10:14:02.512000       1 status.go:71] apiserver received an error that is not an metav1.Status: &errors.errorString{s:"etcdserver: request timed out"}: etcdserver: request timed out',
        E,
        "critical/control_plane/kube_apiserver",
        APISERVER,
    ),
    c(
        '{"level":"warn","ts":"2026-11-20T10:14:02.123Z","caller":"etcdserver/util.go:170","msg":"apply request took too long","took":"1.204s","expected-duration":"100ms","prefix":"read-only range ","request":"key:\\"/registry/pods/\\" range_end:\\"/registry/pods0\\" "}',
        W,
        "warn/control_plane/etcd",
        ETCD,
    ),
    c(
        '{"level":"warn","ts":"2026-11-20T10:14:02.456Z","caller":"wal/wal.go:805","msg":"slow fdatasync","took":"2.31s","expected-duration":"1s"}',
        W,
        "warn/control_plane/etcd",
        ETCD,
    ),
    c("etcdserver: mvcc: database space exceeded", E, "critical/control_plane/etcd", APISERVER),
    c("leaderelection lost", F, "critical/control_plane/kube_controller_manager", KCM),
    c(
        "failed to renew lease kube-system/kube-scheduler: timed out waiting for the condition",
        E,
        "critical/control_plane/kube_scheduler",
        SCHED,
    ),
    c(
        'E1120 10:14:02.000000       1 reflector.go:147] k8s.io/client-go/informers/factory.go:150: Failed to watch *v1.Pod: failed to list *v1.Pod: Get "https://10.96.0.1:443/api/v1/pods?limit=500": dial tcp 10.96.0.1:443: connect: connection refused',
        E,
        "error/control_plane/kube_apiserver",
        ALLOY,
    ),
    c(
        'Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=10s": dial tcp 10.96.42.7:443: connect: connection refused',
        E,
        "error/control_plane/kube_apiserver",
        HELM,
    ),
    c(
        '{"level":"info","msg":"raft.node: 8e9e05c52164694d lost leader 91bc3c398fb3c146 at term 7"}',
        IN,
        "critical/control_plane/etcd",
        ETCD,
    ),
    c(
        'FailedCreate: Error creating: pods "rag-api-85d9c7f6b4-" is forbidden: error looking up service account llm/rag-api: serviceaccount "rag-api" not found',
        W,
        "error/control_plane/kube_controller_manager",
        EVENTS,
        attrs=event("FailedCreate", "ReplicaSet", "rag-api-85d9c7f6b4"),
    ),
    # ---------------------------------------------------------------- deployment
    c(
        'Helm upgrade failed for release llm/llama-server with chart llama-server@0.4.2: cannot patch "llama-server" with kind Deployment: Deployment.apps "llama-server" is invalid: spec.selector: Invalid value: field is immutable',
        E,
        "error/deployment/helm_controller",
        HELM,
    ),
    c(
        '{"level":"error","ts":"2026-11-20T10:14:02.000Z","msg":"Reconciler error","controller":"helmrelease","controllerGroup":"helm.toolkit.fluxcd.io","HelmRelease":{"name":"loki","namespace":"monitoring"},"error":"install retries exhausted"}',
        E,
        "critical/deployment/helm_controller",
        HELM,
    ),
    c(
        "kustomization path not found: stat /tmp/kustomization-2841/clusters/homelab/apps: no such file or directory",
        E,
        "error/deployment/kustomize_controller",
        KUSTOMIZE,
    ),
    c(
        "failed to checkout and determine revision: unable to clone 'ssh://git@github.com/acme/homelab': ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain",
        E,
        "error/deployment/source_controller",
        SOURCE,
    ),
    c(
        "health check failed after 5m0.021s: timeout waiting for: [Deployment/llm/llama-server status: 'InProgress']",
        E,
        "error/deployment/kustomize_controller",
        KUSTOMIZE,
    ),
    c(
        "HelmChart 'flux-system/monitoring-loki' is not ready: chart pull error: failed to get chart version for remote reference: no 'loki' chart with version matching '9.x' found",
        E,
        "error/deployment/source_controller",
        HELM,
    ),
    c(
        "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress",
        E,
        "error/deployment/helm_controller",
        HELM,
    ),
    c(
        'ProgressDeadlineExceeded: ReplicaSet "rag-api-85d9c7f6b4" has timed out progressing.',
        W,
        "error/deployment/rag_api",
        EVENTS,
        attrs=event("ProgressDeadlineExceeded", "Deployment", "rag-api"),
    ),
    c(
        "dependency 'flux-system/infra-controllers' is not ready",
        IN,
        "warn/deployment/kustomize_controller",
        KUSTOMIZE,
    ),
    # ---------------------------------------------------------------- application_error
    c(
        'Traceback (most recent call last):\n  File "/app/rag/api.py", line 88, in answer\n    return resp.json()["choices"][0]\nKeyError: \'choices\'',
        E,
        "error/application_error/rag_api",
        RAG,
        attrs={"exception": "KeyError: 'choices'"},
    ),
    c(
        "ValueError: invalid literal for int() with base 10: 'abc'",
        E,
        "error/application_error/rag_api",
        RAG,
    ),
    c("Exception in ASGI application", E, "error/application_error/rag_api", RAG),
    c(
        "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6f1c2a]\n\ngoroutine 1 [running]:\nmain.(*Server).handle(0x0)",
        F,
        "error/application_error/api",
        API,
    ),
    c("fatal error: concurrent map writes", F, "critical/application_error/api", API),
    c(
        "http: panic serving 10.244.1.17:53122: runtime error: index out of range [3] with length 3",
        E,
        "error/application_error/api",
        API,
    ),
    c(
        'java.lang.NullPointerException: Cannot invoke "com.acme.orders.Customer.getEmail()" because "customer" is null\n\tat com.acme.orders.Mailer.send(Mailer.java:42)',
        E,
        "error/application_error/orders",
        ORDERS,
    ),
    c(
        "org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection; nested exception is org.hibernate.exception.JDBCConnectionException",
        E,
        "error/application_error/orders",
        ORDERS,
    ),
    c(
        "[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason \"TypeError: fetch failed\".] { code: 'ERR_UNHANDLED_REJECTION' }",
        E,
        "error/application_error/frontend",
        WEB,
    ),
    c(
        'INFO:     10.244.1.17:52312 - "POST /v1/answer HTTP/1.1" 500 Internal Server Error',
        IN,
        "error/application_error/rag_api",
        RAG,
    ),
    c(
        '10.0.0.7 - - [20/Nov/2026:10:14:02 +0000] "POST /api/orders HTTP/1.1" 500 612 "-" "okhttp/4.12.0"',
        IN,
        "error/application_error/orders",
        ORDERS,
    ),
    c(
        '{"time":"2026-11-20T10:14:02Z","level":"info","msg":"request","method":"POST","path":"/api/cart","status":500,"duration_ms":12}',
        IN,
        "error/application_error/frontend",
        WEB,
        attrs={"method": "POST", "path": "/api/cart", "status": 500, "duration_ms": 12},
    ),
    c("deadlock detected", E, "error/application_error/postgres", PG),
    c(
        "thread 'main' panicked at lib/collection/src/shards/local_shard/mod.rs:212:14: called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound }",
        E,
        "critical/application_error/qdrant",
        QDRANT,
    ),
    c(
        "CUDA error: an illegal memory access was encountered",
        E,
        "critical/application_error/llama_server",
        LLAMA,
    ),
    c('relation "documents" does not exist', E, "error/application_error/postgres", PG),
    c("failed to render template: unexpected end of input", E, "error/application_error/api", API),
    c(
        'msg="failed to process job" job_id=8812 err="unexpected nil result"',
        IN,
        "warn/application_error/api",
        API,
    ),
    # ---------------------------------------------------------------- retries and wording
    c(
        'level=warn msg="connection to qdrant failed, retrying" attempt=2/5 err="dial tcp 10.96.22.4:6333: connect: connection refused"',
        W,
        "warn/dependency/qdrant",
        RAG,
    ),
    c(
        'level=error msg="giving up connecting to qdrant after 5 attempts" err="dial tcp 10.96.22.4:6333: connect: connection refused"',
        E,
        "critical/dependency/qdrant",
        RAG,
    ),
    c(
        'level=info msg="failed to connect to postgres, will retry in 5s" err="dial tcp 10.96.40.12:5432: connect: connection refused"',
        IN,
        "warn/dependency/postgres",
        API,
    ),
    c(
        "Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError': Failed to establish a new connection: [Errno 111] Connection refused; max retries exceeded",
        E,
        "critical/network/rag_api",
        RAG,
    ),
    c(
        'level=info msg="failed to refresh model list" err="unexpected status 500"',
        IN,
        "warn/application_error/rag_api",
        RAG,
    ),
    # ---------------------------------------------------------------- benign error-looking lines
    c(
        'level=error ts=2026-11-20T10:14:02Z caller=retry.go:95 org_id=fake msg="error processing request" try=0 err="context canceled"',
        E,
        "info/none/loki",
        LOKI,
    ),
    c(
        "http: TLS handshake error from 10.0.0.1:41712: EOF",
        IN,
        "info/none/kube_apiserver",
        APISERVER,
    ),
    c("could not receive data from client: Connection reset by peer", IN, "info/none/postgres", PG),
    c(
        '[INFO] 10.244.1.17:53210 - 41823 "AAAA IN api.openai.com.llm.svc.cluster.local. udp 62 false 512" NXDOMAIN qr,aa,rd 155 0.000137s',
        IN,
        "info/none/coredns",
        COREDNS,
    ),
    c(
        "I1120 10:14:02.000000   23412 request.go:697] Waited for 1.045883s due to client-side throttling, not priority and fairness, request: GET:https://10.0.0.10:6443/api/v1/namespaces/flux-system",
        IN,
        "info/none/kustomize_controller",
        KUSTOMIZE,
    ),
    c(
        "W1120 10:14:02.000000       1 reflector.go:456] k8s.io/client-go/informers/factory.go:150: watch of *v1.Endpoints ended with: too old resource version: 1234 (5678)",
        W,
        "info/none/kube_controller_manager",
        KCM,
    ),
    c(
        "http2: server: error reading preface from client 10.0.0.1:38122: read tcp 10.244.1.17:8443->10.0.0.1:38122: read: connection reset by peer",
        IN,
        "info/none/alloy",
        ALLOY,
    ),
    c(
        "policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use policy/v1 PodDisruptionBudget",
        W,
        "info/none/helm_controller",
        HELM,
    ),
    c("INFO:     Shutting down gracefully", IN, "info/none/rag_api", RAG),
    c(
        "attempting to acquire leader lease kube-system/kube-scheduler...",
        IN,
        "info/none/kube_scheduler",
        SCHED,
    ),
    # ---------------------------------------------------------------- plain info
    c('INFO:     10.244.1.17:52312 - "GET /health HTTP/1.1" 200 OK', IN, "info/none/rag_api", RAG),
    c(
        'level=info ts=2026-11-20T10:14:02Z caller=table_manager.go:136 msg="uploading tables" errors=0',
        IN,
        "info/none/loki",
        LOKI,
    ),
    c(
        '{"level":"info","ts":"2026-11-20T10:14:02.000Z","msg":"Reconciliation finished in 1.2s, next run in 10m0s","controller":"kustomization","revision":"main@sha1:4b1c2d"}',
        IN,
        "info/none/kustomize_controller",
        KUSTOMIZE,
    ),
    c(
        "checkpoint complete: wrote 1234 buffers (7.5%); 0 WAL file(s) added, 0 removed, 1 recycled",
        IN,
        "info/none/postgres",
        PG,
    ),
    c(
        "main: server is listening on http://0.0.0.0:8080 - starting the main loop",
        IN,
        "info/none/llama_server",
        LLAMA,
    ),
    c(
        '[INFO] 10.244.1.17:53210 - 3 "A IN qdrant.search.svc.cluster.local. udp 49 false 512" NOERROR qr,aa,rd 108 0.000121s',
        IN,
        "info/none/coredns",
        COREDNS,
    ),
    c(
        "Started container llama",
        IN,
        "info/none/llama_server",
        EVENTS,
        attrs=event("Started", "Pod", "llama-server-7d9f-x2x", warning=False),
    ),
    c(
        '10.0.0.7 - - [20/Nov/2026:10:14:02 +0000] "GET /api/errors/recent HTTP/1.1" 200 5120 "-" "Mozilla/5.0"',
        IN,
        "info/none/ingress_nginx_controller",
        NGINX,
    ),
    c(
        "Scheduled: Successfully assigned llm/llama-server-7d9f-x2x to node-2",
        IN,
        "info/none/llama_server",
        EVENTS,
        attrs=event("Scheduled", "Pod", "llama-server-7d9f-x2x", warning=False),
    ),
]


def _outcome(case: Case) -> tuple[str, str, str | None]:
    got = classify_message(case.message, case.level, case.labels, case.attrs)
    return got.severity.value, got.category.value, got.component


def test_table_covers_every_category_and_benign_lines() -> None:
    categories = {case.category for case in CASES}
    assert categories == {category.value for category in Category}
    assert len(CASES) >= 150
    benign = [
        case
        for case in CASES
        if case.category == "none" and LEVEL_ORDER[case.level] >= LEVEL_ORDER[Level.WARN]
    ]
    assert len(benign) >= 3


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_classify_message_on_realistic_lines(case: Case) -> None:
    assert _outcome(case) == (case.severity, case.category, case.component)


def test_table_accuracy_per_field() -> None:
    scores: Counter[str] = Counter()
    for case in CASES:
        severity, category, component = _outcome(case)
        scores["severity"] += severity == case.severity
        scores["category"] += category == case.category
        scores["component"] += component == case.component
    print({name: f"{hits}/{len(CASES)}" for name, hits in scores.items()})
    assert min(scores.values()) == len(CASES)


def test_benign_signature_marks_line_benign() -> None:
    got = classify_message("http: TLS handshake error from 10.0.0.1:41712: EOF", Level.ERROR)
    assert got.benign
    assert got.signature is not None and got.signature.id == "tls.handshake_eof"


def test_unmatched_error_line_falls_back_to_keyword_category() -> None:
    got = classify_message("upload to s3 bucket failed: disk quota hit on volume", Level.ERROR, API)
    assert got.signature is None
    assert (got.severity, got.category, got.component) == (Severity.ERROR, Category.STORAGE, "api")


def test_info_line_without_failure_wording_is_info_none() -> None:
    got = classify_message("loaded 42 documents into collection docs", Level.INFO, RAG)
    assert (got.severity, got.category, got.signature) == (Severity.INFO, Category.NONE, None)


def test_match_text_appends_error_detail_from_attrs() -> None:
    text = match_text("failed to flush", {"err": "no space left on device", "caller": "x.go:1"})
    assert text == "failed to flush | no space left on device"
    assert match_text("msg", None) == "msg"


def test_keyword_category_returns_none_without_clue() -> None:
    assert keyword_category("something odd happened") is None
    assert keyword_category("lookup of foo failed: no such host") is Category.DNS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kube-apiserver", "kube_apiserver"),
        ("llama.cpp", "llama_server"),
        ("llama-server", "llama_server"),
        ("llama-server-7d9f-x2x", "llama_server"),
        ("rag-api-85d9c7f6b4-p9o8i", "rag_api"),
        ("postgres-0", "postgres"),
        ("kube-proxy-x7k2p", "kube_proxy"),
        ("kube-apiserver-cp-1", "kube_apiserver"),
        ("etcd-node-1", "etcd"),
        ("coredns-5d78c9869d-8xk2p", "coredns"),
        ("cert-manager-webhook", "cert_manager_webhook"),
        ("kubelet.service", "kubelet"),
        ("Grafana", "grafana"),
        ("integrations/kubernetes/eventhandler", "eventhandler"),
        # Generated parts use Kubernetes' vowel-free alphabet, with or without digits.
        ("orders-api-bztlmzglr-m7whg", "orders_api"),
        ("llama-server-mxwntfpxg-j2bjz", "llama_server"),
        ("linkding-sync-stdwj2ndsd-8lbjf", "linkding_sync"),
        ("cert-manager-cainjector", "cert_manager_cainjector"),
    ],
)
def test_normalize_component(text: str, expected: str) -> None:
    assert normalize_component(text) == expected


def test_component_from_labels_skips_generic_container_names() -> None:
    assert component_from_labels(HELM) == "helm_controller"
    assert component_from_labels({"app": "grafana", "container": "main"}) == "grafana"
    assert component_from_labels({}) is None
    assert component_from_labels(None) is None


def test_component_prefers_the_workload_over_a_role_container() -> None:
    labels = {"pod": "search-api-7c9dbm9gz-x2x4k", "container": "api"}
    assert component_from_labels(labels) == "search_api"
    envoy = {"pod": "envoy-default-eg-e41e7b31-6f8d6c8f9b-xk2pq", "container": "envoy"}
    assert component_from_labels(envoy) == "envoy"


def test_kubelet_line_about_a_pod_names_that_pods_workload() -> None:
    journal = {"node": "node-2", "job": "node/journal", "unit": "kubelet.service"}
    attrs = {
        "probeType": "Readiness",
        "pod": "shop/orders-api-hkmgk8jn5-qwfh7",
        "containerName": "orders-api",
        "output": 'Get "http://10.42.1.198:8080/health": context deadline exceeded',
    }
    verdict = classify_message("Probe failed", Level.INFO, journal, attrs)
    assert verdict.category is Category.PROBE_FAILURE
    assert verdict.component == "orders_api"


def test_crashloop_event_names_the_pod_workload_not_the_container() -> None:
    message = (
        "Back-off restarting failed container sync in pod "
        "linkding-sync-stdwj2ndsd-8lbjf_apps(60e75796-3ea1-5637-8d46-a6a33986ab5e)"
    )
    verdict = classify_message(message, Level.WARN, {"unit": "kubelet.service"})
    assert (verdict.category, verdict.component) == (Category.CRASHLOOP, "linkding_sync")


def test_kernel_oom_kill_names_a_process_for_triage_to_map() -> None:
    journal = {"node": "node-2", "job": "node/journal", "unit": "kernel"}
    kill = classify_message(
        "Memory cgroup out of memory: Killed process 63840 (uvicorn) total-vm:3239924kB",
        Level.UNKNOWN,
        journal,
    )
    invoked = classify_message(
        "uvicorn invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0", Level.UNKNOWN, journal
    )
    for verdict in (kill, invoked):
        assert (verdict.category, verdict.component) == (Category.OOM, "uvicorn")
        assert verdict.component_source == "process"


def test_failure_words_inside_quoted_data_do_not_raise_an_info_line() -> None:
    line = (
        'level=info caller=metrics.go:237 component=frontend query="{namespace=\\"db\\"} '
        '|= \\"error\\"" query_type=filter'
    )
    verdict = classify_message(line, Level.INFO, {"pod": "loki-0"})
    assert (verdict.severity, verdict.category) == (Severity.INFO, Category.NONE)


def test_duplicate_key_errors_from_postgres_are_benign() -> None:
    line = 'ERROR:  duplicate key value violates unique constraint "idempotency_keys_pkey"'
    verdict = classify_message(line, Level.ERROR, {"pod": "postgres-0"})
    assert verdict.benign and verdict.category is Category.NONE


def test_config_that_stops_start_up_is_critical() -> None:
    for line in (
        'Error: /etc/alloy/config.alloy:51:3: unrecognized attribute name "batch_wait_time"',
        "error: invalid argument: --flash-attn-type",
    ):
        got = classify_message(line, Level.ERROR, API)
        assert (got.severity, got.category) == (Severity.CRITICAL, Category.CONFIG), line
    reload = 'level=error msg="failed to evaluate config" err="/etc/alloy/config.alloy:12:3: bad"'
    assert classify_message(reload, Level.ERROR, API).severity is Severity.ERROR


def test_kubelet_image_pull_errors_name_the_workload_of_the_image() -> None:
    got = classify_message(
        "PullImage from image service failed",
        Level.ERROR,
        {"node": "node-2", "unit": "kubelet.service"},
        {"err": "rpc error: failed to pull and unpack image ", "image": "ghcr.io/x/paperless:2.8"},
    )
    assert (got.severity, got.category, got.component) == (
        Severity.ERROR,
        Category.IMAGE_PULL,
        "paperless",
    )


def test_an_expired_webhook_certificate_is_critical_and_names_the_webhook() -> None:
    got = classify_message(
        'Failed calling webhook, failing closed validate.kyverno.svc: failed calling webhook "validate.kyverno.svc": '
        'failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate?timeout=10s": tls: failed to '
        "verify certificate: x509: certificate has expired or is not yet valid",
        Level.WARN,
        {"namespace": "kube-system", "pod": "kube-apiserver-cp-1", "container": "kube-apiserver"},
    )
    assert (got.severity, got.category, got.component) == (
        Severity.CRITICAL,
        Category.TLS,
        "kyverno_svc",
    )
