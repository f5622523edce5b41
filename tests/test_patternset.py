"""Pattern sets: exact merging, folding of special cases, ids and the report form."""

from __future__ import annotations

import pytest

from loglens.errors import InputError
from loglens.model import Level, LogRecord
from loglens.patterns.miner import MinerConfig, PatternMiner, mine_messages
from loglens.patterns.patternset import Pattern, PatternSet, merge_all, pattern_id

MINUTE = 60 * 10**9


def _mine(
    messages: list[str], *, start: int = 0, labels: dict[str, str] | None = None
) -> PatternSet:
    miner = PatternMiner(MinerConfig(bucket_ns=MINUTE))
    records = [
        LogRecord(start + i * 10**9, labels or {}, m, Level.INFO, m) for i, m in enumerate(messages)
    ]
    miner.add_batch(records)
    return miner.pattern_set()


def test_merge_adds_counts_exactly() -> None:
    a = _mine([f"request {i} done" for i in range(30)] + ["cache miss"] * 4)
    b = _mine([f"request {i} done" for i in range(12)] + ["disk full"], start=10 * MINUTE)
    merged = a.merge(b)
    assert merged.total == a.total + b.total == 47
    counts = {p.template: p.count for p in merged.patterns}
    assert counts == {"request <*> done": 42, "cache miss": 4, "disk full": 1}
    request = next(p for p in merged.patterns if p.template == "request <*> done")
    assert sum(request.buckets.values()) == 42
    assert request.first_seen_ns == 0 and request.last_seen_ns == 10 * MINUTE + 11 * 10**9
    assert a.total == 34  # inputs are left alone


def test_merge_folds_a_special_case_into_the_general_template() -> None:
    users = ["ann", "ben", "cat", "dan"]
    a = _mine([f"login by {u}" for u in users])
    b = _mine(["login by root", "login by root"])
    assert [p.template for p in b.patterns] == ["login by root"]
    merged = merge_all([a, b])
    assert [(p.template, p.count) for p in merged.patterns] == [("login by <*>", 6)]
    assert merged.resolve(b.patterns[0].id) == a.patterns[0].id


def test_merge_keeps_sources_apart() -> None:
    a = _mine(["queue drained"], labels={"namespace": "a", "container": "w"})
    b = _mine(["queue drained"], labels={"namespace": "b", "container": "w"})
    assert len(a.merge(b)) == 2


def test_merge_refuses_different_bucket_sizes() -> None:
    with pytest.raises(InputError, match="bucket"):
        PatternSet(bucket_ns=MINUTE).merge(PatternSet(bucket_ns=2 * MINUTE))


def test_pattern_id_is_stable_and_depends_on_source_and_template() -> None:
    assert pattern_id("", "disk <*> full") == pattern_id("", "disk  <*>   full")
    assert pattern_id("", "disk <*> <*> full") == pattern_id("", "disk <*> full")
    assert pattern_id("ns/api", "disk <*> full") != pattern_id("", "disk <*> full")
    assert pattern_id("", "disk <*> full").startswith("p-") and len(pattern_id("", "x")) == 10


def test_same_lines_give_same_ids_in_two_windows() -> None:
    first, _ = mine_messages([f"GET /items/{i} 200" for i in range(5)])
    second, _ = mine_messages([f"GET /items/{i} 200" for i in range(100, 107)])
    assert [p.id for p in first.patterns] == [p.id for p in second.patterns]


def test_to_pattern_out_fills_buckets_over_the_window() -> None:
    pattern_set = _mine(["backup started"] * 3, start=2 * MINUTE)
    [out] = pattern_set.to_pattern_out(window_start_ns=0, window_end_ns=5 * MINUTE)
    assert out.buckets == [0, 0, 3, 0, 0]
    assert out.count == 3 and out.level == "info" and out.levels == {"info": 3}
    assert out.first_seen == "1970-01-01T00:02:00Z"
    assert out.examples == ["backup started"]  # distinct examples only


def test_level_prefers_the_most_frequent_known_level() -> None:
    pattern = Pattern(id="p-1", template="t", levels={"unknown": 9, "warn": 2, "error": 2})
    assert pattern.level is Level.ERROR
