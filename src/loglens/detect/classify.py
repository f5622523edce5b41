"""Classify one parsed line (or one pattern's template): severity, category, component.

Order of evidence, strongest first:

1. a catalog signature (benign ones turn an error-looking line into info/none);
2. for Kubernetes events, the event `reason` (BackOff -> crashloop, ...);
3. for HTTP access lines, the response status;
4. the level and a keyword classifier over the wording, so that failures no
   signature knows still get a sensible category.

The component comes from the signature, then the event's involved object, then the
record's labels (container, app, pod without its replica hash), normalised as in
golden-format.md. Functions take plain values (message, level, labels, attrs), so
they work for a line from the parser and for a mined template alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from loglens.detect.catalog import Signature, SignatureCatalog, default_catalog
from loglens.detect.severity import (
    adjust_for_wording,
    classify_http_status,
    http_status,
    min_severity,
    reports_failure,
    severity_from_level,
)
from loglens.detect.upstream import call_failed, named_upstream
from loglens.model import Category, Level, Severity


@dataclass(frozen=True, slots=True)
class LineClass:
    """What one line says: how urgent, what kind of problem, where, and why we think so."""

    severity: Severity
    category: Category
    component: str | None
    signature: Signature | None
    benign: bool = False
    # The named upstream a failing call went to, when the line is about one.
    upstream: str | None = None
    # How the component was found: "process" when it is only a process name a node-level
    # line (kernel OOM killer) gives, which triage may map to the workload it belongs to.
    component_source: str = "labels"


_INFO_NONE = (Severity.INFO, Category.NONE)

# --------------------------------------------------------------------------------------
# Components
# --------------------------------------------------------------------------------------

_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")
# Generated name parts (ReplicaSet hash, pod suffix) use Kubernetes' "safe" alphabet:
# consonants and digits without vowels, 0, 1 and 3, so they never spell words. That
# keeps names like `cert-manager-webhook` intact. Hand-written short forms
# (`llama-server-7d9f-x2x`) still count when the hash holds a digit.
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD_RE = re.compile(
    rf"^(.+?)-(?:{_SAFE}{{5,10}}|(?=[a-z0-9]*\d)[a-z0-9]{{3,10}})-(?:{_SAFE}{{5}}|[a-z0-9]{{3,5}})$"
)
_STATEFUL_POD_RE = re.compile(r"^(.+?)-\d+$")
_DAEMON_POD_RE = re.compile(rf"^(.+?)-(?:(?=[a-z]*\d){_SAFE}{{5}}|(?=[a-z]*\d)[a-z0-9]{{5}})$")

_ALIASES: dict[str, str] = {
    "llama": "llama_server",
    "llama_cpp": "llama_server",
    "llamacpp": "llama_server",
    "llama_cpp_server": "llama_server",
    "llamacpp_server": "llama_server",
    "llama_server_cuda": "llama_server",
    "apiserver": "kube_apiserver",
    "kube_api_server": "kube_apiserver",
    "controller_manager": "kube_controller_manager",
    "scheduler": "kube_scheduler",
    "kube_dns": "coredns",
    "postgresql": "postgres",
    "pg": "postgres",
    "cnpg": "postgres",
    "grafana_alloy": "alloy",
    "flux_helm_controller": "helm_controller",
    "flux_kustomize_controller": "kustomize_controller",
    "flux_source_controller": "source_controller",
    "loki_write": "loki",
    "loki_read": "loki",
    "loki_backend": "loki",
    "loki_single_binary": "loki",
}
# Static control-plane pods are named <component>-<node name>.
_PREFIXES = ("kube_apiserver", "kube_controller_manager", "kube_scheduler", "etcd", "coredns")
# The app label names what a person calls the service; then the pod's workload and the
# container (see `_pod_or_container`), then what non-Kubernetes shippers set.
_APP_KEYS = ("app_kubernetes_io_name", "app.kubernetes.io/name", "app", "k8s_app")
_OTHER_KEYS = ("service_name", "service", "unit", "job")
# Container names that say nothing about the program; look further.
_GENERIC_CONTAINERS = frozenset({"app", "main", "server", "container", "controller", "manager"})


def normalize_component(text: str) -> str:
    """`kube-apiserver` -> `kube_apiserver`, `llama-server-7d9f-x2x` -> `llama_server`."""
    name = text.strip().lower().rsplit("/", 1)[-1]
    name = name.removesuffix(".service")
    for pattern in (_DEPLOYMENT_POD_RE, _STATEFUL_POD_RE, _DAEMON_POD_RE):
        found = pattern.match(name)
        if found is not None:
            name = found.group(1)
            break
    name = _NON_ALNUM_RE.sub("_", name).strip("_")
    if name in _ALIASES:
        return _ALIASES[name]
    for prefix in _PREFIXES:
        if name.startswith(prefix + "_"):
            return prefix
    return name


def component_from_labels(labels: Mapping[str, str] | None) -> str | None:
    """The component a record's labels name: container, else app, else pod without hash."""
    if not labels:
        return None
    for key in _APP_KEYS:
        value = labels.get(key)
        if value and (name := normalize_component(value)):
            return name
    workload = _pod_or_container(labels)
    if workload:
        return workload
    for key in _OTHER_KEYS:
        value = labels.get(key)
        if value and (name := normalize_component(value)):
            return name
    return None


