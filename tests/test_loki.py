"""Contract tests of the Loki client and source against a fake Loki.

The fake serves recorded answers (tests/testdata/loki) in the format of Loki's HTTP
API reference, and for paging it evaluates `start`, `end`, `limit` and `direction`
against a fixed data set the way Loki does: entries with start <= ts < end, ordered
by timestamp (ties by stream labels, then by position in the stream), the first
`limit` of them, grouped back into streams.
"""

from __future__ import annotations

import base64
import json
import random
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from loglens.config import Settings
from loglens.errors import ConfigError, InputError, SourceError, SourceUnavailableError
from loglens.model import Level, LogRecord
from loglens.parsing.formats import parse_batch
from loglens.sources.loki import (
    RETRY_AFTER_CAP_S,
    LokiClient,
    LokiSource,
    loki_source_from_settings,
)
from loglens.sources.window import TimeWindow

pytestmark = pytest.mark.contract

TESTDATA = Path(__file__).parent / "testdata" / "loki"
LOKI_URL = "http://loki.monitoring:3100"
QUERY = '{namespace="llm"}'
BASE_NS = 1763632800000000000
WINDOW = TimeWindow(BASE_NS - 3_600_000_000_000, BASE_NS + 3_600_000_000_000)
MAX_ENTRIES_LIMIT_PER_QUERY = 5000

Entry = tuple[int, dict[str, str], str]
Handler = Callable[[httpx.Request], httpx.Response]


def recorded(name: str) -> bytes:
    return (TESTDATA / name).read_bytes()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"loki_url": LOKI_URL, "loki_max_attempts": 5}
    values.update(overrides)
    return Settings(**values)


class Recorder:
    """Stands in for time.sleep and the transport: keeps what was asked."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, **overrides: Any) -> LokiClient:
        return LokiClient(
            settings(**overrides), transport=httpx.MockTransport(self), sleep=self.sleep
        )


def answer_with(*responses: httpx.Response | Exception) -> Recorder:
    """A recorder that plays `responses` in order (an exception is raised instead)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return Recorder(handler)


def json_response(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=recorded(name), headers={"Content-Type": "application/json"}
    )


def text_response(status: int, text: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, text=text, headers={"Content-Type": "text/plain; charset=utf-8", **headers}
    )


class FakeLoki:
    """`query_range` over a fixed data set, honouring start/end/limit/direction like Loki."""

    def __init__(self, streams: list[dict[str, Any]]) -> None:
        self.entries: list[tuple[int, str, int, dict[str, str], str]] = []
        for stream in streams:
            labels = stream["stream"]
            order_key = json.dumps(labels, sort_keys=True)
            for position, (ts, line) in enumerate(stream["values"]):
                self.entries.append((int(ts), order_key, position, labels, line))
        self.entries.sort(key=lambda entry: entry[:3])
        self.requests: list[dict[str, str]] = []

    def truth(self) -> list[Entry]:
        return [(ts, labels, line) for ts, _, _, labels, line in self.entries]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.requests.append(params)
        if request.url.path != "/loki/api/v1/query_range":
            return text_response(404, "404 page not found")
        limit = int(params.get("limit", "100"))
        if limit > MAX_ENTRIES_LIMIT_PER_QUERY:
            return text_response(
                400,
                "max entries limit per query exceeded, limit > max_entries_limit_per_query "
                f"({limit} > {MAX_ENTRIES_LIMIT_PER_QUERY})",
            )
        start, end = int(params["start"]), int(params["end"])
        selected = [e for e in self.entries if start <= e[0] < end]
        if params.get("direction", "backward") == "backward":
            selected.reverse()
        return httpx.Response(200, json=self._streams_answer(selected[:limit]))

    @staticmethod
    def _streams_answer(entries: list[tuple[int, str, int, dict[str, str], str]]) -> Any:
        by_stream: dict[str, dict[str, Any]] = {}
        for ts, order_key, _, labels, line in entries:
            stream = by_stream.setdefault(order_key, {"stream": labels, "values": []})
            stream["values"].append([str(ts), line])
        result = [by_stream[key] for key in sorted(by_stream)]
        summary = {"totalEntriesReturned": len(entries), "execTime": 0.001, "queueTime": 0}
        return {
            "status": "success",
            "data": {"resultType": "streams", "result": result, "stats": {"summary": summary}},
        }


def read_all(source: LokiSource) -> list[LogRecord]:
    return [record for batch in source.batches() for record in batch]


def as_entries(records: list[LogRecord]) -> list[Entry]:
    return [(r.ts, r.labels, r.line) for r in records]


