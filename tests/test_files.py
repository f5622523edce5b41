from __future__ import annotations

import gzip
import io
import tracemalloc
from pathlib import Path

import pytest

from loglens.errors import InputError, MalformedInputError
from loglens.model import LogRecord, parse_ts
from loglens.sources.files import FileSource, detect_file_format, rfc3339_ns

FILES = Path(__file__).parent / "testdata" / "files"


def read_all(source: FileSource) -> list[LogRecord]:
    return [record for batch in source.batches() for record in batch]


def test_jsonl_records_keep_ts_labels_and_line() -> None:
    source = FileSource([str(FILES / "records.jsonl")])
    records = read_all(source)
    assert [r.line for r in records] == [
        "srv  update_slots: all slots are idle",
        '{"level":"error","msg":"request failed","error":"connection refused"}',
        "llama_model_load: error loading model: unable to allocate CUDA buffer",
        'INFO:     10.0.0.1:5432 - "GET /health HTTP/1.1" 200 OK',
    ]
    assert records[0].ts == parse_ts("2026-11-20T10:00:01.123Z")
    assert records[1].ts == parse_ts("2026-11-20T09:00:02.5Z")
    assert records[2].ts == 1795168803000000000
    assert records[3].ts == parse_ts("2026-11-20T10:00:04Z") + 123
    assert records[0].labels == {
        "namespace": "llm",
        "pod": "llama-0",
        "container": "server",
        "node": "node-2",
    }
    assert source.formats == {str(FILES / "records.jsonl"): "jsonl"}


def test_jsonl_records_of_one_stream_share_one_labels_dict() -> None:
    records = read_all(FileSource([str(FILES / "records.jsonl")]))
    assert records[0].labels is records[2].labels
    assert records[1].labels is records[3].labels
    assert records[0].labels is not records[1].labels


def test_stats_count_records_and_raw_bytes() -> None:
    path = FILES / "records.jsonl"
    source = FileSource([str(path)])
    read_all(source)
    assert source.stats.lines == 4
    assert source.stats.bytes == path.stat().st_size


def test_gzipped_jsonl_is_detected_by_magic_bytes(tmp_path: Path) -> None:
    packed = tmp_path / "records.log"  # no .gz suffix on purpose
    packed.write_bytes(gzip.compress((FILES / "records.jsonl").read_bytes()))
    plain = read_all(FileSource([str(FILES / "records.jsonl")]))
    unpacked = read_all(FileSource([str(packed)]))
    assert [(r.ts, r.line) for r in unpacked] == [(r.ts, r.line) for r in plain]


def test_stdin_is_read_for_dash() -> None:
    data = (FILES / "kubectl.log").read_bytes()
    source = FileSource(["-"], stdin=io.BytesIO(data))
    records = read_all(source)
    assert len(records) == 3
    assert records[0].labels == {"filename": "<stdin>"}
    assert source.describe().kind == "stdin"


def test_gzipped_stdin_is_unpacked() -> None:
    data = gzip.compress((FILES / "records.jsonl").read_bytes())
    records = read_all(FileSource(["-"], stdin=io.BytesIO(data)))
    assert len(records) == 4
    assert records[0].line == "srv  update_slots: all slots are idle"


def test_globs_expand_sorted(tmp_path: Path) -> None:
    for name in ("b.log", "a.log", "c.txt"):
        (tmp_path / name).write_text(f"line from {name}\n")
    source = FileSource([str(tmp_path / "*.log")])
    assert [r.line for r in read_all(source)] == ["line from a.log", "line from b.log"]
    assert source.describe().kind == "files"
    assert "a.log" in source.describe().detail


def test_glob_matching_nothing_names_the_pattern(tmp_path: Path) -> None:
    pattern = str(tmp_path / "*.nothing")
    with pytest.raises(InputError, match=r"no file matches .*\*\.nothing"):
        FileSource([pattern])


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        FileSource([str(tmp_path / "absent.log")])


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(InputError, match="unknown input format 'xml'"):
        FileSource([str(FILES / "plain.log")], fmt="xml")


