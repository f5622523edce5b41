"""Write schemas/<name>.schema.json for every machine output (run after changing model.py)."""

from __future__ import annotations

import json
from pathlib import Path

from loglens.schemas import output_schemas

OUT = Path(__file__).resolve().parent.parent / "schemas"

if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, schema in output_schemas().items():
        path = OUT / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        print(f"wrote {path}")
