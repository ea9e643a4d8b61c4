"""amount_spike: a debit far above the customer's own median/MAD baseline of debits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from strategies import DETECTION, at, by_detector, feed, tier_profile, tx

from detectors.engine import RiskEngine

S = DETECTION.amount_spike
NAME = "amount_spike"


def history(amount: str = "1000", n: int = S.min_history_events, payee: str = "shop") -> list:
    return [tx(amount, at(hours=i), counterparty_id=f"{payee}-{i}") for i in range(n)]


def spikes(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def test_silent_before_min_history() -> None:
    assert spikes([*history(n=S.min_history_events - 1), tx("900000", at(hours=20))]) == []


def test_fires_once_history_is_long_enough() -> None:
    found = spikes([*history(), tx("60000", at(hours=20), event_id="big")])
    assert [a.trigger_event_ids for a in found] == [["big"]]
    assert found[0].evidence["baseline_events"] == S.min_history_events
    assert found[0].severity == "critical"  # 60x against a 5x threshold


def test_ratio_exactly_at_threshold_fires_just_below_does_not() -> None:
    ratio = Decimal(str(S.min_ratio_to_median.medium))  # the default tier is medium
    assert spikes([*history(), tx(ratio * 1000, at(hours=20))]) != []
    assert spikes([*history(), tx(ratio * 1000 - Decimal("0.01"), at(hours=20))]) == []


def test_absolute_floor_per_tier() -> None:
    floor = S.min_amount_base.medium
    assert spikes([*history("100"), tx(floor - Decimal("0.01"), at(hours=20))]) == []
    assert spikes([*history("100"), tx(floor, at(hours=20))]) != []


def test_credits_never_spike() -> None:
    assert spikes([*history(), tx("900000", at(hours=20), direction="credit")]) == []


@pytest.mark.parametrize(("tier", "fires"), [("low", False), ("medium", False), ("high", True)])
def test_tighter_for_high_tier(tier: str, fires: bool) -> None:
    # 4.5x a median of 300 = 1350: over the high tier's 4x and 1000 floor, under medium's 5x and 2000 floor.
    events = [tier_profile(tier), *history("300"), tx("1350", at(hours=20))]
    found = spikes(events)
    assert bool(found) is fires
    assert all(a.risk_tier == tier for a in found)


def test_outlier_does_not_poison_baseline() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [*history(), tx("50000", at(hours=20))])
    assert 50000.0 not in run.state.ctx.debit_baseline.amounts
    assert run.state.ctx.debit_baseline.median() == pytest.approx(1000)
    # After the cooldown the same kind of outlier is still an outlier.
    feed(engine, [tx("50000", at(hours=20, seconds=S.cooldown_seconds + 1), event_id="again")], run)
    assert [a.trigger_event_ids for a in by_detector(run.alerts, NAME)][-1] == ["again"]


def test_cooldown_one_pattern_one_alert_and_escalation() -> None:
    base = [*history(), tx("10000", at(hours=20), event_id="s1")]  # 10x: medium (ratio/min 2 -> high?)
    first = spikes(base)
    assert len(first) == 1
    same = spikes([*base, tx("10000", at(hours=21), event_id="s2")])
    assert [a.trigger_event_ids for a in same] == [["s1"]]
    worse = spikes([*base, tx("200000", at(hours=21), event_id="s3")])
    assert [a.trigger_event_ids for a in worse] == [["s1"], ["s3"]]
    assert worse[1].severity == "critical"
    assert first[0].severity != "critical"


def test_recurring_payment_to_known_payee_does_not_alert() -> None:
    rent = [
        tx("4500", at(days=-60 + 30 * i), counterparty_id="landlord")
        for i in range(S.recurring_min_occurrences)
    ]
    events = [*rent, *history("100")]
    assert spikes([*events, tx("4500", at(hours=20), counterparty_id="landlord")]) == []
    assert spikes([*events, tx("4500", at(hours=20), counterparty_id="stranger")]) != []
    # Far from the usual rent is not "recurring".
    assert spikes([*events, tx("9000", at(hours=20), counterparty_id="landlord")]) != []


def test_evidence_names_figures() -> None:
    (alert,) = spikes([*history(), tx("60000", at(hours=20))])
    assert alert.evidence["amount_base"] == "60000"
    assert alert.evidence["baseline_median_base"] == pytest.approx(1000)
    assert alert.evidence["new_counterparty"] is True
    assert 0 < alert.score <= 1