def test_describe_truncates_many_names(tmp_path: Path) -> None:
    paths = []
    for index in range(40):
        path = tmp_path / f"very-long-file-name-number-{index:02d}.log"
        path.write_text("x\n")
        paths.append(str(path))
    detail = FileSource(paths).describe().detail
    assert len(detail) < 200
    assert detail.endswith("(40 files)")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("records.jsonl", "jsonl"),
        ("cri.log", "cri"),
        ("kubectl.log", "kubectl"),
        ("plain.log", "plain"),
        ("python_traceback.log", "plain"),
    ],
)
def test_detect_file_format_from_first_lines(name: str, expected: str) -> None:
    first_lines = (FILES / name).read_bytes().splitlines(keepends=True)[:20]
    assert detect_file_format(first_lines) == expected


def test_detect_file_format_of_app_json_lines_is_plain() -> None:
    lines = [b'{"level":"info","msg":"hello"}\n'] * 3
    assert detect_file_format(lines) == "plain"


def test_detect_file_format_tolerates_one_bad_record() -> None:
    lines = (FILES / "bad.jsonl").read_bytes().splitlines(keepends=True)
    assert detect_file_format(lines) == "jsonl"


def test_cri_partial_lines_are_joined_per_stream() -> None:
    records = read_all(FileSource([str(FILES / "cri.log")]))
    assert [(r.labels["stream"], r.line) for r in records] == [
        ("stdout", "Starting llama server on port 8080"),
        ("stderr", "W1120 10:00:02.200000       1 warnings.go:70] deprecated API"),
        (
            "stdout",
            '{"level":"info","msg":"a very long line split by the runtime into three pieces"}',
        ),
        ("stderr", ""),
        ("stdout", "done"),
    ]
    joined = records[2]
    assert joined.ts == parse_ts("2026-11-20T10:00:02.1Z")
    assert records[0].ts == parse_ts("2026-11-20T10:00:01Z") + 1
    assert records[0].labels is records[2].labels
    assert records[0].labels == {"filename": str(FILES / "cri.log"), "stream": "stdout"}


def test_cri_partial_at_end_of_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "cut.log"
    path.write_text("2026-11-20T10:00:01Z stdout P unfinished \n")
    records = read_all(FileSource([str(path)], fmt="cri"))
    assert [r.line for r in records] == ["unfinished "]


def test_cri_line_that_does_not_fit_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken-cri.log"
    path.write_text(
        "2026-11-20T10:00:01Z stdout F ok\n"
        "2026-11-20T10:00:02Z stdout F ok again\n"
        "2026-11-20T10:00:03Z sideways X what\n"
    )
    with pytest.raises(MalformedInputError) as caught:
        read_all(FileSource([str(path)], fmt="cri"))
    assert caught.value.path == str(path)
    assert caught.value.line_no == 3
    assert "CRI" in str(caught.value)


def test_kubectl_timestamps_are_split_off() -> None:
    records = read_all(FileSource([str(FILES / "kubectl.log")]))
    assert records[0].line.startswith("I1120 10:00:01.123456")
    assert records[0].ts == parse_ts("2026-11-20T10:00:01.123456789Z")
    assert records[2].ts == parse_ts("2026-11-20T08:00:03.5Z")
    assert records[2].line == 'level=warn msg="slow request" duration=2.5s'


def test_plain_lines_take_leading_timestamps_or_carry_the_last() -> None:
    records = read_all(FileSource([str(FILES / "plain.log")]))
    year = 2026
    assert [r.ts for r in records] == [
        0,
        parse_ts("2026-11-20T10:00:01.25Z"),
        parse_ts("2026-11-20T10:00:01.25Z"),
        parse_ts("2026-11-20T10:00:02.5Z"),
        parse_ts(f"{year}-11-20T10:00:03.000001Z"),
        parse_ts(f"{year}-11-20T10:00:04Z"),
        parse_ts("2026-11-20T10:00:05Z"),
    ]
    assert records[0].labels == {"filename": str(FILES / "plain.log")}
    assert records[0].line == "starting up without a timestamp"


