"""Tests for the demo cluster source (`loglens.sources.demo`)."""

from __future__ import annotations

import gzip
import re
import tracemalloc
from collections import Counter
from pathlib import Path

import orjson
import pytest

from loglens.errors import InputError
from loglens.model import LogRecord, parse_ts
from loglens.sources.base import LogSource
from loglens.sources.demo import (
    DEFAULT_START_NS,
    SCENARIOS,
    DemoSource,
    list_scenarios,
    write_jsonl,
    write_plain,
)

ALL = list(SCENARIOS)


def _records(source: DemoSource) -> list[LogRecord]:
    return [record for batch in source.batches() for record in batch]


@pytest.fixture(scope="module")
def full_run() -> tuple[DemoSource, list[LogRecord]]:
    source = DemoSource(lines=30_000, seed=7, incidents=ALL)
    return source, _records(source)


def _by_container(records: list[LogRecord], container: str) -> list[str]:
    return [r.line for r in records if r.labels["container"] == container]


def test_same_seed_gives_identical_records() -> None:
    first = [(r.ts, r.labels, r.line) for r in _records(DemoSource(lines=5000, seed=3))]
    second = [(r.ts, r.labels, r.line) for r in _records(DemoSource(lines=5000, seed=3))]
    assert first == second


def test_second_iteration_repeats_the_records() -> None:
    source = DemoSource(lines=3000, seed=3)
    first = [(r.ts, r.line) for r in _records(source)]
    assert [(r.ts, r.line) for r in _records(source)] == first


def test_different_seed_gives_different_records() -> None:
    first = [r.line for r in _records(DemoSource(lines=2000, seed=1))]
    second = [r.line for r in _records(DemoSource(lines=2000, seed=2))]
    assert first != second


@pytest.mark.parametrize("lines", [0, 1, 37, 4096, 4097, 12_345])
def test_line_count_is_exact(lines: int) -> None:
    source = DemoSource(lines=lines, batch_size=1000)
    records = _records(source)
    assert len(records) == lines
    assert source.stats.lines == lines


def test_batches_respect_batch_size() -> None:
    sizes = [len(b) for b in DemoSource(lines=2500, batch_size=1000).batches()]
    assert sizes == [1000, 1000, 500]


def test_timestamps_sorted_and_inside_window(full_run: tuple[DemoSource, list[LogRecord]]) -> None:
    source, records = full_run
    stamps = [r.ts for r in records]
    assert stamps == sorted(stamps)
    assert source.start_ns <= stamps[0] and stamps[-1] < source.end_ns


def test_default_start_is_fixed() -> None:
    source = DemoSource(lines=10)
    assert source.start_ns == DEFAULT_START_NS == parse_ts("2026-11-20T10:00:00Z")


def test_every_component_present(full_run: tuple[DemoSource, list[LogRecord]]) -> None:
    _, records = full_run
    containers = {r.labels["container"] for r in records}
    expected = {
        "kube-apiserver", "kube-scheduler", "kube-controller-manager", "etcd", "coredns",
        "kube-proxy", "kubelet", "manager", "grafana", "api", "llama", "loki", "qdrant",
        "postgres", "alloy", "event-exporter", "kernel",
    }  # fmt: skip
    assert expected <= containers
    flux = {
        r.labels["pod"].rsplit("-", 2)[0] for r in records if r.labels["container"] == "manager"
    }
    assert flux == {"source-controller", "kustomize-controller", "helm-controller"}
    assert {r.labels["node"] for r in records} == {"node-1", "node-2"}


def test_labels_have_the_usual_keys_and_realistic_pod_names(
    full_run: tuple[DemoSource, list[LogRecord]],
) -> None:
    _, records = full_run
    for labels in {id(r.labels): r.labels for r in records}.values():
        assert {"namespace", "pod", "container", "node"} <= labels.keys()
    llama_pod = next(r.labels["pod"] for r in records if r.labels["container"] == "llama")
    assert re.fullmatch(r"llama-server-[b-z2-9]{9,10}-[b-z2-9]{5}", llama_pod)


