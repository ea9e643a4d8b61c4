"""sustained_shift: elevated debits at new merchants over days, more than the customer's own history makes
likely."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from strategies import DETECTION, at, by_detector, feed, tx

from detectors.beta_binomial import beta_binomial_tail, beta_binomial_tail_within
from detectors.engine import RiskEngine
from detectors.sustained_shift import SustainedShift

NAME = "sustained_shift"
S = DETECTION.sustained_shift
#: the count and CUSUM tests alone: their tests below use a narrow spender, whose dear card payments the
#: far payments' test would report first
COUNT_ONLY = DETECTION.model_copy(update={"sustained_shift": S.model_copy(update={"far_channels": ()})})


def history(*, new_merchant_splurges: int = 0) -> list:
    """Forty ordinary card debits of 40-46 over the 40 days before day 0 at five merchants the customer
    uses, and ``new_merchant_splurges`` of them (every fifth, from the oldest) replaced by 250 at a merchant
    never used before."""
    events = []
    for i in range(40):
        splurge = i % 5 == 2 and i // 5 < new_merchant_splurges
        events.append(
            tx(
                "250" if splurge else f"{40 + i % 7}",
                at(days=-40 + i),
                channel="card",
                counterparty_id=f"hist-new{i}" if splurge else f"m{i % 5}",
            )
        )
    return events


def drained(payee: object, *, days: float = 6.0, count: int = 5, amount: str = "200", **kw: object) -> list:
    """Two ordinary debits a day at the customer's merchants and ``count`` debits of ``amount`` (5x the
    median) to ``payee(i)`` spread over ``days``."""
    ordinary = [
        tx(f"{41 + i % 5}", at(hours=12 * i + 1), channel="card", counterparty_id=f"m{i % 5}")
        for i in range(int(2 * days) + 2)
    ]
    elevated = [
        tx(amount, at(hours=24 * days * i / count + 3), counterparty_id=payee(i), **kw)  # type: ignore[operator]
        for i in range(count)
    ]
    return sorted([*ordinary, *elevated], key=lambda e: e.timestamp)


def alerts(events: list, **history_kw: int) -> list:
    return by_detector(feed(RiskEngine(COUNT_ONLY), [*history(**history_kw), *events]).alerts, NAME)


def all_tests_alerts(events: list, before: list | None = None) -> list:
    """Alerts of the detector as configured (every test), after ``before`` (default: ``history()``)."""
    return by_detector(feed(RiskEngine(DETECTION), [*(before or history()), *events]).alerts, NAME)


def test_elevated_debits_at_new_merchants_alert_once_naming_them() -> None:
    events = drained(lambda i: f"new{i}")
    (alert,) = alerts(events)
    elevated = [e.event_id for e in events if e.amount == 200]
    assert list(alert.trigger_event_ids) == elevated[: S.min_elevated_debits]
    assert alert.evidence["elevated_debits"] == S.min_elevated_debits
    assert alert.evidence["tail_probability"] <= alert.evidence["false_alert_budget_per_check"]


def test_fewer_than_the_minimum_never_alert() -> None:
    assert alerts(drained(lambda i: f"new{i}", count=S.min_elevated_debits - 1)) == []


def test_larger_bills_at_merchants_the_customer_uses_are_not_counted_as_new_merchants() -> None:
    assert alerts(drained(lambda i: f"m{i % 5}")) == []


def test_payments_far_above_a_narrow_spenders_own_spread_alert_at_known_merchants_too() -> None:
    """Two card payments of about 5x the median on two days, at shops the customer uses: for a customer whose
    payments stay within 40-46, each is many of their own spreads above the median."""
    events = drained(lambda i: f"m{i % 5}", count=S.far_min_debits, days=2.0)
    (alert,) = all_tests_alerts(events)
    assert alert.evidence["far_payments"] == S.far_min_debits
    assert set(alert.trigger_event_ids) == {e.event_id for e in events if e.amount == 200}
    assert alert.evidence["tail_probability"] <= alert.evidence["false_alert_budget_per_check"]


def wide_history() -> list:
    """Forty card debits at five shops over 40 days, spread widely: 20 to 640 (a log spread of about 1)."""
    return [
        tx(f"{20 * 2 ** (i % 6)}", at(days=-40 + i), channel="card", counterparty_id=f"m{i % 5}")
        for i in range(40)
    ]


def test_the_same_payments_are_a_wide_spenders_own() -> None:
    """For a customer whose payments spread from 20 to 640, five payments of 5x the median are not far."""
    assert all_tests_alerts(drained(lambda i: f"m{i % 5}", amount="400"), wide_history()) == []


def test_a_payment_many_times_the_median_is_a_one_off_purchase_not_a_step() -> None:
    """Above ``far_max_ratio_to_median``, a payment is not a moderate step of a drain (``amount_spike`` judges
    single payments): two of them do not make a sustained shift."""
    amount = str(int(43 * S.far_max_ratio_to_median * 1.5))
    assert all_tests_alerts(drained(lambda i: f"m{i % 5}", count=2, days=2.0, amount=amount)) == []


def test_a_payee_already_paid_as_much_is_not_far() -> None:
    """The customer paid this shop 150 before: 200 there is within ``far_min_ratio_to_largest_paid`` of it."""
    before = sorted(
        [*history(), tx("150", at(days=-3), channel="card", counterparty_id="m1")], key=lambda e: e.timestamp
    )
    assert all_tests_alerts(drained(lambda i: "m1", count=2, days=2.0), before) == []


def test_repeated_drains_to_one_new_payee_still_count() -> None:
    """The first drain makes the payee known; its later drains are still to a payee only the drain paid."""
    assert len(alerts(drained(lambda i: "one-new-shop"))) == 1


def test_a_trip_abroad_is_not_a_drain() -> None:
    assert (
        alerts(drained(lambda i: f"new{i}", counterparty_country="JP", currency="JPY", amount="4255")) == []
    )


def test_one_evenings_spree_counts_as_at_most_max_elevated_per_day() -> None:
    count = S.min_elevated_debits + 3
    spree = [tx("200", at(hours=10, seconds=300 * i), counterparty_id=f"new{i}") for i in range(count)]
    assert S.max_elevated_per_day < S.min_elevated_debits
    assert alerts(spree) == []


def test_a_customer_who_often_tries_new_merchants_at_high_amounts_needs_more() -> None:
    """The same five debits alert for a customer of habit and not for one whose history has such debits
    every few days: the bar is the customer's own rate."""
    events = drained(lambda i: f"new{i}", days=10.0)
    assert len(alerts(events)) == 1
    assert alerts(events, new_merchant_splurges=5) == []  # all of them older than the window


