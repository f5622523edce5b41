"""Helpers several test modules share: the CLI in a subprocess, an embedder that counts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from loglens.retrieval.embed import Embedder


def run_loglens(
    *args: str, stdin: str | None = None, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """`loglens ARGS` through the real entry point (errors become a message and exit code)."""
    return subprocess.run(
        [sys.executable, "-c", "from loglens.cli.main import run; run()", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        env={**os.environ, **env},
    )


class CountingEmbedder:
    """Wraps an embedder and counts its calls and the texts it was given."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.calls = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> Any:
        self.calls += 1
        self.texts += list(texts)
        return self.inner.embed(texts)
