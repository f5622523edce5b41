"""The SQLite pattern history store."""

from __future__ import annotations

from pathlib import Path

from loglens.config import Settings
from loglens.model import Level, LogRecord
from loglens.patterns.miner import PatternMiner
from loglens.patterns.patternset import PatternSet
from loglens.patterns.store import PatternStore

HOUR = 3600 * 10**9


def _window(messages: list[str], start: int) -> PatternSet:
    miner = PatternMiner()
    miner.add_batch(
        [LogRecord(start + i * 10**9, {}, m, Level.INFO, m) for i, m in enumerate(messages)]
    )
    return miner.pattern_set()


def test_recording_the_same_window_twice_is_idempotent(tmp_path: Path) -> None:
    store = PatternStore(tmp_path / "p.sqlite")
    window = _window(["disk full"] * 3 + ["cache miss"], 0)
    store.record(window, 0, HOUR, "files")
    store.record(window, 0, HOUR, "files")
    rows = store._db.execute("SELECT pattern_id, count FROM sightings").fetchall()
    assert sorted(count for _, count in rows) == [1, 3]


def test_first_seen_last_seen_before_and_seen_between(tmp_path: Path) -> None:
    with PatternStore(tmp_path / "p.sqlite") as store:
        early = _window(["disk full"], 0)
        late = _window(["disk full", "oom killed"], 5 * HOUR)
        store.record(early, 0, HOUR, "files")
        store.record(late, 5 * HOUR, 6 * HOUR, "files")
        disk = early.patterns[0].id
        oom = next(p.id for p in late.patterns if p.template == "oom killed")
        assert store.first_seen(disk) == 0
        assert store.first_seen(oom) == 5 * HOUR + 10**9
        assert store.first_seen("p-unknown") is None
        assert store.last_seen_before(disk, 5 * HOUR) == 0
        assert store.last_seen_before(oom, 5 * HOUR) is None
        assert store.seen_between([disk, oom], 0, HOUR) == {disk}
        assert store.seen_between([disk, oom], 4 * HOUR, 6 * HOUR) == {disk, oom}
        assert store.templates([oom]) == {oom: "oom killed"}


def test_store_persists_at_the_settings_path() -> None:
    settings = Settings()
    with PatternStore(settings.patterns_db) as store:
        store.record(_window(["boot ok"], 0), 0, HOUR, "demo")
    with PatternStore(settings.patterns_db) as store:
        assert store.first_seen(_window(["boot ok"], 0).patterns[0].id) == 0
