"""structuring: cash just below the reporting threshold, several times within a window."""

from __future__ import annotations

from decimal import Decimal

import pytest
from strategies import DETECTION, at, by_detector, feed, tier_profile, tx

from detectors.engine import RiskEngine

S = DETECTION.structuring
NAME = "structuring"
THRESHOLD = DETECTION.large_value.cash_threshold_base
FLOOR = THRESHOLD * Decimal(str(S.near_threshold_ratio))
N = int(S.min_transactions.medium)


def alerts(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def cash(amount: object, hours: float, **kw: object) -> object:
    return tx(amount, at(hours=hours), channel=kw.pop("channel", "cash"), **kw)  # type: ignore[arg-type]


def test_fires_on_the_completing_deposit() -> None:
    events = [cash("45000", i, event_id=f"d{i}", direction="credit") for i in range(N)]
    (alert,) = alerts(events)
    assert alert.trigger_event_ids == [f"d{i}" for i in range(N)]
    assert alert.evidence["total_base"] == str(45000 * N)
    assert alert.evidence["direction"] == "credit"


def test_one_fewer_is_silent() -> None:
    assert alerts([cash("45000", i) for i in range(N - 1)]) == []


def test_band_edges() -> None:
    assert alerts([cash(FLOOR, i) for i in range(N)]) != []
    assert alerts([cash(FLOOR - Decimal("0.01"), i) for i in range(N)]) == []
    assert alerts([cash(THRESHOLD, i) for i in range(N)]) == []  # at the threshold it is reported anyway


def test_directions_are_separate_and_atm_counts() -> None:
    mixed = [cash("45000", 0), cash("45000", 1, direction="credit"), cash("45000", 2, channel="atm")]
    assert alerts(mixed) == []
    assert alerts([cash("45000", i, channel="atm") for i in range(N)]) != []
    assert alerts([cash("45000", i, channel="card") for i in range(N)]) == []


def test_window_edge() -> None:
    hours = S.window_seconds / 3600
    rest = [cash("45000", 1 + i) for i in range(N - 2)]
    assert alerts([cash("45000", 0), *rest, cash("45000", hours)]) == []
    assert alerts([cash("45000", 0), *rest, cash("45000", hours - 0.001)]) != []


def weekly_near_line(per_week: int, weeks: int = 8) -> list:
    """A cash business whose takings come close to the line ``per_week`` times a week, for ``weeks``."""
    return [
        cash("42000", (-weeks * 7 + w * 7 + d) * 24, event_id=f"u{w}-{d}", direction="credit")
        for w in range(weeks)
        for d in range(per_week)
    ]


def test_days_apart_within_the_week_count() -> None:
    """Structuring is judged over days: deposits two days apart are one pattern."""
    (alert,) = alerts([cash("45000", 48 * i, direction="credit") for i in range(N)])
    assert alert.evidence["window_seconds"] == 7 * 86400


def test_the_customers_own_usual_raises_the_bar() -> None:
    """Two near-line deposits every week are this business's takings: three more is no news, six is."""
    usual = weekly_near_line(2)
    assert alerts([*usual, *[cash("45000", i, direction="credit") for i in range(N)]]) == []
    required = int(S.usual_count_multiplier.medium * 2)
    found = alerts([*usual, *[cash("45000", i, direction="credit") for i in range(required)]])
    assert [a.evidence["required_count"] for a in found] == [pytest.approx(required, rel=0.05)]


@pytest.mark.parametrize(("tier", "fires"), [("low", False), ("medium", False), ("high", True)])
def test_tighter_for_high_tier(tier: str, fires: bool) -> None:
    n = int(S.usual_count_multiplier.high * 2)
    week = [cash("45000", i, direction="credit") for i in range(n)]
    assert bool(alerts([tier_profile(tier), *weekly_near_line(2), *week])) is fires


def test_cooldown_then_escalation_to_critical() -> None:
    found = alerts([cash("49000", i) for i in range(N + 1)])
    # 3 x 49000 is under three thresholds (high); the fourth takes it over (critical): a second alert.
    assert [a.severity for a in found] == ["high", "critical"]
    assert len(found[1].trigger_event_ids) == N + 1
    assert len({a.alert_id for a in found}) == len(found)


def test_structuring_every_week_does_not_become_the_usual() -> None:
    """Deposits that made an alert stay out of the customer's usual count: a weekly structurer alerts weekly."""
    weeks = [
        cash("45000", (8 * w) * 24 + i, direction="credit", event_id=f"w{w}-{i}")
        for w in range(4)
        for i in range(N)
    ]
    found = alerts(weeks)
    assert [a.trigger_event_ids[-1] for a in found] == [f"w{w}-{N - 1}" for w in range(4)]


def test_withdrawals_of_a_new_customer_are_named_and_judged_on_the_minimum_count() -> None:
    """Withdrawals are their own pattern, named as such; a customer seen for less than a window has no
    usual count of near-threshold cash (0, not a guess), so the tier's minimum count is the bar."""
    (alert,) = alerts([cash("45000", i, event_id=f"w{i}") for i in range(N)])
    assert alert.evidence["direction"] == "debit"
    assert f"{N} cash withdrawals each between" in alert.reason
    assert alert.evidence["usual_per_window"] == 0
    assert alert.evidence["required_count"] == N
