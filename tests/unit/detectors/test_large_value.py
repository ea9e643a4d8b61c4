"""large_value: PBoC large-value reports, single and same-day totals, in the Asia/Shanghai reporting day."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from strategies import DETECTION, at, by_detector, feed, profile, tx

from detectors.engine import RiskEngine
from schemas.events import EventError

S = DETECTION.large_value
NAME = "large_value"
CASH = S.cash_threshold_base


def alerts(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def test_single_cash_at_threshold_fires_below_does_not() -> None:
    (alert,) = alerts([tx(CASH, channel="cash", event_id="c")])
    assert alert.trigger_event_ids == ["c"]
    assert alert.evidence["aggregate"] is False
    assert alert.evidence["report_kind"] == "cash"
    assert alerts([tx(CASH - Decimal("0.01"), channel="cash")]) == []


def test_same_day_total_reaches_threshold() -> None:
    half = CASH / 2
    (alert,) = alerts(
        [
            tx(half, at(hours=0), channel="cash", event_id="a"),
            tx(half, at(hours=3), channel="atm", event_id="b"),
        ]
    )
    assert alert.trigger_event_ids == ["a", "b"]
    assert alert.evidence["aggregate"] is True
    assert alert.evidence["amount_base"] == str(CASH)


def test_reporting_day_is_shanghai_calendar_day() -> None:
    # 15:30 UTC is 23:30 in Shanghai; 16:30 UTC is 00:30 the next day there.
    half = CASH / 2
    late = tx(half, datetime(2024, 3, 4, 15, 30, tzinfo=UTC), channel="cash")
    next_day = tx(half, datetime(2024, 3, 4, 16, 30, tzinfo=UTC), channel="cash")
    assert alerts([late, next_day]) == []
    (alert,) = alerts([tx(CASH, datetime(2024, 3, 4, 23, 30, tzinfo=UTC), channel="cash")])
    assert alert.evidence["reporting_day"] == "2024-03-05"
    # Same UTC day, same Shanghai day (01:00 and 15:00 UTC are 09:00 and 23:00 there): aggregated.
    assert (
        alerts(
            [
                tx(half, datetime(2024, 3, 4, 1, tzinfo=UTC), channel="cash"),
                tx(half, datetime(2024, 3, 4, 15, tzinfo=UTC), channel="cash"),
            ]
        )
        != []
    )


def test_directions_are_separate() -> None:
    half = CASH / 2
    assert alerts([tx(half, channel="cash"), tx(half, channel="cash", direction="credit")]) == []


@pytest.mark.parametrize(
    ("threshold", "country", "kind"),
    [
        (S.individual_transfer_domestic_threshold_base, "CN", "individual_transfer_domestic"),
        (S.individual_transfer_cross_border_threshold_base, "US", "individual_transfer_cross_border"),
    ],
)
def test_individual_transfers(threshold: Decimal, country: str, kind: str) -> None:
    (alert,) = alerts([tx(threshold, channel="transfer", counterparty_country=country)])
    assert alert.evidence["report_kind"] == kind
    assert alerts([tx(threshold - Decimal("0.01"), channel="transfer", counterparty_country=country)]) == []


def test_corporate_transfers_have_their_own_threshold() -> None:
    corp = profile(at(days=-1), segment="corporate", industry="manufacturing", business_size="large")
    individual_bar = S.individual_transfer_domestic_threshold_base
    assert alerts([corp, tx(individual_bar, channel="transfer")]) == []
    (alert,) = alerts([corp, tx(S.corporate_transfer_threshold_base, channel="transfer")])
    assert alert.evidence["report_kind"] == "corporate_transfer"


def test_after_the_day_is_reported_each_large_one_is_reported_alone() -> None:
    found = alerts(
        [
            tx(CASH, at(0), channel="cash", event_id="a"),
            tx("10", at(60), channel="cash"),
            tx(CASH, at(120), channel="cash", event_id="b"),
        ]
    )
    assert [a.trigger_event_ids for a in found] == [["a"], ["b"]]


def test_usd_is_converted_with_the_configured_rate() -> None:
    rate = DETECTION.fx_rates_to_base["USD"]
    usd = (CASH / rate).quantize(Decimal("0.01")) + Decimal("0.01")
    (alert,) = alerts([tx(usd, currency="USD", channel="cash")])
    assert Decimal(alert.evidence["amount_base"]) == usd * rate
    assert alerts([tx(usd - Decimal("0.02"), currency="USD", channel="cash")]) == []


def test_unknown_currency_is_an_event_error_and_leaves_no_trace() -> None:
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    before = engine.state_to_json(state)
    with pytest.raises(EventError) as err:
        engine.process(state, tx(CASH, currency="XYZ", channel="cash", event_id="x"), at())
    assert err.value.reason.startswith("currency")
    assert engine.state_to_json(state) == before


def test_redelivered_event_counts_once() -> None:
    half = CASH / 2
    assert (
        alerts([tx(half, channel="cash", event_id="same"), tx(half, channel="cash", event_id="same")]) == []
    )


def test_reporting_day_cache_follows_local_midnight_in_both_directions() -> None:
    from datetime import datetime

    from config.settings import load_settings
    from detectors.engine import RiskEngine

    engine = RiskEngine(load_settings().detection)
    for text, day in [
        ("2026-03-01T15:59:59+00:00", "2026-03-01"),  # 23:59:59 in Shanghai
        ("2026-03-01T16:00:00+00:00", "2026-03-02"),  # midnight in Shanghai
        ("2026-03-01T15:59:59+00:00", "2026-03-01"),  # back across the boundary (a late event)
        ("2026-03-02T01:00:00+08:00", "2026-03-02"),
        ("2026-02-28T23:30:00-05:00", "2026-03-01"),
    ]:
        when = datetime.fromisoformat(text)
        assert engine._reporting_day(when, when.timestamp()) == day


def test_a_second_large_one_right_after_the_reported_one_is_reported_alone() -> None:
    """Two large cash deposits in a day are two reports, each of its own amount, the second one too."""
    found = alerts([tx(CASH, at(0), channel="cash", event_id="a"), tx(CASH * 2, at(60), channel="cash", event_id="b")])  # fmt: skip
    assert [a.trigger_event_ids for a in found] == [["a"], ["b"]]
    second = found[1].evidence
    assert (second["amount_base"], second["transaction_count"], second["aggregate"]) == (
        str(CASH * 2),
        1,
        False,
    )
    assert second["direction"] == "debit"


def test_four_times_the_threshold_is_high() -> None:
    severities = [a.severity for a in alerts([tx(CASH * 4, channel="cash")])]
    severities += [a.severity for a in alerts([tx(CASH * 4 - Decimal("0.01"), channel="cash")])]
    assert severities == ["high", "medium"]


def test_a_late_deposit_adds_to_its_own_days_total_while_the_day_is_tracked() -> None:
    """Day totals are kept for the last ``max_tracked_days`` reporting days only (bounded state), the day
    being added to included: a deposit consumed late still adds to its own day's total."""
    days = S.max_tracked_days + 1
    events = [tx(CASH * 3 / 5, at(days=i), channel="cash", event_id=f"d{i}") for i in range(days)]
    late = tx(CASH / 2, at(days=days - 2, hours=1), channel="cash", event_id="late")
    run = feed(RiskEngine(DETECTION), [*events, late])
    assert [a.trigger_event_ids for a in by_detector(run.alerts, NAME)] == [[f"d{days - 2}", "late"]]
    assert len(run.state.detectors[NAME].days()) == S.max_tracked_days
