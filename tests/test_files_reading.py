"""Block reading, the compact JSONL path and stream shares of `FileSource`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import orjson
import pytest

from loglens.model import LogRecord, parse_ts
from loglens.sources.files import FileSource
from loglens.sources.shares import StreamShare


def read_all(source: FileSource) -> list[LogRecord]:
    return [record for batch in source.batches() for record in batch]


def _as_tuples(records: list[LogRecord]) -> list[tuple[int, dict[str, str], str]]:
    return [(r.ts, r.labels, r.line) for r in records]


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_lines_split_the_same_whatever_the_block_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    rng = random.Random(block)
    lines = ["".join(rng.choice("ab c\r") for _ in range(rng.randint(0, 40))) for _ in range(300)]
    path = tmp_path / "mixed.log"
    path.write_bytes("\n".join(lines).encode())
    monkeypatch.setattr("loglens.sources.files.READ_BLOCK", block)
    source = FileSource([str(path)], fmt="plain", batch_size=17)
    expected = [line.removesuffix("\r") for line in lines]
    assert [r.line for r in read_all(source)] == [line for line in expected if line]
    assert source.stats.bytes == path.stat().st_size


def test_overlong_line_split_across_blocks_is_cut_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loglens.sources.files.READ_BLOCK", 10)
    monkeypatch.setattr("loglens.sources.files.MAX_LINE_BYTES", 25)
    path = tmp_path / "long.log"
    path.write_bytes(b"first\n" + b"L" * 95 + b"\nlast line\n")
    source = FileSource([str(path)], fmt="plain")
    assert [r.line for r in read_all(source)] == ["first", "L" * 25, "last line"]


_TRICKY_RECORDS = [
    {"ts": "2026-11-20T10:00:01.5Z", "labels": {"app": "a}b", "x": "y"}, "line": "brace"},
    {"ts": "2026-11-20T10:00:01.25Z", "labels": {"app": "a}b", "x": "y"}, "line": "again"},
    {"ts": "2026-11-20T10:00:01.125Z", "labels": {"app": 'q"t'}, "line": 'quote " in'},
    {"ts": "2026-11-20T10:00:01.000000001Z", "labels": {}, "line": "ünïcode \u2603 \\ tab\t"},
    {"ts": "2026-11-20T10:00:01.9Z", "labels": {}, "line": '{"nested": "json", "n": 1}'},
    {"ts": "2026-11-20T10:00:02Z", "labels": {"a": "b"}, "line": "no fraction"},
    {"ts": "2026-11-20T12:00:02.5+02:00", "labels": {"a": "b"}, "line": "with zone"},
    {"ts": 1795168803000000123, "labels": {"a": "b"}, "line": "integer ts"},
    {"labels": {"a": "b"}, "line": "key order", "ts": "2026-11-20T10:00:03.5Z"},
    {"ts": "2026-11-20T10:00:03.5Z", "labels": {"a": "b"}, "line": "extra", "more": 1},
    {"ts": "2026-11-20 10:00:03.25Z", "labels": {"a": "b"}, "line": "space, not T"},
    {"ts": "2026-11-20T10:00:03.25z", "labels": {"a": "b"}, "line": "lower-case z"},
    {"ts": "2026-11-20T10:00:03.123456789012Z", "labels": {"a": "b"}, "line": "12 digits"},
]


def _record_bytes(record: dict[str, object], *, compact: bool) -> bytes:
    return orjson.dumps(record) if compact else json.dumps(record).encode()


@pytest.mark.parametrize("compact", [True, False])
def test_compact_and_spaced_jsonl_give_the_records_json_gives(
    tmp_path: Path, compact: bool
) -> None:
    path = tmp_path / "tricky.jsonl"
    path.write_bytes(b"\n".join(_record_bytes(r, compact=compact) for r in _TRICKY_RECORDS * 3))
    records = read_all(FileSource([str(path)]))
    expected = [
        (
            parse_ts(r["ts"]),
            r["labels"],
            r["line"],
        )
        for r in _TRICKY_RECORDS * 3
    ]
    assert _as_tuples(records) == expected
    # Records of one label set share one dict, on every path.
    brace = [r.labels for r in records if r.labels == {"app": "a}b", "x": "y"}]
    assert all(labels is brace[0] for labels in brace)


def test_compact_record_with_trailing_garbage_is_reported(tmp_path: Path) -> None:
    good = orjson.dumps({"ts": "2026-11-20T10:00:01.5Z", "labels": {"a": "b"}, "line": "ok"})
    bad = good[:-1] + b',"line":"x"' + b"}" + b"}"
    path = tmp_path / "bad.jsonl"
    path.write_bytes(good + b"\n" + bad + b"\n" + good + b"\n")
    source = FileSource([str(path)], skip_bad=True)
    assert [r.line for r in read_all(source)] == ["ok", "ok"]
    assert source.stats.skipped == 1
    assert source.stats.skipped_examples[0].startswith(f"{path}:2: ")
    assert source.skipped_at == [(0, 2)]


def _stream_records(count: int) -> list[dict[str, object]]:
    rng = random.Random(5)
    streams = [
        {"namespace": ns, "pod": f"{app}-{i}", "container": app}
        for ns, app in (("web", "api"), ("db", "pg"), ("kube-system", "coredns"), ("x", "y"))
        for i in range(2)
    ]
    return [
        {
            "ts": f"2026-11-20T10:00:{n % 60:02d}.{n:06d}Z",
            "labels": rng.choice(streams),
            "line": f"line {n}",
        }
        for n in range(count)
    ]


def test_shares_split_the_records_by_stream_and_together_read_them_all(tmp_path: Path) -> None:
    records = _stream_records(500)
    lines = [orjson.dumps(r) for r in records]
    lines.insert(100, b"not json at all")
    bad_utf8 = b'{"ts":"2026-11-20T10:00:00.5Z","labels":{"namespace":"web","container":"api"},'
    lines.insert(150, bad_utf8 + b'"line":"caf\xe9"}')
    lines.insert(200, b'{"ts": "2026-11-20T10:00:00Z", "labels": {"n": 1}, "line": "bad labels"}')
    path = tmp_path / "streams.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    whole = FileSource([str(path)], skip_bad=True)
    everything = _as_tuples(read_all(whole))
    parts = []
    for index in range(3):
        share = StreamShare(index, 3, {("web", "api"): 2})
        source = FileSource([str(path)], skip_bad=True, share=share)
        parts.append(read_all(source))
        keys = {(r.labels.get("namespace"), r.labels.get("container")) for r in parts[-1]}
        if index == 2:
            assert ("web", "api") in keys
            assert "caf\ufffd" in [r.line for r in parts[-1]]
        else:
            assert ("web", "api") not in keys
        # Unreadable records belong to worker 0 alone.
        assert source.stats.skipped == (2 if index == 0 else 0)
        assert source.stats.bytes == path.stat().st_size
    merged = sorted(record for part in parts for record in _as_tuples(part))
    assert merged == sorted(everything)
    order = {line: position for position, (_, _, line) in enumerate(everything)}
    for part in parts:  # each share keeps the file's order
        positions = [order[r.line] for r in part]
        assert positions == sorted(positions)


def test_share_reads_non_jsonl_files_in_worker_zero_only(tmp_path: Path) -> None:
    path = tmp_path / "plain.log"
    path.write_text("one\ntwo\n")
    counts = [
        len(read_all(FileSource([str(path)], share=StreamShare(index, 2)))) for index in range(2)
    ]
    assert counts == [2, 0]
