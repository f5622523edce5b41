from __future__ import annotations

from typing import Any

import pytest

from loglens.model import Level, LogRecord, ReadStats
from loglens.parsing.formats import LineFormat, parse_batch, parse_line, parse_logfmt
from loglens.parsing.levels import keyword_level, normalize_level

LABELS: dict[str, str] = {"pod": "p"}


def parsed(line: str) -> LogRecord:
    record = LogRecord(0, LABELS, line)
    parse_line(record)
    return record


# (line as the program writes it, format, level, message)
CASES: list[tuple[str, LineFormat, Level, str]] = [
    # zap JSON
    (
        '{"level":"error","ts":1732096801.123,"caller":"server/handler.go:42",'
        '"msg":"request failed","error":"dial tcp 10.0.0.5:5432: connect: connection refused"}',
        LineFormat.JSON,
        Level.ERROR,
        "request failed: dial tcp 10.0.0.5:5432: connect: connection refused",
    ),
    # zerolog
    (
        '{"level":"warn","time":"2026-11-20T10:00:01Z","message":"cache nearly full"}',
        LineFormat.JSON,
        Level.WARN,
        "cache nearly full",
    ),
    # slog JSON, with a level between the named ones
    (
        '{"time":"2026-11-20T10:00:01.123Z","level":"INFO+2","msg":"slow query","duration":"2.3s"}',
        LineFormat.JSON,
        Level.INFO,
        "slow query",
    ),
    # logrus JSON
    (
        '{"level":"fatal","msg":"cannot open config","time":"2026-11-20T10:00:01Z"}',
        LineFormat.JSON,
        Level.FATAL,
        "cannot open config",
    ),
    # pino numeric level
    (
        '{"level":50,"time":1732096801123,"pid":1,"hostname":"web","msg":"unhandled rejection"}',
        LineFormat.JSON,
        Level.ERROR,
        "unhandled rejection",
    ),
    # Google Cloud style
    ('{"severity":"CRITICAL","message":"disk gone"}', LineFormat.JSON, Level.FATAL, "disk gone"),
    # Serilog compact
    (
        '{"@t":"2026-11-20T10:00:01Z","@mt":"Started","@l":"Warning"}',
        LineFormat.JSON,
        Level.WARN,
        "Started",
    ),
    # old llama.cpp server JSON logs
    (
        '{"tid":"140","timestamp":1718000000,"level":"ERR","function":"load_model",'
        '"line":612,"msg":"unable to load model","model":"/models/x.gguf"}',
        LineFormat.JSON,
        Level.ERROR,
        "unable to load model",
    ),
    # logfmt (Prometheus / go-kit)
    (
        'level=error ts=2026-11-20T10:00:01.123Z caller=scrape.go:1313 msg="Scrape failed" '
        'err="context deadline exceeded"',
        LineFormat.LOGFMT,
        Level.ERROR,
        "Scrape failed: context deadline exceeded",
    ),
    # slog text handler
    (
        'time=2026-11-20T10:00:01.123Z level=WARN msg="retrying request" attempt=3',
        LineFormat.LOGFMT,
        Level.WARN,
        "retrying request",
    ),
    # klog
    (
        "I1120 10:00:01.123456       1 controller.go:123] Starting EndpointSlice controller",
        LineFormat.KLOG,
        Level.INFO,
        "Starting EndpointSlice controller",
    ),
    (
        'E1120 10:00:01.123456       1 reflector.go:138] "Failed to watch" err="connection refused"',
        LineFormat.KLOG,
        Level.ERROR,
        "Failed to watch",
    ),
    (
        "F1120 10:00:01.000001       1 server.go:77] cannot bind :6443",
        LineFormat.KLOG,
        Level.FATAL,
        "cannot bind :6443",
    ),
    # zap console (controller-runtime)
    (
        "2026-11-20T10:00:01.123Z\tINFO\tcontroller.deployment\tStarting workers\t"
        '{"worker count": 1}',
        LineFormat.GO_CONSOLE,
        Level.INFO,
        "Starting workers",
    ),
    (
        '2026-11-20T10:00:01.123Z\tERROR\tReconciler error\t{"controller": "x", "error": "not found"}',
        LineFormat.GO_CONSOLE,
        Level.ERROR,
        "Reconciler error",
    ),
    # Python logging
    (
        "2026-11-20 10:00:01,123 - app.db - ERROR - could not connect to database",
        LineFormat.PYTHON,
        Level.ERROR,
        "could not connect to database",
    ),
    (
        "WARNING:app.cache:cache miss rate high",
        LineFormat.PYTHON,
        Level.WARN,
        "cache miss rate high",
    ),
    ("CRITICAL:root:out of disk", LineFormat.PYTHON, Level.FATAL, "out of disk"),
    # uvicorn
    (
        'INFO:     10.0.0.1:5432 - "GET /health HTTP/1.1" 200 OK',
        LineFormat.UVICORN,
        Level.INFO,
        '10.0.0.1:5432 - "GET /health HTTP/1.1" 200 OK',
    ),
    (
        'INFO:     10.0.0.1:5432 - "POST /v1/chat/completions HTTP/1.1" 503 Service Unavailable',
        LineFormat.UVICORN,
        Level.ERROR,
        '10.0.0.1:5432 - "POST /v1/chat/completions HTTP/1.1" 503 Service Unavailable',
    ),
    (
        'INFO:     10.0.0.1:5432 - "GET /missing HTTP/1.1" 404 Not Found',
        LineFormat.UVICORN,
        Level.WARN,
        '10.0.0.1:5432 - "GET /missing HTTP/1.1" 404 Not Found',
    ),
    (
        "INFO:     Started server process [1]",
        LineFormat.UVICORN,
        Level.INFO,
        "Started server process [1]",
    ),
    (
        "ERROR:    Exception in ASGI application",
        LineFormat.UVICORN,
        Level.ERROR,
        "Exception in ASGI application",
    ),
    # Postgres
    (
        '2026-11-20 10:00:01.123 UTC [123] ERROR:  relation "users" does not exist at character 15',
        LineFormat.POSTGRES,
        Level.ERROR,
        'relation "users" does not exist at character 15',
    ),
    (
        "2026-11-20 10:00:01.124 UTC [1] LOG:  database system is ready to accept connections",
        LineFormat.POSTGRES,
        Level.INFO,
        "database system is ready to accept connections",
    ),
    (
        '2026-11-20 10:00:01.124 UTC [77] FATAL:  password authentication failed for user "app"',
        LineFormat.POSTGRES,
        Level.FATAL,
        'password authentication failed for user "app"',
    ),
    (
        "2026-11-20 10:00:01.124 UTC [77] PANIC:  could not write to file",
        LineFormat.POSTGRES,
        Level.FATAL,
        "could not write to file",
    ),
    (
        "2026-11-20 10:00:01.124 UTC [9] WARNING:  there is no transaction in progress",
        LineFormat.POSTGRES,
        Level.WARN,
        "there is no transaction in progress",
    ),
    (
        "2026-11-20 10:00:01.123 UTC [123] STATEMENT:  SELECT * FROM users",
        LineFormat.POSTGRES,
        Level.INFO,
        "SELECT * FROM users",
    ),
    (
        "2026-11-20 10:00:01.123 UTC [123] DETAIL:  Key (id)=(7) already exists.",
        LineFormat.POSTGRES,
        Level.INFO,
        "Key (id)=(7) already exists.",
    ),
    # CoreDNS
    (
        '[INFO] 10.0.0.1:5353 - 123 "A IN host.example. udp 42 false 512" NOERROR qr,aa,rd 106 0.0001s',
        LineFormat.COREDNS,
        Level.INFO,
        '10.0.0.1:5353 - 123 "A IN host.example. udp 42 false 512" NOERROR qr,aa,rd 106 0.0001s',
    ),
    (
        '[INFO] 10.0.0.1:5353 - 9 "AAAA IN api.svc.cluster.local. udp 42 false 512" '
        "SERVFAIL qr,rd 42 2.000s",
        LineFormat.COREDNS,
        Level.ERROR,
        '10.0.0.1:5353 - 9 "AAAA IN api.svc.cluster.local. udp 42 false 512" '
        "SERVFAIL qr,rd 42 2.000s",
    ),
    (
        '[INFO] 10.0.0.1:5353 - 10 "A IN nope.local. udp 42 false 512" NXDOMAIN qr,rd 42 0.001s',
        LineFormat.COREDNS,
        Level.INFO,
        '10.0.0.1:5353 - 10 "A IN nope.local. udp 42 false 512" NXDOMAIN qr,rd 42 0.001s',
    ),
    (
        "[ERROR] plugin/errors: 2 host.example. A: read udp 10.0.0.2:4000->8.8.8.8:53: i/o timeout",
        LineFormat.COREDNS,
        Level.ERROR,
        "plugin/errors: 2 host.example. A: read udp 10.0.0.2:4000->8.8.8.8:53: i/o timeout",
    ),
    # llama.cpp server
    (
        "srv  update_slots: all slots are idle",
        LineFormat.LLAMACPP,
        Level.INFO,
        "srv  update_slots: all slots are idle",
    ),
    (
        "llama_model_load: error loading model: unable to allocate CUDA0 buffer",
        LineFormat.LLAMACPP,
        Level.ERROR,
        "llama_model_load: error loading model: unable to allocate CUDA0 buffer",
    ),
    (
        'INFO [              main] HTTP server listening | tid="1397" timestamp=1718 port="8080"',
        LineFormat.LLAMACPP,
        Level.INFO,
        "HTTP server listening",
    ),
    (
        "0.00.042.315 E ggml_backend_cuda_buffer_type_alloc_buffer: allocating 4096.00 MiB "
        "on device 0: cudaMalloc failed: out of memory",
        LineFormat.LLAMACPP,
        Level.ERROR,
        "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 4096.00 MiB "
        "on device 0: cudaMalloc failed: out of memory",
    ),
    # Java: Spring Boot 2 and 3, log4j
    (
        "2026-11-20 10:00:01.123 ERROR 1 --- [           main] o.s.boot.SpringApplication"
        "               : Application run failed",
        LineFormat.JAVA,
        Level.ERROR,
        "Application run failed",
    ),
    (
        "2026-11-20T10:00:01.123Z  WARN 1 --- [app] [main] o.s.b.a.OnWebApplicationCondition : slow",
        LineFormat.JAVA,
        Level.WARN,
        "slow",
    ),
    ("ERROR [main] com.example.App - boom", LineFormat.JAVA, Level.ERROR, "boom"),
    (
        "2026-11-20 10:00:01,123 [pool-1-thread-3] WARN  com.example.Pool - pool exhausted",
        LineFormat.JAVA,
        Level.WARN,
        "pool exhausted",
    ),
    # web access log
    (
        '10.0.0.1 - - [20/Nov/2026:10:00:01 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5"',
        LineFormat.ACCESS,
        Level.ERROR,
        '10.0.0.1 - - [20/Nov/2026:10:00:01 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5"',
    ),
    # syslog wrapping a klog line
    (
        'Nov 20 10:00:01 node-1 kubelet[812]: E1120 10:00:01.123456 812 pod_workers.go:1298] "Error syncing pod"',
        LineFormat.KLOG,
        Level.ERROR,
        "Error syncing pod",
    ),
    # plain text
    ("Started container nginx", LineFormat.PLAIN, Level.UNKNOWN, "Started container nginx"),
    (
        "panic: runtime error: index out of range [3] with length 3",
        LineFormat.PLAIN,
        Level.FATAL,
        "panic: runtime error: index out of range [3] with length 3",
    ),
    (
        "2026/11/20 10:00:01 http: TLS handshake error from 10.0.0.1:1234: EOF",
        LineFormat.PLAIN,
        Level.ERROR,
        "http: TLS handshake error from 10.0.0.1:1234: EOF",
    ),
    ("2026-11-20T10:00:01Z WARN disk 91% full", LineFormat.PLAIN, Level.WARN, "disk 91% full"),
    ("[WARNING] low memory", LineFormat.PLAIN, Level.WARN, "low memory"),
    ("INFO[0000] Starting server", LineFormat.PLAIN, Level.INFO, "Starting server"),
]