def test_incidents_have_evidence_inside_their_window(
    full_run: tuple[DemoSource, list[LogRecord]],
) -> None:
    source, records = full_run
    assert {i.name for i in source.incidents} == set(ALL)
    for incident in source.incidents:
        window = [r.line for r in records if incident.start_ns <= r.ts < incident.end_ns]
        for evidence in incident.evidence:
            assert any(evidence in line for line in window), (incident.name, evidence)


def test_incident_evidence_absent_without_incidents() -> None:
    records = _records(DemoSource(lines=20_000, seed=7, incidents=[]))
    lines = [r.line for r in records]
    for evidence in ("Memory cgroup out of memory", "no space left on device", "Helm upgrade failed",
                     "x509: certificate has expired", "ImagePullBackOff", "leaderelection lost",
                     'password authentication failed for user "loglens"'):  # fmt: skip
        assert not any(evidence in line for line in lines), evidence


def test_root_cause_rare_and_symptoms_many(full_run: tuple[DemoSource, list[LogRecord]]) -> None:
    _, records = full_run
    kills = sum("Memory cgroup out of memory: Killed process" in r.line for r in records)
    unavailable = sum('" 503 Service Unavailable' in r.line for r in records)
    assert 1 <= kills < unavailable


def test_default_incidents_chosen_per_seed() -> None:
    chosen = {
        tuple(sorted(i.name for i in DemoSource(lines=5000, seed=s).incidents)) for s in range(8)
    }
    assert all(len(names) == 3 for names in chosen)
    assert len(chosen) > 1


def test_unknown_incident_rejected() -> None:
    with pytest.raises(InputError, match="no-such-thing"):
        DemoSource(incidents=["no-such-thing"])


def test_tiny_run_drops_incidents_that_do_not_fit() -> None:
    source = DemoSource(lines=4, incidents=["llama-oom"])
    assert len(_records(source)) == 4
    assert source.incidents == []


def test_scenario_catalogue() -> None:
    scenarios = list_scenarios()
    assert len(scenarios) >= 6
    assert len({s.category for s in scenarios}) == len(scenarios)
    assert all(s.evidence and s.root_cause.endswith(".") for s in scenarios)


def test_is_a_log_source_and_describes_itself() -> None:
    source: LogSource = DemoSource(lines=100, seed=42, incidents=["etcd-slow"])
    info = source.describe()
    assert info.kind == "demo"
    assert "seed=42" in info.detail and "lines=100" in info.detail


KLOG = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ [\w.]+:\d+\] ")
LOGFMT_PAIR = re.compile(r'(\w[\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')
POSTGRES = re.compile(
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC \[\d+\] (LOG|FATAL|DETAIL|ERROR):  \S"
)
COREDNS = re.compile(
    r'^\[INFO\] [\d.]+:\d+ - \d+ "(A|AAAA) IN \S+\. udp \d+ false 512" (NOERROR|NXDOMAIN) '
    r"qr,aa,rd \d+ \d\.\d+s$|^\[ERROR\] plugin/errors: 2 \S+\. (A|AAAA): .+"
)
QDRANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z  (INFO|WARN|ERROR) [\w:]+: ")
UVICORN = re.compile(r'^INFO:     [\d.]+:\d+ - "[A-Z]+ \S+ HTTP/1\.1" \d{3} ')
PY_LOG = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} (WARNING|ERROR) [\w.]+: ")
LLAMA = re.compile(
    r"^(srv  \w+: |slot \s*\w+: id  0 \| task \d+ \| |prompt eval time = | +eval time = )"
)


def _assert_all(lines: list[str], pattern: re.Pattern[str]) -> None:
    assert lines
    bad = [line for line in lines if not pattern.search(line)]
    assert not bad, bad[:3]


def test_klog_components_write_klog(full_run: tuple[DemoSource, list[LogRecord]]) -> None:
    _, records = full_run
    for container in ("kube-apiserver", "kube-scheduler", "kube-controller-manager",
                      "kube-proxy", "kubelet"):  # fmt: skip
        _assert_all(_by_container(records, container), KLOG)