def paged_source(fake: FakeLoki, page_limit: int, batch_size: int = 4096) -> LokiSource:
    client = LokiClient(settings(), transport=httpx.MockTransport(fake), sleep=lambda _: None)
    return LokiSource(client, QUERY, WINDOW, page_limit=page_limit, batch_size=batch_size)


# --------------------------------------------------------------------------------------
# query_range: one page
# --------------------------------------------------------------------------------------


def test_contract_query_range_sends_documented_params() -> None:
    recorder = answer_with(json_response("query_range_streams.json"))
    with recorder.client() as client:
        payload = client.query_range(QUERY, 100, 200, limit=5000)
    request = recorder.requests[0]
    assert request.method == "GET"
    assert request.url.path == "/loki/api/v1/query_range"
    assert dict(request.url.params) == {
        "query": QUERY,
        "start": "100",
        "end": "200",
        "limit": "5000",
        "direction": "forward",
    }
    assert payload["data"]["resultType"] == "streams"


def test_contract_base_url_with_path_prefix_is_kept() -> None:
    recorder = answer_with(json_response("labels.json"))
    with recorder.client(loki_url="https://gateway.example/loki-proxy/") as client:
        client.labels()
    assert str(recorder.requests[0].url) == "https://gateway.example/loki-proxy/loki/api/v1/labels"


def test_contract_single_page_source_yields_sorted_records_with_shared_labels() -> None:
    recorder = answer_with(json_response("query_range_streams.json"))
    source = LokiSource(recorder.client(), QUERY, WINDOW, page_limit=100)
    records = read_all(source)
    assert [r.ts for r in records] == sorted(r.ts for r in records)
    assert [r.line.split()[0] for r in records] == [
        "srv",
        "level=info",
        "ggml_cuda_init:",
        "level=error",
        "llama_model_load:",
    ]
    api_records = [r for r in records if r.labels["container"] == "api"]
    assert api_records[0].labels is api_records[1].labels
    assert api_records[0].labels == {
        "container": "api",
        "namespace": "llm",
        "node": "node-2",
        "pod": "api-7d9f8b6c5-x2x4k",
    }
    assert source.stats.lines == 5
    assert source.stats.bytes == sum(len(r.line.encode()) for r in records)
    assert source.pages == 1
    assert source.describe().model_dump() == {"kind": "loki", "detail": QUERY}


def test_contract_structured_metadata_becomes_attrs() -> None:
    recorder = answer_with(json_response("query_range_metadata.json"))
    records = read_all(LokiSource(recorder.client(), QUERY, WINDOW))
    assert [(r.line[:14], r.attrs) for r in records] == [
        ('{"level":"erro', {"trace_id": "0242ac120002", "user_id": "superUser123"}),
        ("proxy: upstrea", {"trace_id": "99aa", "status": "503"}),
        ('{"level":"info', None),
    ]


def test_contract_structured_metadata_survives_parsing() -> None:
    recorder = answer_with(json_response("query_range_metadata.json"))
    records = read_all(LokiSource(recorder.client(), QUERY, WINDOW))
    parse_batch(records)
    assert [(r.level, r.message, r.attrs) for r in records] == [
        (
            Level.ERROR,
            "payment declined",
            {
                "trace_id": "0242ac120002",
                "user_id": "superUser123",
                "level": "error",
                "msg": "payment declined",
            },
        ),
        (Level.UNKNOWN, "proxy: upstream reset", {"trace_id": "99aa", "status": "503"}),
        (Level.INFO, "order placed", {"level": "info", "msg": "order placed"}),
    ]


def test_contract_metric_answer_is_refused() -> None:
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    recorder = answer_with(httpx.Response(200, json=matrix))
    with pytest.raises(SourceError, match="matrix"), recorder.client() as client:
        client.query_range(QUERY, 1, 2, limit=10)


def test_contract_non_json_answer_names_the_problem() -> None:
    recorder = answer_with(httpx.Response(200, text="<html>Grafana</html>"))
    with pytest.raises(SourceError, match="not JSON") as caught, recorder.client() as client:
        client.query_range(QUERY, 1, 2, limit=10)
    assert "LOGLENS_LOKI_URL" in str(caught.value)


def test_contract_malformed_entry_is_a_source_error() -> None:
    bad = {
        "status": "success",
        "data": {"resultType": "streams", "result": [{"stream": {}, "values": [["x", "l"]]}]},
    }
    recorder = answer_with(httpx.Response(200, json=bad))
    with pytest.raises(SourceError, match="malformed"):
        read_all(LokiSource(recorder.client(), QUERY, WINDOW))


