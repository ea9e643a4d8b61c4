"""amount_spike: a debit far above the customer's own median/MAD baseline of debits."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from strategies import DETECTION, at, by_detector, feed, tier_profile, tx

from detectors.engine import RiskEngine

S = DETECTION.amount_spike
NAME = "amount_spike"
FULL = S.full_history_events


def history(amount: str = "1000", n: int = FULL, payee: str = "shop") -> list:
    """``n`` debits spread over the 50 days before day 0 (a long history by count and by time)."""
    return [tx(amount, at(days=-50 + 50 * i / n), counterparty_id=f"{payee}-{i}") for i in range(n)]


def varied(n: int, spread: float) -> list:
    """Debits around 100 with a log-scale spread: each is 100 * exp(+-spread)."""
    amounts = [100 * 2.718281828 ** (spread * ((i * 7) % 5 - 2) / 2) for i in range(n)]
    return [tx(f"{a:.2f}", at(days=-50 + 50 * i / n), counterparty_id=f"v{i}") for i, a in enumerate(amounts)]


def spikes(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def later(amount: object, event_id: str | None = None, when: object = None, **kw: object) -> object:
    """A transfer on day 1 (a push payment: merchant purchases and cash are judged apart)."""
    kw = {"channel": "transfer", **kw}
    return tx(amount, when or at(days=1), event_id=event_id, **kw)  # type: ignore[arg-type]


def test_silent_before_min_history() -> None:
    assert spikes([*history(n=S.min_history_events - 1), later("900000")]) == []


def test_fires_from_min_history() -> None:
    needed = S.min_ratio_to_median.medium * S.short_history_ratio_factor * 1000
    found = spikes([*history(n=S.min_history_events), later(f"{needed:.0f}", "big")])
    assert [a.trigger_event_ids for a in found] == [["big"]]
    assert found[0].evidence["baseline_events"] == S.min_history_events


def test_short_history_asks_a_larger_multiple() -> None:
    medium = S.min_ratio_to_median.medium
    short = S.min_history_events
    at_full = Decimal(str(medium)) * 1000
    assert spikes([*history(n=FULL), later(at_full)]) != []
    assert spikes([*history(n=short), later(at_full)]) == []
    needed = Decimal(str(medium * S.short_history_ratio_factor)) * 1000
    assert spikes([*history(n=short), later(needed)]) != []


@pytest.mark.parametrize("median", ["1000", "100", "37.5", "20", "12.3"])
def test_ratio_exactly_at_threshold_fires_just_below_does_not(median: str) -> None:
    """The bar is "at least" the multiple, whatever the median: no logarithm round trip may put a payment
    of exactly the multiple an ulp below it (with a median of 100, 9x once computed as 8.999999999999996x)."""
    ratio = Decimal(str(S.min_ratio_to_median.medium))  # the default tier is medium
    exact = ratio * Decimal(median)
    assert spikes([*history(median), later(exact)]) != []
    assert spikes([*history(median), later(exact - Decimal("0.01"))]) == []


def test_small_customer_spike_fires_below_any_money_floor() -> None:
    """A 40x spike of a customer whose debits are 20 alerts even though 800 is below every severity floor;
    the floor only lowers the severity."""
    (alert,) = spikes([*history("20"), later("800")])
    (big,) = spikes([*history("200"), later("8000")])
    assert (alert.severity, big.severity) == ("high", "critical")  # same multiple, one level apart
    assert big.score == pytest.approx(alert.score)


def test_noise_floor_keeps_pennies_out() -> None:
    assert spikes([*history("1"), later(S.min_amount_base.individual - Decimal("0.01"))]) == []


def test_wide_spreader_extreme_multiple_still_alerts() -> None:
    """For a customer whose spending varies widely the z gate would ask ~90x; it is capped."""
    cap = S.max_required_ratio_to_median.medium
    assert spikes([*varied(FULL, 2.0), later(str(100 * (cap + 1)))]) != []
    assert spikes([*varied(FULL, 2.0), later(str(100 * (S.min_ratio_to_median.medium + 1)))]) == []


def test_credits_never_spike() -> None:
    assert spikes([*history(), later("900000", direction="credit")]) == []


@pytest.mark.parametrize(("tier", "fires"), [("low", False), ("medium", False), ("high", True)])
def test_tighter_for_high_tier(tier: str, fires: bool) -> None:
    # 8.5x a median of 300: over the high tier's 8x, under medium's 9x.
    found = spikes([tier_profile(tier), *history("300"), later("2550")])
    assert bool(found) is fires
    assert all(a.risk_tier == tier for a in found)


def test_no_profile_gets_default_tier() -> None:
    (alert,) = spikes([*history("300"), later("3000")])
    assert alert.risk_tier == DETECTION.default_tier


def test_outlier_does_not_poison_baseline() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [*history(), later("50000")])
    assert 50000.0 not in run.state.ctx.debit_baseline.amounts
    assert run.state.ctx.debit_baseline.median() == pytest.approx(1000)
    # After the cooldown the same kind of outlier is still an outlier.
    feed(engine, [later("50000", "again", when=at(days=1, seconds=S.cooldown_seconds + 1))], run)
    assert [a.trigger_event_ids for a in by_detector(run.alerts, NAME)][-1] == ["again"]


def test_cooldown_one_pattern_one_alert_and_escalation() -> None:
    base = [*history(), later("10000", "s1")]
    first = spikes(base)
    assert len(first) == 1
    same = spikes([*base, later("10000", "s2", when=at(days=1, hours=1))])
    assert [a.trigger_event_ids for a in same] == [["s1"]]
    worse = spikes([*base, later("200000", "s3", when=at(days=1, hours=1))])
    assert [a.trigger_event_ids for a in worse] == [["s1"], ["s3"]]
    assert worse[1].severity == "critical"
    assert first[0].severity != "critical"


def test_recurring_payment_to_known_payee_does_not_alert() -> None:
    rent = [
        tx("4500", at(days=-60 + 30 * i), channel="transfer", counterparty_id="landlord")
        for i in range(S.recurring_min_occurrences)
    ]
    events = [*rent, *history("100")]
    assert spikes([*events, later("5000", "r", counterparty_id="landlord")]) == []
    # Far from the usual rent is not "recurring"; to a stranger, above anything paid before, it is news.
    assert [
        a.trigger_event_ids for a in spikes([*events, later("9000", "far", counterparty_id="landlord")])
    ] == [["far"]]
    assert [a.trigger_event_ids for a in spikes([*events, later("6000", "new", counterparty_id="x")])] == [
        ["new"]
    ]


def test_evidence_names_figures() -> None:
    (alert,) = spikes([*history(), later("60000")])
    assert alert.evidence["amount_base"] == "60000"
    assert alert.evidence["baseline_median_base"] == pytest.approx(1000)
    assert alert.evidence["new_counterparty"] is True
    assert alert.evidence["required_ratio_to_median"] == pytest.approx(S.min_ratio_to_median.medium)
    assert 0 < alert.score <= 1


def test_merchant_purchases_ask_a_larger_multiple() -> None:
    """A card payment or any debit with a merchant category (a car, furniture, a trip abroad) is still an
    outgoing amount far above the customer's own (the contract's definition), but on card rails, with
    chargeback rights and big one-off purchases an ordinary sight: ``merchant_purchase_ratio_factor``
    times the push payment's bar. None leaves them out of ``amount_spike``."""
    factor = S.merchant_purchase_ratio_factor
    assert factor is not None
    assert factor > 1
    push = Decimal(str(S.min_ratio_to_median.medium + 1)) * 1000
    assert spikes([*history(), later(push)]) != []
    for kw in ({"channel": "card"}, {"channel": "online", "merchant_category": "5712"}):
        assert spikes([*history(), later(push, "m", **kw)]) == [], kw
        found = spikes([*history(), later(push * Decimal(factor), "m", **kw)])
        assert [a.trigger_event_ids for a in found] == [["m"]], kw
    off = DETECTION.model_copy(
        update={"amount_spike": S.model_copy(update={"merchant_purchase_ratio_factor": None})}
    )
    card = [*history(), later(push * 100, "c", channel="card")]
    assert by_detector(feed(RiskEngine(off), card).alerts, NAME) == []


