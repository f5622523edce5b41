"""Read a window of logs from Grafana Loki over its HTTP API.

`LokiClient` speaks the documented endpoints (`query_range`, `labels`, label
values) with retries; `LokiSource` pages through a window with `query_range` and
yields record batches in time order; `loki_source_from_settings` builds both from
the CLI's flags.

Pagination. Loki returns at most `limit` entries per request and has no offset, so
each page starts at the timestamp of the previous page's last entry (inclusive) and
the entries already delivered at exactly that timestamp are skipped, matched by
(stream labels, timestamp, line): Loki keeps one entry per such key, so nothing is
lost or duplicated when several entries share a timestamp at a page edge.

When a whole page shares one timestamp, moving the start forward cannot reach the
entries Loki ranks after them at that timestamp. The source then asks for that
nanosecond once more with `direction=backward`, which returns the last `limit`
entries at that timestamp, delivers those not seen yet, and moves on. If the two
pages overlap, every entry at that timestamp has been read (Loki orders entries of
equal timestamps the same way in both directions). If the backward page is full and
does not overlap, at least 2 × `limit` entries share that nanosecond and the ones
ranked between the two pages (if any: exactly 2 × `limit` is complete but cannot be
told apart) are not read: the source logs a warning and adds it to
`LokiSource.warnings`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential

from loglens import __version__
from loglens.config import Settings
from loglens.errors import ConfigError, InputError, SourceError, SourceUnavailableError
from loglens.model import Batch, LogRecord, ReadStats, SourceInfo
from loglens.sources.logql import build_query, build_selector, check_label_name
from loglens.sources.loki_page import EntryKey, LokiPage, utf8_bytes
from loglens.sources.window import TimeWindow

log = logging.getLogger(__name__)

QUERY_RANGE_PATH = "/loki/api/v1/query_range"
LABELS_PATH = "/loki/api/v1/labels"
LABEL_VALUES_PATH = "/loki/api/v1/label/{name}/values"

# Backoff between attempts: 0.5 s, 1 s, 2 s, 4 s, then 8 s; short enough for a CLI,
# long enough for a restarting querier or a query frontend shedding load.
RETRY_WAIT_INITIAL_S = 0.5
RETRY_WAIT_MAX_S = 8.0
# A Retry-After header is honoured up to this many seconds, so a misconfigured
# gateway cannot stall a command for minutes.
RETRY_AFTER_CAP_S = 30.0
# Error bodies are quoted in messages up to this many characters.
ERROR_BODY_MAX_CHARS = 500

Direction = Literal["forward", "backward"]
_T = TypeVar("_T")
_RETRYABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


class _RetryableStatusError(Exception):
    """A 429 or 5xx answer, raised so that tenacity retries it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class LokiClient:
    """A small client for Loki's query endpoints, with retries on transient failures.

    Retries (up to `settings.loki_max_attempts` attempts) cover 429, 5xx, timeouts
    and connection errors, with exponential backoff or the server's `Retry-After`.
    `sleep` is what waits between attempts (tests pass a recorder instead).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.loki_url:
            raise ConfigError(
                "Loki is not configured", hint="set LOGLENS_LOKI_URL, e.g. http://loki:3100"
            )
        self.base_url = settings.loki_url
        self.timeout_s = settings.loki_timeout_s
        self.max_attempts = max(1, settings.loki_max_attempts)
        self.requests = 0
        self._sleep = sleep
        self._backoff = wait_exponential(multiplier=RETRY_WAIT_INITIAL_S, max=RETRY_WAIT_MAX_S)
        headers, auth = _auth_headers(settings)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=settings.loki_timeout_s,
            headers=headers,
            auth=auth,
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def query_range(
        self,
        query: str,
        start_ns: int,
        end_ns: int,
        *,
        limit: int,
        direction: Direction = "forward",
    ) -> dict[str, Any]:
        """One page of a log query: Loki's JSON answer, checked to hold `streams`.

        Loki returns entries with `start_ns <= ts < end_ns`, at most `limit` of them.
        """
        params = {
            "query": query,
            "start": str(start_ns),
            "end": str(end_ns),
            "limit": str(limit),
            "direction": direction,
        }
        payload = self._get(QUERY_RANGE_PATH, params)
        result_type = _data(payload, dict).get("resultType")
        if result_type != "streams":
            raise SourceError(
                f"Loki answered resultType {result_type!r} to a log query, expected 'streams'",
                hint="the query must be a log query, not a metric query",
            )
        return payload

    def labels(
        self, start_ns: int | None = None, end_ns: int | None = None, *, query: str | None = None
    ) -> list[str]:
        """Label names Loki knows in the window (Loki may look at a larger one)."""
        payload = self._get(LABELS_PATH, _range_params(start_ns, end_ns, query))
        return _string_list(payload)

    def label_values(
        self,
        name: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        *,
        query: str | None = None,
    ) -> list[str]:
        """Values of label `name` in the window."""
        path = LABEL_VALUES_PATH.format(name=check_label_name(name))
        payload = self._get(path, _range_params(start_ns, end_ns, query))
        return _string_list(payload)

    # -- HTTP with retries ---------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type((_RetryableStatusError, *_RETRYABLE_TRANSPORT_ERRORS)),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            response = retrying(self._send, path, params)
        except _RetryableStatusError as exc:
            raise self._exhausted_status_error(exc.response) from exc
        except httpx.TimeoutException as exc:
            raise SourceUnavailableError(
                f"Loki at {self.base_url} did not answer within {self.timeout_s:g}s "
                f"({self.max_attempts} attempts)",
                hint="raise LOGLENS_LOKI_TIMEOUT_S, ask for a shorter window, or check Loki's load",
            ) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise SourceUnavailableError(
                f"cannot reach Loki at {self.base_url} after {self.max_attempts} attempts: "
                f"{exc or type(exc).__name__}",
                hint="check LOGLENS_LOKI_URL, that Loki is running, and the network path "
                "to it (port-forward, DNS, proxy)",
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceError(
                f"request to Loki at {self.base_url} failed: {exc}", hint="check LOGLENS_LOKI_URL"
            ) from exc
        return _decode(response)

    def _send(self, path: str, params: Mapping[str, str]) -> httpx.Response:
        self.requests += 1
        response = self._http.get(path, params=params)
        if response.status_code == 429 or response.status_code >= 500:
            raise _RetryableStatusError(response)
        if response.status_code >= 400:
            raise self._client_error(response, path, params)
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatusError):
            retry_after = _retry_after_s(exc.response.headers.get("Retry-After"))
            if retry_after is not None:
                return min(retry_after, RETRY_AFTER_CAP_S)
        return float(self._backoff(state))

    def _exhausted_status_error(self, response: httpx.Response) -> SourceUnavailableError:
        status = f"{response.status_code} {response.reason_phrase}".strip()
        message = (
            f"Loki at {self.base_url} answered {status} to all {self.max_attempts} attempts: "
            f"{_body_text(response)}"
        )
        if response.status_code == 429:
            hint = (
                "Loki is rate-limiting this tenant; wait, ask for a shorter window or fewer streams"
            )
        else:
            hint = (
                "check that Loki (querier, query frontend) is healthy; a 504 can mean the "
                "window is too large for Loki's query timeout"
            )
        return SourceUnavailableError(message, hint=hint)

    def _client_error(
        self, response: httpx.Response, path: str, params: Mapping[str, str]
    ) -> SourceError:
        status, body = response.status_code, _body_text(response)
        if status in (401, 403):
            return SourceError(
                f"Loki at {self.base_url} refused the request ({status}): {body}",
                hint="check LOGLENS_LOKI_TOKEN or LOGLENS_LOKI_USERNAME/PASSWORD, "
                "and LOGLENS_LOKI_TENANT for a multi-tenant Loki",
            )
        if status == 404:
            return SourceError(
                f"{self.base_url}{path} was not found (404): {body}",
                hint="LOGLENS_LOKI_URL must be Loki's base URL, e.g. http://loki:3100",
            )
        query = f" to query {params['query']!r}" if "query" in params else ""
        return SourceError(
            f"Loki rejected the request{query} ({status}): {body}", hint=_rejection_hint(body)
        )


def _auth_headers(settings: Settings) -> tuple[dict[str, str], httpx.BasicAuth | None]:
    headers = {"Accept": "application/json", "User-Agent": f"loglens/{__version__}"}
    if settings.loki_tenant:
        headers["X-Scope-OrgID"] = settings.loki_tenant
    if settings.loki_token and settings.loki_token.get_secret_value():
        headers["Authorization"] = f"Bearer {settings.loki_token.get_secret_value()}"
        return headers, None
    if settings.loki_username:
        password = settings.loki_password.get_secret_value() if settings.loki_password else ""
        return headers, httpx.BasicAuth(settings.loki_username, password)
    return headers, None


def _range_params(start_ns: int | None, end_ns: int | None, query: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if start_ns is not None:
        params["start"] = str(start_ns)
    if end_ns is not None:
        params["end"] = str(end_ns)
    if query is not None:
        params["query"] = query
    return params


def _retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _body_text(response: httpx.Response) -> str:
    """The error text of a Loki answer: plain text, or the `error`/`message` of a JSON body."""
    text = response.text.strip()
    if text.startswith("{"):
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            text = str(body.get("error") or body.get("message") or text)
    if len(text) > ERROR_BODY_MAX_CHARS:
        text = text[:ERROR_BODY_MAX_CHARS] + "…"
    return text or "(empty body)"


def _rejection_hint(body: str) -> str:
    lowered = body.lower()
    if "max entries limit" in lowered:
        return "lower LOGLENS_LOKI_PAGE_LIMIT to Loki's max_entries_limit_per_query"
    if "time range" in lowered or "query length" in lowered or "max_query_length" in lowered:
        return "ask for a shorter window (Loki's max_query_length) or lower LOGLENS_MAX_WINDOW"
    return "check the selector, matchers and line filters"


def _decode(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise SourceError(
            f"Loki answered {response.url.path} with something that is not JSON: "
            f"{response.text[:200]!r}",
            hint="LOGLENS_LOKI_URL may point at something other than Loki",
        ) from exc
    if not isinstance(payload, dict) or payload.get("status") != "success":
        status = payload.get("status") if isinstance(payload, dict) else None
        raise SourceError(f"Loki answered status {status!r} instead of 'success'")
    return payload


def _data(payload: dict[str, Any], kind: type[_T]) -> _T:
    data = payload.get("data")
    if not isinstance(data, kind):
        raise SourceError(f"Loki's answer has no {kind.__name__} in 'data'")
    return data


def _string_list(payload: dict[str, Any]) -> list[str]:
    # Loki omits `data` when nothing matches.
    if payload.get("data") is None:
        return []
    return [str(item) for item in _data(payload, list)]


# --------------------------------------------------------------------------------------
# The source
# --------------------------------------------------------------------------------------


class LokiSource:
    """A window of one LogQL log query, read page by page in time order.

    Implements `LogSource`. See the module docstring for how pages are joined.
    Entries come in batches of `batch_size` records sorted by timestamp; the labels
    dict of a record is shared by the records of its stream on the same page.
    """

    def __init__(
        self,
        client: LokiClient,
        query: str,
        window: TimeWindow,
        *,
        page_limit: int = 5000,
        batch_size: int = 4096,
        close_client: bool = False,
    ) -> None:
        if page_limit < 1 or batch_size < 1:
            raise InputError(
                f"page_limit ({page_limit}) and batch_size ({batch_size}) must be positive",
                hint="check LOGLENS_LOKI_PAGE_LIMIT and LOGLENS_BATCH_SIZE",
            )
        self.stats = ReadStats()
        self.warnings: list[str] = []
        self.pages = 0
        self._client = client
        self._query = query
        self._window = window
        self._page_limit = page_limit
        self._batch_size = batch_size
        self._close_client = close_client
        self._started = False

    @property
    def query(self) -> str:
        return self._query

    def describe(self) -> SourceInfo:
        return SourceInfo(kind="loki", detail=self._query)

    def batches(self) -> Iterator[Batch]:
        if self._started:
            raise SourceError("a LokiSource can be read once", hint="build a new source")
        self._started = True
        pending: list[LogRecord] = []
        try:
            for records in self._fresh_pages():
                self._count(records)
                pending.extend(records)
                while len(pending) >= self._batch_size:
                    yield pending[: self._batch_size]
                    pending = pending[self._batch_size :]
            if pending:
                yield pending
        finally:
            if self._close_client:
                self._client.close()

    def _count(self, records: list[LogRecord]) -> None:
        self.stats.lines += len(records)
        self.stats.bytes += utf8_bytes(records)

    def _fetch(self, start_ns: int, end_ns: int, direction: Direction) -> LokiPage:
        self.pages += 1
        payload = self._client.query_range(
            self._query, start_ns, end_ns, limit=self._page_limit, direction=direction
        )
        return LokiPage(payload, reverse=direction == "backward")

    def _fresh_pages(self) -> Iterator[list[LogRecord]]:
        """Records of each page not delivered before, in time order."""
        cursor, end = self._window.start_ns, self._window.end_ns
        seen: set[EntryKey] = set()  # keys of the entries at `cursor` already delivered
        while cursor < end:
            page = self._fetch(cursor, end, "forward")
            if page.records and page.records[0].ts < cursor:
                raise SourceError(
                    f"Loki returned entries before the requested start {cursor}",
                    hint="this server does not honour `start`; report it with the query",
                )
            yield [r for r in page.records if r.ts != cursor or page.key(r) not in seen]
            if len(page) < self._page_limit:
                return
            last_ts = page.records[-1].ts
            if last_ts > cursor:
                seen, cursor = page.keys_at(last_ts), last_ts
                continue
            seen |= page.keys_at(cursor)
            yield self._rest_of_timestamp(cursor, seen)
            seen, cursor = set(), cursor + 1

    def _rest_of_timestamp(self, ts: int, seen: set[EntryKey]) -> list[LogRecord]:
        """Entries at `ts` not yet seen, read backwards when a full page shares `ts`."""
        page = self._fetch(ts, ts + 1, "backward")
        fresh = [r for r in page.records if page.key(r) not in seen]
        if len(page) >= self._page_limit and len(fresh) == len(page):
            message = (
                f"at least {2 * self._page_limit} entries share the timestamp {ts}; "
                f"all but the first and last {self._page_limit} of them may be missing "
                "(raise LOGLENS_LOKI_PAGE_LIMIT to read them all)"
            )
            log.warning(message)
            self.warnings.append(message)
        return fresh


def loki_source_from_settings(
    settings: Settings,
    *,
    window: TimeWindow,
    namespace: str | None = None,
    pod: str | None = None,
    container: str | None = None,
    node: str | None = None,
    selector: str | None = None,
    matchers: Sequence[str] = (),
    line_filters: Sequence[str] = (),
    regex_filters: Sequence[str] = (),
    transport: httpx.BaseTransport | None = None,
) -> LokiSource:
    """A `LokiSource` for the CLI's Loki flags; it closes its client when read to the end.

    Raises InputError for invalid flags or a window larger than `settings.max_window`,
    ConfigError when `LOGLENS_LOKI_URL` is not set.
    """
    max_window_ns = int(settings.max_window_delta.total_seconds() * 1_000_000_000)
    if window.duration_ns > max_window_ns:
        raise InputError(
            f"window of {window.duration_ns / 3.6e12:.1f}h is larger than the maximum "
            f"{settings.max_window}",
            hint="ask for a shorter window or raise LOGLENS_MAX_WINDOW",
        )
    stream_selector = build_selector(
        namespace=namespace,
        pod=pod,
        container=container,
        node=node,
        matchers=matchers,
        selector=selector,
    )
    query = build_query(stream_selector, line_filters=line_filters, regex_filters=regex_filters)
    return LokiSource(
        LokiClient(settings, transport=transport),
        query,
        window,
        page_limit=settings.loki_page_limit,
        batch_size=settings.batch_size,
        close_client=True,
    )
