"""Template mining: grouping, stage-2 merges, overrides, assignments, golden corpora, Loghub."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loglens.model import Level, LogRecord, parse_ts
from loglens.patterns.miner import MinerConfig, PatternMiner, bucket_ns_for_window, mine_messages
from loglens.patterns.overrides import overrides_from_dict

TESTDATA = Path(__file__).parent / "testdata" / "patterns"
# Read at import: the autouse fixture clears LOGLENS_* variables before each test.
GOLDEN_PRINT = os.environ.get("LOGLENS_GOLDEN_PRINT") == "1"
LOGHUB = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "loghub2k"


def templates_of(messages: list[str], config: MinerConfig | None = None) -> dict[str, int]:
    pattern_set, _ = mine_messages(messages, config)
    return {p.template: p.count for p in pattern_set.patterns}


def test_lines_differing_in_numbers_share_one_pattern() -> None:
    messages = [f"Received block blk_{i} of size {i * 7} from /10.0.0.{i}" for i in range(50)]
    assert templates_of(messages) == {"Received block <*> of size <*> from <*>": 50}


def test_vm_started_and_vm_paused_stay_apart() -> None:
    states = ["Started", "Paused", "Resumed", "Stopped"]
    messages = [
        f"[instance: {i:08x}-aaaa-bbbb-cccc-0123456789ab] VM {state} (Lifecycle Event)"
        for i in range(40)
        for state in states
    ]
    found = templates_of(messages)
    assert len(found) == 4
    assert found["[instance: <*>] VM Paused (Lifecycle Event)"] == 40


def test_many_distinct_words_in_one_place_become_a_variable() -> None:
    users = ["alice", "bob", "carol", "dave", "erin", "frank"]
    messages = [f"Invalid user {u} from 10.0.0.{i}" for i, u in enumerate(users * 3)]
    messages += ["Invalid user root from 10.0.0.9"] * 200
    assert templates_of(messages) == {"Invalid user <*> from <*>": 218}


def test_a_merge_must_leave_most_words_constant() -> None:
    messages = [f"{word} {i}" for i, word in enumerate(["normal", "warning", "running", "idle"])]
    assert len(templates_of(messages * 5)) == 4


def test_event_with_varying_count_of_values_is_not_split() -> None:
    messages = [
        "worker pool sizes 3 4 5 ready",
        "worker pool sizes 3 ready",
        "worker pool sizes 1 2 ready",
        "worker pool sizes 10,11,12 ready",
    ]
    assert templates_of(messages) == {"worker pool sizes <*> ready": 4}


def test_empty_value_joins_the_event_with_a_value() -> None:
    messages = [
        "connection from 1.2.3.4 () at 10:00:01",
        "connection from 1.2.3.5 (a.b.c) at 10:00:02",
    ]
    messages += ["connection from 1.2.3.6 (host-7.example) at 10:00:03"]
    assert templates_of(messages) == {"connection from <*> (<*>) at <*>": 3}


def test_value_wrapped_in_a_name_joins_the_bare_value() -> None:
    messages = [f"synchronized to 10.0.0.{i}, stratum 3" for i in range(20)]
    messages += ["synchronized to LOCAL(0), stratum 10"]
    assert templates_of(messages) == {"synchronized to <*>, stratum <*>": 21}


def test_values_wrapped_alike_without_a_bare_value_stay_apart() -> None:
    messages = [f"link up on LOCAL({i}) port" for i in range(5)]
    messages += [f"link up on REMOTE({i}) port" for i in range(5)]
    assert len(templates_of(messages)) == 2


def test_bounded_duration_is_one_value() -> None:
    messages = [f"host:{i} close, {i} bytes sent, lifetime 00:0{i}" for i in range(1, 6)]
    messages += ["host:9 close, 3 bytes sent, lifetime <1 sec"]
    assert templates_of(messages) == {"host:<*> close, <*> sent, lifetime <*>": 6}


def test_interface_names_stay_apart_unless_one_family() -> None:
    messages = [
        f"node-{i} has a connection via interface {name}"
        for i in range(10)
        for name in ["ee0", "alt0", "scip0"]
    ]
    assert len(templates_of(messages)) == 3
    hosts = [f"host name ({stem}admin1) unknown" for stem in "abcde"]
    assert templates_of(hosts) == {"host name (<*>) unknown": 5}


def test_result_does_not_depend_on_line_order() -> None:
    messages = [f"session opened for user {u} by uid={i}" for i, u in enumerate("abcdefgh" * 3)]
    messages += ["Accepted password for root", "Accepted password for admin"]
    forward, _ = mine_messages(messages)
    backward, _ = mine_messages(list(reversed(messages)))
    assert [(p.id, p.count) for p in forward.patterns] == [
        (p.id, p.count) for p in backward.patterns
    ]


def test_assignments_give_final_pattern_ids_in_input_order() -> None:
    users = ["alice", "bob", "carol", "dave"]
    messages = [f"login ok for {u}" for u in users] + ["disk full on /dev/sda"]
    pattern_set, ids = mine_messages(messages)
    login = next(p for p in pattern_set.patterns if p.template == "login ok for <*>")
    assert ids[:4] == [login.id] * 4
    assert ids[4] != login.id
    assert pattern_set.get(ids[4]) is not None


def test_records_are_mined_per_stream_with_counts_levels_and_labels() -> None:
    api = {"namespace": "shop", "container": "api", "pod": "api-1"}
    db = {"namespace": "shop", "container": "db", "pod": "db-0"}
    start = parse_ts("2024-05-01T10:00:00Z")
    batch = [
        LogRecord(
            start + i * 10**9, api if i % 2 else db, f"raw {i}", Level.ERROR, f"timeout after {i}s"
        )
        for i in range(10)
    ]
    miner = PatternMiner(MinerConfig(bucket_ns=bucket_ns_for_window(600 * 10**9)))
    assignments: list[int] = []
    miner.add_batch(batch, assignments=assignments)
    patterns = miner.pattern_set().patterns
    assert len(patterns) == 2
    assert {p.source for p in patterns} == {"shop/api", "shop/db"}
    assert len({p.id for p in patterns}) == 2
    api_pattern = next(p for p in patterns if p.source == "shop/api")
    assert api_pattern.count == 5
    assert api_pattern.levels == {"error": 5}
    assert api_pattern.labels == {"namespace": {"shop"}, "container": {"api"}, "pod": {"api-1"}}
    assert api_pattern.first_seen_ns == start + 10**9
    assert api_pattern.last_seen_ns == start + 9 * 10**9
    assert sum(api_pattern.buckets.values()) == 5
    assert api_pattern.examples == ["raw 1", "raw 3", "raw 5"]
    ids = miner.pattern_ids(assignments)
    assert ids[1] == api_pattern.id and ids[0] != api_pattern.id


def test_split_override_keeps_values_apart() -> None:
    messages = [
        f"job {state} now" for state in ["alpha", "beta", "gamma", "delta"] for _ in range(2)
    ]
    assert len(templates_of(messages)) == 1
    overrides = overrides_from_dict(
        {"pattern_overrides": [{"template": "job <*> now", "action": "split"}]}
    )
    assert len(templates_of(messages, MinerConfig(overrides=overrides))) == 4


def test_merge_override_folds_patterns_and_names_them() -> None:
    messages = ["cache warm", "cache cold"] * 3
    overrides = overrides_from_dict(
        {"pattern_overrides": [{"template": "cache <*>", "action": "merge", "name": "cache-state"}]}
    )
    pattern_set, _ = mine_messages(messages, MinerConfig(overrides=overrides))
    [pattern] = pattern_set.patterns
    assert (pattern.template, pattern.count, pattern.name) == ("cache <*>", 6, "cache-state")


def test_user_mask_from_overrides_applies() -> None:
    overrides = overrides_from_dict({"masks": [{"name": "sku", "regex": r"\bSKU[A-Z]+\b"}]})
    messages = ["sold SKUABC", "sold SKUXYZ"]
    assert templates_of(messages, MinerConfig(overrides=overrides)) == {"sold <*>": 2}


def test_ids_are_stable_across_processes() -> None:
    script = (
        "from loglens.patterns.miner import mine_messages\n"
        "s, _ = mine_messages(['disk /dev/sda1 full', 'user bob logged in', 'disk /dev/sdb2 full'])\n"
        "print(sorted(p.id for p in s.patterns))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    assert runs[0].count("p-") == 2


def _golden(corpus: Path) -> tuple[int, str]:
    records = []
    for raw in corpus.read_text(encoding="utf-8").splitlines():
        item = json.loads(raw)
        records.append(LogRecord(parse_ts(item["ts"]), item["labels"], item["line"]))
    miner = PatternMiner()
    miner.add_batch(records)
    templates = sorted(f"{p.source}\t{p.template}" for p in miner.pattern_set().patterns)
    return len(templates), hashlib.sha256("\n".join(templates).encode()).hexdigest()[:16]


# Cluster count and a hash of the sorted templates per corpus; regenerate with
# LOGLENS_GOLDEN_PRINT=1 .venv/bin/pytest tests/test_miner.py -s -k golden
GOLDEN = {"demo_cluster.jsonl": (77, "18887de8034d21fb")}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_corpus_templates(name: str) -> None:
    found = _golden(TESTDATA / name)
    if GOLDEN_PRINT:
        print(f"\n{name!r}: {found},")
    assert found == GOLDEN[name], f"new values (LOGLENS_GOLDEN_PRINT=1): {found}"


@pytest.mark.integration
@pytest.mark.skipif(not LOGHUB.is_dir(), reason="shared Loghub-2k data not present")
@pytest.mark.parametrize(("dataset", "floor"), [("HDFS", 0.95), ("OpenSSH", 0.9), ("Windows", 0.9)])
def test_loghub_grouping_accuracy_above_floor(dataset: str, floor: float) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import loghub

    data = loghub.load_dataset(LOGHUB, dataset)
    clusters, _ = loghub.loglens_engine(data.contents)
    assert loghub.grouping_accuracy(data.templates, clusters) >= floor


# Average Loghub-2k GA over the 16 data sets was 0.990 when this floor was set.
LOGHUB_AVERAGE_GA_FLOOR = 0.98


@pytest.mark.integration
@pytest.mark.skipif(not LOGHUB.is_dir(), reason="shared Loghub-2k data not present")
def test_loghub_average_grouping_accuracy_above_floor() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import loghub

    scores = []
    for dataset in loghub.DATASETS:
        data = loghub.load_dataset(LOGHUB, dataset)
        clusters, _ = loghub.loglens_engine(data.contents)
        scores.append(loghub.grouping_accuracy(data.templates, clusters))
    assert sum(scores) / len(scores) >= LOGHUB_AVERAGE_GA_FLOOR