def test_format_override_reads_jsonl_as_plain_text() -> None:
    records = read_all(FileSource([str(FILES / "records.jsonl")], fmt="plain"))
    assert records[0].line.startswith('{"ts": "2026-11-20T10:00:01.123Z"')
    assert records[0].labels == {"filename": str(FILES / "records.jsonl")}


def test_format_override_reads_kubectl_output_as_cri_fails_with_location() -> None:
    with pytest.raises(MalformedInputError) as caught:
        read_all(FileSource([str(FILES / "kubectl.log")], fmt="cri"))
    assert caught.value.line_no == 1


def test_malformed_jsonl_stops_with_file_and_line() -> None:
    path = FILES / "bad.jsonl"
    source = FileSource([str(path)])
    with pytest.raises(MalformedInputError) as caught:
        read_all(source)
    assert caught.value.path == str(path)
    assert caught.value.line_no == 3
    assert str(caught.value).startswith(f"{path}:3: invalid JSON")


def test_skip_bad_counts_and_keeps_examples() -> None:
    path = FILES / "bad.jsonl"
    source = FileSource([str(path)], skip_bad=True)
    records = read_all(source)
    assert [r.line for r in records] == ["first", "second", "sixth"]
    assert source.stats.skipped == 3
    assert source.stats.lines == 3
    examples = source.stats.skipped_examples
    assert examples[0].startswith(f"{path}:3: invalid JSON")
    assert examples[1] == f'{path}:4: record has no "line" string'
    assert examples[2].startswith(f"{path}:5: unparseable ts 'yesterday'")


def test_skip_bad_keeps_at_most_five_examples(tmp_path: Path) -> None:
    path = tmp_path / "many-bad.jsonl"
    good = '{"ts": "2026-11-20T10:00:01Z", "labels": {}, "line": "ok"}\n'
    path.write_text(good * 3 + "not json\n" * 9)
    source = FileSource([str(path)], fmt="jsonl", skip_bad=True)
    assert len(read_all(source)) == 3
    assert source.stats.skipped == 9
    assert len(source.stats.skipped_examples) == 5


def test_labels_with_non_string_values_are_malformed(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"ts": "2026-11-20T10:00:01Z", "labels": {"pod": ["a"]}, "line": "x"}\n')
    with pytest.raises(MalformedInputError, match="labels"):
        read_all(FileSource([str(path)], fmt="jsonl"))


def test_invalid_utf8_is_replaced_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "latin1.log"
    path.write_bytes(b"caf\xe9 au lait\r\nsecond\n")
    assert [r.line for r in read_all(FileSource([str(path)]))] == ["caf\ufffd au lait", "second"]


def test_invalid_utf8_inside_jsonl_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"ts": "2026-11-20T10:00:01Z", "labels": {}, "line": "caf\xe9"}\n')
    assert [r.line for r in read_all(FileSource([str(path)], fmt="jsonl"))] == ["caf\ufffd"]


def test_batches_respect_batch_size_across_files(tmp_path: Path) -> None:
    for name in ("one.log", "two.log"):
        (tmp_path / name).write_text("".join(f"{name} {i}\n" for i in range(25)))
    source = FileSource([str(tmp_path / "*.log")], batch_size=10)
    sizes = [len(batch) for batch in source.batches()]
    assert max(sizes) <= 10
    assert sum(sizes) == 50
    assert source.stats.lines == 50


def test_rfc3339_fast_path_agrees_with_parse_ts() -> None:
    for text in (
        "2026-11-20T10:00:01Z",
        "2026-11-20T10:00:01.1Z",
        "2026-11-20T10:00:01.123456789Z",
        "2026-11-20T10:00:01.123+05:30",
    ):
        assert rfc3339_ns(text) == parse_ts(text)
    with pytest.raises(ValueError):
        rfc3339_ns("2026-13-40T10:00:01Z")


