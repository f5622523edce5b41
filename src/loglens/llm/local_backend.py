"""The `local` backend: llama.cpp in-process through llama-cpp-python, on a GGUF file.

The model is loaded once, lazily, by the first call that needs it. Calls run in a worker
thread (the event loop stays free) one at a time: a llama.cpp context serves one sequence,
so this backend has one slot. The prompt is the GGUF's own chat template
(`tokenizer.chat_template`, rendered by llama_cpp's `Jinja2ChatFormatter`) tokenized once:
the same tokens are counted by `count_prompt_tokens` and fed to the model, so the count is
exact. Only the template's own text is tokenized with special tokens parsed; the messages'
contents are plain text, so a log line holding `<|eot_id|>` cannot end a turn. Schema-
constrained output uses the grammar of `loglens.llm.grammar`.

Stopping: a stopping criterion checked after every sampled token ends the generation when
the caller cancels, closes the stream or passes its deadline.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_cpp import Llama, StoppingCriteriaList
from llama_cpp import __version__ as llama_cpp_version
from llama_cpp.llama_chat_format import (
    CHATML_CHAT_TEMPLATE,
    ChatFormatterResponse,
    Jinja2ChatFormatter,
)
from llama_cpp.llama_grammar import LlamaGrammar

from loglens.errors import BackendError
from loglens.llm.backend import (
    DEFAULT_CONTEXT,
    BackendInfo,
    ChatMessage,
    Generation,
    LlmTimeoutError,
    check_model_file,
)
from loglens.llm.grammar import schema_grammar
from loglens.llm.prompting import neutralise_special_tokens

if TYPE_CHECKING:
    from loglens.config import Settings


@dataclass
class _RunControl:
    """Shared between the caller and the worker thread: when to stop, and what was made."""

    deadline: float  # time.monotonic()
    stop_requested: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False
    tokens_sampled: int = 0
    # Tokens sampled when the stop was asked for (None: never asked while running).
    tokens_at_stop: int | None = None

    def should_stop(self, *_: Any) -> bool:
        """Stopping criterion, called by llama.cpp after each sampled token."""
        self.tokens_sampled += 1
        if time.monotonic() > self.deadline:
            self.timed_out = True
            return True
        return self.stop_requested.is_set()

    def request_stop(self) -> None:
        if not self.stop_requested.is_set():
            self.tokens_at_stop = self.tokens_sampled
            self.stop_requested.set()


@dataclass(frozen=True, slots=True)
class RunStats:
    """What the last call did: tokens sampled in all, and after its stop was requested."""

    tokens_sampled: int
    tokens_after_stop: int | None


@dataclass(frozen=True)
class _End:
    """Sentinel the worker puts on the stream queue when it is done (with its error, if any)."""

    error: BaseException | None = None


class LocalBackend:
    """An `LlmBackend` running llama.cpp in this process on a GGUF model file."""

    def __init__(
        self, model_path: Path, *, context_size: int | None = None, threads: int | None = None
    ) -> None:
        self._path = model_path
        self._context = context_size or DEFAULT_CONTEXT
        self._context_source = "settings" if context_size else "default"
        self._threads = threads
        self._llama: Llama | None = None
        self._formatter: Jinja2ChatFormatter | None = None
        self._load_lock = asyncio.Lock()
        self._model_lock = threading.Lock()  # one generation at a time: one slot
        self._last_control: _RunControl | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalBackend:
        assert settings.model_path is not None
        return cls(
            settings.model_path, context_size=settings.llm_context, threads=settings.llm_threads
        )

    async def info(self) -> BackendInfo:
        return BackendInfo("local", self._path.name, self._context, 1, self._context_source)

    # --- model and tokens ---------------------------------------------------------------

    async def _model(self) -> Llama:
        if self._llama is None:
            async with self._load_lock:
                if self._llama is None:
                    self._llama = await asyncio.to_thread(self._load)
        return self._llama

    def _load(self) -> Llama:
        check_model_file(self._path)
        try:
            llama = Llama(
                model_path=str(self._path),
                n_ctx=self._context,
                n_threads=self._threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendError(
                f"llama.cpp could not load {self._path}: {exc}",
                hint="a GGUF file whose architecture this llama.cpp (llama-cpp-python "
                f"{llama_cpp_version}) does not know, or a damaged download?",
            ) from exc
        self._formatter = _chat_formatter(llama)
        return llama

    async def tokenize(self, text: str) -> list[int]:
        llama = await self._model()
        return list(llama.tokenize(text.encode(), add_bos=False, special=False))

    async def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(await self.prompt_tokens(messages))

    async def prompt_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        """The token ids the model reads for `messages` (what `count_prompt_tokens` counts)."""
        return self._prompt_tokens(await self._model(), messages)

    def _prompt_tokens(self, llama: Llama, messages: Sequence[ChatMessage]) -> list[int]:
        """The chat template applied and tokenized, exactly as the model will read it.

        Only the template's own text is tokenized with special tokens parsed: the messages'
        contents are tokenized as plain text, so `<|eot_id|>` in a log line stays text.
        """
        rendered = self._render(messages)
        add_bos = not rendered.added_special
        split = _split_rendered(rendered.prompt, messages, self._render)
        if split is None:  # a template that rewrites contents: neutralise them instead
            plain = [ChatMessage(m.role, neutralise_special_tokens(m.content)) for m in messages]
            prompt = self._render(plain).prompt
            return list(llama.tokenize(prompt.encode(), add_bos=add_bos, special=True))
        tokens: list[int] = []
        for index, (text, is_content) in enumerate(split):
            first = add_bos and index == 0
            tokens += llama.tokenize(text.encode(), add_bos=first, special=not is_content)
        return tokens

    def _render(self, messages: Sequence[ChatMessage]) -> ChatFormatterResponse:
        assert self._formatter is not None
        return self._formatter(
            messages=[{"role": m.role, "content": m.content} for m in messages]  # type: ignore[misc]
        )

    # --- generation ---------------------------------------------------------------------

    async def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> Generation:
        llama = await self._model()
        prompt = self._prompt_tokens(llama, messages)
        grammar = schema_grammar(schema) if schema is not None else None
        control = self._new_control(timeout_s)
        job = asyncio.to_thread(self._complete, llama, prompt, grammar, max_tokens, control)
        try:
            async with asyncio.timeout(timeout_s):
                generation = await job
        except TimeoutError as exc:
            raise _timeout(timeout_s) from exc
        finally:
            control.request_stop()  # a cancelled or timed-out caller stops the worker
        if control.timed_out:
            raise _timeout(timeout_s)
        return generation

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float
    ) -> AsyncIterator[str]:
        llama = await self._model()
        prompt = self._prompt_tokens(llama, messages)
        control = self._new_control(timeout_s)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | _End] = asyncio.Queue()

        def hand_over(item: str | _End) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody reads any more
                control.request_stop()

        def work() -> None:
            try:
                self._complete(llama, prompt, None, max_tokens, control, on_piece=hand_over)
            except BaseException as exc:
                hand_over(_End(exc))
            else:
                hand_over(_End())

        loop.run_in_executor(None, work)
        deadline = loop.time() + timeout_s
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        item = await queue.get()
                except TimeoutError as exc:
                    raise _timeout(timeout_s) from exc
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    break
                yield item
            if control.timed_out:
                raise _timeout(timeout_s)
        finally:
            control.request_stop()  # closing or cancelling the stream stops the worker

    def _new_control(self, timeout_s: float) -> _RunControl:
        control = _RunControl(deadline=time.monotonic() + timeout_s)
        self._last_control = control
        return control

    def _complete(
        self,
        llama: Llama,
        prompt: list[int],
        grammar: LlamaGrammar | None,
        max_tokens: int,
        control: _RunControl,
        on_piece: Callable[[str | _End], None] | None = None,
    ) -> Generation:
        """Worker thread: one completion under the model lock, streamed to `on_piece` if given."""
        with self._model_lock:
            if control.stop_requested.is_set():
                return Generation("", len(prompt), 0, 0.0, "cancelled")
            started = time.perf_counter()
            try:
                text, finish, completion_tokens = _run_completion(
                    llama, prompt, grammar, max_tokens, control, on_piece
                )
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"llama.cpp generation failed: {exc}") from exc
        return Generation(
            text, len(prompt), completion_tokens, time.perf_counter() - started, finish
        )

    def last_run(self) -> RunStats | None:
        """Token figures of the most recent call (read once its worker has finished)."""
        control = self._last_control
        if control is None:
            return None
        after = None
        if control.tokens_at_stop is not None:
            after = control.tokens_sampled - control.tokens_at_stop
        return RunStats(control.tokens_sampled, after)

    async def idle(self) -> None:
        """Wait until no generation runs (a stopped one finishes within one token)."""
        await asyncio.to_thread(self._wait_for_lock)

    def _wait_for_lock(self) -> None:
        with self._model_lock:
            return

    async def aclose(self) -> None:
        llama, self._llama = self._llama, None
        if llama is not None:
            await asyncio.to_thread(self._close_when_idle, llama)

    def _close_when_idle(self, llama: Llama) -> None:
        with self._model_lock:
            llama.close()


def _run_completion(
    llama: Llama,
    prompt: list[int],
    grammar: LlamaGrammar | None,
    max_tokens: int,
    control: _RunControl,
    on_piece: Callable[[str | _End], None] | None,
) -> tuple[str, str, int]:
    """(text, finish_reason, completion tokens) of one greedy completion of `prompt`."""
    criteria = StoppingCriteriaList([control.should_stop])
    common: dict[str, Any] = {
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "grammar": grammar,
        "stopping_criteria": criteria,
    }
    if on_piece is None:
        result: Any = llama.create_completion(prompt, stream=False, **common)
        choice = result["choices"][0]
        finish = _finish_reason(choice.get("finish_reason"), control)
        return choice["text"], finish, int(result["usage"]["completion_tokens"])
    pieces: list[str] = []
    finish = "stop"
    chunks: Iterator[Any] = llama.create_completion(prompt, stream=True, **common)  # type: ignore[assignment]
    for chunk in chunks:
        choice = chunk["choices"][0]
        if choice["text"]:
            pieces.append(choice["text"])
            on_piece(choice["text"])
        finish = _finish_reason(choice.get("finish_reason"), control) or finish
    # Every sampled token passed the stopping criterion; all but the last one (end of
    # generation, or the one the criterion stopped on) are output, unless the limit stopped it.
    completion_tokens = control.tokens_sampled - (0 if finish == "length" else 1)
    return "".join(pieces), finish, max(completion_tokens, 0)


def _finish_reason(reported: str | None, control: _RunControl) -> str:
    if control.timed_out:
        return "timeout"
    if control.stop_requested.is_set():
        return "cancelled"
    return reported or "stop"


def _chat_formatter(llama: Llama) -> Jinja2ChatFormatter:
    """The model's embedded chat template (ChatML when the GGUF has none, as llama-server)."""
    template = llama.metadata.get("tokenizer.chat_template") or CHATML_CHAT_TEMPLATE
    eos, bos = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=_token_text(llama, eos),
        bos_token=_token_text(llama, bos),
        stop_token_ids=[eos],
    )