def test_a_purchase_that_moves_money_on_asks_the_push_payments_bar() -> None:
    """Crypto, quasi-cash, a money transfer or betting bought by card is a cash-out on card rails, not a
    purchase of goods: the push payment's bar, not ``merchant_purchase_ratio_factor`` times it."""
    push = Decimal(str(S.min_ratio_to_median.medium + 1)) * 1000
    for mcc in ("6051", "4829", "7995"):
        found = spikes([*history(), later(push, "c", channel="card", merchant_category=mcc)])
        assert [a.trigger_event_ids for a in found] == [["c"]], mcc
    assert spikes([*history(), later(push, "f", channel="card", merchant_category="5712")]) == []


def test_cash_asks_a_larger_multiple() -> None:
    amount = Decimal(str(S.min_ratio_to_median.medium + 1)) * 1000
    assert spikes([*history(), later(amount, channel="atm")]) == []
    assert spikes([*history(), later(amount * Decimal(S.cash_ratio_factor), channel="atm")]) != []


def test_a_new_customer_in_time_asks_a_larger_multiple() -> None:
    """Thirty debits within four days: enough by count, but a month has not passed (rent, a loan instalment
    not yet seen once), so the multiple is raised."""
    quick = [tx("1000", at(hours=3 * i), counterparty_id=f"q{i}") for i in range(FULL)]
    amount = Decimal(str(S.min_ratio_to_median.medium + 1)) * 1000
    assert spikes([*quick, later(amount, when=at(days=4))]) == []
    assert spikes([*history(), later(amount)]) != []


