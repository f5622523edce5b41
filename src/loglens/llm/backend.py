"""The interface every LLM backend offers, and `open_backend` that picks one from Settings.

Two backends implement `LlmBackend`:

* `openai` (`loglens.llm.openai_backend`): HTTP to llama.cpp's `llama-server` (or any
  OpenAI-compatible server: `llama_cpp.server`, Ollama, vLLM);
* `local` (`loglens.llm.local_backend`): llama.cpp in-process through `llama-cpp-python`,
  loading the GGUF file at `LOGLENS_MODEL_PATH`.

`LOGLENS_LLM_BACKEND=none` means rules only: `open_backend` returns None. When the backend
is not set but `LOGLENS_MODEL_PATH` is, the embedded `local` backend is the default. Callers never
import a backend module directly, so `llama_cpp` is imported only when `local` is chosen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson

from loglens.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from loglens.config import Settings

# Context size assumed when neither the server nor the settings say (stated in BackendInfo).
DEFAULT_CONTEXT = 8192


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat turn sent to the model."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """What the backend runs: model name, context size and how many calls may run at once."""

    backend: str
    model: str
    context_size: int
    slots: int
    # Where context_size came from: "server" (/props, the loaded model), "settings"
    # (LOGLENS_LLM_CONTEXT) or "default" (DEFAULT_CONTEXT, the server did not say).
    context_source: str = "server"


@dataclass(frozen=True, slots=True)
class Generation:
    """One finished completion with its token counts and wall time."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


class LlmTimeoutError(BackendError):
    """A model call took longer than its timeout; the generation was stopped."""

    title = "LLM call timed out"


