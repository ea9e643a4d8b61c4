"""account_takeover: a phone, email or device change, then within hours a large outgoing transfer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from strategies import DETECTION, at, by_detector, contact, feed, tier_profile, tx

from detectors.engine import RiskEngine

S = DETECTION.account_takeover
NAME = "account_takeover"
# Before a customer has a median, only an absolutely large sum counts (the cold-start floor).
FLOOR = S.cold_start_min_amount_base.get("individual", "medium")


def alerts(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def change(field_name: str = "phone", channel: str | None = "app") -> object:
    return contact(field_name, "new", at(0), event_id="chg", channel=channel)


def test_change_then_large_transfer_to_new_payee_is_critical() -> None:
    (alert,) = alerts(
        [change(), tx(FLOOR, at(hours=2), channel="transfer", counterparty_id="new", event_id="t")]
    )
    assert alert.severity == "critical"
    assert alert.trigger_event_ids == ["chg", "t"]
    assert alert.evidence["new_counterparty"] is True
    assert alert.evidence["seconds_since_change"] == 7200


def test_known_payee_is_high() -> None:
    known = tx("10", at(days=-3), channel="transfer", counterparty_id="mum")
    (alert,) = alerts([known, change(), tx(FLOOR, at(hours=2), channel="online", counterparty_id="mum")])
    assert alert.severity == "high"


def test_just_below_floor_does_not_fire() -> None:
    assert alerts([change(), tx(FLOOR - 1, at(hours=2), channel="transfer")]) == []


@pytest.mark.parametrize("field_name", ["address"])
def test_address_change_is_not_a_trigger(field_name: str) -> None:
    assert alerts([change(field_name), tx(FLOOR * 10, at(hours=1), channel="transfer")]) == []


def test_card_payments_and_credits_are_not_cash_outs() -> None:
    assert alerts([change(), tx(FLOOR * 10, at(hours=1), channel="card")]) == []
    assert alerts([change(), tx(FLOOR * 10, at(hours=1), channel="transfer", direction="credit")]) == []


@pytest.mark.parametrize(("channel", "fires"), [("app", True), ("web", True), ("call_center", True), (None, True), ("branch", False)])  # fmt: skip
def test_a_change_made_in_person_at_a_branch_opens_no_window(channel: str | None, fires: bool) -> None:
    """A takeover changes contact details remotely; one whose channel is not given counts as remote."""
    found = alerts([*small_spender(), change(channel=channel), tx("600", at(hours=15), channel="transfer")])
    assert bool(found) is fires
    # ... whichever topic's message comes first
    late = alerts([*small_spender(), tx("600", at(hours=15), channel="transfer"), change(channel=channel)])
    assert bool(late) is fires


@pytest.mark.parametrize(("mcc", "fires"), [(None, True), ("5511", False), ("5712", False), ("6051", True), ("4829", True)])  # fmt: skip
def test_a_purchase_from_a_merchant_is_not_a_cash_out_unless_it_moves_money_on(
    mcc: str | None, fires: bool
) -> None:
    """A car dealer (5511) or furniture shop (5712) sells goods; quasi-cash (6051, crypto and currency) and
    money transfer (4829) move the money on like a transfer to a mule."""
    purchase = tx("600", at(hours=3), channel="online", counterparty_id="m", merchant_category=mcc)
    assert bool(alerts([*small_spender(), change(), purchase])) is fires


def test_window_edges() -> None:
    # (start, end]: a change exactly window_seconds before the transfer is out, one second later is in.
    assert alerts([change(), tx(FLOOR, at(S.window_seconds - 1), channel="transfer")]) != []
    assert alerts([change(), tx(FLOOR, at(S.window_seconds), channel="transfer")]) == []
    # A transfer before the change is not a takeover.
    assert alerts([tx(FLOOR, at(-60), channel="transfer"), change()]) == []


def small_spender(n: int = 20) -> list:
    """A customer whose debits are about 50 (median 50)."""
    return [tx(str(40 + i % 21), at(days=-30 + i), channel="card", counterparty_id=f"s{i}") for i in range(n)]


def test_large_for_this_customer_fires_whatever_the_sum() -> None:
    """600 is far below any money floor, but 12x this customer's median, to a new payee after a phone change."""
    (alert,) = alerts([*small_spender(), change(), tx("600", at(hours=3), channel="transfer", event_id="t")])
    assert alert.trigger_event_ids == ["chg", "t"]
    assert alert.severity == "high"  # new payee, below the severity floor: high, not critical
    assert alert.evidence["baseline_median_base"] == pytest.approx(50, rel=0.05)
    assert alerts([*small_spender(), change(), tx("140", at(hours=3), channel="transfer")]) == []