def test_klog_time_matches_record_time(full_run: tuple[DemoSource, list[LogRecord]]) -> None:
    _, records = full_run
    record = next(r for r in records if r.labels["container"] == "kube-apiserver")
    stamp = f"2026-{record.line[1:3]}-{record.line[3:5]}T{record.line[6:21]}Z"
    assert abs(parse_ts(stamp) - record.ts) < 1000


def test_json_components_write_parseable_json(full_run: tuple[DemoSource, list[LogRecord]]) -> None:
    _, records = full_run
    for container in ("etcd", "manager", "event-exporter"):
        for line in _by_container(records, container):
            parsed = orjson.loads(line)
            assert isinstance(parsed, dict)
            if container == "event-exporter":
                assert {"type", "reason", "involvedObject", "message"} <= parsed.keys()
            else:
                assert parsed["level"] in ("info", "warn", "error") and "msg" in parsed


def test_logfmt_components_write_logfmt(full_run: tuple[DemoSource, list[LogRecord]]) -> None:
    _, records = full_run
    for container, keys in (("loki", ("level", "ts", "caller")), ("alloy", ("ts", "level", "msg")),
                            ("grafana", ("logger", "t", "level", "msg"))):  # fmt: skip
        for line in _by_container(records, container):
            pairs = dict(LOGFMT_PAIR.findall(line))
            assert all(key in pairs for key in keys), line
            assert pairs["level"] in ("info", "warn", "error")


def test_other_formats_look_like_the_real_programs(
    full_run: tuple[DemoSource, list[LogRecord]],
) -> None:
    _, records = full_run
    _assert_all(_by_container(records, "postgres"), POSTGRES)
    _assert_all(_by_container(records, "coredns"), COREDNS)
    _assert_all(_by_container(records, "qdrant"), QDRANT)
    _assert_all(_by_container(records, "llama"), LLAMA)
    api = _by_container(records, "api")
    _assert_all(api, re.compile(f"{UVICORN.pattern}|{PY_LOG.pattern}"))
    kernel = _by_container(records, "kernel")
    _assert_all(kernel, re.compile(r"^(Memory cgroup out of memory: Killed process \d+ "
                                   r"\(llama-server\)|llama-server invoked oom-killer)"))  # fmt: skip


def test_llama_completion_lines_follow_each_other() -> None:
    records = _records(DemoSource(lines=20_000, seed=5, incidents=[]))
    tasks = [
        int(m.group(1))
        for r in records
        if (m := re.search(r"\| task (\d+) \| processing task", r.line))
    ]
    assert len(tasks) > 10 and tasks == sorted(tasks)


def test_write_jsonl_matches_the_source(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl.gz"
    written = write_jsonl(path, lines=3000, seed=11)
    with gzip.open(path, "rb") as handle:
        rows = [orjson.loads(line) for line in handle]
    expected = _records(DemoSource(lines=3000, seed=11))
    assert written == len(rows) == 3000
    assert [(parse_ts(row["ts"]), row["labels"], row["line"]) for row in rows] == [
        (r.ts, r.labels, r.line) for r in expected
    ]


def test_write_plain_writes_raw_lines(tmp_path: Path) -> None:
    path = tmp_path / "demo.log"
    assert write_plain(path, lines=1000, seed=11) == 1000
    assert path.read_text().splitlines() == [
        r.line for r in _records(DemoSource(lines=1000, seed=11))
    ]


@pytest.mark.integration
def test_memory_stays_bounded_for_a_large_run() -> None:
    source = DemoSource(lines=200_000, seed=9, batch_size=2048)
    tracemalloc.start()
    total_chars = 0
    count = 0
    for batch in source.batches():
        count += len(batch)
        total_chars += sum(len(r.line) for r in batch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_000
    # The whole output is ~40 MB of text alone; a streaming source holds a few batches.
    assert peak < total_chars / 10, (peak, total_chars)


def test_stream_mix_is_dominated_by_background(
    full_run: tuple[DemoSource, list[LogRecord]],
) -> None:
    _, records = full_run
    levels = Counter("error" if re.search(r"level=error|\"level\":\"error\"|^E\d{4}|\[ERROR\]|FATAL",
                                           r.line) else "other" for r in records)  # fmt: skip
    assert levels["error"] < 0.2 * len(records)
