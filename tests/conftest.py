"""Shared fixtures: every test gets its own data directory and a clean LOGLENS_* environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads the developer's LOGLENS_* variables, .env or data directory."""
    for name in list(os.environ):
        if name.startswith("LOGLENS_") or name.startswith("OTEL_"):
            monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "loglens-data"
    monkeypatch.setenv("LOGLENS_DATA_DIR", str(data_dir))
    yield data_dir


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared is not present beside the repository")
    return SHARED_DIR
