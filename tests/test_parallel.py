"""Mining in several processes gives exactly the report one process gives."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from loglens.analysis import parallel
from loglens.analysis.analyze import analyze
from loglens.analysis.pipeline import Progress, WindowCounters
from loglens.config import Settings
from loglens.errors import LogLensError, MalformedInputError, SourceError
from loglens.evaluation.golden import AnalyzeCase, load_dataset
from loglens.model import ReadStats, Report
from loglens.patterns.patternset import PatternSet
from loglens.sources.demo import write_jsonl, write_kubelet_logs
from loglens.sources.files import FileSource
from loglens.sources.shares import StreamShare

GOLDEN = Path(__file__).resolve().parent.parent / "eval" / "golden"


def _settings(workers: int, **extra: Any) -> Settings:
    return Settings(
        analyze_workers=workers,
        parallel_min_mb=0,
        record_history=False,
        retrieval="off",
        llm_backend="none",
        **extra,
    )


def _comparable(report: Report) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    data["stats"].pop("stage_ms")
    return data


def _analyze_file(path: Path, workers: int, **source_options: Any) -> Report:
    source = FileSource([str(path)], **source_options)
    return analyze(source, settings=_settings(workers))


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.jsonl"
    write_jsonl(path, lines=40_000, seed=11)
    return path


def test_demo_report_is_identical_with_two_and_three_workers(demo_file: Path) -> None:
    one = _comparable(_analyze_file(demo_file, 1))
    assert one["findings"] and one["patterns"]
    for workers in (2, 3):
        assert parallel.plan_shares(FileSource([str(demo_file)]), _settings(workers))
        assert _comparable(_analyze_file(demo_file, workers)) == one


def test_spawned_workers_give_the_same_report(
    demo_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = _comparable(_analyze_file(demo_file, 1))
    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context("spawn"))
    assert _comparable(_analyze_file(demo_file, 2)) == one


def test_progress_counts_every_workers_lines(demo_file: Path) -> None:
    seen: list[Progress] = []
    source = FileSource([str(demo_file)])
    report = analyze(source, settings=_settings(2), progress=seen.append)
    assert seen
    assert max(p.lines for p in seen) <= report.stats.lines
    assert report.stats.lines == 40_000
    assert report.stats.bytes == demo_file.stat().st_size


def _golden_cases() -> list[AnalyzeCase]:
    return [case for case in load_dataset(GOLDEN) if isinstance(case, AnalyzeCase)]


@pytest.mark.integration
def test_golden_cases_are_identical_in_shares(tmp_path: Path) -> None:
    split = 0
    for case in _golden_cases():
        path = tmp_path / f"{case.id}.jsonl"
        path.write_bytes(
            b"".join(orjson.dumps(r.to_json_dict()) + b"\n" for r in case.logs.records)
        )
        window = case.logs.window
        reports = []
        for workers in (1, 2):
            source = FileSource([str(path)])
            if workers == 2 and parallel.plan_shares(source, _settings(2)):
                split += 1
            reports.append(_comparable(analyze(source, settings=_settings(workers), window=window)))
        assert reports[0] == reports[1], case.id
    assert split >= 20


def _records(count: int, streams: int) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "ts": f"2026-11-20T10:{n // 600:02d}:{n // 10 % 60:02d}.{n % 10}Z",
                "labels": {"namespace": f"ns{n % streams}", "container": "app"},
                "line": f'level=error msg="request {n % 7} failed" id={n}',
            }
        )
        for n in range(count)
    ]


def test_malformed_record_in_a_worker_is_raised_with_its_line(tmp_path: Path) -> None:
    lines = _records(400, 4)
    # Readable labels, so the record belongs to its stream's share; an unreadable ts.
    bad = b'{"ts": "yesterday", "labels": {"namespace": "ns%d", "container": "app"}, "line": "x"}'
    lines[250] = bad % 1
    lines[300] = bad % 2
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(MalformedInputError) as single:
        _analyze_file(path, 1)
    with pytest.raises(MalformedInputError) as split:
        _analyze_file(path, 2)
    assert str(split.value) == str(single.value)
    assert split.value.line_no == 251


def test_skipped_records_are_counted_and_listed_in_input_order(tmp_path: Path) -> None:
    lines = _records(400, 4)
    for number in (30, 120, 121, 200, 260, 330, 390):
        lines[number] = b'{"ts": "bad", "labels": {"namespace": "ns%d"}, "line": "x"}' % (
            number % 4
        )
    lines[50] = b"{not json"
    path = tmp_path / "skips.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    single = _analyze_file(path, 1, skip_bad=True)
    split = _analyze_file(path, 2, skip_bad=True)
    assert _comparable(split) == _comparable(single)
    assert split.stats.skipped == 8


def test_balance_gives_the_largest_streams_to_the_least_loaded_workers() -> None:
    sizes = Counter({("a", "x"): 50, ("b", "x"): 30, ("c", "x"): 25, ("d", "x"): 5})
    assigned, loads = parallel.balance(sizes, 2)
    assert assigned == {("a", "x"): 0, ("b", "x"): 1, ("c", "x"): 1, ("d", "x"): 0}
    assert loads == [55, 55]


def test_small_single_stream_and_unsplittable_inputs_stay_in_one_process(
    tmp_path: Path, demo_file: Path
) -> None:
    assert parallel.plan_shares(FileSource([str(demo_file)]), _settings(1)) is None
    big_enough = Settings(analyze_workers=2, parallel_min_mb=1000)
    assert parallel.plan_shares(FileSource([str(demo_file)]), big_enough) is None
    one_stream = tmp_path / "one.jsonl"
    one_stream.write_bytes(b"\n".join(_records(100, 1)))
    assert parallel.plan_shares(FileSource([str(one_stream)]), _settings(2)) is None
    plain = tmp_path / "plain.log"
    plain.write_text("a\nb\n" * 100)
    assert parallel.plan_shares(FileSource([str(plain)]), _settings(2)) is None
    stdin = FileSource(["-"])
    assert parallel.plan_shares(stdin, _settings(2)) is None


def test_auto_worker_count_is_bounded() -> None:
    assert 1 <= parallel.worker_count(Settings()) <= parallel.MAX_AUTO_WORKERS
    assert parallel.worker_count(Settings(analyze_workers=3)) == 3


def _empty_result() -> parallel.ShareResult:
    return parallel.ShareResult(PatternSet(), {}, [], WindowCounters(), {}, ReadStats(), {}, [], {})


def _killed_in_share_1(share: StreamShare, progress: object) -> parallel.ShareResult:
    if share.index == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return _empty_result()


def _bug_in_share_1(share: StreamShare, progress: object) -> parallel.ShareResult:
    if share.index == 1:
        raise ValueError("a bug")
    return _empty_result()


def _source_error_in_share_1(share: StreamShare, progress: object) -> parallel.ShareResult:
    if share.index == 1:
        raise SourceError("cannot read x.jsonl", hint="is it complete?")
    return _empty_result()


_SHARES = [StreamShare(0, 2), StreamShare(1, 2)]


def test_a_killed_worker_is_reported_with_what_to_do() -> None:
    with pytest.raises(LogLensError, match="exited with code") as raised:
        parallel.run_shares(_killed_in_share_1, _SHARES, None)
    assert raised.value.hint is not None and "LOGLENS_ANALYZE_WORKERS=1" in raised.value.hint


def test_a_bug_in_a_worker_surfaces_with_its_traceback() -> None:
    with pytest.raises(RuntimeError, match="ValueError: a bug"):
        parallel.run_shares(_bug_in_share_1, _SHARES, None)


def test_a_workers_loglens_error_is_raised_again_as_itself() -> None:
    with pytest.raises(SourceError) as raised:
        parallel.run_shares(_source_error_in_share_1, _SHARES, None)
    assert (raised.value.message, raised.value.hint) == ("cannot read x.jsonl", "is it complete?")


def test_container_log_files_split_by_stream_and_give_the_same_report(tmp_path: Path) -> None:
    paths = write_kubelet_logs(tmp_path, lines=30_000, seed=5)
    assert len(paths) > 5
    pattern = str(tmp_path / "pods" / "*" / "*" / "0.log")
    shares = parallel.plan_shares(FileSource([pattern]), _settings(2))
    assert shares is not None
    read = [sum(len(b) for b in FileSource([pattern], share=s).batches()) for s in shares]
    assert min(read) > 0.25 * sum(read)  # both workers get a fair part of the files
    one = analyze(FileSource([pattern]), settings=_settings(1))
    two = analyze(FileSource([pattern]), settings=_settings(2))
    assert _comparable(two) == _comparable(one)
    assert one.findings and one.patterns
    assert two.stats.bytes == sum(path.stat().st_size for path in paths)
    assert two.stats.lines == one.stats.lines > 25_000


def test_jsonl_and_container_log_files_together_give_the_same_report(
    tmp_path: Path, demo_file: Path
) -> None:
    write_kubelet_logs(tmp_path, lines=10_000, seed=6)
    inputs = [str(demo_file), str(tmp_path / "pods" / "*" / "*" / "0.log")]
    assert parallel.plan_shares(FileSource(inputs), _settings(2)) is not None
    one = _comparable(analyze(FileSource(inputs), settings=_settings(1)))
    assert _comparable(analyze(FileSource(inputs), settings=_settings(2))) == one
