"""A one-sided CUSUM of how far a customer's payments at new merchants sit above their median, judged
against that customer's own new-merchant payments, for ``sustained_shift``.

Counting elevated debits forgets how dear they were: six payments at 6x the median of a customer who
now and then pays a new shop 3x weigh the same as six at 1.6x. Page's CUSUM sums each payment's excess
over a reference value and alerts when the sum crosses a decision interval; ordinary payments pull it
back towards zero, so it measures a run of dear payments against the customer's own ones in between.

The state is five numbers (``CUSUM_FIELDS``), kept in a list so that it encodes as it is.
"""

from __future__ import annotations

import math

#: statistic (in the customer's own spreads), event time its excursion started, weight of the
#: new-merchant payments learned, their mean log excess over the median, their sum of squared deviations
CUSUM_FIELDS = 5
#: decimals kept of the statistic, mean and squared deviations: far finer than any decision needs, and the
#: state (which goes to the changelog) stays a few bytes
DIGITS = 4
#: Siegmund's correction of the decision interval for the overshoot of a normal CUSUM
OVERSHOOT = 1.166


def new_cusum() -> list[float]:
    return [0.0] * CUSUM_FIELDS


def learn(c: list[float], log_excess: float, halving: float) -> None:
    """One more ordinary new-merchant payment (West's weighted Welford update); past ``halving`` payments the
    weight and the squared deviations are halved, so old habits fade."""
    w = c[2] + 1.0
    delta = log_excess - c[3]
    mean = c[3] + delta / w
    m2 = c[4] + delta * (log_excess - mean)
    if w > halving:
        w, m2 = w / 2.0, m2 / 2.0
    c[2], c[3], c[4] = w, round(mean, DIGITS), round(m2, DIGITS)


def standardised(c: list[float], log_excess: float, prior_sd: float, prior_weight: float) -> float:
    """The payment's log excess in the customer's own new-merchant spreads, both shrunk towards a prior
    (mean 0: new merchants at the median; spread ``prior_sd``) weighted as ``prior_weight`` payments."""
    w = c[2]
    mean = w * c[3] / (w + prior_weight)
    sd = math.sqrt((c[4] + prior_weight * prior_sd * prior_sd) / (w + prior_weight))
    return (log_excess - mean) / sd


def step(
    c: list[float], y: float, ts: float, reference: float, max_step: float, memory_seconds: float
) -> None:
    """Page's recursion S = max(0, S + min(y, max_step) - reference); an excursion older than
    ``memory_seconds`` starts over (a drain runs for days, not months)."""
    if c[0] > 0.0 and ts - c[1] > memory_seconds:
        c[0] = 0.0
    if c[0] == 0.0:
        c[1] = ts
    c[0] = max(0.0, round(c[0] + min(y, max_step) - reference, DIGITS))


def decision_interval(reference: float, in_control_run: float) -> float:
    """The decision interval h whose average run length, for in-control N(0, 1) steps with this
    reference value, is ``in_control_run`` steps (Siegmund's approximation, solved by fixed point):
    ARL = (exp(2kh') - 2kh' - 1) / (2k^2), h' = h + 1.166."""
    k2 = 2.0 * reference
    target = max(1.0, in_control_run) * 2.0 * reference * reference
    h = math.log(target + 1.0) / k2
    for _ in range(4):
        h = math.log(target + 1.0 + k2 * h) / k2
    return max(0.0, h - OVERSHOOT)