@pytest.mark.parametrize(("line", "fmt", "level", "message"), CASES)
def test_parse_line_recognises_program_formats(
    line: str, fmt: LineFormat, level: Level, message: str
) -> None:
    record = parsed(line)
    assert (record.fmt, record.level, record.message) == (fmt, level, message)


def test_json_lines_keep_all_fields_as_attrs() -> None:
    record = parsed('{"level":"error","msg":"request failed","error":"timeout","status":504}')
    assert record.attrs == {
        "level": "error",
        "msg": "request failed",
        "error": "timeout",
        "status": 504,
    }


def test_json_without_message_key_uses_error_or_line() -> None:
    assert parsed('{"level":"error","error":"boom"}').message == "boom"
    line = '{"level":"info","count":3}'
    assert parsed(line).message == line


def test_json_without_level_key_falls_back_to_keywords() -> None:
    assert parsed('{"msg":"upstream connection failed"}').level == Level.ERROR
    assert parsed('{"msg":"all good"}').level == Level.UNKNOWN


def test_kubernetes_warning_event() -> None:
    record = parsed(
        '{"kind":"Event","reason":"BackOff","message":"Back-off restarting failed container app",'
        '"type":"Warning","involvedObject":{"kind":"Pod","name":"web-1","namespace":"default"}}'
    )
    assert record.fmt == LineFormat.K8S_EVENT
    assert record.level == Level.WARN
    assert record.message == "BackOff: Back-off restarting failed container app"
    assert record.attrs is not None
    assert record.attrs["involvedObject"]["name"] == "web-1"


