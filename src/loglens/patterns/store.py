"""Pattern history: which patterns were seen in which window, in a local SQLite file.

One row per (source, window, pattern) with the pattern's count and first/last seen,
so later code can ask "new since when?". Recording the same window again replaces
its rows, so it is idempotent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from loglens.errors import SourceError
from loglens.patterns.patternset import PatternSet

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sightings (
    source TEXT NOT NULL,
    window_start_ns INTEGER NOT NULL,
    window_end_ns INTEGER NOT NULL,
    pattern_id TEXT NOT NULL,
    template TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen_ns INTEGER NOT NULL,
    last_seen_ns INTEGER NOT NULL,
    PRIMARY KEY (source, window_start_ns, window_end_ns, pattern_id)
);
CREATE INDEX IF NOT EXISTS sightings_by_pattern ON sightings (pattern_id, first_seen_ns);
"""


class PatternStore:
    """SQLite store of pattern sightings per window (path: `Settings.patterns_db`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SourceError(
                f"cannot open the pattern store {path}: {exc}",
                hint="check LOGLENS_DATA_DIR points to a writable directory",
            ) from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PatternStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record(
        self, pattern_set: PatternSet, window_start_ns: int, window_end_ns: int, source: str
    ) -> int:
        """Store the window's patterns, replacing what was stored for the same window."""
        rows = [
            (
                source,
                window_start_ns,
                window_end_ns,
                p.id,
                p.template,
                p.count,
                p.first_seen_ns if p.first_seen_ns is not None else window_start_ns,
                p.last_seen_ns if p.last_seen_ns is not None else window_end_ns,
            )
            for p in pattern_set.patterns
        ]
        with self._db:
            self._db.execute(
                "DELETE FROM sightings WHERE source = ? AND window_start_ns = ? "
                "AND window_end_ns = ?",
                (source, window_start_ns, window_end_ns),
            )
            self._db.executemany("INSERT INTO sightings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def first_seen(self, pattern_id: str) -> int | None:
        """When the pattern was first seen in any recorded window (ns), or None."""
        row = self._db.execute(
            "SELECT MIN(first_seen_ns) FROM sightings WHERE pattern_id = ?", (pattern_id,)
        ).fetchone()
        return None if row is None else row[0]

    def last_seen_before(self, pattern_id: str, ts_ns: int) -> int | None:
        """The latest last-seen time before `ts_ns` (ns), or None if never seen before it."""
        row = self._db.execute(
            "SELECT MAX(last_seen_ns) FROM sightings WHERE pattern_id = ? AND last_seen_ns < ?",
            (pattern_id, ts_ns),
        ).fetchone()
        return None if row is None else row[0]

    def seen_between(self, pattern_ids: Iterable[str], start_ns: int, end_ns: int) -> set[str]:
        """The ids among `pattern_ids` seen at some time in [start_ns, end_ns)."""
        wanted = list(dict.fromkeys(pattern_ids))
        found: set[str] = set()
        for offset in range(0, len(wanted), 500):  # stay under SQLite's variable limit
            chunk = wanted[offset : offset + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self._db.execute(
                    f"SELECT DISTINCT pattern_id FROM sightings WHERE pattern_id IN ({marks}) "
                    "AND first_seen_ns < ? AND last_seen_ns >= ?",
                    (*chunk, end_ns, start_ns),
                )
            )
        return found

    def templates(self, pattern_ids: Iterable[str]) -> dict[str, str]:
        """The last stored template of each known id."""
        out: dict[str, str] = {}
        for pid in pattern_ids:
            row = self._db.execute(
                "SELECT template FROM sightings WHERE pattern_id = ? "
                "ORDER BY window_end_ns DESC LIMIT 1",
                (pid,),
            ).fetchone()
            if row is not None:
                out[pid] = row[0]
        return out
