"""The `openai` backend: HTTP to llama.cpp's `llama-server` or another OpenAI-compatible server.

Endpoints used (llama.cpp tools/server/README.md):

* `GET /health` - 503 while the model loads, 200 when ready (absent elsewhere: ignored);
* `GET /props` - `default_generation_settings.n_ctx` and `total_slots`; servers without it
  (`llama_cpp.server`, Ollama, vLLM) fall back to `GET /v1/models` for the model name, and
  the context size comes from `LOGLENS_LLM_CONTEXT` or `DEFAULT_CONTEXT`;
* `POST /tokenize` `{"content": ...}` (llama-server), `POST /tokenize` `{"prompt": ...}`
  (vLLM) or `POST /extras/tokenize` `{"input": ...}` (llama_cpp.server), whichever the
  server answers, detected once;
* `POST /apply-template` (llama-server) renders the chat template for exact prompt counts;
  elsewhere the count is the messages' tokens plus a per-message template allowance;
* `POST /v1/chat/completions`, temperature 0, SSE streaming. A schema-constrained answer
  sends loglens's own strict GBNF (`loglens.llm.grammar`) as `grammar` to llama.cpp's
  servers (llama-server, llama_cpp.server: the latter builds its `response_format`
  grammar with a converter that lets raw control characters into strings), and the
  OpenAI `response_format` `{"type": "json_schema", ...}` to others (vLLM, Ollama). A
  server that refuses that form gets `{"type": "json_object", "schema": ...}`, which
  llama-server, llama_cpp.server, vLLM and Ollama all accept (vLLM and Ollama then only
  ensure JSON: strict validation and the repair turn catch the rest).

Servers parse control-token text in prompts (`<|eot_id|>`) into the real tokens, so every
message content is sent with such text neutralised (`neutralise_special_tokens`).
Connection errors are retried (tenacity); every call has a timeout; at most `slots` calls
run at once; leaving a stream closes its HTTP response, which stops the generation.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from loglens.errors import BackendError
from loglens.llm.backend import (
    DEFAULT_CONTEXT,
    BackendInfo,
    ChatMessage,
    Generation,
    LlmTimeoutError,
)
from loglens.llm.prompting import neutralise_special_tokens

if TYPE_CHECKING:
    from loglens.config import Settings

# Tokens a chat template adds around each message, and once per prompt (BOS and the
# assistant header), when the server cannot render the template (no /apply-template).
# Measured with the Llama 3 template on the tiny test model: 5 per message (header start,
# role, header end, blank line, end of turn) and 5 per prompt; ChatML needs 5 as well.
# The allowances are higher so that the count is an upper bound for other templates too.
MESSAGE_OVERHEAD_TOKENS = 8
PROMPT_OVERHEAD_TOKENS = 8

_CONNECTION_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)
_NOT_THERE = frozenset({404, 405, 501})


class OpenAIBackend:
    """An `LlmBackend` speaking HTTP to llama-server (or llama_cpp.server, Ollama, vLLM)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        model: str | None = None,
        context_size: int | None = None,
        slots: int | None = None,
        max_attempts: int = 3,
        retry_wait_s: float = 0.5,
        request_timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # OpenAI clients take ".../v1" as their base URL; the server's root is meant here.
        self._base_url = base_url.rstrip("/").removesuffix("/v1")
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            headers=headers,
            timeout=httpx.Timeout(request_timeout_s),
            transport=transport,
        )
        self._model = model
        self._context_override = context_size
        self._slots_override = slots
        self._max_attempts = max(1, max_attempts)
        self._retry_wait_s = retry_wait_s
        self._info: BackendInfo | None = None
        self._info_lock = asyncio.Lock()
        self._slots: asyncio.Semaphore | None = None
        self._tokenizer: _Tokenizer | None = None
        self._has_apply_template: bool | None = None
        self._is_llama_server = False
        self._llama_cpp = False  # llama-server or llama_cpp.server: takes a `grammar` field
        self._constraint_form: int | None = None  # the schema form the server took

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIBackend:
        assert settings.llm_url is not None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(
            settings.llm_url,
            api_key=key or None,
            model=settings.llm_model,
            context_size=settings.llm_context,
            slots=settings.llm_slots,
            max_attempts=settings.llm_max_attempts,
        )

    # --- info ---------------------------------------------------------------------------

    async def info(self) -> BackendInfo:
        async with self._info_lock:
            if self._info is None:
                await self._check_health()
                props = await self._read_props()
                self._is_llama_server = props is not None
                self._info = props or await self._read_models()
                self._slots = asyncio.Semaphore(self._info.slots)
            return self._info

    async def _check_health(self) -> None:
        response = await self._send("GET", "/health", timeout_s=10.0)
        if response.status_code == 503:
            raise BackendError(
                f"the LLM server at {self._base_url} is still loading its model",
                hint="wait until GET /health answers 200, then retry",
            )
        if response.status_code not in _NOT_THERE:
            _raise_for_status(response, "/health")

    async def _read_props(self) -> BackendInfo | None:
        response = await self._send("GET", "/props", timeout_s=10.0)
        if response.status_code in _NOT_THERE:
            return None
        props = _json_body(response, "/props")
        settings = props.get("default_generation_settings") or {}
        n_ctx = settings.get("n_ctx")
        if not isinstance(n_ctx, int) or n_ctx <= 0:
            return None
        context, source = (n_ctx, "server")
        if self._context_override:
            context, source = (self._context_override, "settings")
        model_path = props.get("model_path") or props.get("model_alias") or "unknown"
        slots = self._slots_override or int(props.get("total_slots") or 1)
        return BackendInfo("openai", _model_name(str(model_path)), context, slots, source)

    async def _read_models(self) -> BackendInfo:
        response = await self._send("GET", "/v1/models", timeout_s=10.0)
        listing = _json_body(response, "/v1/models")
        models = listing.get("data") or []
        first: dict[str, Any] = models[0] if models and isinstance(models[0], dict) else {}
        name = self._model or _model_name(str(first.get("id") or "unknown"))
        # vLLM says how long a context it serves; llama_cpp.server and Ollama do not.
        served = first.get("max_model_len")
        if self._context_override:
            context, source = (self._context_override, "settings")
        elif isinstance(served, int) and served > 0:
            context, source = (served, "server")
        else:
            context, source = (DEFAULT_CONTEXT, "default")
        return BackendInfo("openai", name, context, self._slots_override or 1, source)

    # --- tokens -------------------------------------------------------------------------

    async def tokenize(self, text: str) -> list[int]:
        """Tokens of `text` as it is sent (control-token text neutralised, see `_message_json`)."""
        tokenizer = await self._find_tokenizer()
        if tokenizer.form is None:
            raise BackendError(
                f"the LLM server at {self._base_url} has no tokenize endpoint",
                hint="use llama-server (POST /tokenize), llama_cpp.server (/extras/tokenize) "
                "or vLLM (/tokenize)",
            )
        return await self._tokenize_with(tokenizer, neutralise_special_tokens(text))

    async def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        prompt = await self._apply_template(messages)
        tokenizer = await self._find_tokenizer()
        if prompt is not None and tokenizer.server == "llama-server":
            # add_special: the server adds BOS unless the rendered prompt has it: an exact
            # count, or one over when the template already wrote BOS. Never under.
            return len(await self._llama_server_tokens(prompt, add_special=True))
        total = PROMPT_OVERHEAD_TOKENS
        for message in messages:
            total += MESSAGE_OVERHEAD_TOKENS + await self._content_tokens(tokenizer, message)
        return total

    async def _content_tokens(self, tokenizer: _Tokenizer, message: ChatMessage) -> int:
        content = _message_json(message)["content"]
        if tokenizer.form is None:
            return len(content.encode())  # a byte-level BPE token covers >= 1 byte
        count = len(await self._tokenize_with(tokenizer, content))
        stripped = content.strip()
        if stripped != content:  # templates that trim may tokenize differently
            count = max(count, len(await self._tokenize_with(tokenizer, stripped)))
        return count

    async def _apply_template(self, messages: Sequence[ChatMessage]) -> str | None:
        if self._has_apply_template is False:
            return None
        body = {"messages": [_message_json(m) for m in messages]}
        response = await self._send("POST", "/apply-template", json=body, timeout_s=30.0)
        if response.status_code in _NOT_THERE:
            self._has_apply_template = False
            return None
        self._has_apply_template = True
        prompt = _json_body(response, "/apply-template").get("prompt")
        if not isinstance(prompt, str):
            raise BackendError("/apply-template answered without a prompt string")
        return prompt

    async def _find_tokenizer(self) -> _Tokenizer:
        """The first tokenize dialect the server answers (probed once with an empty text)."""
        if self._tokenizer is not None:
            return self._tokenizer
        self._tokenizer = _Tokenizer(None, ())
        for form in TOKENIZE_FORMS:
            probe = await self._send("POST", form.path, json=form.body(""), timeout_s=30.0)
            if probe.status_code in _NOT_THERE or probe.status_code in (400, 422):
                continue  # not there, or another dialect on that path
            tokens = _token_list(_json_body(probe, form.path))
            # Without an option to leave BOS out, what an empty text gives is a prefix the
            # server adds to every text (llama_cpp.server): learnt here, stripped later.
            prefix = () if form.no_special else tuple(tokens)
            self._tokenizer = _Tokenizer(form, prefix)
            break
        return self._tokenizer

    async def _tokenize_with(self, tokenizer: _Tokenizer, text: str) -> list[int]:
        form = tokenizer.form
        assert form is not None
        response = await self._send("POST", form.path, json=form.body(text), timeout_s=30.0)
        tokens = _token_list(_json_body(response, form.path))
        prefix = list(tokenizer.prefix)
        return tokens[len(prefix) :] if tokens[: len(prefix)] == prefix else tokens

    async def _llama_server_tokens(self, text: str, *, add_special: bool) -> list[int]:
        body = {"content": text, "add_special": add_special}
        response = await self._send("POST", "/tokenize", json=body, timeout_s=30.0)
        return _token_list(_json_body(response, "/tokenize"))

    # --- generation ---------------------------------------------------------------------

    async def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> Generation:
        body = await self._chat_body(messages, max_tokens=max_tokens, stream=False)
        started = time.perf_counter()
        async with self._slot():
            try:
                async with asyncio.timeout(timeout_s):
                    response = await self._complete(body, schema, timeout_s)
            except TimeoutError as exc:
                raise _timeout(timeout_s) from exc
        return _generation(_json_body(response, "/v1/chat/completions"), started)

    async def _complete(
        self, body: dict[str, Any], schema: dict[str, Any] | None, timeout_s: float
    ) -> httpx.Response:
        """POST the completion, constrained to `schema` in the first form the server takes."""
        if schema is None:
            return await self._send("POST", "/v1/chat/completions", json=body, timeout_s=timeout_s)
        forms = await self._constraint_forms(schema)
        for index, constraint in enumerate(forms):
            response = await self._send(
                "POST", "/v1/chat/completions", json={**body, **constraint}, timeout_s=timeout_s
            )
            if index == len(forms) - 1 or not _rejects_constraint(response):
                if response.status_code < 400:
                    self._constraint_form = index  # remembered once a form is answered
                return response
        raise AssertionError("unreachable: the last form's answer is returned")

    async def _constraint_forms(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The request fields that constrain the answer to `schema`, best first.

        llama.cpp's servers (llama-server has /props, llama_cpp.server /extras/tokenize)
        take loglens's strict GBNF as `grammar` (when llama-cpp-python, which builds it, is
        installed here); other servers (vLLM, Ollama) the OpenAI `json_schema` form. The
        `json_object` form with a schema, which all of them accept, comes last.
        """
        fallback = {"response_format": {"type": "json_object", "schema": schema}}
        if self._constraint_form is None:
            await self.info()
            tokenizer = await self._find_tokenizer()
            self._llama_cpp = self._is_llama_server or tokenizer.server == "llama_cpp.server"
        first: dict[str, Any] | None
        if self._llama_cpp:
            first = _grammar_field(schema)
        else:
            json_schema = {"name": "answer", "schema": schema, "strict": True}
            first = {"response_format": {"type": "json_schema", "json_schema": json_schema}}
        forms = [first, fallback] if first is not None else [fallback]
        return forms[min(self._constraint_form or 0, len(forms) - 1) :]

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float
    ) -> AsyncIterator[str]:
        body = await self._chat_body(messages, max_tokens=max_tokens, stream=True)
        deadline = asyncio.get_running_loop().time() + timeout_s
        async with self._slot():
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._send(
                        "POST", "/v1/chat/completions", json=body, timeout_s=timeout_s, stream=True
                    )
            except TimeoutError as exc:
                raise _timeout(timeout_s) from exc
            try:
                if response.status_code >= 400:
                    await response.aread()
                    _raise_for_status(response, "/v1/chat/completions")
                async for piece in _sse_pieces(response, deadline, timeout_s):
                    yield piece
            finally:
                await response.aclose()  # closing the connection stops the generation

    async def _chat_body(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, stream: bool
    ) -> dict[str, Any]:
        info = await self.info()
        return {
            "model": self._model or info.model,
            "messages": [_message_json(m) for m in messages],
            "temperature": 0,
            "max_tokens": max_tokens,
            "stream": stream,
        }

    def _slot(self) -> asyncio.Semaphore:
        assert self._slots is not None, "info() sets the slots up"
        return self._slots

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- HTTP ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        timeout_s: float,
        stream: bool = False,
    ) -> httpx.Response:
        """One request, retried on connection errors; other failures become BackendError."""
        request = self._client.build_request(
            method, path, json=json, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10))
        )
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._retry_wait_s, max=10),
            retry=retry_if_exception_type(_CONNECTION_ERRORS),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._client.send(request, stream=stream)
        except _CONNECTION_ERRORS as exc:
            raise BackendError(
                f"cannot reach the LLM server at {self._base_url} "
                f"({self._max_attempts} attempts): {exc or type(exc).__name__}",
                hint="is llama-server running? check LOGLENS_LLM_URL",
            ) from exc
        except httpx.TimeoutException as exc:
            raise _timeout(timeout_s) from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"LLM server request {path} failed: {exc!r}") from exc
        raise AssertionError("unreachable: tenacity reraises after the last attempt")


@dataclass(frozen=True, slots=True)
class TokenizeForm:
    """One server's tokenize endpoint: its path, and the body that asks for a text's tokens."""

    server: str
    path: str
    text_field: str
    no_special: tuple[tuple[str, bool], ...] = ()  # the option that leaves BOS out, if any

    def body(self, text: str) -> dict[str, Any]:
        return {self.text_field: text, **dict(self.no_special)}


TOKENIZE_FORMS = (
    TokenizeForm("llama-server", "/tokenize", "content", (("add_special", False),)),
    TokenizeForm("vllm", "/tokenize", "prompt", (("add_special_tokens", False),)),
    TokenizeForm("llama_cpp.server", "/extras/tokenize", "input"),
)


@dataclass(frozen=True, slots=True)
class _Tokenizer:
    """The tokenize dialect the server speaks (None: none), and the prefix it always adds."""

    form: TokenizeForm | None
    prefix: tuple[int, ...]

    @property
    def server(self) -> str | None:
        return self.form.server if self.form is not None else None


async def _sse_pieces(
    response: httpx.Response, deadline: float, timeout_s: float
) -> AsyncIterator[str]:
    """Text deltas from an OpenAI chat-completion event stream, until `[DONE]`."""
    lines = response.aiter_lines()
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                line = await anext(lines)
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise _timeout(timeout_s) from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"the LLM stream broke off: {exc!r}") from exc
        if not line.startswith("data:"):
            continue  # blank separators, comments (": ping"), event names
        data = line[5:].strip()
        if data == "[DONE]":
            return
        piece = _delta_text(orjson.loads(data))
        if piece:
            yield piece


def _delta_text(chunk: dict[str, Any]) -> str:
    if "error" in chunk:
        raise BackendError(f"the LLM server reported an error mid-stream: {chunk['error']}")
    choices = chunk.get("choices") or []
    if not choices:
        return ""
    delta = choices[0].get("delta") or {}
    content = delta.get("content")
    return content if isinstance(content, str) else ""


def _generation(payload: dict[str, Any], started: float) -> Generation:
    try:
        choice = payload["choices"][0]
        text = choice["message"]["content"] or ""
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendError(f"unexpected chat completion answer: {str(payload)[:300]}") from exc
    usage = payload.get("usage") or {}
    return Generation(
        text=text,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        seconds=time.perf_counter() - started,
        finish_reason=str(choice.get("finish_reason") or "stop"),
    )


def _message_json(message: ChatMessage) -> dict[str, str]:
    return {"role": message.role, "content": neutralise_special_tokens(message.content)}


def _model_name(identifier: str) -> str:
    """`/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf` -> the file name; other ids unchanged."""
    return PurePath(identifier).name if identifier.endswith(".gguf") else identifier


def _token_list(payload: dict[str, Any]) -> list[int]:
    tokens = payload.get("tokens")
    if not isinstance(tokens, list):
        raise BackendError(f"tokenize answered without a token list: {str(payload)[:200]}")
    # llama-server returns {"id", "piece"} objects when asked with_pieces; accept both.
    return [t["id"] if isinstance(t, dict) else int(t) for t in tokens]


def _grammar_field(schema: dict[str, Any]) -> dict[str, Any] | None:
    try:
        from loglens.llm.grammar import schema_to_gbnf
    except ImportError:  # llama-cpp-python is an optional extra
        return None
    return {"grammar": schema_to_gbnf(schema)}


def _rejects_constraint(response: httpx.Response) -> bool:
    """The server refused the request's form (a 4xx, or a grammar it failed to parse)."""
    if response.status_code in (400, 422):
        return True
    return response.status_code == 500 and "grammar" in response.text.lower()


