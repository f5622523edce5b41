"""One `Settings` object for the whole project.

Built once (by the CLI, the API factory or a test) and passed down; nothing reads
the environment at import time. Every value comes from a `LOGLENS_*` environment
variable or the `.env` file in the working directory, with the default noted
beside each field. Everything loglens stores lives under `data_dir`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_path
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from loglens.errors import ConfigError, InputError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse `30m`, `2h`, `1d`, `90s`, `1w` (one number and one unit) into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise InputError(
            f"invalid duration {text!r}", hint="use a number and a unit: 30s, 15m, 2h, 1d, 1w"
        )
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def default_data_dir() -> Path:
    """The user's XDG data directory for loglens (e.g. ~/.local/share/loglens)."""
    return user_data_path("loglens", appauthor=False)


class Settings(BaseSettings):
    """Effective configuration. `loglens config` prints it with secrets masked."""

    model_config = SettingsConfigDict(
        env_prefix="LOGLENS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # Where everything loglens stores goes: pattern history, eval runs, caches, vector store.
    data_dir: Path = Field(default_factory=default_data_dir)
    # Optional YAML file with user masks, pattern overrides, signatures and redaction rules.
    # Only read when set explicitly: nothing is picked up silently from the working directory.
    config_file: Path | None = None

    # --- Loki -------------------------------------------------------------------------
    # Base URL of Loki (e.g. http://loki.monitoring:3100); when unset, commands need files.
    loki_url: str | None = None
    # Tenant for multi-tenant Loki, sent as X-Scope-OrgID.
    loki_tenant: str | None = None
    # Basic auth (for a gateway in front of Loki) ...
    loki_username: str | None = None
    loki_password: SecretStr | None = None
    # ... or a bearer token. Bearer wins when both are set.
    loki_token: SecretStr | None = None
    # Seconds per HTTP request; a window is fetched in many requests.
    loki_timeout_s: float = 30.0
    # Entries per query_range request; Loki's own default max_entries_limit_per_query is 5000.
    loki_page_limit: int = 5000
    # Attempts per request on 429, 5xx and connection errors, with exponential backoff.
    loki_max_attempts: int = 5
    # Largest window a command may ask for; bigger windows are refused, not truncated.
    max_window: str = "7d"

    # --- Reading ----------------------------------------------------------------------
    # Records per batch handed from a source to the pipeline: bounds memory, amortises calls.
    batch_size: int = 4096

    # --- Analysis -----------------------------------------------------------------
    # Findings listed in a report, most urgent first.
    max_findings: int = 20
    # Patterns listed in a report (the most frequent); all are counted in stats.patterns.
    max_report_patterns: int = 200
    # Record each analysed window's patterns in the history store (for "new since when?").
    record_history: bool = True
    # Processes that read and mine one large JSONL input together, each taking a share of
    # the streams (the report is the same as with one). 0: one per CPU, at most 4; 1: never.
    analyze_workers: int = Field(default=0, ge=0)
    # Inputs smaller than this many MB on disk are analysed in one process (starting
    # workers and reading the file in each costs more than it saves on small inputs).
    parallel_min_mb: float = Field(default=64.0, ge=0)

    # --- Redaction --------------------------------------------------------------------
    # Extra regexes whose matches are replaced with <redacted> everywhere text leaves loglens.
    redact_patterns: list[str] = Field(default_factory=list)

    # --- LLM --------------------------------------------------------------------------
    # none: rules only; openai: llama-server (or any OpenAI-compatible server); local: GGUF.
    llm_backend: Literal["none", "openai", "local"] = "none"
    llm_url: str | None = None
    llm_api_key: SecretStr | None = None
    model_path: Path | None = None
    # Model name sent to the server (llama-server ignores it; Ollama/vLLM need it).
    llm_model: str | None = None
    # Context size: for `local` the n_ctx to load with; for `openai` an override of /props.
    llm_context: int | None = None
    # Tokens the model may generate per extraction / per summary.
    llm_max_tokens: int = 512
    # Findings the LLM refines (most urgent first); the rest keep the rules answer.
    llm_top_k: int = 5
    # Seconds per model call, and for the whole LLM step of one report.
    llm_timeout_s: float = 120.0
    llm_report_timeout_s: float = 600.0
    # Concurrent calls; default: the server's slot count (/props), 1 for `local`.
    llm_slots: int | None = None
    # Attempts per call on connection errors, with exponential backoff.
    llm_max_attempts: int = 3
    # CPU threads for the `local` backend (default: llama.cpp's choice).
    llm_threads: int | None = None

    # --- Retrieval --------------------------------------------------------------------
    # auto: on when the retrieval extra (embedder + store) is installed; on: required; off.
    retrieval: Literal["auto", "on", "off"] = "auto"
    # lancedb: embedded, under data_dir; qdrant: a Qdrant server at qdrant_url.
    vector_backend: Literal["lancedb", "qdrant"] = "lancedb"
    # Where the lancedb dataset lives (default: data_dir/vectors).
    vector_path: Path | None = None
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    # local: all-MiniLM-L6-v2 in-process; openai: /v1/embeddings at embed_url.
    embed_backend: Literal["local", "openai"] = "local"
    embed_url: str | None = None
    # Bearer token for the embeddings server (when it sits behind an authenticating proxy).
    embed_api_key: SecretStr | None = None
    embed_model: str = "all-MiniLM-L6-v2"
    # Extra runbook notes (Markdown) indexed as knowledge beside the package's own.
    knowledge_dir: Path | None = None
    # Related items attached per finding and kind.
    retrieval_top_k: int = 3

    @field_validator("max_window")
    @classmethod
    def _check_max_window(cls, value: str) -> str:
        try:
            parse_duration(value)
        except InputError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("loki_url", "llm_url", "qdrant_url", "embed_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @property
    def max_window_delta(self) -> timedelta:
        return parse_duration(self.max_window)

    @property
    def patterns_db(self) -> Path:
        """SQLite file of the pattern history store."""
        return self.data_dir / "patterns.sqlite"

    @property
    def eval_db(self) -> Path:
        """SQLite file of stored evaluation runs."""
        return self.data_dir / "eval.sqlite"

    @property
    def vector_dir(self) -> Path:
        """LanceDB dataset of the embedded vector store (`vector_path`, or data_dir/vectors)."""
        return self.vector_path if self.vector_path is not None else self.data_dir / "vectors"

    @property
    def llm_cache_db(self) -> Path:
        """SQLite cache of LLM extraction results."""
        return self.data_dir / "llm-cache.sqlite"

    @property
    def embed_cache_db(self) -> Path:
        """SQLite cache of embeddings, keyed by text hash and model."""
        return self.data_dir / "embed-cache.sqlite"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain values, secrets shown as `********`."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment and `.env`, turning validation errors into ConfigError."""
    try:
        return Settings(**overrides)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigError(
            f"invalid settings: {exc}", hint="check your LOGLENS_* variables"
        ) from exc