def test_not_above_the_largest_known_payment_is_no_spike() -> None:
    """A customer who has paid 8000 before is not spiking at 7000, however far above their median: only
    above their known range (``min_ratio_to_largest`` of it)."""
    events = [*history("100"), tx("8000", at(days=-1), channel="transfer", counterparty_id="car-dealer")]
    top = Decimal(8000) * Decimal(str(S.min_ratio_to_largest))
    for amount, fires in (("7000", False), (top, False), (top + 1, True)):
        found = [a for a in spikes([*events, later(amount, "t")]) if a.trigger_event_ids == ["t"]]
        assert (found != []) is fires, amount


def test_a_payee_paid_before_asks_a_larger_multiple() -> None:
    """A larger bill from a payee the customer set up themselves is rarely a drain: the multiple grows by
    ``known_payee_ratio_factor``; the same amount to somebody new still alerts."""
    events = [*history("1000"), tx("1000", at(days=-2), channel="transfer", counterparty_id="utility")]
    amount = Decimal(str(S.min_ratio_to_median.medium + 1)) * 1000
    assert [a.trigger_event_ids for a in spikes([*events, later(amount, "n", counterparty_id="new")])] == [
        ["n"]
    ]
    assert spikes([*events, later(amount, "k", counterparty_id="utility")]) == []
    needed = Decimal(str(S.min_ratio_to_median.medium * S.known_payee_ratio_factor)) * 1000
    assert [
        a.trigger_event_ids for a in spikes([*events, later(needed, "k", counterparty_id="utility")])
    ] == [["k"]]


def test_a_small_test_payment_does_not_make_a_mule_known() -> None:
    """Fraudsters send a few yuan to the mule account first; the drain that follows, over
    ``known_payee_max_ratio_to_largest_paid`` times that, is judged as a payment to somebody new. A deposit
    of three months' rent to the landlord paid monthly is still a known payee's."""
    amount = Decimal(str(S.min_ratio_to_median.medium + 1)) * 1000
    probe = [*history("1000"), tx("10", at(days=-1), channel="transfer", counterparty_id="mule")]
    assert [a.trigger_event_ids for a in spikes([*probe, later(amount, "d", counterparty_id="mule")])] == [
        ["d"]
    ]
    rent = [*history("1000"), tx("4000", at(days=-20), channel="transfer", counterparty_id="landlord")]
    assert spikes([*rent, later(amount, "r", counterparty_id="landlord")]) == []


def test_a_corporate_is_judged_against_the_corporates_money_floors() -> None:
    """A company's small debits are noise at a size an individual's are not (``min_amount_base``), and a
    corporate spike below the corporate severity floor is one level lower where an individual's of the
    same size is not (``severity_floor_base``: corporates ×10)."""
    person, company = tier_profile("medium"), tier_profile("medium", segment="corporate")
    small = S.min_amount_base.corporate - 1  # 18x a median of 50, above the individual's noise floor
    assert spikes([person, *history("50"), later(small)]) != []
    assert spikes([company, *history("50"), later(small)]) == []
    amount = S.severity_floor_base.individual.medium * 5  # 20x a median of 500: over twice the bar
    assert amount < S.severity_floor_base.corporate.medium
    (individual,) = spikes([person, *history("500"), later(amount)])
    (corporate,) = spikes([company, *history("500"), later(amount)])
    assert (individual.severity, corporate.severity) == ("high", "medium")
    assert corporate.evidence["severity_floor_base"] == str(S.severity_floor_base.corporate.medium)


def test_severity_rises_at_twice_the_bar_and_the_floor_lowers_it_strictly_below() -> None:
    """Twice the bar is high; a spike exactly at the segment's severity floor is not lowered, one a yuan
    below it is (one level)."""
    floor = S.severity_floor_base.individual.medium
    bar = S.min_ratio_to_median.medium
    median = floor / 20  # the floor is 20x the median: between 2 and 4 times the bar
    assert 2 * bar < 20 < 4 * bar
    (at_floor,) = spikes([*history(str(median)), later(floor)])
    (below,) = spikes([*history(str(median)), later(floor - 1)])
    assert (at_floor.severity, below.severity) == ("high", "medium")
    assert at_floor.evidence["ratio_to_median"] == pytest.approx(20)
    assert at_floor.evidence["baseline_largest_base"] == pytest.approx(float(median))