def _pod_or_container(labels: Mapping[str, str]) -> str | None:
    """The pod's workload, unless the container is its short name.

    Container names are often a role inside the workload (`api` in `search-api-…`,
    `sync` in `linkding-sync-…`, `cilium-agent` in `cilium-…`), so the workload names
    the service better. When the workload starts with the container's name (`envoy` in
    `envoy-default-eg-e41e7b31-…`), the container is the cleaner name.
    """
    pod = labels.get("pod")
    container = labels.get("container")
    workload = normalize_component(pod) if pod else ""
    if not container or container.lower() in _GENERIC_CONTAINERS:
        return workload or None
    name = normalize_component(container)
    if not workload or (name and workload.startswith(name + "_")):
        return name or workload or None
    return workload


# A pod a node-level agent or controller speaks about: klog `pod="ns/name"`, the
# kubelet's `pod=name_ns(uid)`, an event's `in pod name_ns(uid)`.
_POD_MENTION_RE = re.compile(
    r'(?:\bpod=|\bin pod )"?(?:[a-z0-9][a-z0-9-]*/)?(?P<pod>[a-z0-9][a-z0-9.-]*[a-z0-9])'
    r'(?=[_"\s(,]|$)'
)
_POD_ATTR_KEYS = ("pod", "pod_name", "k8s.pod.name", "k8s_pod_name", "podName")


def image_workload(attrs: Mapping[str, Any] | None) -> str | None:
    """The workload an image belongs to, by its repository name (`ghcr.io/x/paperless:2.8`)."""
    image = attrs.get("image") if attrs else None
    if not isinstance(image, str) or not image:
        return None
    repository = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return normalize_component(repository) or None


def mentioned_pod_workload(text: str, attrs: Mapping[str, Any] | None) -> str | None:
    """The workload of a pod a line is about (structured `pod` attr, or `pod=` in the text)."""
    if attrs:
        for key in _POD_ATTR_KEYS:
            value = attrs.get(key)
            if isinstance(value, str) and value:
                return normalize_component(value)
    found = _POD_MENTION_RE.search(text)
    return normalize_component(found.group("pod")) if found is not None else None


# --------------------------------------------------------------------------------------
# Kubernetes events
# --------------------------------------------------------------------------------------

