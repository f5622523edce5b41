"""The tiny test model of scripts/tiny_gguf.py: a real GGUF that llama.cpp loads and runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import gguf
import pytest
from llama_cpp import Llama
from llama_cpp.llama_chat_format import (
    LLAMA3_INSTRUCT_CHAT_TEMPLATE,
    guess_chat_format_from_gguf_metadata,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tiny_gguf", REPO_ROOT / "scripts/tiny_gguf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("tiny_gguf", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_llama(tiny_gguf: Path) -> Llama:
    return Llama(model_path=str(tiny_gguf), n_ctx=2048, n_threads=1, verbose=False)


def _field(reader: gguf.GGUFReader, key: str) -> object:
    return reader.fields[key].contents()


def test_same_seed_writes_the_same_bytes(tiny_module: ModuleType, tmp_path: Path) -> None:
    first = tiny_module.write_tiny_gguf(tmp_path / "a.gguf", seed=7)
    second = tiny_module.write_tiny_gguf(tmp_path / "b.gguf", seed=7)
    other = tiny_module.write_tiny_gguf(tmp_path / "c.gguf", seed=8)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_metadata_describes_a_small_llama_3_style_model(tiny_gguf: Path) -> None:
    reader = gguf.GGUFReader(tiny_gguf)
    assert _field(reader, "general.architecture") == "llama"
    assert _field(reader, "llama.block_count") == 2
    assert _field(reader, "llama.embedding_length") == 64
    assert _field(reader, "tokenizer.ggml.model") == "gpt2"
    assert _field(reader, "tokenizer.ggml.pre") == "llama-bpe"
    assert _field(reader, "tokenizer.chat_template") == LLAMA3_INSTRUCT_CHAT_TEMPLATE
    tokens = _field(reader, "tokenizer.ggml.tokens")
    merges = _field(reader, "tokenizer.ggml.merges")
    assert isinstance(tokens, list) and isinstance(merges, list)
    assert len(merges) >= 200
    for special in ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"):
        assert special in tokens
    assert tokens[_field(reader, "tokenizer.ggml.eos_token_id")] == "<|eot_id|>"  # type: ignore[index]


def test_llama_cpp_recognises_the_llama_3_template(tiny_llama: Llama) -> None:
    assert guess_chat_format_from_gguf_metadata(tiny_llama.metadata) == "llama-3"


def test_tokenizer_round_trips_any_text(tiny_llama: Llama) -> None:
    text = 'level=error msg="connexion refusée" 🚀 \t tab\nnext line'
    tokens = tiny_llama.tokenize(text.encode(), add_bos=False)
    assert tiny_llama.detokenize(tokens).decode() == text
    # The merges compress: fewer tokens than bytes.
    assert len(tokens) < len(text.encode())


def test_template_words_are_single_tokens_as_in_llama_3(tiny_llama: Llama) -> None:
    for word in ("system", "user", "assistant", "\n\n"):
        assert len(tiny_llama.tokenize(word.encode(), add_bos=False)) == 1
    header = tiny_llama.tokenize(
        b"<|start_header_id|>user<|end_header_id|>\n\n", add_bos=False, special=True
    )
    assert len(header) == 4


def test_free_text_is_valid_utf8_and_runs_to_max_tokens(tiny_llama: Llama) -> None:
    for prompt in ("The window summary:", "ERROR payment-api", "{"):
        tokens = tiny_llama.tokenize(prompt.encode())
        generated: list[int] = []
        for token in tiny_llama.generate(tokens, temp=0.0):
            generated.append(token)
            if len(generated) == 300:
                break
        assert not any(tiny_llama.token_eos() == token for token in generated)
        text = tiny_llama.detokenize(generated).decode("utf-8")  # strict: no lone bytes
        assert all(ch in "\t\n" or ch.isprintable() for ch in text)
