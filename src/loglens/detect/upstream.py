"""Which named upstream a failing call was made to: the `dependency` rule of the taxonomy.

"connection refused" alone is a network fault; "connection refused" to Postgres, Redis,
Loki or a model server is that dependency being unavailable, and an on-call engineer
looks at the upstream, not at the caller. The upstream is read from what the line
names: a cluster Service host (`llama-server.llm.svc:8080` -> `llama_server`), a
public API host (`api.github.com` -> `github`), a well-known port (`:5432` ->
`postgres`), or the name of a well-known dependency in the wording (`redis
unavailable`). Cheap: a few regexes, run once per slice.
"""

from __future__ import annotations

import re

_SERVICE_HOST_RE = re.compile(
    r"\b(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.[a-z0-9-]+\.svc(?:\.cluster\.local)?\b"
)
_PUBLIC_HOST_RE = re.compile(
    r"\bhttps?://(?:[a-z0-9-]+\.)*(?P<name>[a-z0-9-]+)\.(?:com|io|org|net|dev|ai|cloud)\b"
)
_PORT_RE = re.compile(r"(?::|\bport )(?P<port>\d{4,5})\b")
_WELL_KNOWN_PORTS = {
    "5432": "postgres",
    "6379": "redis",
    "3306": "mysql",
    "27017": "mongodb",
    "9092": "kafka",
    "5672": "rabbitmq",
    "9200": "elasticsearch",
    "3100": "loki",
    "6333": "qdrant",
    "6334": "qdrant",
    "11434": "ollama",
    "11211": "memcached",
}
_DEPENDENCY_WORDS_RE = re.compile(
    r"\b(postgres(?:ql)?|redis|mysql|mariadb|mongo(?:db)?|kafka|rabbitmq|elasticsearch"
    r"|opensearch|memcached|loki|tempo|mimir|qdrant|minio|ollama|vllm|llama[-_]server)\b",
    re.IGNORECASE,
)
# Front names of a service that are not the service itself.
_SERVICE_SUFFIXES = (
    "-gateway",
    "-headless",
    "-primary",
    "-master",
    "-leader",
    "-rw",
    "-ro",
    "-svc",
    "-service",
    "-http",
    "-grpc",
    "-distributor",
    "-query-frontend",
)
# Hosts that are the cluster itself, not an application dependency.
_NOT_UPSTREAMS = frozenset({"kubernetes", "kube-dns", "localhost", "example", "svc", "cluster"})
# The upstream itself is down or failing: the host answered "nothing listens here"
# (refused), dropped the call (EOF, reset) or answered an error. Timeouts and missing
# routes are left out: they point at the network path, not at the upstream.
_CALL_FAILED_RE = re.compile(
    r"connection (?:refused|reset|closed|error|failed)|connect(?:ion)? call failed"
    r"|(?:cannot|can't|could not|couldn't|unable to|failed to) (?:connect|reach|open a connection)"
    r"|\bunavailable\b|\beof\b|returned (?:5\d\d|an error)|\b50[234]\b|error received from"
    r"|upstream",
    re.IGNORECASE,
)
_PATH_FAULT_RE = re.compile(
    r"i/o timeout|timed out|deadline exceeded|no route to host|network is unreachable",
    re.IGNORECASE,
)


def _service_name(host: str) -> str:
    name = host.lower()
    for suffix in _SERVICE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def named_upstream(text: str) -> str | None:
    """The upstream a failing call names (raw name, not normalised), or None."""
    for regex in (_SERVICE_HOST_RE, _PUBLIC_HOST_RE):
        for found in regex.finditer(text):
            name = found.group("name").lower()
            if name not in _NOT_UPSTREAMS:
                return _service_name(name)
    for found in _PORT_RE.finditer(text):
        service = _WELL_KNOWN_PORTS.get(found.group("port"))
        if service is not None:
            return service
    word = _DEPENDENCY_WORDS_RE.search(text)
    return word.group(1).lower() if word is not None else None


def call_failed(text: str) -> bool:
    """The wording says the upstream refused, dropped or failed a call (not a path fault)."""
    return _CALL_FAILED_RE.search(text) is not None and _PATH_FAULT_RE.search(text) is None
