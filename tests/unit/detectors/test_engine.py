"""RiskEngine: deduplication, alert ids, cooldown bookkeeping, errors, privacy and state format."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from strategies import DETECTION, alert_key, at, contact, feed, roundtrip_state, tx

from detectors.engine import RiskEngine, alert_id
from schemas.events import EventError


def test_redelivered_event_is_a_duplicate() -> None:
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    event = tx("60000", channel="cash", event_id="dup")
    first = engine.process(state, event, at())
    again = engine.process(state, event, at())
    assert first.alerts
    assert not first.duplicate
    assert again.duplicate
    assert again.alerts == []
    assert again.risk is None
    assert state.events_processed == 1


def test_duplicate_detected_after_state_round_trip() -> None:
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    event = tx("60000", channel="cash", event_id="dup")
    engine.process(state, event, at())
    assert engine.process(roundtrip_state(engine, state), event, at()).duplicate


def test_alert_id_is_deterministic_and_distinct() -> None:
    assert alert_id("large_value", "c", ["a", "b"]) == alert_id("large_value", "c", ("a", "b"))
    assert (
        len(
            {
                alert_id("large_value", "c", ["a"]),
                alert_id("tier_limit", "c", ["a"]),
                alert_id("large_value", "d", ["a"]),
                alert_id("large_value", "c", ["a", "b"]),
            }
        )
        == 4
    )
    events = [tx("60000", channel="cash", event_id="e1")]
    one = feed(RiskEngine(DETECTION), events).alerts
    two = feed(RiskEngine(DETECTION), events).alerts
    assert [a.alert_id for a in one] == [a.alert_id for a in two]
    assert one[0].alert_id == alert_id("large_value", "cust-1", ["e1"])


def test_detected_at_is_only_a_label() -> None:
    events = [tx("60000", at(i * 60), channel="cash") for i in range(3)]
    engine = RiskEngine(DETECTION)
    a = engine.new_state("cust-1")
    b = engine.new_state("cust-1")
    out_a = [x for e in events for x in engine.process(a, e, datetime(2020, 1, 1, tzinfo=UTC)).alerts]
    out_b = [x for e in events for x in engine.process(b, e, datetime(2031, 1, 1, tzinfo=UTC)).alerts]
    assert [alert_key(x) for x in out_a] == [alert_key(x) for x in out_b]
    assert out_a[0].detected_at != out_b[0].detected_at


def test_alert_fields() -> None:
    (alert,) = [
        a
        for a in feed(RiskEngine(DETECTION), [tx("60000", at(), channel="cash", event_id="e")]).alerts
        if a.detector == "large_value"
    ]
    assert alert.event_time == at()
    assert alert.customer_id == "cust-1"
    assert alert.schema_version == 1
    assert alert.trigger_event_ids[-1] == "e"
    assert alert.reason.endswith(".")


def test_event_errors_remember_nothing() -> None:
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    before = json.dumps(engine.state_to_json(state))
    with pytest.raises(EventError, match="currency"):
        engine.process(state, tx("10", currency="XXX", event_id="bad"), at())
    with pytest.raises(EventError, match="amount"):
        engine.process(state, tx("1e308", currency="USD", event_id="huge"), at())
    assert json.dumps(engine.state_to_json(state)) == before
    # Fixed upstream and redelivered under the same id, it is processed, not taken for a duplicate.
    assert not engine.process(state, tx("10", event_id="bad"), at()).duplicate


def test_no_personal_data_anywhere() -> None:
    email = "Secret.Person@example.com"
    engine = RiskEngine(DETECTION)
    events = [
        contact("email", email, at(0)),
        contact("phone", "+86 186 0000 9999", at(60)),
        contact("device", "imei-356938035643809", at(120)),
        tx("20000", at(180), channel="transfer", counterparty_id="mule"),
    ]
    run = feed(engine, events)
    assert {a.detector for a in run.alerts} >= {"contact_change_burst", "account_takeover"}
    blob = " ".join(a.model_dump_json() for a in run.alerts) + json.dumps(engine.state_to_json(run.state))
    for value in (email, email.lower(), "186 0000", "356938035643809"):
        assert value not in blob


def test_unsupported_state_version() -> None:
    engine = RiskEngine(DETECTION)
    data = engine.state_to_json(engine.new_state("c"))
    with pytest.raises(ValueError, match="state format"):
        engine.state_from_json({**data, "v": 99})


def test_cooldown_is_per_detector_and_key() -> None:
    # Two different large-value days are two patterns; two cash reports the same day after the first too.
    events = [
        tx("60000", at(days=0), channel="cash"),
        tx("60000", at(days=1), channel="cash"),
        tx("60000", at(days=1, seconds=60), channel="cash"),
    ]
    run = feed(RiskEngine(DETECTION), events)
    assert len([a for a in run.alerts if a.detector == "large_value"]) == 3
