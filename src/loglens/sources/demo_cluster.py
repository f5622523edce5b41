"""The demo cluster's shape: nodes, pods, labels, and the cheap helpers emitters share.

A `Stream` is one container's log (or a node journal, or the event exporter): its
labels, a nominal rate in lines per second, and weighted `Emitter`s that each write
one raw line. Emitters are closures over the cluster (pod names, IPs) built once per
seed; per line they only pick a few random values and fill an f-string. `Clock`
caches the formatted second so the timestamp inside a line costs one format of the
sub-second part.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

NS = 1_000_000_000


class Clock:
    """The current record's time, with per-second text forms cached."""

    __slots__ = ("iso", "klog", "ns", "pg", "sec")

    def __init__(self) -> None:
        self.sec = -1
        self.ns = 0
        self.iso = ""
        self.pg = ""
        self.klog = ""

    def set(self, ts_ns: int) -> None:
        sec, self.ns = divmod(ts_ns, NS)
        if sec != self.sec:
            self.sec = sec
            moment = datetime.fromtimestamp(sec, tz=UTC)
            self.iso = moment.strftime("%Y-%m-%dT%H:%M:%S")
            self.pg = self.iso.replace("T", " ")
            self.klog = moment.strftime("%m%d %H:%M:%S")

    @property
    def rfc3339_us(self) -> str:
        """`2026-11-20T10:00:01.123456Z` (zap, Rust tracing)."""
        return f"{self.iso}.{self.ns // 1000:06d}Z"

    @property
    def rfc3339_ms(self) -> str:
        """`2026-11-20T10:00:01.123Z` (Flux, controller-runtime)."""
        return f"{self.iso}.{self.ns // 1_000_000:03d}Z"

    @property
    def rfc3339_ns(self) -> str:
        """`2026-11-20T10:00:01.123456789Z` (Loki, Alloy, Grafana)."""
        return f"{self.iso}.{self.ns:09d}Z"

    @property
    def postgres(self) -> str:
        """`2026-11-20 10:00:01.123 UTC` (Postgres log_line_prefix '%m')."""
        return f"{self.pg}.{self.ns // 1_000_000:03d} UTC"

    def klog_head(self, severity: str, pid: int, source: str) -> str:
        """`I1120 10:00:01.123456       1 file.go:123] ` (klog header)."""
        return f"{severity}{self.klog}.{self.ns // 1000:06d} {pid:7d} {source}] "


Emitter = Callable[[random.Random, Clock], str]


@dataclass(frozen=True, slots=True)
class Stream:
    """One log stream of the demo cluster."""

    key: str
    labels: dict[str, str]
    rate: float
    emitters: tuple[tuple[float, Emitter], ...]


@dataclass(slots=True)
class Pod:
    """A pod of the demo cluster: name, IP, uid and the node it runs on."""

    namespace: str
    name: str
    container: str
    node: str
    ip: str
    uid: str
    kind: str = "deploy"

    def labels(self, **extra: str) -> dict[str, str]:
        return {
            "namespace": self.namespace,
            "pod": self.name,
            "container": self.container,
            "node": self.node,
            **extra,
        }

    @property
    def ref(self) -> str:
        """`namespace/name`, as klog and kubelet print a pod."""
        return f"{self.namespace}/{self.name}"


# Deployment and replica-set hash suffixes use the Kubernetes "safe" alphabet.
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def rs_hash(rng: random.Random) -> str:
    return "".join(rng.choice(_SAFE_ALPHABET) for _ in range(rng.choice((9, 10))))


def pod_suffix(rng: random.Random) -> str:
    return "".join(rng.choice(_SAFE_ALPHABET) for _ in range(5))


def between(rng: random.Random, low: float, high: float) -> float:
    """A uniform float in [low, high) (durations and latencies in lines)."""
    return low + (high - low) * rng.random()


def hex_id(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def uuid4(rng: random.Random) -> str:
    h = hex_id(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def token(rng: random.Random, length: int = 8) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))