def test_beta_binomial_tail_matches_the_direct_sum() -> None:
    """Against exact factorials (integer a and b), and near the binomial when the rate is well known."""

    def beta(p: int, q: int) -> Fraction:
        return Fraction(math.factorial(p - 1) * math.factorial(q - 1), math.factorial(p + q - 1))

    for k, n, a, b in ((4, 30, 1, 20), (1, 5, 2, 2), (10, 200, 3, 97), (7, 7, 1, 4)):
        direct = sum(math.comb(n, x) * beta(x + a, n - x + b) / beta(a, b) for x in range(k, n + 1))
        assert math.isclose(beta_binomial_tail(k, n, a, b), float(direct), rel_tol=1e-9)
    binomial = sum(math.comb(30, i) * 0.01**i * 0.99 ** (30 - i) for i in range(4, 31))
    assert math.isclose(beta_binomial_tail(4, 30, 0.01 * 1e7, 0.99 * 1e7), binomial, rel_tol=1e-3)
    assert beta_binomial_tail(4, 30, 0.01 * 50, 0.99 * 50) > 10 * binomial  # an uncertain rate asks for more
    assert beta_binomial_tail(0, 10, 1, 9) == 1.0
    assert beta_binomial_tail(11, 10, 1, 9) == 0.0


@given(
    st.integers(1, 60),
    st.integers(0, 120),
    st.floats(1e-3, 50.0),
    st.floats(1.0, 2000.0),
    st.integers(1, 40),
    st.sampled_from([0.0015, 0.003, 0.006, 0.5, 1.0, 2.0]),
)
def test_the_budget_shortcut_skips_only_tails_that_cannot_alert(
    k: int, extra: int, a: float, b: float, tried: int, budget: float
) -> None:
    """Against the full sum written as before the shortcut: a tail skipped is over the budget once multiplied
    by the tests tried, and any other is the very same float."""
    n = k + extra - 5  # some with k > n
    full = beta_binomial_tail(k, n, a, b)
    if n >= k >= 1:
        base = (
            math.lgamma(n + 1) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) - math.lgamma(n + a + b)
        )
        total = 0.0
        for x in range(k, n + 1):
            total += math.exp(
                base
                - math.lgamma(x + 1)
                - math.lgamma(n - x + 1)
                + math.lgamma(x + a)
                + math.lgamma(n - x + b)
            )
        assert full == min(1.0, total)
    within = beta_binomial_tail_within(k, n, a, b, tried, budget)
    if within is None:
        assert budget < 1.0
        assert min(1.0, full) * tried > budget
    else:
        assert within == full


