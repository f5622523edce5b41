from __future__ import annotations

from loglens.detect.signals import (
    NS_PER_DAY,
    Signal,
    error_rate_rising,
    is_burst,
    novelty,
    robust_spike,
)


def test_spike_found_against_the_patterns_own_baseline() -> None:
    spike = robust_spike([10, 12, 9, 11, 10, 95, 12, 10])
    assert spike is not None
    assert spike.bucket == 5 and spike.count == 95


def test_ordinary_jitter_is_not_a_spike() -> None:
    assert robust_spike([10, 13, 8, 12, 9, 14, 10, 11]) is None


def test_a_few_lines_in_an_empty_baseline_are_not_a_spike() -> None:
    assert robust_spike([0, 0, 0, 3, 0, 0]) is None


def test_lines_out_of_nothing_are_a_spike() -> None:
    assert robust_spike([0, 0, 0, 0, 40, 0, 0, 0]) is not None


def test_too_few_buckets_give_no_spike() -> None:
    assert robust_spike([0, 100]) is None


def test_burst_needs_volume_and_a_short_span() -> None:
    hour = 3600 * 10**9
    assert is_burst(20, 0, hour // 20, hour)
    assert not is_burst(20, 0, hour // 2, hour)
    assert not is_burst(3, 0, 1, hour)


def test_novelty_against_history() -> None:
    start = 100 * NS_PER_DAY
    assert novelty(None, start) is Signal.NEW
    assert novelty(start - 8 * NS_PER_DAY, start) is Signal.FIRST_IN_7D
    assert novelty(start - NS_PER_DAY, start) is None


def test_error_rate_rising_per_component() -> None:
    rising = error_rate_rising(
        {"postgres": [0, 1, 0, 0, 9, 12, 15, 20], "loki": [3, 2, 4, 3, 3, 2, 4, 3]}
    )
    assert rising == {"postgres"}
