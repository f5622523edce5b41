from __future__ import annotations

from loglens.analysis.compare import _heading
from loglens.detect.rates import Change, compare_rates
from loglens.model import Severity

HOUR = 3600.0


def test_info_lines_that_start_or_stop_are_not_listed_as_new_or_gone() -> None:
    change = compare_rates(22, 0, HOUR, HOUR)
    assert change.change is Change.GONE
    assert _heading(change, 22, 0, None).change is Change.UNCHANGED
    assert _heading(change, 22, 0, Severity.ERROR).change is Change.GONE


def test_a_rare_error_never_seen_before_is_new() -> None:
    change = compare_rates(0, 2, HOUR, HOUR)
    assert change.change is Change.UNCHANGED
    assert _heading(change, 0, 2, Severity.CRITICAL).change is Change.NEW
    assert _heading(change, 0, 2, Severity.WARN).change is Change.UNCHANGED
    assert _heading(change, 0, 2, None).change is Change.UNCHANGED


def test_rate_changes_of_ordinary_lines_are_still_reported() -> None:
    change = compare_rates(69, 31, HOUR, HOUR)
    assert _heading(change, 69, 31, None).change is change.change
