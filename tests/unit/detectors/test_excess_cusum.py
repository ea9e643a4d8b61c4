"""The excess CUSUM of sustained_shift: its decision interval keeps the run length it is set for, and it
learns and judges a customer's new-merchant payments as it says."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from detectors.excess_cusum import decision_interval, learn, new_cusum, standardised, step


def test_the_decision_interval_gives_the_in_control_run_length_asked() -> None:
    """Simulated in-control N(0, 1) steps cross h after about as many steps as asked (Siegmund's formula
    is an approximation: within 15%)."""
    rng = random.Random(7)
    reference, asked = 0.5, 300.0
    h = decision_interval(reference, asked)
    runs = []
    for _ in range(1500):
        c, n = new_cusum(), 0
        while c[0] < h:
            n += 1
            step(c, rng.gauss(0.0, 1.0), float(n), reference, 1e9, 1e18)
        runs.append(n)
    assert abs(statistics.mean(runs) / asked - 1.0) < 0.15
    assert decision_interval(reference, 1e4) > decision_interval(reference, 1e3) > h
    assert decision_interval(reference, 0.0) >= 0.0


def test_learning_keeps_the_mean_and_spread_of_what_was_learned() -> None:
    values = [0.3, -1.2, 2.5, 0.0, 0.7, -0.4]
    c = new_cusum()
    for v in values:
        learn(c, v, halving=1000)
    assert c[2] == len(values)
    assert math.isclose(c[3], statistics.mean(values), abs_tol=1e-3)  # kept to 4 decimals
    assert math.isclose(c[4] / c[2], statistics.pvariance(values), abs_tol=1e-3)
    learn(c, 0.1, halving=5)  # past the halving bound: the weight halves, the mean and spread stay
    assert c[2] == 3.5
    assert math.isclose(c[3], statistics.mean([*values, 0.1]), abs_tol=1e-3)
    assert math.isclose(c[4] / c[2], statistics.pvariance([*values, 0.1]), abs_tol=1e-3)


def test_a_payment_is_judged_by_the_prior_until_the_customer_has_a_habit() -> None:
    c = new_cusum()
    assert math.isclose(standardised(c, 1.6, prior_sd=0.8, prior_weight=10), 2.0)
    for _ in range(10):  # ten payments at e (2.7x) the median weigh as much as the prior: halfway there
        learn(c, 1.0, halving=1e9)
    assert math.isclose(standardised(c, 1.0, prior_sd=1.0, prior_weight=10), 0.5 / math.sqrt(0.5))
    c = new_cusum()
    for i in range(2000):  # a customer who pays new merchants about 5x their median, give or take 10%
        learn(c, math.log(5) + (0.1 if i % 2 else -0.1), halving=1e9)
    assert abs(standardised(c, math.log(5), prior_sd=0.8, prior_weight=10)) < 0.2
    assert standardised(c, math.log(5) + 0.5, prior_sd=0.8, prior_weight=10) > 4


def test_the_statistic_sums_excess_over_the_reference_and_forgets_an_old_excursion() -> None:
    c = new_cusum()
    step(c, 2.0, 100.0, reference=0.5, max_step=3.0, memory_seconds=1000.0)
    step(c, 9.0, 200.0, reference=0.5, max_step=3.0, memory_seconds=1000.0)  # capped at 3
    assert c[0] == 1.5 + 2.5
    assert c[1] == 100.0
    step(c, -0.5, 300.0, reference=0.5, max_step=3.0, memory_seconds=1000.0)
    assert c[0] == 3.0
    step(c, 1.0, 1200.0, reference=0.5, max_step=3.0, memory_seconds=1000.0)  # 1100 s after it began
    assert c[0] == 0.5
    assert c[1] == 1200.0


def test_an_excursion_is_remembered_for_the_memory_inclusive_however_small_on_a_real_clock() -> None:
    """In event time (epoch seconds, not small numbers), a run of dear payments keeps adding up for
    ``memory_seconds`` after it began, the last second included, and is then forgotten, even a small one."""
    memory, start = 14 * 86400.0, 1_900_000_000.0
    for later, expected in ((memory, 0.5 + 0.5), (memory + 1.0, 0.5)):
        c = new_cusum()
        step(c, 1.0, start, reference=0.5, max_step=3.0, memory_seconds=memory)
        assert c[0] == 0.5
        step(c, 1.0, start + later, reference=0.5, max_step=3.0, memory_seconds=memory)
        assert c[0] == expected, later


def test_the_decision_interval_solves_siegmunds_formula_at_any_reference() -> None:
    """The interval h gives the asked in-control run length through Siegmund's approximation
    ARL = (exp(2kh') - 2kh' - 1) / (2k^2), h' = h + 1.166, for references other than 0.5 too; a short
    run asks an interval under one spread, never below zero."""
    for reference in (0.25, 0.5, 1.0):
        for asked in (20.0, 300.0, 1e5):
            h = decision_interval(reference, asked) + 1.166
            arl = (math.exp(2 * reference * h) - 2 * reference * h - 1) / (2 * reference * reference)
            assert arl == pytest.approx(asked, rel=1e-3), (reference, asked)
    assert 0.0 <= decision_interval(0.5, 3.0) < 1.0
