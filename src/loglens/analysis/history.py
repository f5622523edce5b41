"""The pattern history as the analysis uses it: novelty lookups and recording windows.

History is helpful, never required: a store that cannot be opened or written
(missing directory, locked, corrupt) turns into a warning on the report and the
analysis goes on without novelty signals.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from loglens.analysis.assess import LastSeen
from loglens.config import Settings
from loglens.errors import SourceError
from loglens.patterns.patternset import PatternSet
from loglens.patterns.store import PatternStore


@dataclass
class PatternHistory:
    store: PatternStore | None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, settings: Settings) -> PatternHistory:
        try:
            return cls(PatternStore(settings.patterns_db))
        except SourceError as exc:
            return cls(None, [f"pattern history unavailable, no novelty signals: {exc}"])

    def last_seen(self, window_start_ns: int) -> LastSeen | None:
        store = self.store
        if store is None:
            return None

        def lookup(pattern_id: str) -> int | None:
            try:
                return store.last_seen_before(pattern_id, window_start_ns)
            except sqlite3.Error as exc:
                self._fail(exc)
                return None

        return lookup

    def record(self, pattern_set: PatternSet, start_ns: int, end_ns: int, source: str) -> None:
        if self.store is None:
            return
        try:
            self.store.record(pattern_set, start_ns, end_ns, source)
        except sqlite3.Error as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        message = f"pattern history failed, continuing without it: {exc}"
        if message not in self.warnings:
            self.warnings.append(message)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