def test_the_short_history_multiple_eases_linearly_with_the_count_of_debits() -> None:
    """Halfway from ``min_history_events`` to ``full_history_events`` (a history long in time), half of
    the short-history raise is left."""
    n = (S.min_history_events + FULL) // 2
    half = (n - S.min_history_events) / (FULL - S.min_history_events)
    assert half == 0.5
    (alert,) = spikes([*history(n=n), later("200000")])
    expected = S.min_ratio_to_median.medium * (1 + (S.short_history_ratio_factor - 1) * 0.5)
    assert alert.evidence["required_ratio_to_median"] == pytest.approx(expected)


def test_a_long_history_never_lowers_the_bar_below_the_tiers_multiple() -> None:
    """Twice the debits and three times the days of a full history ask the tier's multiple, not less: a
    5x payment of a long-standing customer is no spike."""
    long = [
        tx("1000", at(days=-100 + 100 * i / (2 * FULL)), counterparty_id=f"l{i}") for i in range(2 * FULL)
    ]
    assert spikes([*long, later("5000")]) == []
    (alert,) = spikes([*long, later("50000")])
    assert alert.evidence["required_ratio_to_median"] == pytest.approx(S.min_ratio_to_median.medium)


def test_a_payee_paid_before_on_a_short_history_asks_both_multiples() -> None:
    """The known payee's multiple comes on top of the short history's, not instead of it: on the minimum
    history a payment that would alert to somebody new is no alert to a payee paid a tenth of it before."""
    events = [*history("1000", n=S.min_history_events - 1)]
    events.append(tx("6000", at(days=-2), channel="transfer", counterparty_id="supplier"))
    amount = Decimal(str(S.min_ratio_to_median.medium * S.short_history_ratio_factor + 1)) * 1000
    assert amount <= Decimal(6000) * Decimal(str(S.known_payee_max_ratio_to_largest_paid))
    assert [a.trigger_event_ids for a in spikes([*events, later(amount, "n", counterparty_id="new")])] == [
        ["n"]
    ]
    assert spikes([*events, later(amount, "k", counterparty_id="supplier")]) == []


def test_a_varied_customer_is_judged_in_their_own_spread() -> None:
    """Debits spread around 100 so that the robust-z gate (``min_robust_z`` spreads, the spread being the
    MAD of log amounts scaled to a normal sigma, x1.4826) stands at 12x the median: 11x is within the
    customer's range, 13x past it, and the evidence's robust z is that distance in spreads."""
    z = S.min_robust_z.medium
    sigma = math.log(12) / z
    spread = sigma / (1.4826 * 0.5)  # varied(): log amounts at 0, +-spread/2, +-spread: MAD = spread/2
    assert S.min_ratio_to_median.medium < 12 < S.max_required_ratio_to_median.medium
    assert spikes([*varied(FULL, spread), later("1100")]) == []
    (alert,) = spikes([*varied(FULL, spread), later("1300")])
    assert alert.evidence["required_ratio_to_median"] == pytest.approx(12, rel=0.01)
    assert alert.evidence["robust_z"] == pytest.approx(math.log(13) / sigma, rel=0.01)


def test_a_spike_exactly_at_the_noise_floor_is_judged() -> None:
    floor = S.min_amount_base.individual
    assert [a.trigger_event_ids for a in spikes([*history("5"), later(floor, "f")])] == [["f"]]


def test_the_cap_on_the_spread_gate_rises_with_the_short_history_multiple() -> None:
    """A customer whose debits vary widely would have the spread gate ask a huge multiple; the cap
    (``max_required_ratio_to_median``) stops it, raised like every bar while the history is short."""
    n = (S.min_history_events + FULL) // 2  # half of the short-history raise left (a long history in time)
    factor = 1 + (S.short_history_ratio_factor - 1) * 0.5
    cap = S.max_required_ratio_to_median.medium * factor
    assert spikes([*varied(n, 2.0), later(str(100 * (cap - 2)))]) == []
    (alert,) = spikes([*varied(n, 2.0), later(str(100 * (cap + 2)))])
    assert alert.evidence["required_ratio_to_median"] == pytest.approx(cap, rel=0.01)


def test_the_evidence_says_whether_the_payee_was_paid_before() -> None:
    """A drain to a payee paid once a little (a test payment) is still a spike, and the evidence says the
    payee is not new."""
    events = [*history(), tx("1000", at(days=-2), channel="transfer", counterparty_id="mule")]
    (alert,) = spikes([*events, later("50000", counterparty_id="mule")])
    assert alert.evidence["new_counterparty"] is False