def test_batches_are_cut_at_batch_size_and_read_once() -> None:
    recorder = answer_with(json_response("query_range_streams.json"))
    source = LokiSource(recorder.client(), QUERY, WINDOW, page_limit=100, batch_size=2)
    assert [len(batch) for batch in source.batches()] == [2, 2, 1]
    with pytest.raises(SourceError, match="once"):
        next(iter(source.batches()))


# --------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------


def test_contract_pagination_with_equal_timestamps_at_page_edges() -> None:
    fake = FakeLoki(json.loads(recorded("paged_dataset.json"))["streams"])
    source = paged_source(fake, page_limit=4, batch_size=5)
    records = read_all(source)
    assert as_entries(records) == fake.truth()
    assert len(records) == 22
    assert source.stats.lines == 22
    assert source.warnings == []
    ms = 1_000_000
    end = WINDOW.end_ns
    # Page 1 ends inside timestamp +1ms, so page 2 starts there; it is full of +1ms
    # entries, so the rest of +1ms is read backwards; and the same at +5ms and +9ms.
    assert [(p["direction"], int(p["start"]), int(p["end"])) for p in fake.requests] == [
        ("forward", WINDOW.start_ns, end),
        ("forward", BASE_NS + 1 * ms, end),
        ("backward", BASE_NS + 1 * ms, BASE_NS + 1 * ms + 1),
        ("forward", BASE_NS + 1 * ms + 1, end),
        ("forward", BASE_NS + 5 * ms, end),
        ("backward", BASE_NS + 5 * ms, BASE_NS + 5 * ms + 1),
        ("forward", BASE_NS + 5 * ms + 1, end),
        ("forward", BASE_NS + 9 * ms, end),
        ("backward", BASE_NS + 9 * ms, BASE_NS + 9 * ms + 1),
        ("forward", BASE_NS + 9 * ms + 1, end),
    ]
    assert {p["limit"] for p in fake.requests} == {"4"}
    assert source.pages == 10


def test_contract_pagination_reads_a_timestamp_shared_by_more_than_a_page() -> None:
    # 9 entries at one timestamp, pages of 5: forward gets the first 5, backward the last 5.
    streams = [
        {
            "stream": {"namespace": "llm", "pod": f"api-{i % 3}"},
            "values": [[str(BASE_NS), f"burst {i}"]],
        }
        for i in range(9)
    ]
    streams.append(
        {"stream": {"namespace": "llm", "pod": "late"}, "values": [[str(BASE_NS + 1), "after"]]}
    )
    fake = FakeLoki(streams)
    source = paged_source(fake, page_limit=5)
    assert as_entries(read_all(source)) == fake.truth()
    assert source.warnings == []
    assert {"direction": "backward", "start": str(BASE_NS), "end": str(BASE_NS + 1)}.items() <= (
        next(p for p in fake.requests if p["direction"] == "backward").items()
    )


def test_contract_pagination_warns_when_a_timestamp_holds_more_than_two_pages() -> None:
    streams = [
        {"stream": {"namespace": "llm", "pod": "api"}, "values": [[str(BASE_NS), f"burst {i}"]]}
        for i in range(12)
    ]
    fake = FakeLoki(streams)
    source = paged_source(fake, page_limit=5)
    entries = as_entries(read_all(source))
    assert len(entries) == 10
    assert len(set((ts, line) for ts, _, line in entries)) == 10
    assert all(entry in fake.truth() for entry in entries)
    assert source.warnings and "at least 10 entries share the timestamp" in source.warnings[0]


@pytest.mark.parametrize("seed", range(40))
def test_contract_pagination_matches_the_data_set_for_random_ties(seed: int) -> None:
    rng = random.Random(seed)
    page_limit = rng.randint(1, 7)
    streams = []
    for s in range(rng.randint(1, 4)):
        offsets = sorted(rng.choice(range(6)) for _ in range(rng.randint(0, 15)))
        values = [[str(BASE_NS + off), f"s{s} line {i}"] for i, off in enumerate(offsets)]
        streams.append({"stream": {"namespace": "llm", "pod": f"p{s}"}, "values": values})
    fake = FakeLoki(streams)
    source = paged_source(fake, page_limit=page_limit, batch_size=rng.randint(1, 10))
    got = as_entries(read_all(source))
    truth = fake.truth()
    per_ts: dict[int, int] = {}
    for ts, _, _ in truth:
        per_ts[ts] = per_ts.get(ts, 0) + 1
    most_at_one_ts = max(per_ts.values(), default=0)
    if most_at_one_ts <= 2 * page_limit:
        assert got == truth
    else:
        assert [e for e in truth if e in got] == got  # in order, no duplicates, nothing invented
    assert bool(source.warnings) == (most_at_one_ts >= 2 * page_limit)