def test_kubernetes_normal_event_wrapped_by_eventrouter() -> None:
    record = parsed(
        '{"verb":"ADDED","event":{"reason":"Pulled","message":"Successfully pulled image",'
        '"type":"Normal","involvedObject":{"kind":"Pod","name":"web-1"}}}'
    )
    assert (record.fmt, record.level) == (LineFormat.K8S_EVENT, Level.INFO)
    assert record.message == "Pulled: Successfully pulled image"


def test_logfmt_pairs_with_quotes_and_escapes() -> None:
    pairs = parse_logfmt('level=info msg="said \\"hi\\" twice" empty= path=/a/b?x=1 n=3')
    assert pairs == {
        "level": "info",
        "msg": 'said "hi" twice',
        "empty": "",
        "path": "/a/b?x=1",
        "n": "3",
    }


def test_structured_klog_fields_become_attrs() -> None:
    record = parsed(
        'I1120 10:00:01.123456       1 status.go:71] "Pod status updated" pod="kube-system/dns" status="ready"'
    )
    assert record.message == "Pod status updated"
    assert record.attrs == {"pod": "kube-system/dns", "status": "ready"}


def test_klog_message_with_escaped_quotes_ends_at_the_unescaped_quote() -> None:
    record = parsed(
        'I1120 10:00:01.123456    2211 reconciler.go:352] "MountVolume started for volume '
        '\\"kube-api\\" (UID: \\"25\\") " pod="monitoring/alloy-7j2jl" volume="kube-api"'
    )
    assert record.message == 'MountVolume started for volume "kube-api" (UID: "25") '
    assert record.attrs == {"pod": "monitoring/alloy-7j2jl", "volume": "kube-api"}


