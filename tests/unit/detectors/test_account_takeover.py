"""account_takeover: a phone, email or device change, then within hours a large outgoing transfer."""

from __future__ import annotations

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
