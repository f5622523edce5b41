"""Shared fixtures: every test gets its own data directory and a clean LOGLENS_* environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from loglens.config import Settings

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
    # Retrieval (MiniLM + a vector store, seconds per fresh data directory) only in the
    # tests that ask for it with `retrieval=` or LOGLENS_RETRIEVAL.
    monkeypatch.setenv("LOGLENS_RETRIEVAL", "off")
    yield data_dir


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.skip("../shared is not present beside the repository")
    return SHARED_DIR


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random-weight Llama GGUF of scripts/tiny_gguf.py, written once per session."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("tiny_gguf", REPO_ROOT / "scripts/tiny_gguf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("tiny_gguf", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    path: Path = module.write_tiny_gguf(tmp_path_factory.mktemp("tiny-model") / "tiny.gguf")
    return path


@pytest.fixture(scope="session")
def llama_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` serving the tiny model on 127.0.0.1; yields its base URL."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_gguf)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192"]
    command += ["--n_threads", "1", "--verbose", "False"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def knowledge_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose LanceDB store holds the indexed knowledge base and whose
    embedding cache holds its vectors: built once per session (real MiniLM, real LanceDB)."""
    from loglens.retrieval.indexer import open_retrieval

    seed = tmp_path_factory.mktemp("knowledge-seed")
    # Explicit values: a session fixture runs before `isolated_settings` cleans the environment.
    settings = Settings(
        _env_file=None,
        data_dir=seed,
        retrieval="on",
        knowledge_dir=None,
        embed_backend="local",
        embed_model="all-MiniLM-L6-v2",
        vector_backend="lancedb",
        vector_path=None,
    )
    open_retrieval(settings).close()
    return seed


@pytest.fixture
def retrieval_settings(knowledge_seed: Path, isolated_settings: Path) -> Settings:
    """Settings with retrieval on, in this test's data directory, seeded with the indexed
    knowledge (a copy: tests may write to their store)."""
    import shutil

    shutil.copytree(knowledge_seed, isolated_settings)
    return Settings(data_dir=isolated_settings, retrieval="on")
