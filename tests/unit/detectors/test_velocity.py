"""velocity_spike: many transactions in a sliding window against the customer's usual rate."""

from __future__ import annotations

import pytest
from strategies import DETECTION, at, by_detector, feed, tier_profile, tx

from detectors.engine import RiskEngine

S = DETECTION.velocity_spike
NAME = "velocity_spike"
# Before a usual rate is known (cold start) only this count alerts.
FLOOR = int(S.cold_start_min_window_count.medium)


def alerts(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def burst(n: int, start: float = 0, step: float = 60, prefix: str = "b") -> list:
    return [tx("20", at(start + i * step), event_id=f"{prefix}{i}") for i in range(n)]


def test_cold_start_floor_exactly_at_and_below() -> None:
    assert alerts(burst(FLOOR - 1)) == []
    found = alerts(burst(FLOOR))
    assert len(found) == 1
    assert found[0].trigger_event_ids == [f"b{i}" for i in range(FLOOR)]
    assert found[0].evidence["usual_per_window"] is None


def test_window_edge_is_exclusive_at_the_start() -> None:
    first = [tx("20", at(0), event_id="first")]
    rest = [tx("20", at(S.window_seconds - 60 + i), event_id=f"r{i}") for i in range(FLOOR - 2)]
    assert alerts([*first, *rest, tx("20", at(S.window_seconds), event_id="edge")]) == []
    assert alerts([*first, *rest, tx("20", at(S.window_seconds - 1), event_id="inside")]) != []


def test_late_event_within_lateness_counts() -> None:
    on_time = burst(FLOOR - 1, start=1000, step=1)
    late = tx("20", at(1000 - DETECTION.allowed_lateness_seconds + 1), event_id="late")
    (alert,) = alerts([*on_time, late])
    assert "late" in alert.trigger_event_ids
    assert alert.trigger_event_ids[-1] == f"b{FLOOR - 2}" or alert.trigger_event_ids[0] == "late"


def test_cooldown_then_escalation() -> None:
    found = alerts(burst(int(FLOOR * 1.5)))
    # One alert when the floor is reached, one more only when severity rises (ratio 1.5 -> high).
    assert [a.severity for a in found] == ["medium", "high"]
    assert len(found[1].trigger_event_ids) == int(FLOOR * 1.5)


@pytest.mark.parametrize(("tier", "fires"), [("low", False), ("medium", False), ("high", True)])
def test_tier_floor(tier: str, fires: bool) -> None:
    n = int(S.cold_start_min_window_count.high)
    assert bool(alerts([tier_profile(tier), *burst(n)])) is fires


def test_busy_customer_has_a_higher_bar() -> None:
    # Five days of 200 transactions a day: usually ~14 an hour, so 2*FLOOR within an hour is normal for them.
    history = [
        tx("20", at(days=d, seconds=252 * i), event_id=f"h{d}-{i}") for d in range(-5, 0) for i in range(200)
    ]
    today = burst(2 * FLOOR, start=15 * 3600)
    assert alerts(today) != []  # a customer without that history alerts
    busy = [a for a in alerts([*history, *today]) if a.event_time >= at(15 * 3600)]
    assert busy == []


def quiet_days(days: int = 10, per_day: int = 1) -> list:
    """A low-activity customer: ``per_day`` card payments a day at 10:00, 14:00, ... at the same shop."""
    return [
        tx("50", at(days=-days + d, hours=1 + 4 * i), event_id=f"q{d}-{i}", counterparty_id="shop")
        for d in range(days)
        for i in range(per_day)
    ]


def new_payees(n: int, start: float = 5 * 3600, step: float = 60, prefix: str = "n") -> list:
    """``n`` debits, each to a counterparty the customer has never paid (card testing, a cash-out)."""
    return [
        tx("20", at(start + i * step), event_id=f"{prefix}{i}", counterparty_id=f"{prefix}-payee-{i}")
        for i in range(n)
    ]


NEW_FLOOR = int(S.min_new_counterparty_count.medium)


def test_low_activity_burst_to_new_counterparties_alerts_below_the_cold_start_floor() -> None:
    """One payment a day, then 8 within an hour to never-paid payees: no fixed high floor blocks it."""
    assert NEW_FLOOR < FLOOR
    (alert,) = alerts([*quiet_days(), *new_payees(NEW_FLOOR)])
    assert alert.evidence["window_seconds"] == S.window_seconds
    assert alert.evidence["new_counterparty_count"] == NEW_FLOOR
    assert alert.evidence["usual_per_window"] < 0.1
    # ... but one fewer never does, nor the same number at the customer's own shop.
    assert alerts([*quiet_days(), *new_payees(NEW_FLOOR - 1)]) == []
    at_the_shop = [tx("20", at(5 * 3600 + i * 60), counterparty_id="shop") for i in range(NEW_FLOOR)]
    assert alerts([*quiet_days(), *at_the_shop]) == []


def test_any_transactions_alert_at_their_own_higher_floor() -> None:
    """A card run at a merchant the customer knows: only the larger any-transaction count alerts."""
    n = int(S.min_window_count.medium)
    run = [tx("20", at(5 * 3600 + i * 60), event_id=f"k{i}", counterparty_id="shop") for i in range(n)]
    assert alerts([*quiet_days(), *run[:-1]]) == []
    (alert,) = alerts([*quiet_days(), *run])
    assert alert.evidence["new_counterparty_count"] is None
    assert alert.evidence["window_count"] == n


def test_payday_raises_the_new_counterparty_bar() -> None:
    """An evening of shopping at new places right after the salary came in is ordinary; far more is not."""
    salary = tx("9000", at(hours=1), direction="credit", channel="transfer", counterparty_id="employer")
    raised = int(S.payday_floor_factor * NEW_FLOOR)
    assert alerts([*quiet_days(), salary, *new_payees(raised - 1)]) == []
    (alert,) = alerts([*quiet_days(), salary, *new_payees(raised)])
    assert alert.evidence["threshold_count"] == raised
    # ... and a day later the usual bar is back
    late = new_payees(NEW_FLOOR, start=1 * 3600 + S.payday_window_seconds + 60)
    assert len(alerts([*quiet_days(), salary, *late])) == 1


def test_day_window_catches_a_spread_out_day() -> None:
    """One a day usually, then one an hour to new payees for 14 hours: no hour is busy, the day is."""
    day = new_payees(14, start=0, step=3600, prefix="d")
    (alert,) = alerts([*quiet_days(per_day=1), *day])
    assert alert.evidence["window_seconds"] == S.day_window_seconds
    assert alert.evidence["new_counterparty_count"] == int(S.min_day_new_counterparty_count.medium)
    assert alert.trigger_event_ids[-1] == f"d{int(S.min_day_new_counterparty_count.medium) - 1}"
    # 14 new payees in a day is not unusual for a customer who meets a new one every hour or two
    busy = [
        tx("50", at(days=-10 + d, hours=1 + h), counterparty_id=f"old-{d}-{h}")
        for d in range(10)
        for h in range(8)
    ]
    assert alerts([*busy, *day]) == []


def test_day_window_waits_for_a_usual_rate() -> None:
    assert alerts([tx("50", at(hours=h)) for h in range(12)]) == []


def test_only_an_individuals_large_credit_is_a_payday() -> None:
    """A salary lifts an individual's new-counterparty bar; a company's large incoming payment or an
    individual's small one does not: the burst after them alerts at the usual bar."""
    salary = tx("9000", at(hours=1), direction="credit", channel="transfer", counterparty_id="employer")
    small = tx("60", at(hours=1), direction="credit", channel="transfer", counterparty_id="friend")
    company = tier_profile("medium", segment="corporate")
    assert alerts([*quiet_days(), salary, *new_payees(NEW_FLOOR)]) == []
    assert len(alerts([company, *quiet_days(), salary, *new_payees(NEW_FLOOR)])) == 1
    assert len(alerts([*quiet_days(), small, *new_payees(NEW_FLOOR)])) == 1


def test_an_hours_burst_stays_out_of_the_amount_baseline() -> None:
    """Card testing is many tiny debits: learned, they would drag the customer's median down and make
    their next ordinary payment look like a spike."""
    run = feed(RiskEngine(DETECTION), [*quiet_days(), *new_payees(NEW_FLOOR)])
    assert len(by_detector(run.alerts, NAME)) == 1
    assert 20.0 not in run.state.ctx.debit_baseline.amounts
    assert 50.0 in run.state.ctx.debit_baseline.amounts
