from __future__ import annotations

import math
import random

import pytest

from loglens.detect.rates import Change, binomial_two_sided_p, compare_rates

HOUR = 3600.0


def test_binomial_p_matches_hand_computation() -> None:
    # n=4, p=0.5: P(k)= 1/16, 4/16, 6/16, 4/16, 1/16. Two-sided p for k=0 is 2/16.
    assert binomial_two_sided_p(0, 4, 0.5) == pytest.approx(2 / 16)
    assert binomial_two_sided_p(2, 4, 0.5) == pytest.approx(1.0)
    assert binomial_two_sided_p(1, 4, 0.5) == pytest.approx(10 / 16)


def test_normal_approximation_agrees_with_exact_near_the_limit() -> None:
    exact = binomial_two_sided_p(520, 1000, 0.5)
    approx = binomial_two_sided_p(5200, 10000, 0.5)  # same z, normal branch
    assert exact > 0.1 and approx < 1e-4  # same share, more lines: far more significant
    assert math.isclose(binomial_two_sided_p(5000, 10000, 0.5), 1.0, abs_tol=1e-6)


def test_clear_increase_is_reported_with_its_ratio() -> None:
    change = compare_rates(12, 480, HOUR, HOUR)
    assert change.change is Change.INCREASED
    assert change.ratio == pytest.approx(40.0)
    assert change.p_value < 1e-9


def test_rates_not_counts_are_compared() -> None:
    # 100 lines in 1h vs 200 lines in 2h: the same rate.
    assert compare_rates(100, 200, HOUR, 2 * HOUR).change is Change.UNCHANGED
    assert compare_rates(100, 200, 2 * HOUR, HOUR).change is Change.INCREASED


@pytest.mark.parametrize("base", [30, 300, 3000, 30000])
def test_thirty_percent_jitter_is_never_reported(base: int) -> None:
    rng = random.Random(base)
    for _ in range(200):
        before = round(base * rng.uniform(0.7, 1.3))
        after = round(base * rng.uniform(0.7, 1.3))
        assert compare_rates(before, after, HOUR, HOUR).change is Change.UNCHANGED


def test_new_and_gone_need_enough_lines() -> None:
    assert compare_rates(0, 40, HOUR, HOUR).change is Change.NEW
    assert compare_rates(0, 2, HOUR, HOUR).change is Change.UNCHANGED
    assert compare_rates(35, 0, HOUR, HOUR).change is Change.GONE
    assert compare_rates(0, 0, HOUR, HOUR).change is Change.UNCHANGED


def test_clear_decrease() -> None:
    change = compare_rates(500, 40, HOUR, HOUR)
    assert change.change is Change.DECREASED
    assert change.ratio == pytest.approx(0.08)


def test_a_clear_change_on_a_quiet_pattern_is_reported() -> None:
    # 28 lines in 30 min, then 2 in 15 min: 7x fewer per minute, beyond any jitter.
    change = compare_rates(28, 2, 1800, 900)
    assert change.change is Change.DECREASED
    assert change.ratio == pytest.approx(1 / 7)


@pytest.mark.parametrize("base", [3, 8, 20])
def test_jitter_on_quiet_patterns_is_not_reported_either(base: int) -> None:
    rng = random.Random(base)
    for _ in range(300):
        before = max(1, round(base * rng.uniform(0.7, 1.3)))
        after = max(1, round(base * rng.uniform(0.7, 1.3)))
        assert compare_rates(before, after, HOUR, HOUR).change is Change.UNCHANGED