_EVENT_REASONS: dict[str, tuple[Severity, Category]] = {
    "backoff": (Severity.ERROR, Category.CRASHLOOP),
    "crashloopbackoff": (Severity.ERROR, Category.CRASHLOOP),
    "unhealthy": (Severity.WARN, Category.PROBE_FAILURE),
    "probewarning": (Severity.WARN, Category.PROBE_FAILURE),
    "failedscheduling": (Severity.ERROR, Category.SCHEDULING),
    "failedmount": (Severity.ERROR, Category.STORAGE),
    "failedattachvolume": (Severity.ERROR, Category.STORAGE),
    "provisioningfailed": (Severity.ERROR, Category.STORAGE),
    "volumeresizefailed": (Severity.ERROR, Category.STORAGE),
    "oomkilling": (Severity.CRITICAL, Category.OOM),
    "systemoom": (Severity.CRITICAL, Category.OOM),
    "oomkilled": (Severity.CRITICAL, Category.OOM),
    "evicted": (Severity.ERROR, Category.RESOURCE_PRESSURE),
    "evictionthresholdmet": (Severity.WARN, Category.RESOURCE_PRESSURE),
    "freediskspacefailed": (Severity.WARN, Category.RESOURCE_PRESSURE),
    "imagegcfailed": (Severity.WARN, Category.RESOURCE_PRESSURE),
    "nodenotready": (Severity.CRITICAL, Category.NODE),
    "nodenotschedulable": (Severity.WARN, Category.NODE),
    "rebooted": (Severity.WARN, Category.NODE),
    "failedcreatepodsandbox": (Severity.ERROR, Category.NODE),
    "failedkillpod": (Severity.WARN, Category.NODE),
    "networknotready": (Severity.ERROR, Category.NETWORK),
    "errimagepull": (Severity.ERROR, Category.IMAGE_PULL),
    "imagepullbackoff": (Severity.ERROR, Category.IMAGE_PULL),
    "inspectfailed": (Severity.ERROR, Category.IMAGE_PULL),
    "failedcreate": (Severity.ERROR, Category.CONTROL_PLANE),
    "faileddelete": (Severity.WARN, Category.CONTROL_PLANE),
    "progressdeadlineexceeded": (Severity.ERROR, Category.DEPLOYMENT),
    "installfailed": (Severity.ERROR, Category.DEPLOYMENT),
    "upgradefailed": (Severity.ERROR, Category.DEPLOYMENT),
    "reconciliationfailed": (Severity.ERROR, Category.DEPLOYMENT),
    "dnsconfigforming": (Severity.WARN, Category.DNS),
    "failedprestophook": (Severity.WARN, Category.APPLICATION_ERROR),
    "failedpoststarthook": (Severity.ERROR, Category.APPLICATION_ERROR),
    "failedsync": (Severity.WARN, Category.CONFIG),
}
_IMAGE_WORDS_RE = re.compile(r"\bimage\b|\bpull", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Event:
    reason: str
    warning: bool
    object_kind: str
    object_name: str


def _event_of(attrs: Mapping[str, Any] | None) -> _Event | None:
    """The Kubernetes event in a parsed line's attrs (event-exporter JSON or Alloy logfmt)."""
    if not attrs:
        return None
    reason = attrs.get("reason")
    kind = attrs.get("type")
    if not isinstance(reason, str) or kind not in ("Warning", "Normal"):
        return None
    involved = attrs.get("involvedObject") or attrs.get("involved_object")
    if isinstance(involved, Mapping):
        object_kind, object_name = involved.get("kind", ""), involved.get("name", "")
    else:
        object_kind, object_name = attrs.get("kind", ""), attrs.get("name", "")
    return _Event(
        reason=reason,
        warning=kind == "Warning",
        object_kind=str(object_kind or ""),
        object_name=str(object_name or ""),
    )


def _event_class(event: _Event, message: str) -> tuple[Severity, Category]:
    reason = event.reason.lower()
    if reason in ("failed", "backoff") and _IMAGE_WORDS_RE.search(message):
        return Severity.ERROR, Category.IMAGE_PULL
    mapped = _EVENT_REASONS.get(reason)
    if mapped is not None:
        return mapped
    if not event.warning:
        return _INFO_NONE
    return Severity.WARN, keyword_category(message) or Category.APPLICATION_ERROR


def _event_component(event: _Event) -> str | None:
    if event.object_kind == "Node":
        return "kubelet"
    if not event.object_name:
        return None
    name = event.object_name
    if event.object_kind == "PersistentVolumeClaim":
        # StatefulSet claims are named <template>-<statefulset>-<ordinal>.
        _, _, rest = name.partition("-")
        if rest and _STATEFUL_POD_RE.match(rest):
            name = rest
    return normalize_component(name)


# --------------------------------------------------------------------------------------
# Keyword fallback
# --------------------------------------------------------------------------------------

_KEYWORD_CATEGORIES: tuple[tuple[re.Pattern[str], Category], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), category)
    for pattern, category in (
        (r"out of memory|\boom|cannot allocate memory|memory limit|heap space", Category.OOM),
        (r"crashloop|back-off restarting|restarting failed container", Category.CRASHLOOP),
        (r"image ?pull|pull(?:ing)? image|manifest unknown", Category.IMAGE_PULL),
        (r"\b(?:liveness|readiness|startup) probe|probe failed", Category.PROBE_FAILURE),
        # aiohttp's "Cannot connect to host h:443 ssl:default" is a connect failure, not TLS.
        (r"cannot connect to host|connect call failed|connection refused", Category.NETWORK),
        (r"\bx509\b|certificate|\btls\b|\bssl\b|handshake", Category.TLS),
        (r"no such host|nxdomain|servfail|\bdns\b|name resolution|resolv", Category.DNS),
        (
            r"unauthori[sz]ed|forbidden|permission denied|access denied|authenticat"
            r"|credential|\btoken\b|\brbac\b|\b40[13]\b",
            Category.AUTH,
        ),
        (
            r"no space|\bdisk\b|\bvolume|\bmount|read-only|file ?system|\bpvc\b"
            r"|persistentvolume|i/o error|\binode",
            Category.STORAGE,
        ),
        (
            r"rate limit|too many requests|\b429\b|limit exceeded|exceeds? (?:the )?(?:max|limit)"
            r"|too large|too long|context size",
            Category.LIMIT_EXCEEDED,
        ),
        (r"evict|pressure|throttl|quota", Category.RESOURCE_PRESSURE),
        (r"schedul|unschedulable|taint|affinity", Category.SCHEDULING),
        (
            r"connection (?:refused|reset|closed|timed out)|timed? ?out|timeout|unreachable"
            r"|\bdial\b|\bsocket|\beof\b|broken pipe|network",
            Category.NETWORK,
        ),
        (
            r"\bconfig|invalid (?:value|argument|option|setting|flag)|\bmissing\b|not set"
            r"|\bparse|\byaml\b|\bschema\b|unknown (?:field|flag|option)",
            Category.CONFIG,
        ),
        (
            r"\bhelm\b|rollout|reconcil|kustomiz|\bupgrade|\bdeploy(?:ment)? failed",
            Category.DEPLOYMENT,
        ),
        (r"apiserver|\betcd\b|leader ?election|control.plane", Category.CONTROL_PLANE),
        (r"\bkubelet\b|containerd|\bnode\b.*not ?ready|\bpleg\b|\bcri\b", Category.NODE),
        (
            r"upstream|\bdatabase\b|\bdb\b|unavailable|\b50[234]\b|\bbackend\b"
            r"|dependency|service down",
            Category.DEPENDENCY,
        ),
    )
)


