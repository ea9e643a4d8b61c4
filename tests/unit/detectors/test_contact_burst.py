"""contact_change_burst: several distinct contact-detail changes within a window."""

from __future__ import annotations

import json

import pytest
from strategies import DETECTION, at, by_detector, contact, feed, tier_profile

from detectors.engine import RiskEngine

S = DETECTION.contact_change_burst
NAME = "contact_change_burst"
PHONE = "+86 139 5555 0101"


def alerts(events: list) -> list:
    return by_detector(feed(RiskEngine(DETECTION), events).alerts, NAME)


def test_one_or_two_changes_are_normal() -> None:
    assert alerts([contact("phone", "1", at(0))]) == []
    assert alerts([contact("phone", "1", at(0)), contact("email", "e", at(60))]) == []


def test_three_distinct_changes_fire_once() -> None:
    events = [
        contact("phone", "1", at(0), event_id="c1"),
        contact("email", "e", at(60), event_id="c2"),
        contact("address", "a", at(120), event_id="c3"),
    ]
    (alert,) = alerts(events)
    assert alert.trigger_event_ids == ["c1", "c2", "c3"]
    assert alert.evidence["fields_changed"] == ["address", "email", "phone"]
    assert alert.severity == "medium"


def test_same_new_value_twice_is_one_change() -> None:
    events = [contact("phone", "1", at(0)), contact("phone", " 1 ", at(60)), contact("email", "e", at(120))]
    assert alerts(events) == []


def test_window_edge() -> None:
    first = contact("phone", "1", at(0))
    second = contact("email", "e", at(60))
    assert alerts([first, second, contact("address", "a", at(S.window_seconds))]) == []
    assert alerts([first, second, contact("address", "a", at(S.window_seconds - 1))]) != []


def test_escalation_when_takeover_fields_complete_the_set() -> None:
    events = [
        contact("phone", "1", at(0)),
        contact("email", "e", at(60)),
        contact("address", "a", at(120)),
        contact("address", "b", at(180)),
        contact("device", "d", at(240), event_id="dev"),
    ]
    found = alerts(events)
    # The fourth change repeats the pattern (cooldown); the device change makes it high: a new alert.
    assert [a.severity for a in found] == ["medium", "high"]
    assert found[1].trigger_event_ids[-1] == "dev"


@pytest.mark.parametrize(("tier", "fires"), [("low", False), ("medium", False), ("high", True)])
def test_tighter_for_high_tier(tier: str, fires: bool) -> None:
    events = [tier_profile(tier), contact("phone", "1", at(0)), contact("email", "e", at(60))]
    assert bool(alerts(events)) is fires


def test_no_personal_data_in_alerts_or_state() -> None:
    engine = RiskEngine(DETECTION)
    events = [
        contact("phone", PHONE, at(0)),
        contact("email", "Mallory@Evil.example", at(60)),
        contact("device", "device-fingerprint-XYZ", at(120)),
    ]
    run = feed(engine, events)
    assert run.alerts
    text = " ".join(a.model_dump_json() for a in run.alerts) + json.dumps(engine.state_to_json(run.state))
    for value in (PHONE, "Mallory", "mallory@evil.example", "device-fingerprint", "5555"):
        assert value.lower() not in text.lower()
    assert PHONE not in repr(events[0])


def test_severity_rises_with_the_count_of_changes() -> None:
    """At the threshold (3 at medium) an alert is medium, at 1.5 times it (5 changes) high, each a new
    alert within the cooldown because it is worse. The high alert lifts the customer to the high tier
    (threshold 2), where the sixth change is 3 times the threshold, past 2.5: critical. No device change
    among them, so the takeover set (phone, email and device) lifts nothing."""
    assert S.min_changes.medium == 3
    fields = ["phone", "email", "address"]
    events = [contact(fields[i % 3], f"value-{i}", at(60 * i), event_id=f"c{i}") for i in range(8)]
    found = alerts(events)
    assert [(a.severity, a.evidence["change_count"]) for a in found] == [("medium", 3), ("high", 5), ("critical", 6)]  # fmt: skip
    first = found[0]
    assert (first.evidence["min_changes"], found[2].evidence["min_changes"]) == (3, S.min_changes.high)
    assert first.evidence["window_seconds"] == S.window_seconds
    assert f"(address, email, phone) within {S.window_seconds // 3600} hours" in first.reason
    assert 0 < first.score < found[1].score < found[2].score
