"""The upper tail of a beta-binomial count, for ``sustained_shift``'s count test: a binomial whose rate is
known only as well as the debits behind it, so a short or bursty history asks for a larger count."""

from __future__ import annotations

import math


def beta_binomial_tail(k: int, n: int, a: float, b: float) -> float:
    """P(X >= k) for X ~ BetaBinomial(n, a, b): a binomial whose rate is itself uncertain, Beta(a, b)."""
    tail = beta_binomial_tail_within(k, n, a, b, 1, math.inf)
    return 1.0 if tail is None else tail  # never None: no tail is over an infinite budget


def beta_binomial_tail_within(k: int, n: int, a: float, b: float, tried: int, budget: float) -> float | None:
    """``beta_binomial_tail``, or None when its tail times ``tried`` is surely over ``budget`` (< 1).

    Most tests are far from alerting, and the sum costs four ``lgamma`` per term. The tail is the rounded
    sum of non-negative terms starting from the first, so in floating point it is at least that first term
    (x = k), and a product with ``tried`` keeps the order: first * tried > budget implies
    min(1, tail) * tried > budget, and that test can neither alert nor be the smallest tail of a scan that
    alerts. The value returned otherwise is computed exactly as before, term by term."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    base = math.lgamma(n + 1) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) - math.lgamma(n + a + b)
    total = math.exp(
        base - math.lgamma(k + 1) - math.lgamma(n - k + 1) + math.lgamma(k + a) + math.lgamma(n - k + b)
    )
    if budget < 1.0 and total * tried > budget:
        return None
    for x in range(k + 1, n + 1):
        total += math.exp(
            base - math.lgamma(x + 1) - math.lgamma(n - x + 1) + math.lgamma(x + a) + math.lgamma(n - x + b)
        )
    return min(1.0, total)