def test_dear_purchases_on_fewer_days_than_asked_are_a_spree() -> None:
    """Two dear purchases a day at new shops on two days: a spree, not a card drained over days."""
    days = S.min_elevated_days - 1
    events = [
        tx("200", at(days=d, hours=h), counterparty_id=f"new{d}-{h}") for d in range(days) for h in (3, 9)
    ]
    assert len(events) >= S.min_elevated_debits
    assert alerts(events) == []


def test_state_from_before_the_new_merchant_model_starts_over() -> None:
    detector = SustainedShift(S)
    old = {"elevated": [[1.0, "e1", ["120.00", "payee"]], [2.0, "e2", "80.00"]], "days": [[0, 3]]}
    state = detector.state_from_json(old)
    assert len(state.elevated) == 0
    assert state.days == [0, 3]
    assert detector.state_to_json(detector.state_from_json(detector.state_to_json(state))) == (
        detector.state_to_json(state)
    )


def test_how_dear_the_payments_are_counts_where_their_number_alone_does_not() -> None:
    """Eight payments at about 8x the median at new shops over two days: too few days for the count, but
    their summed excess over what this customer pays new merchants crosses the CUSUM's decision interval.
    The same eight at 1.6x do not."""
    dear = [
        tx("350", at(days=d, hours=h), counterparty_id=f"new{d}-{h}") for d in range(2) for h in (2, 5, 8, 11)
    ]
    assert S.min_elevated_days > 2
    (alert,) = alerts(dear)
    assert alert.evidence["cusum_sds"] >= alert.evidence["decision_interval_sds"] > 0
    assert set(alert.trigger_event_ids) <= {e.event_id for e in dear}
    assert len(alert.trigger_event_ids) >= S.cusum_min_debits
    moderate = [tx("70", e.timestamp, counterparty_id=e.counterparty_id) for e in dear]
    assert alerts(moderate) == []


def test_a_customer_whose_new_merchants_are_dear_needs_more_excess() -> None:
    """The excess is judged in the customer's own spread of new-merchant payments: for one who pays new
    shops 150-400 every few days (until two weeks ago), eight at 350 are what they do."""
    habit = [
        tx(f"{150 + 31 * (i % 9)}", at(days=-70 + 3 * i, hours=20), counterparty_id=f"habit{i}")
        for i in range(18)
    ]
    dear = [
        tx("350", at(days=d, hours=h), counterparty_id=f"new{d}-{h}") for d in range(2) for h in (2, 5, 8, 11)
    ]
    history_events = sorted([*history(), *habit], key=lambda e: e.timestamp)
    found = by_detector(feed(RiskEngine(DETECTION), [*history_events, *dear]).alerts, NAME)
    dear_ids = {e.event_id for e in dear}
    assert [a for a in found if dear_ids & set(a.trigger_event_ids)] == []
