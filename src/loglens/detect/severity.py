"""How urgent one line is: from its level, its wording and, for access logs, its status.

The catalog gives a base severity for known failures; this module holds the rules
that apply to every line: a retry that will recover is `warn`, exhausted retries
are `critical`, an INFO line that reports a failure is raised, and an HTTP access
line is judged by its status code. All functions are cheap enough to run per line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from loglens.model import SEVERITY_ORDER, Category, Level, Severity

_LEVEL_SEVERITY: dict[Level, Severity] = {
    Level.FATAL: Severity.CRITICAL,
    Level.ERROR: Severity.ERROR,
    Level.WARN: Severity.WARN,
}

_EXHAUSTED_RE = re.compile(
    r"giving up|gave up|retries exhausted|(?:retry|retries|attempts?) (?:budget )?exhausted"
    r"|max(?:imum)?[ _](?:retries|retry|attempts)(?: count)?(?: (?:reached|exceeded))?"
    r"|after \d+ (?:attempts|retries|tries)|no more retries|exceeded (?:the )?retry limit"
    r"|(?:reached|exceeded) (?:the )?max(?:imum)? (?:number of )?(?:retries|attempts)",
    re.IGNORECASE,
)
_RETRY_RE = re.compile(
    r"\bretrying\b|\bwill (?:be )?retr(?:y|ied)\b|\bretry(?:ing)? (?:in|after) \d"
    r"|\bbacking off\b|\bnext try in\b|\btrying again\b|\bretrying in\b|\bwill try again\b"
    r"|\bre-?connecting\b",
    re.IGNORECASE,
)
_ATTEMPT_RE = re.compile(r"\battempt\s*[#:=]?\s*(\d+)\s*(?:/|of|out of)\s*(\d+)", re.IGNORECASE)
# Failure wording, checked per word: one pass over the line's words is several times
# faster than one big alternation regex, which matters because this runs per line.
_WORD_RE = re.compile(r"[a-z0-9']+")
_FAILURE_WORDS = frozenset(
    [
        "fail",
        "failed",
        "failure",
        "failures",
        "fails",
        "failing",
        "error",
        "errors",
        "exception",
        "exceptions",
        "traceback",
        "panic",
        "panicked",
        "fatal",
        "unable",
        "cannot",
        "can't",
        "couldn't",
        "refused",
        "timeout",
        "timed",
        "unreachable",
        "denied",
        "forbidden",
        "unauthorized",
        "unauthorised",
        "invalid",
        "crash",
        "crashed",
        "killed",
        "abort",
        "aborted",
        "aborting",
        "corrupt",
        "corrupted",
        "corruption",
        "exceeded",
        "unavailable",
        "unhealthy",
        "lost",
    ]
)
_FAILURE_PHRASES = ("could not", "not found", "no such", "time out")
_FAILURE_SUFFIXES = ("error", "exception")  # ValueError, NullPointerException
_NOT_FAILURE_WORDS = frozenset({"noerror"})  # the DNS rcode for success
_NO_FAILURE_RE = re.compile(
    r"\b(?:no|0|zero) (?:errors|failures)\b|\bwithout (?:errors|failures)\b"
    r"|\berr(?:or)?s?\s*[=:]\s*(?:0|nil|null|none|<nil>|false)\b",
    re.IGNORECASE,
)

# Categories where the program retrying means the problem may clear by itself.
TRANSIENT_CATEGORIES = frozenset(
    {
        Category.NETWORK,
        Category.DNS,
        Category.DEPENDENCY,
        Category.CONTROL_PLANE,
        Category.NODE,
        Category.LIMIT_EXCEEDED,
    }
)
# Operations that are retried as a whole (a Helm upgrade, a Flux reconciliation) are
# transient when their fault is: `context deadline exceeded; retrying (1/3)` is, while
# Flux's periodic `next try in 10m` after a build error is not.
RETRIED_OPERATIONS = frozenset({Category.DEPLOYMENT})
_TRANSIENT_FAULT_RE = re.compile(
    r"deadline exceeded|timed? ?out\b|timeout|temporar(?:y|ily)|\bunavailable\b"
    r"|connection (?:refused|reset)|too many requests|try again later",
    re.IGNORECASE,
)

_REQUEST_LINE_RE = re.compile(
    r'"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT|TRACE) [^"]*" (\d{3})\b'
)
_STATUS_KEYS = ("status", "status_code", "statusCode", "http_status", "response_status", "code")
_REQUEST_KEYS = ("method", "path", "uri", "url", "request", "request_uri", "http_method")


def max_severity(first: Severity, second: Severity) -> Severity:
    return first if SEVERITY_ORDER[first] >= SEVERITY_ORDER[second] else second


def min_severity(first: Severity, second: Severity) -> Severity:
    return first if SEVERITY_ORDER[first] <= SEVERITY_ORDER[second] else second


def severity_from_level(level: Level) -> Severity:
    """The severity a level implies on its own (INFO and below: info)."""
    return _LEVEL_SEVERITY.get(level, Severity.INFO)


def retries_exhausted(message: str) -> bool:
    """The line says the program stopped retrying (`giving up`, `attempt 5/5`)."""
    if _EXHAUSTED_RE.search(message):
        return True
    attempt = _ATTEMPT_RE.search(message)
    return attempt is not None and int(attempt.group(1)) >= int(attempt.group(2)) > 1


def will_retry(message: str) -> bool:
    """The line says the program will try again (`retrying`, `attempt 2/5`)."""
    if _RETRY_RE.search(message):
        return True
    attempt = _ATTEMPT_RE.search(message)
    return attempt is not None and int(attempt.group(1)) < int(attempt.group(2))


def reports_failure(message: str) -> bool:
    """The wording reports a failure (`failed to`, `error:`, `refused`), not `0 errors`."""
    lowered = message.lower()
    if not _has_failure_word(lowered):
        return False
    if _NO_FAILURE_RE.search(lowered) is None:
        return True
    return _has_failure_word(_NO_FAILURE_RE.sub(" ", lowered))


def _has_failure_word(lowered: str) -> bool:
    for word in _WORD_RE.findall(lowered):
        if word in _FAILURE_WORDS or (
            word.endswith(_FAILURE_SUFFIXES) and word not in _NOT_FAILURE_WORDS
        ):
            return True
    return any(phrase in lowered for phrase in _FAILURE_PHRASES)


def adjust_for_wording(severity: Severity, message: str, category: Category) -> Severity:
    """Exhausted retries raise to critical; a pending retry of a transient fault caps at warn.

    A fault is transient by its category (network, DNS, dependency, ...), or for a
    retried operation (a deployment) by its wording (a timeout, `unavailable`).
    """
    if retries_exhausted(message):
        return Severity.CRITICAL
    transient = category in TRANSIENT_CATEGORIES or (
        category in RETRIED_OPERATIONS and _TRANSIENT_FAULT_RE.search(message) is not None
    )
    if transient and will_retry(message):
        return min_severity(severity, Severity.WARN)
    return severity


def http_status(message: str, attrs: Mapping[str, Any] | None = None) -> int | None:
    """The response status of an access-log line (uvicorn, nginx, envoy or JSON), else None."""
    found = _REQUEST_LINE_RE.search(message)
    if found is not None:
        return int(found.group(1))
    if not attrs or not any(key in attrs for key in _REQUEST_KEYS):
        return None
    for key in _STATUS_KEYS:
        status = _as_status(attrs.get(key))
        if status is not None:
            return status
    return None


def _as_status(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        status = value
    elif isinstance(value, str) and value.isdigit():
        status = int(value)
    else:
        return None
    return status if 100 <= status <= 599 else None


def classify_http_status(status: int, *, gateway: bool) -> tuple[Severity, Category]:
    """Severity and category of one response status.

    5xx: error (a gateway's 502/503/504 blame the backend: dependency); 429 and 413:
    warn limit_exceeded; 401/403: warn auth; anything else: info.
    """
    if status >= 500:
        if gateway and status in (502, 503, 504):
            return Severity.ERROR, Category.DEPENDENCY
        return Severity.ERROR, Category.APPLICATION_ERROR
    if status in (429, 413):
        return Severity.WARN, Category.LIMIT_EXCEEDED
    if status in (401, 403):
        return Severity.WARN, Category.AUTH
    return Severity.INFO, Category.NONE