# Stand-ins for the contents when the template is rendered alone: private-use characters,
# which no chat template writes, around the message's index.
_SLOT_OPEN, _SLOT_CLOSE = "\ue000", "\ue001"
_SLOT_RE = re.compile(f"{_SLOT_OPEN}(\\d+){_SLOT_CLOSE}")


def _split_rendered(
    prompt: str,
    messages: Sequence[ChatMessage],
    render: Callable[[Sequence[ChatMessage]], ChatFormatterResponse],
) -> list[tuple[str, bool]] | None:
    """`prompt` as (text, is_content) pieces, or None when the template rewrites contents.

    The template is rendered with stand-ins for the contents; the pieces between them are
    the template's text. The contents go in as given, or trimmed when the template trims
    them (Llama 3's does); the pieces must join to exactly `prompt`.
    """
    slots = [ChatMessage(m.role, f"{_SLOT_OPEN}{i}{_SLOT_CLOSE}") for i, m in enumerate(messages)]
    parts = _SLOT_RE.split(render(slots).prompt)
    if [int(i) for i in parts[1::2]] != list(range(len(messages))):
        return None
    for contents in ([m.content for m in messages], [m.content.strip() for m in messages]):
        pieces = [
            (part, False) if index % 2 == 0 else (contents[int(part)], True)
            for index, part in enumerate(parts)
        ]
        if "".join(text for text, _ in pieces) == prompt:
            return [piece for piece in pieces if piece[0]]
    return None


def _token_text(llama: Llama, token: int) -> str:
    if token < 0:
        return ""
    return llama.detokenize([token], special=True).decode(errors="replace")


def _timeout(timeout_s: float) -> LlmTimeoutError:
    return LlmTimeoutError(
        f"the local model took longer than {timeout_s:g} s and was stopped",
        hint="raise LOGLENS_LLM_TIMEOUT_S, set LOGLENS_LLM_THREADS, or use a smaller model",
    )
