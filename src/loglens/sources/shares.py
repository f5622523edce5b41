"""`StreamShare`: which streams of a JSONL input one of several worker processes reads.

It lives apart from `sources.files` because that module may be compiled by mypyc
(`loglens.native`), whose frozen dataclasses cannot be unpickled, and a share is
pickled to each spawned worker.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StreamShare:
    """The streams one of `workers` readers of the same JSONL files keeps (see analysis.parallel).

    A stream is identified by the values of `stream_labels`; `assigned` maps stream
    keys to a worker, and a key it does not hold goes to a worker chosen by its
    hash, so every reader decides alike without talking to the others. Records that
    cannot be read go to worker 0, which reports them. A file in another format is
    read whole by the worker that owns the stream its path names
    (`sources.files.path_labels`).
    """

    index: int
    workers: int
    assigned: Mapping[tuple[str, ...], int] = field(default_factory=dict)
    stream_labels: tuple[str, ...] = ("namespace", "container")

    def key_of(self, labels: Mapping[str, object]) -> tuple[str, ...]:
        return tuple(str(labels.get(name, "")) for name in self.stream_labels)

    def owner(self, key: tuple[str, ...]) -> int:
        worker = self.assigned.get(key)
        if worker is None:
            worker = zlib.crc32("\x1f".join(key).encode()) % self.workers
        return worker

    def keeps_labels(self, labels: object) -> bool:
        """Whether this share reads a record with these labels (bad labels: worker 0)."""
        if labels is None:
            labels = {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            return self.index == 0
        return self.owner(self.key_of(labels)) == self.index