def _json_body(response: httpx.Response, path: str) -> dict[str, Any]:
    _raise_for_status(response, path)
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise BackendError(
            f"{response.request.url} answered with {_body_summary(response)}, not JSON",
            hint=_URL_HINT if _is_html(response) else None,
        ) from exc
    if not isinstance(payload, dict):
        raise BackendError(f"{path} answered with {type(payload).__name__}, not an object")
    return payload


_URL_HINT = (
    "LOGLENS_LLM_URL must be the LLM server's own address, e.g. http://localhost:8081 "
    "for llama-server (a web UI or proxy page answers HTML)"
)
_TITLE_RE = re.compile(rb"<title[^>]*>([^<]{0,80})", re.IGNORECASE)


def _raise_for_status(response: httpx.Response, path: str) -> None:
    if response.status_code < 400:
        return
    hint = "check LOGLENS_LLM_API_KEY" if response.status_code in (401, 403) else None
    if _is_html(response):
        hint = _URL_HINT
    raise BackendError(
        f"LLM server answered {response.status_code} to {path}: {_body_summary(response)}",
        hint=hint,
    )


def _is_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return "html" in content_type or response.content.lstrip()[:1] == b"<"


def _body_summary(response: httpx.Response) -> str:
    """An answer's body for a message: an HTML page by its title, other text cut short."""
    if _is_html(response):
        title = _TITLE_RE.search(response.content)
        name = title.group(1).decode(errors="replace").strip() if title else ""
        return f"an HTML page ({name!r})" if name else "an HTML page"
    return repr(response.text[:300]) if response.text else "an empty body"


def _timeout(timeout_s: float) -> LlmTimeoutError:
    return LlmTimeoutError(
        f"the LLM call took longer than {timeout_s:g} s and was stopped",
        hint="raise LOGLENS_LLM_TIMEOUT_S or use a smaller model",
    )
