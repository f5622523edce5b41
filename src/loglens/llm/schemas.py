"""The answer the model must give for one finding, as a pydantic model and a JSON schema.

The JSON schema is what the backend turns into a grammar, so the model can only
produce text of this shape. Every string has a `maxLength` and every array a
`maxItems`: a model with random weights then still terminates. The same model
validates the answer strictly afterwards (`parse_answer`): unknown keys, wrong
vocabulary and control characters in strings are rejected, so a grammar that lets
something through is caught here.

One thing a grammar cannot bound is a JSON number's range; `confidence` outside
0..1 is therefore clamped, not rejected (it carries no other information).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from functools import cache
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from loglens.model import Category, Severity

MAX_COMPONENT_CHARS = 64
MAX_ROOT_CAUSE_CHARS = 320
MAX_ACTION_CHARS = 240
MAX_SIGNATURE_CHARS = 120
MAX_SIGNATURES = 3

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_chars(value: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise ValueError("control characters are not allowed in strings")
    return value


def _clamp_unit(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(max(float(value), 0.0), 1.0)
    return value


def _text(max_chars: int) -> Any:
    return Annotated[str, Field(max_length=max_chars), AfterValidator(_no_control_chars)]


class ExtractionAnswer(BaseModel):
    """What the model says about one finding (before grounding)."""

    model_config = ConfigDict(extra="forbid", strict=False, use_enum_values=False)

    category: Category = Field(description="the kind of root cause, from the shared vocabulary")
    severity: Severity = Field(description="how urgent the finding is")
    component: _text(MAX_COMPONENT_CHARS) = Field(  # type: ignore[valid-type]
        description="the workload or system part at fault, as named in the input"
    )
    root_cause: _text(MAX_ROOT_CAUSE_CHARS) = Field(  # type: ignore[valid-type]
        description="one or two sentences: why this happens"
    )
    error_signatures: list[_text(MAX_SIGNATURE_CHARS)] = Field(  # type: ignore[valid-type]
        max_length=MAX_SIGNATURES,
        description="short verbatim fragments of the log lines that identify the problem",
    )
    action: _text(MAX_ACTION_CHARS) = Field(  # type: ignore[valid-type]
        description="what to do next"
    )
    confidence: Annotated[float, BeforeValidator(_clamp_unit)] = Field(
        ge=0.0, le=1.0, allow_inf_nan=False, description="0 to 1: how sure the answer is"
    )


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """Replace `{"$ref": "#/$defs/X"}` with the definition itself (grammars like flat schemas)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]), defs)
        return {key: _inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _strip_titles(value)
            for key, value in node.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_strip_titles(item) for item in node]
    return node


@cache
def _answer_schema_bytes() -> bytes:
    raw = ExtractionAnswer.model_json_schema()
    schema = _strip_titles(_inline_refs(raw, raw.get("$defs", {})))
    schema["additionalProperties"] = False
    schema["required"] = list(ExtractionAnswer.model_fields)
    return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)


def answer_json_schema() -> dict[str, Any]:
    """The JSON schema sent with every extraction call (a fresh copy each time)."""
    schema: dict[str, Any] = orjson.loads(_answer_schema_bytes())
    return schema


def answer_schema_hash() -> str:
    """Short hash of the answer schema: part of the cache key, so a schema change is a miss."""
    return hashlib.sha256(_answer_schema_bytes()).hexdigest()[:8]


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


class AnswerError(ValueError):
    """The model's text is not a valid answer; `message` is what the repair prompt sends back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_answer(text: str) -> ExtractionAnswer:
    """Parse and validate the model's text strictly; AnswerError says what was wrong."""
    try:
        # The standard parser: strict about control characters, and a huge exponent that a
        # grammar allows becomes inf (clamped below) instead of an error.
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise AnswerError(f"the answer is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise AnswerError("the answer must be one JSON object")
    try:
        return ExtractionAnswer.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise AnswerError(f"the answer does not follow the schema: {problems}") from exc
