from __future__ import annotations

from pathlib import Path

from loglens.model import Level, LogRecord, ReadStats
from loglens.parsing.formats import parse_batch
from loglens.parsing.multiline import MultilineJoiner
from loglens.parsing.pipeline import parsed_batches
from loglens.sources.files import FileSource

FILES = Path(__file__).parent / "testdata" / "files"


def records_of(lines: list[str], labels: dict[str, str] | None = None) -> list[LogRecord]:
    shared = labels if labels is not None else {"pod": "p"}
    batch = [LogRecord(index, shared, line) for index, line in enumerate(lines)]
    parse_batch(batch)
    return batch


def join(batches: list[list[LogRecord]], joiner: MultilineJoiner | None = None) -> list[LogRecord]:
    joiner = joiner or MultilineJoiner()
    out: list[LogRecord] = []
    for batch in batches:
        out.extend(joiner.feed(batch))
    out.extend(joiner.flush())
    return out


def events_from(name: str, batch_size: int = 4096) -> list[LogRecord]:
    source = FileSource([str(FILES / name)], batch_size=batch_size)
    return [event for batch in parsed_batches(source.batches(), source.stats) for event in batch]


def test_python_traceback_joins_into_the_error_line() -> None:
    events = events_from("python_traceback.log")
    assert len(events) == 5
    failed = events[1]
    assert failed.message == "request 42 failed"
    assert failed.level == Level.ERROR
    assert failed.line.splitlines()[0].endswith("ERROR - request 42 failed")
    assert failed.line.splitlines()[-1] == "ValueError: negative size"
    assert len(failed.line.splitlines()) == 7
    assert failed.attrs == {"exception": "ValueError: negative size"}


def test_standalone_chained_traceback_is_one_error_event() -> None:
    events = events_from("python_traceback.log")
    crash = events[3]
    assert crash.line.startswith("Traceback (most recent call last):")
    assert "During handling of the above exception" in crash.line
    assert crash.level == Level.ERROR
    assert crash.attrs == {"exception": "RuntimeError: worker cannot start"}
    assert crash.message == "RuntimeError: worker cannot start"
    assert events[4].message == "shutting down"


def test_java_exception_with_caused_by_joins_into_the_log_line() -> None:
    events = events_from("java_exception.log")
    assert [event.level for event in events] == [Level.INFO, Level.ERROR, Level.INFO]
    failed = events[1]
    assert failed.message == "Application run failed"
    assert failed.attrs is not None
    assert failed.attrs["exception"] == (
        "java.lang.IllegalStateException: Failed to execute CommandLineRunner"
    )
    assert (
        failed.attrs["caused_by"]
        == "org.postgresql.util.PSQLException: Connection to db:5432 refused."
    )
    assert failed.attrs["logger"] == "o.s.boot.SpringApplication"
    assert failed.line.count("\n") == 6


def test_go_panic_with_goroutine_dump_is_one_fatal_event() -> None:
    events = events_from("go_panic.log")
    assert len(events) == 2
    panic = events[1]
    assert panic.level == Level.FATAL
    assert panic.line.startswith("panic: runtime error: invalid memory address")
    assert panic.line.endswith("exit status 2")
    assert "goroutine 1 [running]:" in panic.line
    assert panic.attrs is not None
    assert panic.attrs["exception"].startswith("panic: runtime error")


def test_events_join_across_batch_boundaries() -> None:
    whole = events_from("python_traceback.log")
    for batch_size in (1, 2, 3, 5):
        split = events_from("python_traceback.log", batch_size=batch_size)
        assert [(e.ts, e.line, e.level, e.attrs) for e in split] == [
            (e.ts, e.line, e.level, e.attrs) for e in whole
        ]


def test_generic_indented_continuation_keeps_head_ts_and_labels() -> None:
    batch = records_of(
        [
            "I1120 10:00:01.000000       1 config.go:12] loaded config:",
            "    replicas: 3",
            "    image: nginx",
            "I1120 10:00:02.000000       1 main.go:40] ready",
        ]
    )
    events = join([batch])
    assert len(events) == 2
    assert events[0].line.splitlines() == [
        "I1120 10:00:01.000000       1 config.go:12] loaded config:",
        "    replicas: 3",
        "    image: nginx",
    ]
    assert events[0].ts == 0
    assert events[0].labels is batch[0].labels
    assert events[0].message == "loaded config:"
    # The continuation's words are kept for classification; the message stays the head's.
    assert events[0].attrs == {"detail": "replicas: 3 image: nginx"}


def test_continuation_detail_leaves_out_stack_frames() -> None:
    batch = records_of(
        [
            "E1120 10:00:01.000000       1 run.go:12] request failed:",
            "\tat com.example.Api.call(Api.java:10)",
            "    upstream said: quota exhausted",
            '  File "/app/main.py", line 3, in <module>',
        ]
    )
    events = join([batch])
    assert events[0].attrs == {"detail": "upstream said: quota exhausted"}


