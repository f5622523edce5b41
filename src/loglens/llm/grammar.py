"""JSON schema -> GBNF grammar for the `local` backend, with llama.cpp's C++ string rule.

llama-cpp-python's converter (`llama_cpp.llama_grammar`) writes the JSON string character
rule as `[^"\\\\]`, which lets raw control characters (newline, tab, NUL ...) into strings:
the model can then emit JSON that strict parsers (orjson, pydantic) reject. llama.cpp's own
C++ converter excludes `\\x00-\\x1F` and `\\x7F`; `schema_grammar` does the same, so every
string the grammar admits is valid JSON.

It also bounds two number shapes the Python converter leaves open, so that a grammar-
constrained answer passes validation: numbers within [0, 1] (a confidence) and integers
with `minimum: 0`.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
from llama_cpp.llama_grammar import RESERVED_NAMES, LlamaGrammar, SchemaConverter

# A JSON string character: anything but a quote, a backslash or a control character, or an
# escape sequence (as in llama.cpp's common/json-schema-to-grammar.cpp).
STRICT_CHAR_RULE = r'[^"\\\x7F\x00-\x1F] | [\\] (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])'
# A number in [0, 1] with at most four decimals: 0, 0.25, 1, 1.0.
UNIT_INTERVAL_RULE = r'("0" ("." [0-9] ([0-9] ([0-9] ([0-9])?)?)?)? | "1" ("." "0" ("0")?)?) space'
# A non-negative integer without leading zeros, at most 15 digits.
NATURAL_RULE = r'("0" | [1-9] ' + "([0-9] " * 14 + ")?" * 14 + ") space"


class _StrictConverter(SchemaConverter):
    """llama_cpp's converter with bounded numbers; `grammar()` applies the strict char rule."""

    def visit(self, schema: dict[str, Any], name: str) -> str:
        bounded = _bounded_number_rule(schema)
        if bounded is None:
            return str(super().visit(schema, name))  # type: ignore[no-untyped-call]
        rule_name = f"{name}-" if name in RESERVED_NAMES else name or "root"
        return str(self._add_rule(rule_name, bounded))  # type: ignore[no-untyped-call]

    def grammar(self) -> str:
        if "char" in self._rules:
            self._rules["char"] = STRICT_CHAR_RULE
        return str(self.format_grammar())  # type: ignore[no-untyped-call]


def _bounded_number_rule(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    low, high = schema.get("minimum"), schema.get("maximum")
    if kind == "number" and low == 0 and high == 1:
        return UNIT_INTERVAL_RULE
    if kind == "integer" and low == 0 and high is None:
        return NATURAL_RULE
    return None


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """GBNF text admitting exactly the JSON documents of `schema` (that the converter models)."""
    return _gbnf_for(orjson.dumps(schema).decode())  # key order kept: it orders the output


@functools.lru_cache(maxsize=64)
def _gbnf_for(schema_json: str) -> str:
    schema = orjson.loads(schema_json)
    converter = _StrictConverter(  # type: ignore[no-untyped-call]
        prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    resolved = converter.resolve_refs(schema, "input")
    converter.visit(resolved, "")
    return converter.grammar()


def schema_grammar(schema: dict[str, Any]) -> LlamaGrammar:
    """A `LlamaGrammar` for `schema` (llama.cpp parses it when sampling starts)."""
    return LlamaGrammar.from_string(schema_to_gbnf(schema), verbose=False)
