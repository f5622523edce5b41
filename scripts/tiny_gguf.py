"""Write a tiny Llama-architecture GGUF model for tests: real llama.cpp, random weights.

The model is small enough to write in a fraction of a second and generate thousands of
tokens per second on one CPU core, yet it exercises everything a real Llama 3 GGUF does:

* architecture `llama`, 2 layers, hidden size 64, 4 heads (2 key/value heads), RoPE;
* a byte-level BPE vocabulary (`tokenizer.ggml.model` "gpt2", pre-tokenizer "llama-bpe"):
  the 256 bytes in GPT-2's byte-to-unicode spelling, a few hundred merges learnt from a
  small built-in corpus of log and JSON text, and the Llama 3 special tokens;
* the Llama 3 Instruct chat template embedded as `tokenizer.chat_template`;
* seeded random weights, with the output layer biased against byte tokens that are not
  valid UTF-8 on their own (and raw control characters), so whatever it emits decodes,
  and against the special tokens, so free text never ends before `max_tokens` while a
  grammar-constrained answer still ends with end-of-turn once the JSON is complete.

Content quality means nothing with random weights; the plumbing (tokenizer, template,
grammar, streaming, cancellation, servers) is real. Usage::

    python scripts/tiny_gguf.py /tmp/tiny.gguf [--seed 0]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import gguf
import numpy as np

LLAMA3_INSTRUCT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)

SPECIAL_TOKENS = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",
    "<|reserved_special_token_2|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
)

# Text the merges are learnt from: log lines, JSON and the words our prompts use.
CORPUS = """
{"category": "network", "severity": "error", "component": "checkout", "root_cause":
"connection refused by the upstream payment service", "error_signatures": ["ECONNREFUSED"],
"action": "check the payment service pods and their readiness probes", "confidence": 0.8}
level=error msg="failed to connect to database" error="dial tcp 10.0.0.12:5432: connect:
connection refused" component=orders retry=3 duration=1.5s
2024-05-01T12:00:00Z ERROR [main] java.lang.OutOfMemoryError: Java heap space
WARN timeout while waiting for response from upstream service after 30 seconds
INFO request completed status=200 path=/api/v1/orders method=GET latency=12ms
panic: runtime error: invalid memory address or nil pointer dereference
Back-off restarting failed container in pod default/checkout-7d9f
The window summary: errors increased in the checkout service; the database is unreachable.
What changed: a new error pattern appeared after the deployment of version 1.4.2.
You are a careful site reliability engineer. Answer with JSON only, grounded in the logs.
system user assistant finding pattern template count first seen last seen example lines
info warning critical unknown storage memory dependency configuration authentication
"""

# The chat template's own words, weighted so that they end up single tokens as in Llama 3
# (a role name and the blank line after a header are one token each there).
TEMPLATE_WORDS = "system\n\nuser\n\nassistant\n\n" * 40

NUM_MERGES = 320


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 bytes to printable unicode characters."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {byte: chr(char) for byte, char in zip(printable, chars, strict=True)}


_PRETOKEN = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]+|\s+")


def learn_merges(corpus: str, count: int) -> list[tuple[str, str]]:
    """Byte-level BPE training: repeatedly merge the most frequent adjacent pair."""
    spell = bytes_to_unicode()
    words = Counter(tuple(spell[b] for b in piece.encode()) for piece in _PRETOKEN.findall(corpus))
    merges: list[tuple[str, str]] = []
    while len(merges) < count:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, freq in words.items():
            for pair in pairwise(word):
                pairs[pair] += freq
        if not pairs:
            break
        # Most frequent first; ties broken by the pair itself so the result is deterministic.
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        words = Counter({_merge_word(word, best): freq for word, freq in words.items()})
    return merges


def _merge_word(word: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


@dataclass(frozen=True)
class Vocabulary:
    tokens: list[str]
    types: list[int]
    merges: list[str]
    # Tokens the model must not emit: bytes that are invalid UTF-8 alone, raw control
    # characters, and the special tokens.
    suppressed: list[int]

    def id_of(self, token: str) -> int:
        return self.tokens.index(token)


def build_vocabulary() -> Vocabulary:
    spell = bytes_to_unicode()
    tokens = [spell[b] for b in range(256)]
    types = [int(gguf.TokenType.NORMAL)] * 256
    merges = learn_merges(CORPUS + TEMPLATE_WORDS, NUM_MERGES)
    for left, right in merges:
        if left + right not in tokens:
            tokens.append(left + right)
            types.append(int(gguf.TokenType.NORMAL))
    tokens.extend(SPECIAL_TOKENS)
    types.extend([int(gguf.TokenType.CONTROL)] * len(SPECIAL_TOKENS))
    # Special tokens too: free text then runs to max_tokens (a grammar still ends JSON with
    # end-of-turn, the only token it allows there), which makes generation lengths certain.
    special = range(len(tokens) - len(SPECIAL_TOKENS), len(tokens))
    suppressed = [b for b in range(256) if _suppressed_byte(b)] + list(special)
    return Vocabulary(tokens, types, [f"{a} {b}" for a, b in merges], suppressed)


def _suppressed_byte(byte: int) -> bool:
    if byte >= 0x80:  # continuation and lead bytes: invalid UTF-8 on their own
        return True
    return (byte < 0x20 and byte not in (0x09, 0x0A)) or byte == 0x7F


@dataclass(frozen=True)
class Shape:
    layers: int = 2
    hidden: int = 64
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 128
    context: int = 16384

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


def write_tiny_gguf(path: Path, *, seed: int = 0) -> Path:
    """Write the tiny model to `path` (same bytes for the same seed) and return the path."""
    vocab = build_vocabulary()
    shape = Shape()
    writer = gguf.GGUFWriter(str(path), "llama")
    _add_metadata(writer, shape, vocab)
    for name, tensor in _weights(shape, vocab, np.random.default_rng(seed)):
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _add_metadata(writer: gguf.GGUFWriter, shape: Shape, vocab: Vocabulary) -> None:
    writer.add_name("loglens-tiny-llama")
    writer.add_context_length(shape.context)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_rope_freq_base(500000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(vocab.tokens))
    writer.add_file_type(int(gguf.LlamaFileType.ALL_F32))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("llama-bpe")
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.types)
    writer.add_token_merges(vocab.merges)
    writer.add_bos_token_id(vocab.id_of("<|begin_of_text|>"))
    writer.add_eos_token_id(vocab.id_of("<|eot_id|>"))
    writer.add_add_bos_token(True)
    writer.add_chat_template(LLAMA3_INSTRUCT_TEMPLATE)


# Hidden dimension 0 carries a constant through the residual stream, so one column of the
# output layer acts as a per-token bias (the llama architecture has no output bias tensor).
_BIAS_DIM = 0
_BIAS_LEVEL = 4.0
_SUPPRESS = -30.0


def _weights(
    shape: Shape, vocab: Vocabulary, rng: np.random.Generator
) -> Iterable[tuple[str, np.ndarray]]:
    n_vocab = len(vocab.tokens)
    kv = shape.kv_heads * shape.head_dim

    def matrix(rows: int, cols: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)

    embeddings = matrix(n_vocab, shape.hidden, 1.0)
    embeddings[:, _BIAS_DIM] = _BIAS_LEVEL
    yield "token_embd.weight", embeddings
    for layer in range(shape.layers):
        prefix = f"blk.{layer}"
        yield f"{prefix}.attn_norm.weight", np.ones(shape.hidden, dtype=np.float32)
        yield f"{prefix}.attn_q.weight", matrix(shape.hidden, shape.hidden)
        yield f"{prefix}.attn_k.weight", matrix(kv, shape.hidden)
        yield f"{prefix}.attn_v.weight", matrix(kv, shape.hidden)
        yield f"{prefix}.attn_output.weight", _keep_bias_dim(matrix(shape.hidden, shape.hidden))
        yield f"{prefix}.ffn_norm.weight", np.ones(shape.hidden, dtype=np.float32)
        yield f"{prefix}.ffn_gate.weight", matrix(shape.ffn, shape.hidden)
        yield f"{prefix}.ffn_up.weight", matrix(shape.ffn, shape.hidden)
        yield f"{prefix}.ffn_down.weight", _keep_bias_dim(matrix(shape.hidden, shape.ffn))
    yield "output_norm.weight", np.ones(shape.hidden, dtype=np.float32)
    output = matrix(n_vocab, shape.hidden, 0.5)
    output[:, _BIAS_DIM] = 0.0
    output[vocab.suppressed, _BIAS_DIM] = _SUPPRESS
    yield "output.weight", output


def _keep_bias_dim(projection: np.ndarray) -> np.ndarray:
    """Layers write nothing into the bias dimension, so it stays constant to the end."""
    projection[_BIAS_DIM, :] = 0.0
    return projection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="where to write the .gguf file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    args = parser.parse_args()
    written = write_tiny_gguf(args.path, seed=args.seed)
    print(f"wrote {written} ({written.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