@pytest.mark.integration
def test_large_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = (
        b'{"ts": "2026-11-20T10:00:01.123456Z", "labels": {"pod": "api-0", "namespace": "web"}, '
        b'"line": "level=info msg=\\"request handled\\" path=/api/v1/items status=200"}\n'
    )
    with path.open("wb") as handle:
        for _ in range(40):
            handle.write(line * 5000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        source = FileSource([str(path)], batch_size=1024)
        count = sum(len(batch) for batch in source.batches())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert size > 30_000_000
    assert peak < size / 10


def test_overlong_lines_are_cut_and_line_numbers_stay_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loglens.sources.files.MAX_LINE_BYTES", 64)
    path = tmp_path / "long.log"
    path.write_bytes(b"short one\n" + b"x" * 300 + b"\nshort two\n" + b"y" * 100)
    source = FileSource([str(path)], fmt="plain", batch_size=2)
    lines = [r.line for r in read_all(source)]
    assert lines == ["short one", "x" * 64, "short two", "y" * 64]
    assert source.stats.bytes == path.stat().st_size


def test_overlong_jsonl_record_is_reported_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loglens.sources.files.MAX_LINE_BYTES", 80)
    good = '{"ts": "2026-11-20T10:00:01Z", "labels": {}, "line": "ok"}\n'
    huge = '{"ts": "2026-11-20T10:00:02Z", "labels": {}, "line": "' + "z" * 500 + '"}\n'
    path = tmp_path / "huge.jsonl"
    path.write_text(good + huge + good)
    source = FileSource([str(path)], fmt="jsonl", skip_bad=True)
    assert [r.line for r in read_all(source)] == ["ok", "ok"]
    assert source.stats.skipped_examples[0].startswith(f"{path}:2: invalid JSON")


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    source = FileSource([str(path)])
    assert list(source.batches()) == []
    assert (source.stats.lines, source.stats.bytes) == (0, 0)
    assert source.formats == {str(path): "plain"}


POD_UID = "1b2c3d4e-aaaa-bbbb-cccc-1234567890ab"
CONTAINER_ID = "c0ffee" + "0" * 58


@pytest.mark.parametrize(
    "relative",
    [
        f"var/log/pods/shop_checkout-5c7d8-abcde_{POD_UID}/checkout/0.log",
        f"var/log/pods/shop_checkout-5c7d8-abcde_{POD_UID}/checkout/1.log.20261120-101500",
        f"var/log/containers/checkout-5c7d8-abcde_shop_checkout-{CONTAINER_ID}.log",
    ],
)
def test_kubelet_log_paths_give_namespace_pod_and_container(tmp_path: Path, relative: str) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(
        "2026-11-20T10:00:01.000000001Z stdout F payment declined\n"
        "2026-11-20T10:00:02.000000001Z stderr F panic: nil map\n",
        encoding="utf-8",
    )
    records = read_all(FileSource([str(path)]))
    expected = {
        "filename": str(path),
        "namespace": "shop",
        "pod": "checkout-5c7d8-abcde",
        "container": "checkout",
    }
    assert [r.labels for r in records] == [
        {**expected, "stream": "stdout"},
        {**expected, "stream": "stderr"},
    ]


def test_a_rotated_and_compressed_kubelet_log_keeps_its_labels(tmp_path: Path) -> None:
    path = tmp_path / f"pods/kube-system_etcd-node-1_{'ab' * 16}/etcd/0.log.20261120-101500.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(b"2026-11-20T10:00:01Z slow fdatasync took=1.2s\n"))
    (record,) = read_all(FileSource([str(path)]))
    assert (record.labels["namespace"], record.labels["container"]) == ("kube-system", "etcd")
    assert record.line == "slow fdatasync took=1.2s"


@pytest.mark.parametrize(
    "relative",
    ["app.log", "pods/not-a-pod-dir/0.log", "var/log/containers/short_id-abc.log"],
)
def test_other_paths_get_only_the_file_name(tmp_path: Path, relative: str) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("plain line\n", encoding="utf-8")
    (record,) = read_all(FileSource([str(path)]))
    assert record.labels == {"filename": str(path)}
