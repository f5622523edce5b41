"""JSON Schemas of the machine outputs, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from loglens.model import Classification, Diff, PatternOut, Report

OUTPUT_MODELS: dict[str, type[BaseModel]] = {
    "report": Report,
    "diff": Diff,
    "classification": Classification,
    "pattern": PatternOut,
}


def output_schemas() -> dict[str, dict[str, Any]]:
    """File stem → JSON Schema (draft 2020-12) of each output."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in OUTPUT_MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://loglens.dev/schemas/{name}.schema.json"
        schemas[name] = schema
    return schemas
