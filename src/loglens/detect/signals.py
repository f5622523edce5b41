"""Anomaly signals per pattern: spikes, bursts, novelty, and error-rate changes per component.

All of them work on what a pattern set keeps (counts per time bucket, first/last
seen, the history store's first sighting), never on raw lines, so they cost the
same for a thousand lines as for ten million.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

NS_PER_DAY = 86_400 * 1_000_000_000


class Signal(StrEnum):
    """Names of the signals; they double as labels in reports and metrics."""

    SPIKE = "spike"
    BURST = "burst"
    NEW = "new"
    FIRST_IN_7D = "first_in_7d"
    ERROR_RATE_UP = "error_rate_up"


# A bucket is a spike when it is at least this many robust standard deviations above the
# median; MAD-based so that one big bucket cannot inflate its own yardstick.
SPIKE_Z = 6.0
# ... and holds at least this many lines: three lines in one minute is not a spike.
SPIKE_MIN_COUNT = 5
# A burst packs at least this many lines into at most this fraction of the window.
BURST_MIN_COUNT = 5
BURST_MAX_SPAN_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class SpikeResult:
    bucket: int
    count: int
    z: float


def robust_spike(buckets: Sequence[int]) -> SpikeResult | None:
    """The largest bucket when it stands far above the pattern's own baseline, else None."""
    if len(buckets) < 4:
        return None
    peak_index = max(range(len(buckets)), key=buckets.__getitem__)
    peak = buckets[peak_index]
    if peak < SPIKE_MIN_COUNT:
        return None
    rest = [count for index, count in enumerate(buckets) if index != peak_index]
    median = statistics.median(rest)
    mad = statistics.median(abs(count - median) for count in rest)
    # +1 keeps the scale positive for flat baselines (all zeros or all equal).
    scale = 1.4826 * mad + 1.0
    z = (peak - median) / scale
    if z >= SPIKE_Z and peak >= 3 * median + SPIKE_MIN_COUNT:
        return SpikeResult(peak_index, peak, z)
    return None


def is_burst(count: int, first_ts: int, last_ts: int, window_span_ns: int) -> bool:
    """Many lines in a small part of the window."""
    if count < BURST_MIN_COUNT or window_span_ns <= 0:
        return False
    return (last_ts - first_ts) <= BURST_MAX_SPAN_FRACTION * window_span_ns


def novelty(last_seen_before_ns: int | None, window_start_ns: int) -> Signal | None:
    """NEW when history never saw the pattern before the window; FIRST_IN_7D when not lately.

    `last_seen_before_ns` is the last sighting the history store has before the window.
    """
    if last_seen_before_ns is None:
        return Signal.NEW
    if window_start_ns - last_seen_before_ns > 7 * NS_PER_DAY:
        return Signal.FIRST_IN_7D
    return None


def error_rate_rising(
    error_buckets_by_component: Mapping[str, Sequence[int]],
) -> set[str]:
    """Components whose error lines in the second half of the window far exceed the first."""
    rising: set[str] = set()
    for component, buckets in error_buckets_by_component.items():
        half = len(buckets) // 2
        if half == 0:
            continue
        before, after = sum(buckets[:half]), sum(buckets[half:])
        if after >= 3 * before + 5:
            rising.add(component)
    return rising