def test_contract_page_limit_above_loki_maximum_is_explained() -> None:
    fake = FakeLoki([])
    source = paged_source(fake, page_limit=10000)
    with pytest.raises(SourceError) as caught:
        read_all(source)
    assert "max_entries_limit_per_query (10000 > 5000)" in str(caught.value)
    assert "LOGLENS_LOKI_PAGE_LIMIT" in str(caught.value)


# --------------------------------------------------------------------------------------
# Errors and retries
# --------------------------------------------------------------------------------------


def test_contract_parse_error_body_becomes_source_error_without_retry() -> None:
    body = recorded("parse_error_400.txt").decode()
    recorder = answer_with(text_response(400, body))
    with pytest.raises(SourceError) as caught, recorder.client() as client:
        client.query_range('{namespace="llm"', 1, 2, limit=10)
    assert not isinstance(caught.value, SourceUnavailableError)
    assert body in str(caught.value)
    assert '{namespace="llm"' in str(caught.value)
    assert len(recorder.requests) == 1
    assert recorder.sleeps == []


def test_contract_429_is_retried_after_retry_after() -> None:
    recorder = answer_with(
        text_response(429, "Ingestion rate limit exceeded", **{"Retry-After": "2"}),
        json_response("query_range_streams.json"),
    )
    with recorder.client() as client:
        payload = client.query_range(QUERY, 1, 2, limit=10)
    assert len(payload["data"]["result"]) == 2
    assert len(recorder.requests) == 2
    assert recorder.sleeps == [2.0]


def test_contract_retry_after_is_capped() -> None:
    recorder = answer_with(
        text_response(429, "too many outstanding requests", **{"Retry-After": "3600"}),
        json_response("labels.json"),
    )
    with recorder.client() as client:
        client.labels()
    assert recorder.sleeps == [RETRY_AFTER_CAP_S]


def test_contract_5xx_exhausted_is_unavailable_with_backoff() -> None:
    recorder = answer_with(*(text_response(502, "bad gateway") for _ in range(5)))
    with pytest.raises(SourceUnavailableError) as caught, recorder.client() as client:
        client.query_range(QUERY, 1, 2, limit=10)
    assert len(recorder.requests) == 5
    assert recorder.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert LOKI_URL in str(caught.value)
    assert "502" in str(caught.value) and "bad gateway" in str(caught.value)


def test_contract_500_then_success_is_transparent() -> None:
    recorder = answer_with(
        text_response(500, "rpc error: code = Unavailable"), json_response("labels.json")
    )
    with recorder.client() as client:
        assert client.labels() == ["container", "namespace", "node", "pod", "stream"]
    assert recorder.sleeps == [0.5]


def test_contract_timeout_is_retried_then_explained() -> None:
    recorder = answer_with(*(httpx.ReadTimeout("timed out") for _ in range(3)))
    with pytest.raises(SourceUnavailableError) as caught:
        recorder.client(loki_max_attempts=3, loki_timeout_s=7).query_range(QUERY, 1, 2, limit=1)
    assert len(recorder.requests) == 3
    assert len(recorder.sleeps) == 2
    assert "did not answer within 7s" in str(caught.value)
    assert "LOGLENS_LOKI_TIMEOUT_S" in str(caught.value)


def test_contract_timeout_then_success() -> None:
    recorder = answer_with(httpx.ReadTimeout("timed out"), json_response("labels.json"))
    assert recorder.client().labels()[0] == "container"
    assert len(recorder.requests) == 2


def test_contract_connection_refused_names_the_url() -> None:
    with socket.socket() as probe:  # a local port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    sleeps: list[float] = []
    client = LokiClient(settings(loki_url=url, loki_max_attempts=2), sleep=sleeps.append)
    with pytest.raises(SourceUnavailableError) as caught, client:
        client.query_range(QUERY, 1, 2, limit=1)
    assert f"cannot reach Loki at {url}" in str(caught.value)
    assert "LOGLENS_LOKI_URL" in str(caught.value)
    assert client.requests == 2 and len(sleeps) == 1


def test_contract_missing_tenant_401_hints_at_tenant() -> None:
    recorder = answer_with(text_response(401, recorded("no_org_id_401.txt").decode()))
    with pytest.raises(SourceError) as caught:
        recorder.client().labels()
    assert "no org id" in str(caught.value)
    assert "LOGLENS_LOKI_TENANT" in str(caught.value)
    assert len(recorder.requests) == 1


