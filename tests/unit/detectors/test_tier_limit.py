"""tier_limit: per-transaction and daily debit limits by tier; corporates get a multiple."""

from __future__ import annotations

from decimal import Decimal

import pytest
from strategies import DETECTION, at, by_detector, feed, profile, tier_profile, tx

from detectors.engine import RiskEngine

S = DETECTION.tier_limit
NAME = "tier_limit"
CENT = Decimal("0.01")


def alerts(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def test_per_transaction_limit_is_exceeded_only_above_it() -> None:
    limit = S.per_transaction_limit_base.medium
    assert alerts([tx(limit, channel="transfer")]) == []
    (alert,) = alerts([tx(limit + CENT, channel="transfer", event_id="t")])
    assert alert.evidence["limit_kind"] == "per_transaction"
    assert alert.trigger_event_ids == ["t"]


def test_daily_limit_fires_once_when_crossed() -> None:
    daily = S.daily_limit_base.medium
    part = daily / 4
    events = [tx(part, at(hours=i), channel="transfer", event_id=f"p{i}") for i in range(4)]
    assert alerts(events) == []
    events.append(tx(CENT, at(hours=5), channel="transfer", event_id="over"))
    events.append(tx("10", at(hours=6), channel="transfer", event_id="more"))
    (alert,) = alerts(events)
    assert alert.evidence["limit_kind"] == "daily"
    assert alert.trigger_event_ids == ["p0", "p1", "p2", "p3", "over"]


def test_credits_do_not_count() -> None:
    assert alerts([tx(S.per_transaction_limit_base.medium * 10, direction="credit")]) == []


@pytest.mark.parametrize(("tier", "fires"), [("low", False), ("medium", False), ("high", True)])
def test_tighter_for_high_tier(tier: str, fires: bool) -> None:
    amount = S.per_transaction_limit_base.high + CENT
    assert bool(alerts([tier_profile(tier), tx(amount)])) is fires


def test_corporate_multiplier() -> None:
    corp = profile(at(days=-1), segment="corporate", industry="manufacturing", business_size="large")
    limit = S.per_transaction_limit_base.medium
    # Over an individual's medium limit, but under any tier's corporate limit.
    assert S.per_transaction_limit_base.high * S.corporate_limit_multiplier > limit + CENT
    assert alerts([tx(limit + CENT)]) != []
    assert alerts([corp, tx(limit + CENT)]) == []
    big = S.per_transaction_limit_base.low * S.corporate_limit_multiplier + CENT
    (alert,) = alerts([corp, tx(big)])
    assert alert.evidence["segment"] == "corporate"


def test_a_corporate_gets_its_own_tiers_limits_times_the_multiplier() -> None:
    """A medium-risk company is held to the medium tier's limits times ``corporate_limit_multiplier``,
    not an individual's: over the individual's limit is nothing for it, over its own is a breach."""
    corp = tier_profile("medium", segment="corporate")
    limit = S.per_transaction_limit_base.medium * S.corporate_limit_multiplier
    assert alerts([corp, tx(limit)]) == []
    (alert,) = alerts([corp, tx(limit + CENT)])
    assert (alert.evidence["limit_base"], alert.evidence["tier"]) == (str(limit), "medium")


def test_severity_rises_at_twice_and_five_times_the_limit() -> None:
    limit = S.per_transaction_limit_base.high
    found = [alerts([tier_profile("high"), tx(limit * k)]) for k in (2, 5)]
    found.append(alerts([tier_profile("high"), tx(limit * 2 - CENT)]))
    assert [[a.severity for a in f] for f in found] == [["high"], ["critical"], ["medium"]]


def test_a_lone_debit_over_both_limits_is_one_alert_and_after_others_two() -> None:
    """One event, one alert: a first debit of the day over the per-transaction and the daily limit is the
    per-transaction breach, the daily one in its evidence. After an earlier debit that day, the same
    debit also completes a daily breach of two debits: two alerts."""
    tier = tier_profile("high")
    over_both = S.daily_limit_base.high + CENT
    assert over_both > S.per_transaction_limit_base.high
    (alone,) = alerts([tier, tx(over_both, at(hours=1), event_id="big")])
    assert (alone.evidence["limit_kind"], alone.evidence["daily_limit_exceeded"]) == ("per_transaction", True)
    found = alerts(
        [tier, tx("10", at(hours=0), event_id="small"), tx(over_both, at(hours=1), event_id="big")]
    )
    assert [(a.evidence["limit_kind"], a.trigger_event_ids) for a in found] == [
        ("per_transaction", ["big"]),
        ("daily", ["small", "big"]),
    ]
    assert found[1].evidence["daily_limit_exceeded"] is True