def keyword_category(message: str) -> Category | None:
    """A category from failure wording alone, or None when no word points anywhere."""
    for pattern, category in _KEYWORD_CATEGORIES:
        if pattern.search(message):
            return category
    return None


# --------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------

# Attribute keys whose text belongs with the message for matching (logfmt `err=`,
# a traceback's final exception line, the indented continuation lines of a joined event).
_DETAIL_KEYS = (
    "err",
    "error",
    "exception",
    "error.message",
    "exc_info",
    "reason_detail",
    "detail",
)
_GATEWAY_RE = re.compile(r"envoy|nginx|ingress|gateway|traefik|haproxy|caddy|proxy")


def match_text(message: str, attrs: Mapping[str, Any] | None) -> str:
    """The message plus error details that parsers keep in attrs (`err=...`)."""
    if not attrs:
        return message
    parts = [message]
    probe = attrs.get("probeType")
    if isinstance(probe, str) and probe and message.lower().startswith("probe "):
        # klog's structured `"Probe failed" probeType="Readiness"` -> `Readiness probe failed`.
        parts[0] = f"{probe} probe {message[6:]}"
    for key in _DETAIL_KEYS:
        value = attrs.get(key)
        if isinstance(value, str) and value and value not in message:
            parts.append(value)
    return " | ".join(parts) if len(parts) > 1 else message


def classify_message(
    message: str,
    level: Level,
    labels: Mapping[str, str] | None = None,
    attrs: Mapping[str, Any] | None = None,
    *,
    catalog: SignatureCatalog | None = None,
) -> LineClass:
    """Severity, category and component of one parsed line or template."""
    text = match_text(message, attrs)
    event = _event_of(attrs)
    signature = (catalog or default_catalog()).match(text, labels)
    if signature is not None:
        verdict = _from_signature(signature, text, level, labels, attrs, event)
    else:
        severity, category = _without_signature(text, level, labels, attrs, event)
        component = _line_component(text, labels, attrs, event)
        verdict = LineClass(severity, category, component, None)
    return _route_to_upstream(verdict, text)


# Categories a failing call to a named upstream is reported under before routing.
_CALL_CATEGORIES = frozenset({Category.NETWORK, Category.DEPENDENCY, Category.APPLICATION_ERROR})


def _route_to_upstream(verdict: LineClass, text: str) -> LineClass:
    """A failing call to a named upstream is that dependency's problem (taxonomy rule)."""
    if verdict.benign or verdict.category not in _CALL_CATEGORIES:
        return verdict
    if verdict.category is not Category.DEPENDENCY and not call_failed(text):
        return verdict
    upstream = named_upstream(text)
    if upstream is None:
        return verdict
    name = normalize_component(upstream)
    if not name or name == verdict.component or name == "kube_apiserver":
        return verdict
    return replace(verdict, category=Category.DEPENDENCY, component=name, upstream=name)


