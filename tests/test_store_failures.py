"""A store that is missing, locked, corrupt or unreachable raises StoreUnavailableError.

Never a raw traceback from LanceDB or qdrant-client: callers catch the one typed error and
continue without retrieval. Each case is built for real (garbage files, a closed port, a
second process holding the Qdrant folder); only the unreadable-directory case falls back to
a simulated permission check when the tests run as root (chmod does not bind root).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from loglens.config import Settings
from loglens.errors import BackendError, StoreUnavailableError
from loglens.retrieval.lance_store import LanceStore
from loglens.retrieval.qdrant_store import QdrantStore
from loglens.retrieval.store import VectorRecord, open_store

DIM = 4


def records(n: int = 5) -> list[VectorRecord]:
    rng = np.random.default_rng(0)
    return [
        VectorRecord(id=f"r{i}", vector=rng.random(DIM), text=f"record {i}", payload={})
        for i in range(n)
    ]


def filled_store(path: Path) -> Path:
    """A LanceDB store at `path` with one `patterns` table; returns that table's folder."""
    store = LanceStore(path, dim=DIM)
    store.upsert("patterns", records())
    store.close()
    return path / "patterns.lance"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_store_unavailable_is_a_backend_error_with_a_hint() -> None:
    assert issubclass(StoreUnavailableError, BackendError)


def test_a_missing_store_directory_is_created(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "not" / "there" / "yet")
    store = open_store(settings, dim=DIM)
    assert settings.vector_dir.is_dir()
    assert store.count("patterns") == 0
    assert store.upsert("patterns", records()) == 5


def test_garbage_manifests_make_the_store_unavailable(tmp_path: Path) -> None:
    table_dir = filled_store(tmp_path / "v")
    for manifest in (table_dir / "_versions").iterdir():
        manifest.write_bytes(os.urandom(300))
    store = LanceStore(tmp_path / "v", dim=DIM)
    with pytest.raises(StoreUnavailableError) as caught:
        store.count("patterns")
    assert "vector store" in caught.value.message
    assert caught.value.hint and "loglens index" in caught.value.hint


def test_garbage_data_files_make_searches_unavailable(tmp_path: Path) -> None:
    table_dir = filled_store(tmp_path / "v")
    for data_file in (table_dir / "data").iterdir():
        data_file.write_bytes(os.urandom(300))
    store = LanceStore(tmp_path / "v", dim=DIM)
    with pytest.raises(StoreUnavailableError, match="searching patterns failed"):
        store.search("patterns", np.ones(DIM, dtype=np.float32))


def test_a_table_folder_without_versions_is_unavailable_not_recreated(tmp_path: Path) -> None:
    table_dir = filled_store(tmp_path / "v")
    for manifest in (table_dir / "_versions").iterdir():
        manifest.unlink()
    store = LanceStore(tmp_path / "v", dim=DIM)
    with pytest.raises(StoreUnavailableError):
        store.upsert("patterns", records())
    assert list((table_dir / "data").iterdir()), "the existing data files are left alone"


def test_stray_files_beside_the_tables_are_ignored(tmp_path: Path) -> None:
    table_dir = filled_store(tmp_path / "v")
    (table_dir / "junk.bin").write_bytes(os.urandom(100))
    (tmp_path / "v" / "notes.txt").write_text("not a table")
    assert LanceStore(tmp_path / "v", dim=DIM).count("patterns") == 5


def test_a_store_path_that_is_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "v").write_text("not a directory")
    with pytest.raises(StoreUnavailableError, match="cannot open"):
        LanceStore(tmp_path / "v", dim=DIM)


def test_an_unwritable_data_folder_makes_writes_unavailable(tmp_path: Path) -> None:
    table_dir = filled_store(tmp_path / "v")
    data_dir = table_dir / "data"
    for data_file in data_dir.iterdir():
        data_file.unlink()
    data_dir.rmdir()
    data_dir.write_text("a file where the data folder was")  # any user, root included
    store = LanceStore(tmp_path / "v", dim=DIM)
    with pytest.raises(StoreUnavailableError, match="writing to patterns failed"):
        store.upsert("patterns", records())


def test_a_locked_store_directory_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "v"
    locked.mkdir()
    locked.chmod(0)
    try:
        if os.geteuid() == 0:  # root ignores modes: simulate what access(2) says to others
            real_access = os.access
            monkeypatch.setattr(
                os,
                "access",
                lambda path, mode, **kw: (
                    False if Path(path) == locked else real_access(path, mode, **kw)
                ),
            )
        with pytest.raises(StoreUnavailableError, match="no read/write access"):
            LanceStore(locked, dim=DIM)
    finally:
        locked.chmod(0o755)


def test_missing_lancedb_extra_is_unavailable_with_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lancedb", None)
    with pytest.raises(StoreUnavailableError) as caught:
        LanceStore(tmp_path / "v", dim=DIM)
    assert caught.value.hint == "pip install 'loglens[retrieval]'"


def test_an_unreachable_qdrant_server_is_unavailable() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    settings = Settings(vector_backend="qdrant", qdrant_url=url)
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(settings, dim=DIM)
    assert url in caught.value.message
    assert caught.value.hint and "LOGLENS_QDRANT_URL" in caught.value.hint


def test_qdrant_without_a_url_is_unavailable_with_a_hint() -> None:
    with pytest.raises(StoreUnavailableError, match="needs a server URL"):
        open_store(Settings(vector_backend="qdrant"), dim=DIM)


def test_qdrant_local_mode_stands_in_for_server_a_folder_held_by_another_client_is_unavailable(
    tmp_path: Path,
) -> None:
    first = QdrantStore.in_local_mode(str(tmp_path / "q"), dim=DIM)
    try:
        with pytest.raises(StoreUnavailableError, match="cannot open"):
            QdrantStore.in_local_mode(str(tmp_path / "q"), dim=DIM)
    finally:
        first.close()