def test_floor_sets_severity_not_suppression() -> None:
    floor = S.severity_floor_base.get("individual", "medium")
    big = alerts([*small_spender(), change(), tx(floor, at(hours=3), channel="transfer")])
    small = alerts([*small_spender(), change(), tx("300", at(hours=3), channel="transfer")])
    assert [a.severity for a in big] == ["critical"]
    assert [a.severity for a in small] == ["high"]


def test_no_profile_gets_the_default_tier_and_full_detection() -> None:
    (alert,) = alerts([*small_spender(), change(), tx("600", at(hours=3), channel="online")])
    assert alert.risk_tier == DETECTION.default_tier


def test_corporate_cold_start_floor_is_larger() -> None:
    corp = tier_profile("medium", segment="corporate")
    assert alerts([corp, change(), tx(FLOOR, at(hours=1), channel="transfer")]) == []
    big = S.cold_start_min_amount_base.get("corporate", "medium")
    assert alerts([corp, change(), tx(big, at(hours=1), channel="transfer")]) != []


def test_history_raises_the_bar() -> None:
    history = [
        tx("8000", at(days=-10 + i), channel="transfer", counterparty_id=f"p{i}")
        for i in range(S.min_history_events)
    ]
    bar = 8000 * S.min_ratio_to_median.medium  # the median times the ratio, above the floor 10000
    assert alerts([*history, change(), tx(str(bar - 1), at(hours=1), channel="transfer")]) == []
    assert alerts([*history, change(), tx(str(bar), at(hours=1), channel="transfer")]) != []


def test_a_debit_the_history_has_the_like_of_is_not_a_cash_out() -> None:
    """Far above the median, but not above the largest debit the customer already made."""
    largest = tx("900", at(days=-2), channel="transfer", counterparty_id="furniture")
    assert alerts([*small_spender(), largest, change(), tx("850", at(hours=1), channel="transfer")]) == []
    assert alerts([*small_spender(), largest, change(), tx("950", at(hours=1), channel="transfer")]) != []


def test_later_after_the_change_the_debit_must_stand_out_further() -> None:
    largest = tx("900", at(days=-2), channel="transfer", counterparty_id="furniture")
    late = S.prompt_seconds + 3600
    just_above = tx("950", at(late), channel="transfer", event_id="t")
    assert alerts([*small_spender(), largest, change(), just_above]) == []
    # a yuan over the late bar: the baseline keeps log amounts, so its largest debit is a hair above 900
    far_above = tx(str(900 * S.late_min_ratio_to_largest + 1), at(late), channel="transfer", event_id="t")
    assert alerts([*small_spender(), largest, change(), far_above]) != []
    # ... whichever topic's message comes first
    assert alerts([*small_spender(), largest, just_above, change()]) == []
    assert alerts([*small_spender(), largest, far_above, change()]) != []


@pytest.mark.parametrize(("tier", "fires"), [("low", False), ("medium", False), ("high", True)])
def test_tighter_for_high_tier(tier: str, fires: bool) -> None:
    amount = S.cold_start_min_amount_base.get("individual", "high")
    assert bool(alerts([tier_profile(tier), change(), tx(amount, at(hours=1), channel="transfer")])) is fires


def test_cooldown() -> None:
    found = alerts(
        [
            change(),
            tx(FLOOR, at(hours=1), channel="transfer", counterparty_id="x", event_id="a"),
            tx(FLOOR, at(hours=2), channel="transfer", counterparty_id="y", event_id="b"),
        ]
    )
    assert [a.trigger_event_ids[-1] for a in found] == ["a"]


def test_the_alert_is_the_same_whichever_topic_comes_first() -> None:
    """The change and the transfer come on different topics; a worker that restored its state may consume
    them in the other order than replay's file. The alert, its event time included (the transfer's, the
    completing trigger), must not show which came first."""
    transfer = tx(FLOOR, at(hours=2), channel="transfer", counterparty_id="new", event_id="t")
    (timely,) = alerts([change(), transfer])
    (late,) = alerts([transfer, change()])
    assert late.event_time == timely.event_time == transfer.timestamp
    assert late.model_dump(exclude={"detected_at"}) == timely.model_dump(exclude={"detected_at"})


def test_the_cooldown_runs_from_the_transfer_whichever_topic_comes_first() -> None:
    """The one-pattern-one-alert cooldown starts at the completing trigger's event time, not at the time
    of whichever message came last; else a second takeover a day later alerts in one order only."""
    first = tx(FLOOR, at(hours=2), channel="transfer", counterparty_id="new", event_id="t1")
    later = [
        contact("phone", "newer", at(hours=20), event_id="chg2", channel="app"),
        tx(FLOOR * 2, at(hours=25), channel="transfer", counterparty_id="other", event_id="t2"),
    ]
    timely = alerts([change(), first, *later])
    late = alerts([first, change(), *later])
    dump = [a.model_dump(exclude={"detected_at"}) for a in timely]
    assert [a.model_dump(exclude={"detected_at"}) for a in late] == dump