def _line_component(
    text: str,
    labels: Mapping[str, str] | None,
    attrs: Mapping[str, Any] | None,
    event: _Event | None,
) -> str | None:
    """Where a line without a signature points: event object, pod spoken about, labels."""
    if event is not None:
        from_event = _event_component(event)
        if from_event:
            return from_event
    if not (labels and labels.get("pod")):
        # A node-level agent (kubelet in the journal) speaking about a pod.
        mentioned = mentioned_pod_workload(text, attrs)
        if mentioned:
            return mentioned
    return component_from_labels(labels)


def _from_signature(
    signature: Signature,
    text: str,
    level: Level,
    labels: Mapping[str, str] | None,
    attrs: Mapping[str, Any] | None,
    event: _Event | None,
) -> LineClass:
    component, source = _signature_component(signature, text, labels, attrs, event)
    if signature.benign:
        return LineClass(Severity.INFO, Category.NONE, component, signature, benign=True)
    severity = signature.severity
    if signature.priority < 0 and level in (Level.WARN, Level.INFO, Level.DEBUG, Level.TRACE):
        # A generic signature (plain "connection refused") on a line the program
        # itself logged below error: trust the program's judgement.
        severity = min_severity(severity, Severity.WARN)
    severity = adjust_for_wording(severity, text, signature.category)
    return LineClass(severity, signature.category, component, signature, component_source=source)


def _signature_component(
    signature: Signature,
    text: str,
    labels: Mapping[str, str] | None,
    attrs: Mapping[str, Any] | None,
    event: _Event | None,
) -> tuple[str | None, str]:
    """Most specific first: the event's object, a pod the line is about, the captured name."""
    captured = signature.matched_component(text)
    if not captured and not signature.component_from_labels:
        return signature.component, "signature"
    if event is not None and event.object_kind != "Node":
        from_event = _event_component(event)
        if from_event:
            return from_event, "event"
    mentioned = mentioned_pod_workload(text, attrs)
    if mentioned:
        return mentioned, "pod"
    if signature.category is Category.IMAGE_PULL and (image := image_workload(attrs)):
        # The kubelet's pull errors name the image, not the pod that needs it.
        return image, "image"
    if captured:
        # Outside a pod (kernel, node events) the captured name is a process, not a workload.
        in_pod = labels is not None and "pod" in labels and event is None
        return normalize_component(captured), "captured" if in_pod else "process"
    return _line_component(text, labels, attrs, event), "labels"


def _without_signature(
    text: str,
    level: Level,
    labels: Mapping[str, str] | None,
    attrs: Mapping[str, Any] | None,
    event: _Event | None,
) -> tuple[Severity, Category]:
    if event is not None:
        severity, category = _event_class(event, text)
        return adjust_for_wording(severity, text, category), category
    status = http_status(text, attrs)
    if status is not None:
        return classify_http_status(status, gateway=_is_gateway(labels))
    return _from_level_and_wording(text, level)


# Quoted values of data keys (`query="... |= \"error\""`, a path, user input) are what the
# line reports about, not its verdict; message and error keys keep theirs.
_QUOTED_RE = re.compile(
    r'\b(?!(?:msg|message|err|error|reason)=)[\w.]+="(?:[^"\\]|\\.)*"', re.IGNORECASE
)


def _from_level_and_wording(text: str, level: Level) -> tuple[Severity, Category]:
    severity = severity_from_level(level)
    explicit_low = level in (Level.INFO, Level.DEBUG, Level.TRACE)
    failing = reports_failure(_QUOTED_RE.sub(" ", text) if explicit_low else text)
    if severity is Severity.INFO:
        if not failing:
            return _INFO_NONE
        # The program logged a failure at info/debug (or gave no level): raise it.
        severity = Severity.ERROR if level is Level.UNKNOWN else Severity.WARN
    serious = failing or severity in (Severity.ERROR, Severity.CRITICAL)
    if not serious:
        return severity, Category.NONE
    category = keyword_category(text) or Category.APPLICATION_ERROR
    return adjust_for_wording(severity, text, category), category


def _is_gateway(labels: Mapping[str, str] | None) -> bool:
    if not labels:
        return False
    return any(
        _GATEWAY_RE.search(labels.get(key, "").lower()) for key in ("container", "app", "pod")
    )


__all__ = [
    "LineClass",
    "classify_message",
    "component_from_labels",
    "keyword_category",
    "match_text",
    "normalize_component",
]