def test_klog_quote_not_followed_by_a_space_is_not_the_end_of_the_message() -> None:
    record = parsed('E1120 10:00:01.123456       1 x.go:1] "a"b" c="d"')
    assert record.message == '"a"b" c="d"'
    assert record.attrs is None


def test_go_console_fields_and_logger() -> None:
    record = parsed(
        "2026-11-20T10:00:01.123Z\tERROR\tcontroller.pod\tReconciler error\t"
        '{"name": "web-1", "error": "conflict"}'
    )
    assert record.attrs == {"name": "web-1", "error": "conflict", "logger": "controller.pod"}


def test_uvicorn_access_fields() -> None:
    record = parsed(
        'INFO:     10.0.0.1:5432 - "POST /v1/embeddings HTTP/1.1" 500 Internal Server Error'
    )
    assert record.attrs == {
        "client": "10.0.0.1:5432",
        "method": "POST",
        "path": "/v1/embeddings",
        "status": 500,
    }


def test_coredns_query_fields() -> None:
    record = parsed(
        '[INFO] 10.0.0.1:5353 - 9 "AAAA IN api.svc.cluster.local. udp 42 false 512" SERVFAIL qr,rd 42 2.5s'
    )
    assert record.attrs == {
        "qtype": "AAAA",
        "qname": "api.svc.cluster.local.",
        "rcode": "SERVFAIL",
        "duration_s": "2.5",
    }