# (key, namespace, workload name, container, node, kind) of every pod in the cluster.
# kind: "deploy" gets a replica-set hash and pod suffix, "sts" an ordinal, "ds" a
# pod suffix, "static" the node name (control-plane static pods).
_POD_TABLE: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("kube-apiserver", "kube-system", "kube-apiserver", "kube-apiserver", "node-1", "static"),
    ("kube-scheduler", "kube-system", "kube-scheduler", "kube-scheduler", "node-1", "static"),
    (
        "kube-controller-manager",
        "kube-system",
        "kube-controller-manager",
        "kube-controller-manager",
        "node-1",
        "static",
    ),
    ("etcd", "kube-system", "etcd", "etcd", "node-1", "static"),
    ("coredns", "kube-system", "coredns", "coredns", "node-1", "deploy"),
    ("kube-proxy-1", "kube-system", "kube-proxy", "kube-proxy", "node-1", "ds"),
    ("kube-proxy-2", "kube-system", "kube-proxy", "kube-proxy", "node-2", "ds"),
    ("source-controller", "flux-system", "source-controller", "manager", "node-1", "deploy"),
    ("kustomize-controller", "flux-system", "kustomize-controller", "manager", "node-1", "deploy"),
    ("helm-controller", "flux-system", "helm-controller", "manager", "node-1", "deploy"),
    ("grafana", "monitoring", "grafana", "grafana", "node-1", "deploy"),
    ("loglens", "loglens", "loglens-api", "api", "node-1", "deploy"),
    ("event-exporter", "monitoring", "event-exporter", "event-exporter", "node-1", "deploy"),
    ("llama-server", "llm", "llama-server", "llama", "node-2", "deploy"),
    ("loki", "monitoring", "loki", "loki", "node-2", "sts"),
    ("qdrant", "qdrant", "qdrant", "qdrant", "node-2", "sts"),
    ("postgres", "db", "postgres", "postgres", "node-2", "sts"),
    ("alloy-1", "monitoring", "alloy", "alloy", "node-1", "ds"),
    ("alloy-2", "monitoring", "alloy", "alloy", "node-2", "ds"),
)

NODE_IPS = {"node-1": "192.168.1.21", "node-2": "192.168.1.22"}
POD_CIDR_PREFIX = {"node-1": "10.42.0", "node-2": "10.42.1"}
CLUSTER_DNS = "10.43.0.10"


@dataclass(slots=True)
class Cluster:
    """Every pod of the demo cluster, named and addressed once per seed."""

    pods: dict[str, Pod] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Pod:
        return self.pods[key]


def build_cluster(rng: random.Random) -> Cluster:
    """Name and address every pod (realistic replica-set hashes, pod IPs per node)."""
    cluster = Cluster()
    next_host = {"node-1": 2, "node-2": 2}
    for key, namespace, workload, container, node, kind in _POD_TABLE:
        if kind == "static":
            name = f"{workload}-{node}"
            ip = NODE_IPS[node]
        else:
            if kind == "deploy":
                name = f"{workload}-{rs_hash(rng)}-{pod_suffix(rng)}"
            elif kind == "sts":
                name = f"{workload}-0"
            else:
                name = f"{workload}-{pod_suffix(rng)}"
            next_host[node] += rng.randint(1, 6)
            ip = f"{POD_CIDR_PREFIX[node]}.{next_host[node]}"
        cluster.pods[key] = Pod(namespace, name, container, node, ip, uuid4(rng), kind)
    return cluster


def node_labels(node: str, unit: str) -> dict[str, str]:
    """Labels of a node journal stream (kubelet, kernel), as Alloy's journal scrape sets."""
    name = "kernel" if unit == "kernel" else unit.removesuffix(".service")
    return {
        "namespace": "kube-system",
        "pod": f"{name}-{node}",
        "container": name,
        "node": node,
        "source": "journal",
        "unit": unit,
    }


def event_labels(cluster: Cluster, namespace: str) -> dict[str, str]:
    """Labels of the event-exporter stream for events of one namespace."""
    exporter = cluster["event-exporter"]
    return {
        "namespace": namespace,
        "pod": exporter.name,
        "container": "event-exporter",
        "node": exporter.node,
        "source": "events",
    }


def event_json(
    c: Clock,
    pod_like: tuple[str, str, str],
    *,
    type_: str,
    reason: str,
    message: str,
    source: str,
    host: str = "",
    count: int = 1,
    field_path: str = "",
    suffix: str = "",
) -> str:
    """One Kubernetes event as kubernetes-event-exporter writes it (a JSON object per line).

    `pod_like` is (kind, namespace, name) of the involved object.
    """
    kind, namespace, name = pod_like
    stamp = f"{c.iso}Z"
    involved: dict[str, str] = {"kind": kind, "namespace": namespace, "name": name}
    if field_path:
        involved["fieldPath"] = field_path
    event = {
        "metadata": {"name": f"{name}.{suffix or f'{c.sec:x}{c.ns:x}'}", "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {"component": source, "host": host} if host else {"component": source},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": count,
        "type": type_,
    }
    return orjson.dumps(event).decode()