def test_contract_404_hints_at_base_url() -> None:
    recorder = answer_with(text_response(404, "404 page not found"))
    with pytest.raises(SourceError, match="was not found"):
        recorder.client().labels()


# --------------------------------------------------------------------------------------
# Headers and auth
# --------------------------------------------------------------------------------------


def test_contract_tenant_and_basic_auth_headers_are_sent() -> None:
    recorder = answer_with(json_response("labels.json"))
    recorder.client(loki_tenant="team-a|team-b", loki_username="u", loki_password="p").labels()
    headers = recorder.requests[0].headers
    assert headers["X-Scope-OrgID"] == "team-a|team-b"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()


def test_contract_bearer_token_wins_over_basic_auth() -> None:
    recorder = answer_with(json_response("labels.json"))
    recorder.client(loki_token="tok3n", loki_username="u", loki_password="p").labels()
    headers = recorder.requests[0].headers
    assert headers["Authorization"] == "Bearer tok3n"
    assert "X-Scope-OrgID" not in headers


def test_missing_loki_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="LOGLENS_LOKI_URL"):
        LokiClient(Settings(loki_url=None))


# --------------------------------------------------------------------------------------
# labels and label values
# --------------------------------------------------------------------------------------


def test_contract_labels_endpoint() -> None:
    recorder = answer_with(json_response("labels.json"))
    names = recorder.client().labels(10, 20, query=QUERY)
    assert names == ["container", "namespace", "node", "pod", "stream"]
    request = recorder.requests[0]
    assert request.url.path == "/loki/api/v1/labels"
    assert dict(request.url.params) == {"start": "10", "end": "20", "query": QUERY}


def test_contract_label_values_endpoint() -> None:
    recorder = answer_with(json_response("label_values_namespace.json"))
    values = recorder.client().label_values("namespace", 10, 20)
    assert values == ["kube-system", "llm", "monitoring", "shop"]
    request = recorder.requests[0]
    assert request.url.path == "/loki/api/v1/label/namespace/values"
    assert dict(request.url.params) == {"start": "10", "end": "20"}


def test_contract_label_values_without_data_is_empty() -> None:
    recorder = answer_with(httpx.Response(200, json={"status": "success"}))
    assert recorder.client().label_values("app") == []


def test_label_values_refuses_a_name_that_is_not_a_label() -> None:
    recorder = answer_with()
    with pytest.raises(InputError):
        recorder.client().label_values("../../config")
    assert recorder.requests == []


# --------------------------------------------------------------------------------------
# loki_source_from_settings
# --------------------------------------------------------------------------------------


def test_source_from_settings_builds_the_query_and_reads() -> None:
    recorder = answer_with(json_response("query_range_streams.json"))
    source = loki_source_from_settings(
        settings(loki_page_limit=1000, batch_size=2),
        window=WINDOW,
        namespace="llm",
        container="api",
        matchers=["app=~web.*"],
        line_filters=['"} |= "x'],
        regex_filters=["timeout|refused"],
        transport=httpx.MockTransport(recorder),
    )
    expected = (
        '{namespace="llm", container="api", app=~"web.*"} |= "\\"} |= \\"x" |~ "timeout|refused"'
    )
    assert source.query == expected
    assert [len(b) for b in source.batches()] == [2, 2, 1]
    params = dict(recorder.requests[0].url.params)
    assert params["query"] == expected
    assert params["limit"] == "1000"
    assert params["start"] == str(WINDOW.start_ns) and params["end"] == str(WINDOW.end_ns)


def test_source_from_settings_refuses_a_window_over_the_maximum() -> None:
    week_and_a_bit = TimeWindow(0, int(timedelta(days=7, seconds=1).total_seconds() * 1e9))
    with pytest.raises(InputError, match="larger than the maximum 7d"):
        loki_source_from_settings(settings(), window=week_and_a_bit, namespace="llm")


def test_source_from_settings_refuses_an_injected_namespace() -> None:
    with pytest.raises(InputError, match="namespace"):
        loki_source_from_settings(settings(), window=WINDOW, namespace='llm"} or vector(1)')


def test_contract_server_ignoring_start_is_detected_not_looped() -> None:
    fixed = json.loads(recorded("query_range_streams.json"))

    def ignores_start(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=fixed)

    client = LokiClient(settings(), transport=httpx.MockTransport(ignores_start))
    source = LokiSource(client, QUERY, WINDOW, page_limit=5)
    with pytest.raises(SourceError, match="before the requested start"):
        read_all(source)
    assert source.pages == 2