@pytest.mark.parametrize(
    "line",
    [
        "reconcile finished error=nil",
        "err: <nil>",
        "tests: 10 passed, 0 failed",
        "0 errors, 0 warnings",
        "completed with no error",
        "failed=0 ok=12",
        "terrorist handleError mirrored",
    ],
)
def test_plain_lines_that_only_mention_errors_are_not_errors(line: str) -> None:
    assert parsed(line).level == Level.UNKNOWN


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ('Failed to pull image "nginx:latst": not found', Level.ERROR),
        ("java.lang.OutOfMemoryError: Java heap space", Level.ERROR),
        ("Traceback (most recent call last):", Level.ERROR),
        ("connection reset, retrying: warning only", Level.WARN),
        ("fatal error: concurrent map writes", Level.FATAL),
        ("Container app was OOMKilled", Level.ERROR),
    ],
)
def test_plain_lines_get_levels_from_keywords(line: str, level: Level) -> None:
    assert parsed(line).level == level


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("warning", Level.WARN),
        ("W", Level.WARN),
        ("err", Level.ERROR),
        ("E", Level.ERROR),
        ("SEVERE", Level.ERROR),
        ("critical", Level.FATAL),
        ("crit", Level.FATAL),
        ("panic", Level.FATAL),
        ("F", Level.FATAL),
        ("emerg", Level.FATAL),
        ("alert", Level.FATAL),
        (" Info ", Level.INFO),
        ("DEBUG-4", Level.DEBUG),
        ("trace", Level.TRACE),
        (10, Level.TRACE),
        (40, Level.WARN),
        (60, Level.FATAL),
        (3, Level.ERROR),
        ("nonsense", Level.UNKNOWN),
        (None, Level.UNKNOWN),
        (True, Level.UNKNOWN),
    ],
)
def test_normalize_level(value: Any, level: Level) -> None:
    assert normalize_level(value) == level


def test_keyword_level_default() -> None:
    assert keyword_level("nothing here", Level.INFO) == Level.INFO


def test_parse_batch_counts_formats_and_levels() -> None:
    lines = [
        '{"level":"error","msg":"x"}',
        '{"level":"info","msg":"y"}',
        "I1120 10:00:01.123456       1 a.go:1] hello",
        "",
        "plain words",
    ]
    batch = [LogRecord(0, LABELS, line) for line in lines]
    stats = ReadStats()
    parse_batch(batch, stats)
    parse_batch(batch[:1], stats)
    assert stats.formats == {"json": 3, "klog": 1, "plain": 2}
    assert stats.levels == {"error": 2, "info": 2, "unknown": 2}
    assert all(isinstance(key, str) and type(key) is str for key in stats.formats)


def test_broken_json_falls_back_to_text() -> None:
    record = parsed('{"level":"error", truncated')
    assert record.fmt == LineFormat.PLAIN
    assert record.level == Level.ERROR


def test_structured_error_field_joins_the_message() -> None:
    # "Reconciler error" alone would put every Flux failure into one pattern.
    record = parsed(
        '{"level":"error","msg":"Reconciler error","error":"failed to checkout and determine revision"}'
    )
    assert record.message == "Reconciler error: failed to checkout and determine revision"
    logfmt = parsed('level=warn msg="push failed" err="server returned HTTP status 429"')
    assert logfmt.message == "push failed: server returned HTTP status 429"
    same = parsed('{"level":"error","msg":"dial failed: timeout","error":"timeout"}')
    assert same.message == "dial failed: timeout"
