"""SQLite cache of validated extraction answers (`settings.llm_cache_db`).

The key is (finding fingerprint, evidence hash, prompt version, model): the same
finding with the same evidence, asked with the same prompts of the same model,
gets the stored answer instead of a model call. Only answers that passed schema
validation are stored; grounding and merging run again on every use, so they may
change without invalidating the cache. A cache that cannot be opened or read is
treated as empty: it only ever saves work.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from loglens.llm.schemas import ExtractionAnswer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS extractions (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(fingerprint: str, evidence_hash: str, prompt_version: str, model: str) -> str:
    """The cache key: a hash of the four parts (NUL-separated, so no two tuples collide)."""
    raw = "\0".join((fingerprint, evidence_hash, prompt_version, model))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ExtractionCache:
    """Answers by key; use as a context manager, or call `close`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)

    @classmethod
    def open(cls, path: Path) -> ExtractionCache | None:
        """The cache at `path`, or None when it cannot be opened (the step runs uncached)."""
        try:
            return cls(path)
        except (OSError, sqlite3.Error):
            return None

    def get(self, key: str) -> ExtractionAnswer | None:
        try:
            row = self._db.execute(
                "SELECT answer FROM extractions WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        try:
            return ExtractionAnswer.model_validate_json(row[0])
        except ValidationError:
            self._db.execute("DELETE FROM extractions WHERE key = ?", (key,))
            return None

    def put(
        self,
        key: str,
        answer: ExtractionAnswer,
        *,
        fingerprint: str,
        model: str,
        prompt_version: str,
    ) -> None:
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO extractions VALUES (?, ?, ?, ?, ?, ?)",
                (key, fingerprint, model, prompt_version, answer.model_dump_json(), time.time()),
            )
        except sqlite3.Error:
            return

    def __len__(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM extractions").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ExtractionCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
