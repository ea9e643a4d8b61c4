"""Invariants of the engine over any valid event sequence (Hypothesis; deterministic CI profile)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from strategies import CUSTOMER, DETECTION, Event, Run, alert_key, event_sequences, feed, roundtrip_state

from detectors.engine import RiskEngine

ENGINE = RiskEngine(DETECTION)
BOUND_BYTES = 64 * 1024


def state_json(run: Run) -> str:
    return json.dumps(ENGINE.state_to_json(run.state), sort_keys=True)


@given(events=event_sequences(max_size=60))
def test_never_crashes_and_outputs_are_valid(events: list[Event]) -> None:
    run = feed(ENGINE, events)
    for alert in run.alerts:
        assert alert.customer_id == CUSTOMER
        assert 0 <= alert.score <= 1
        assert alert.trigger_event_ids
        assert json.loads(alert.model_dump_json())["alert_id"] == alert.alert_id
    assert run.state.events_processed == len(events)


@given(events=event_sequences())
def test_same_input_same_alerts(events: list[Event]) -> None:
    a, b = feed(RiskEngine(DETECTION), events), feed(RiskEngine(DETECTION), events)
    assert [alert_key(x) for x in a.alerts] == [alert_key(x) for x in b.alerts]
    assert a.risks == b.risks


@given(events=event_sequences(), data=st.data())
def test_redelivery_changes_nothing(events: list[Event], data: st.DataObject) -> None:
    redelivered = list(events)
    picks = data.draw(st.lists(st.integers(0, len(events) - 1), max_size=10), label="redelivered")
    for i in picks:
        # A redelivery arrives after the original (wherever earlier redeliveries moved it).
        original = next(k for k, e in enumerate(redelivered) if e is events[i])
        redelivered.insert(
            data.draw(st.integers(original + 1, len(redelivered)), label="position"), events[i]
        )
    straight, noisy = feed(ENGINE, events), feed(ENGINE, redelivered)
    assert [alert_key(x) for x in noisy.alerts] == [alert_key(x) for x in straight.alerts]
    assert noisy.risks == straight.risks
    assert noisy.duplicates == len(picks)
    assert state_json(noisy) == state_json(straight)


@given(events=event_sequences(max_size=80))
def test_state_stays_bounded(events: list[Event]) -> None:
    assert len(state_json(feed(ENGINE, events))) < BOUND_BYTES


@given(events=event_sequences(min_size=2), data=st.data())
def test_round_trip_at_any_split_equals_one_pass(events: list[Event], data: st.DataObject) -> None:
    split = data.draw(st.integers(0, len(events)), label="split")
    straight = feed(ENGINE, events)
    head = feed(ENGINE, events[:split])
    resumed = feed(
        ENGINE, events[split:], Run(roundtrip_state(ENGINE, head.state), list(head.alerts), list(head.risks))
    )
    assert [alert_key(x) for x in resumed.alerts] == [alert_key(x) for x in straight.alerts]
    assert resumed.risks == straight.risks
    assert state_json(resumed) == state_json(straight)


@given(a=event_sequences(max_size=20), b=event_sequences(max_size=20, customer_id="cust-2"), data=st.data())
def test_customers_are_independent(a: list[Event], b: list[Event], data: st.DataObject) -> None:
    """Interleaving two customers' events (each with its own state) changes neither customer's alerts."""
    order = data.draw(st.permutations([0] * len(a) + [1] * len(b)), label="interleaving")
    runs = {0: Run(ENGINE.new_state(CUSTOMER)), 1: Run(ENGINE.new_state("cust-2"))}
    queues = {0: list(a), 1: list(b)}
    for who in order:
        feed(ENGINE, [queues[who].pop(0)], runs[who])
    assert [alert_key(x) for x in runs[0].alerts] == [alert_key(x) for x in feed(ENGINE, a).alerts]
    assert [alert_key(x) for x in runs[1].alerts] == [alert_key(x) for x in feed(ENGINE, b).alerts]
