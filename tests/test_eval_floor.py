"""CI floor: the rules-only evaluation of eval/golden must not fall below eval/floor.json.

Floors are set from measured figures and are only ever raised (never above what was
measured); `false_alarm_rate` has a ceiling instead, only ever lowered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from loglens.config import Settings
from loglens.evaluation.results import LOWER_IS_BETTER, METRIC_NAMES
from loglens.evaluation.runner import run_eval

ROOT = Path(__file__).parents[1]
FLOOR_FILE = ROOT / "eval" / "floor.json"
TOLERANCE = 1e-9


def load_floor() -> dict[str, Any]:
    floor: dict[str, Any] = orjson.loads(FLOOR_FILE.read_bytes())
    return floor


def test_floor_file_names_known_metrics_with_the_right_direction() -> None:
    floor = load_floor()
    assert set(floor["floors"]) <= set(METRIC_NAMES) - LOWER_IS_BETTER
    assert set(floor["ceilings"]) <= LOWER_IS_BETTER
    assert all(0.0 <= value <= 1.0 for value in floor["floors"].values())
    assert (ROOT / floor["dataset"]).is_dir()


@pytest.mark.integration
def test_rules_evaluation_meets_the_floors(tmp_path: Path) -> None:
    floor = load_floor()
    # Retrieval on: its hit rates have floors too (a failure leaves them null, below floor).
    settings = Settings(data_dir=tmp_path, llm_backend="none", retrieval="on")
    run = run_eval([ROOT / floor["dataset"]], settings=settings, backend=floor["backend"])
    headline = run.metrics.headline
    errors = [f"{o.id}: {o.error}" for o in run.outcomes if o.error]
    assert not errors, f"cases the library could not run: {errors}"
    below = {
        name: (headline[name], minimum)
        for name, minimum in floor["floors"].items()
        if (value := headline[name]) is None or value < minimum - TOLERANCE
    }
    above = {
        name: (headline[name], maximum)
        for name, maximum in floor["ceilings"].items()
        if (value := headline[name]) is None or value > maximum + TOLERANCE
    }
    assert not below, f"metrics below their floor (measured, floor): {below}"
    assert not above, f"metrics above their ceiling (measured, ceiling): {above}"
