"""The extraction answer: its JSON schema (what the grammar enforces) and strict validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llm_fake import valid_answer
from loglens.llm.schemas import (
    MAX_SIGNATURES,
    AnswerError,
    answer_json_schema,
    answer_schema_hash,
    parse_answer,
)
from loglens.model import Category, Severity


def _walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def test_schema_bounds_every_string_and_array_so_a_random_model_terminates() -> None:
    schema = answer_json_schema()
    nodes = _walk(schema)
    strings = [n for n in nodes if n.get("type") == "string" and "enum" not in n]
    arrays = [n for n in nodes if n.get("type") == "array"]
    assert strings and all(isinstance(n.get("maxLength"), int) for n in strings)
    assert arrays and all(n.get("maxItems") == MAX_SIGNATURES for n in arrays)
    assert not any("$ref" in n or "$defs" in n for n in nodes)


def test_schema_uses_the_shared_vocabularies_and_requires_every_field() -> None:
    schema = answer_json_schema()
    props = schema["properties"]
    assert props["category"]["enum"] == [c.value for c in Category]
    assert props["severity"]["enum"] == [s.value for s in Severity]
    assert set(schema["required"]) == set(props)
    assert schema["additionalProperties"] is False
    assert props["confidence"] == {
        "type": "number",
        "minimum": 0.0,
        "maximum": 1.0,
        "description": props["confidence"]["description"],
    }


def test_schema_hash_is_stable_and_copies_are_independent() -> None:
    first = answer_json_schema()
    first["properties"].clear()
    assert answer_json_schema()["properties"]
    assert answer_schema_hash() == answer_schema_hash() and len(answer_schema_hash()) == 8


def test_a_valid_answer_parses() -> None:
    answer = parse_answer(valid_answer(root_cause="line one\nline two"))
    assert answer.category is Category.STORAGE and answer.severity is Severity.CRITICAL
    assert answer.error_signatures == ["no space left on device"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "one JSON object"),
        (valid_answer(category="disk"), "category"),
        (valid_answer(severity="fatal"), "severity"),
        (valid_answer(extra="field"), "extra"),
        (valid_answer(root_cause="bell \u0007 inside"), "control characters"),
        (valid_answer(component="x" * 65), "component"),
        (valid_answer(error_signatures=["a", "b", "c", "d"]), "error_signatures"),
        (valid_answer(confidence="high"), "confidence"),
        (valid_answer().replace("0.9", "NaN"), "NaN"),
        ('{"category": "oom", "severity": "warn", "component": "a\u0001b"}', "not valid JSON"),
    ],
)
def test_invalid_answers_are_rejected_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(text)
    assert message in caught.value.message


def test_confidence_outside_the_unit_range_is_clamped_not_rejected() -> None:
    # The grammar cannot bound a JSON number, so a huge exponent must still validate.
    data = json.loads(valid_answer())
    text = json.dumps(data).replace('"confidence": 0.9', '"confidence": 1e999')
    assert parse_answer(text).confidence == 1.0
    assert parse_answer(valid_answer(confidence=-3)).confidence == 0.0
    assert parse_answer(valid_answer(confidence=7)).confidence == 1.0