class LlmBackend(Protocol):
    """A chat model with its own tokenizer: the only thing the LLM stage talks to."""

    async def info(self) -> BackendInfo:
        """Model name, context size and slots (asked once, then remembered)."""
        ...

    async def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` with the model's own tokenizer (no special tokens added)."""
        ...

    async def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens of the prompt after the chat template: exact, or an upper bound, never less."""
        ...

    async def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> Generation:
        """Complete at temperature 0; with a schema the output is grammar-constrained JSON."""
        ...

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float
    ) -> AsyncIterator[str]:
        """Yield text pieces as generated; closing the iterator stops the generation."""
        ...

    async def aclose(self) -> None:
        """Release the HTTP client or the loaded model."""
        ...


def open_backend(settings: Settings) -> LlmBackend | None:
    """The backend `settings.llm_backend` names, or None for `none` (rules only).

    Raises ConfigError saying what to set when the chosen backend is not configured.
    Nothing is contacted or loaded here: the first call does that (and raises BackendError
    when the server cannot be reached or the model cannot be loaded).
    """
    kind = chosen_backend(settings)
    if kind == "none":
        return None
    if kind == "openai":
        return _open_openai(settings)
    return _open_local(settings)


def chosen_backend(settings: Settings) -> Literal["none", "openai", "local"]:
    """`settings.llm_backend`, except that a model path alone (backend not set) means `local`."""
    backend_set = "llm_backend" in settings.model_fields_set
    if not backend_set and settings.model_path is not None:
        return "local"
    return settings.llm_backend


def _open_openai(settings: Settings) -> LlmBackend:
    if not settings.llm_url:
        raise ConfigError(
            "LOGLENS_LLM_BACKEND=openai needs the server's URL",
            hint="set LOGLENS_LLM_URL, e.g. http://localhost:8081 for llama-server",
        )
    from loglens.llm.openai_backend import OpenAIBackend

    return OpenAIBackend.from_settings(settings)


def _open_local(settings: Settings) -> LlmBackend:
    path = settings.model_path
    if path is None:
        raise ConfigError(
            "LOGLENS_LLM_BACKEND=local needs a GGUF model file",
            hint="set LOGLENS_MODEL_PATH to e.g. Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        )
    check_model_file(path)
    try:
        from loglens.llm.local_backend import LocalBackend
    except ImportError as exc:
        raise ConfigError(
            f"LOGLENS_LLM_BACKEND=local needs llama-cpp-python, which is not installed ({exc})",
            hint="install the llm extra (pip install 'loglens[llm]'), or run llama-server "
            "and set LOGLENS_LLM_BACKEND=openai and LOGLENS_LLM_URL",
        ) from exc
    return LocalBackend.from_settings(settings)


GGUF_MAGIC = b"GGUF"
_MODEL_HINT = (
    "LOGLENS_MODEL_PATH must name a GGUF model file, e.g. Llama-3.2-3B-Instruct-Q4_K_M.gguf"
)


def check_model_file(path: Path) -> None:
    """ConfigError saying what is wrong unless `path` is a readable file that starts as GGUF."""
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.gguf"))[:5]
        listed = f" (it holds {', '.join(found)})" if found else " (it holds no .gguf file)"
        raise ConfigError(f"model path {path} is a directory{listed}", hint=_MODEL_HINT)
    if not path.exists():
        raise ConfigError(f"model file {path} does not exist", hint=_MODEL_HINT)
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise ConfigError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    if not head.startswith(GGUF_MAGIC):
        raise ConfigError(f"{path} is not a GGUF file ({_what_it_is(head)})", hint=_MODEL_HINT)


def _what_it_is(head: bytes) -> str:
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "it is an HTML page: download the file's /resolve/ URL, not its /blob/ page"
    if text.startswith(b"version https://git-lfs"):
        return "it is a Git LFS pointer: fetch the file itself (git lfs pull)"
    if not head:
        return "it is empty"
    return f"it starts with {head[:8]!r}, a GGUF file with {GGUF_MAGIC!r}"


# The `loglens llm check` test generation: a tiny grammar-constrained extraction.
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "component": {"type": "string", "maxLength": 40},
        "severity": {"enum": ["info", "warning", "error", "critical"]},
    },
    "required": ["component", "severity"],
    "additionalProperties": False,
}
PROBE_MESSAGES = (
    ChatMessage("system", "Extract the failing component and the severity as JSON."),
    ChatMessage("user", "Log line: ERROR payment-api: connection refused to postgres:5432"),
)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What `loglens llm check` shows: the backend's facts and one timed test generation."""

    info: BackendInfo
    text: str
    json_valid: bool
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    tokens_per_second: float


async def probe_backend(backend: LlmBackend, *, max_tokens: int, timeout_s: float) -> ProbeResult:
    """Ask the backend for its facts and time one schema-constrained extraction."""
    info = await backend.info()
    generation = await backend.generate(
        PROBE_MESSAGES, schema=PROBE_SCHEMA, max_tokens=max_tokens, timeout_s=timeout_s
    )
    try:
        parsed = orjson.loads(generation.text)
        valid = isinstance(parsed, dict) and set(parsed) == {"component", "severity"}
    except orjson.JSONDecodeError:
        valid = False
    return ProbeResult(
        info=info,
        text=generation.text,
        json_valid=valid,
        prompt_tokens=generation.prompt_tokens,
        completion_tokens=generation.completion_tokens,
        seconds=generation.seconds,
        tokens_per_second=generation.tokens_per_second,
    )


async def check_llm(settings: Settings) -> ProbeResult:
    """`loglens llm check`: open the configured backend, probe it, close it."""
    backend = open_backend(settings)
    if backend is None:
        raise ConfigError("no LLM backend is configured", hint=describe_missing_backend())
    try:
        return await probe_backend(backend, max_tokens=64, timeout_s=settings.llm_timeout_s)
    finally:
        await backend.aclose()


def describe_missing_backend() -> str:
    """What to set to enable the LLM, for messages shown when the backend is `none`."""
    return (
        "set LOGLENS_LLM_BACKEND=openai and LOGLENS_LLM_URL (llama-server), "
        "or LOGLENS_LLM_BACKEND=local and LOGLENS_MODEL_PATH (a GGUF file)"
    )