def test_a_prompt_debit_consumed_before_its_change_asks_only_the_prompt_bar() -> None:
    """Up to ``prompt_seconds`` after the change (inclusive) a debit above the customer's largest alerts;
    later it must clear the late bar: the same whichever topic's message is consumed first."""
    largest = tx("900", at(days=-2), channel="transfer", counterparty_id="furniture")
    for seconds, fires in ((3600, True), (S.prompt_seconds, True), (S.prompt_seconds + 1, False)):
        debit = tx("950", at(seconds), channel="transfer", event_id="t")
        assert bool(alerts([*small_spender(), largest, change(), debit])) is fires, seconds
        assert bool(alerts([*small_spender(), largest, debit, change()])) is fires, seconds


def test_a_known_payee_paid_far_less_before_is_medium_below_the_floor() -> None:
    """Severity by payee and money: a never-paid payee is high below the severity floor; a payee paid a
    little before (far less than this) is one level lower, medium."""
    known = tx("10", at(days=-3), channel="transfer", counterparty_id="mum")
    (new,) = alerts([*small_spender(), change(), tx("600", at(hours=2), channel="transfer")])
    (mum,) = alerts([*small_spender(), known, change(), tx("600", at(hours=2), counterparty_id="mum", channel="transfer")])  # fmt: skip
    assert (new.severity, mum.severity) == ("high", "medium")
    assert mum.evidence["new_counterparty"] is False
    assert mum.evidence["fields_changed"] == ["phone"]


def test_an_ordinary_payment_to_a_payee_paid_once_before_is_not_a_cash_out() -> None:
    """One earlier payment makes a payee known (``known_payee_min_payments``): a debit under
    ``known_payee_min_ratio_to_largest`` times what it was paid is a bill, not a drain; twice as much and
    more is judged."""
    paid = tx("600", at(days=-3), channel="transfer", counterparty_id="school")
    assert S.known_payee_min_payments == 1
    bill = 600 * S.known_payee_min_ratio_to_largest - 1
    assert alerts([*small_spender(), paid, change(), tx(bill, at(hours=2), counterparty_id="school", channel="transfer")]) == []  # fmt: skip
    more = 600 * S.known_payee_min_ratio_to_largest
    assert alerts([*small_spender(), paid, change(), tx(more, at(hours=2), counterparty_id="school", channel="transfer")]) != []  # fmt: skip


def test_the_noise_floor_is_per_segment_and_a_debit_at_it_counts() -> None:
    """A customer whose debits are about 20: 5x that is large for them. At the individual noise floor
    (``min_amount_base``) it alerts, a fen below it is small change; a company's noise floor is higher."""
    tiny = [tx("20", at(days=-30 + i), channel="card", counterparty_id=f"s{i}") for i in range(20)]
    floor = S.min_amount_base.individual
    assert floor >= 20 * S.min_ratio_to_median.medium
    assert alerts([*tiny, change(), tx(floor, at(hours=2), channel="transfer")]) != []
    assert alerts([*tiny, change(), tx(floor - Decimal("0.01"), at(hours=2), channel="transfer")]) == []
    corp = tier_profile("medium", segment="corporate")
    below_corporate = S.min_amount_base.corporate - 1
    assert alerts([*tiny, change(), tx(below_corporate, at(hours=2), channel="transfer")]) != []
    assert alerts([corp, *tiny, change(), tx(below_corporate, at(hours=2), channel="transfer")]) == []


def test_a_corporate_takeover_is_critical_only_from_the_corporate_floor() -> None:
    """The same sum to a new payee is critical for an individual (at or above their severity floor) and
    high for a company below the corporate floor (x10)."""
    amount = S.severity_floor_base.get("individual", "medium") * 5
    assert amount < S.severity_floor_base.get("corporate", "medium")
    corp = tier_profile("medium", segment="corporate")
    (person,) = alerts([*small_spender(), change(), tx(amount, at(hours=2), channel="transfer")])
    (company,) = alerts([corp, *small_spender(), change(), tx(amount, at(hours=2), channel="transfer")])
    assert (person.severity, company.severity) == ("critical", "high")


def test_the_alerted_debit_stays_out_of_the_baseline() -> None:
    """A takeover's cash-out is not the customer's spending: learning it would make the next drain look
    ordinary."""
    run = feed(
        RiskEngine(DETECTION), [*small_spender(), change(), tx("600", at(hours=2), channel="transfer")]
    )
    assert by_detector(run.alerts, NAME) != []
    assert 600.0 not in run.state.ctx.debit_baseline.amounts
