"""Is a pattern's rate really different between two windows? A test that ignores jitter.

Counts are compared as rates, so windows of different lengths compare fairly. Under
"nothing changed", given n = a + b lines in both windows, the after-window count b is
Binomial(n, t_after / (t_before + t_after)) — the conditional test for two Poisson
rates. A change is reported only when it is large (rate ratio at least `min_ratio`)
and significant: either against equal rates (p below `alpha`, strict, because ±30%
jitter on a busy pattern is "significant" with enough lines) or against the edge of
the jitter band itself (a rise tested against after = 1.3 × before, a fall against
0.7 ×, p below `band_alpha`), which no jitter can pass, so a clear change on a quiet
pattern (28 lines in half an hour before, 2 in a quarter hour after) is reported too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# Exact binomial tails up to this n; a normal approximation above it is accurate to
# far better than the thresholds we use.
EXACT_LIMIT = 1000


class Change(StrEnum):
    NEW = "new"
    GONE = "gone"
    INCREASED = "increased"
    DECREASED = "decreased"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RateChange:
    change: Change
    ratio: float | None
    p_value: float


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """Exact two-sided p-value (sum of outcomes no more likely than k); normal for large n."""
    if n == 0:
        return 1.0
    if p <= 0.0 or p >= 1.0:
        return 1.0 if (k == 0 and p <= 0) or (k == n and p >= 1) else 0.0
    if n > EXACT_LIMIT:
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        z = max(0.0, abs(k - mean) - 0.5) / sd
        return min(1.0, math.erfc(z / math.sqrt(2)))
    observed = _log_pmf(k, n, p)
    total = 0.0
    for outcome in range(n + 1):
        log_p = _log_pmf(outcome, n, p)
        if log_p <= observed + 1e-9:
            total += math.exp(log_p)
    return min(1.0, total)


def _share(before_seconds: float, after_seconds: float, rate_ratio: float) -> float:
    """The after window's expected share of the lines if its rate is `rate_ratio` × before."""
    weighted = after_seconds * rate_ratio
    return weighted / (before_seconds + weighted)


def compare_rates(
    before: int,
    after: int,
    before_seconds: float,
    after_seconds: float,
    *,
    alpha: float = 1e-3,
    min_ratio: float = 2.0,
    new_alpha: float = 0.01,
    jitter: float = 0.3,
    band_alpha: float = 0.02,
) -> RateChange:
    """Classify one pattern's change between a before and an after window."""
    n = before + after
    p_value = binomial_two_sided_p(after, n, _share(before_seconds, after_seconds, 1.0))
    rate_before = before / before_seconds
    rate_after = after / after_seconds
    ratio = rate_after / rate_before if rate_before > 0 else None
    if before == 0 and after > 0:
        return RateChange(Change.NEW if p_value < new_alpha else Change.UNCHANGED, None, p_value)
    if after == 0 and before > 0:
        return RateChange(Change.GONE if p_value < new_alpha else Change.UNCHANGED, 0.0, p_value)
    if ratio is None or 1 / min_ratio < ratio < min_ratio:
        return RateChange(Change.UNCHANGED, ratio, p_value)
    rising = ratio >= min_ratio
    change = Change.INCREASED if rising else Change.DECREASED
    if p_value < alpha:
        return RateChange(change, ratio, p_value)
    edge = 1 + jitter if rising else 1 - jitter
    p_band = binomial_two_sided_p(after, n, _share(before_seconds, after_seconds, edge))
    if p_band < band_alpha:
        return RateChange(change, ratio, p_band)
    return RateChange(Change.UNCHANGED, ratio, p_value)
