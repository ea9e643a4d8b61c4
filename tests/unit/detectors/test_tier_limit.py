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