def test_streams_are_told_apart_by_label_values_not_dict_identity() -> None:
    lines = [
        "2026-11-20 10:00:00.000 ERROR 1 --- [main] c.e.Api : request failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.example.Api.call(Api.java:10)",
        "2026-11-20 10:00:01.000 INFO 1 --- [main] c.e.Api : next",
    ]
    # Every record has its own labels dict (as when read from JSON), one other stream between.
    batch = [LogRecord(i, {"pod": "api-1"}, line) for i, line in enumerate(lines)]
    batch.insert(2, LogRecord(1, {"pod": "other"}, "\tat not.Mine(Other.java:1)"))
    parse_batch(batch)
    events = join([batch])
    by_pod = [e for e in events if e.labels["pod"] == "api-1"]
    assert len(by_pod) == 2
    assert by_pod[0].line.count("\n") == 2
    assert "Other.java" not in by_pod[0].line


def test_streams_are_joined_separately() -> None:
    api = {"pod": "api"}
    db = {"pod": "db"}
    batch = [
        LogRecord(1, api, "2026-11-20 10:00:01,000 - api - ERROR - boom"),
        LogRecord(2, db, "2026-11-20 10:00:01,000 - db - INFO - vacuum done"),
        LogRecord(3, api, "Traceback (most recent call last):"),
        LogRecord(4, db, "  indented db detail"),
        LogRecord(5, api, '  File "/app/x.py", line 1, in <module>'),
        LogRecord(6, api, "KeyError: 'id'"),
    ]
    parse_batch(batch)
    events = join([batch])
    by_pod = {event.labels["pod"]: event for event in events}
    assert len(events) == 2
    assert by_pod["api"].attrs == {"exception": "KeyError: 'id'"}
    assert by_pod["api"].line.count("\n") == 3
    assert (
        by_pod["db"].line
        == "2026-11-20 10:00:01,000 - db - INFO - vacuum done\n  indented db detail"
    )


def test_traceback_after_an_info_line_starts_its_own_event() -> None:
    events = join(
        [
            records_of(
                [
                    "2026-11-20 10:00:01,000 - app - INFO - all fine",
                    "Traceback (most recent call last):",
                    '  File "/app/x.py", line 1, in <module>',
                    "ZeroDivisionError: division by zero",
                ]
            )
        ]
    )
    assert [event.level for event in events] == [Level.INFO, Level.ERROR]
    assert events[0].line == "2026-11-20 10:00:01,000 - app - INFO - all fine"


def test_exception_line_after_plain_text_is_not_swallowed() -> None:
    events = join(
        [records_of(["Started container app", "java.lang.RuntimeException: boom", "next line"])]
    )
    assert [event.line for event in events] == [
        "Started container app",
        "java.lang.RuntimeException: boom",
        "next line",
    ]
    assert events[1].attrs == {"exception": "java.lang.RuntimeException: boom"}


def test_events_are_capped_by_lines() -> None:
    lines = ["2026-11-20 10:00:01,000 - app - ERROR - huge dump"] + [
        f"  frame {i}" for i in range(10)
    ]
    events = join([records_of(lines)], MultilineJoiner(max_lines=4))
    assert [event.line.count("\n") + 1 for event in events] == [4, 4, 3]
    assert sum(event.line.count("\n") + 1 for event in events) == 11


def test_events_are_capped_by_size() -> None:
    lines = ["2026-11-20 10:00:01,000 - app - ERROR - big"] + ["  " + "x" * 100] * 50
    events = join([records_of(lines)], MultilineJoiner(max_chars=1000))
    assert all(len(event.line) <= 1000 for event in events)
    assert len(events) > 1


def test_ordinary_lines_pass_through_unchanged() -> None:
    lines = [f"I1120 10:00:0{i}.000000       1 a.go:1] step {i}" for i in range(5)]
    batch = records_of(lines)
    joiner = MultilineJoiner()
    first = joiner.feed(batch)
    assert [event.line for event in first] == lines[:4]
    assert [event.line for event in joiner.flush()] == lines[4:]
    assert joiner.flush() == []


def test_pipeline_counts_events_not_continuation_lines() -> None:
    source = FileSource([str(FILES / "python_traceback.log")])
    stats = source.stats
    events = [event for batch in parsed_batches(source.batches(), stats) for event in batch]
    assert stats.lines == 19  # 21 lines, two of them blank
    assert len(events) == 5
    assert stats.formats == {"python": 4, "plain": 1}
    assert stats.levels == {"info": 3, "error": 2}


def test_pipeline_without_multiline_keeps_every_line() -> None:
    source = FileSource([str(FILES / "python_traceback.log")])
    stats = ReadStats()
    events = [
        event
        for batch in parsed_batches(source.batches(), stats, multiline=False)
        for event in batch
    ]
    assert len(events) == 19
    assert sum(stats.formats.values()) == 19
