"""One generic check suite run against every detector and against the engine as a whole (river's ``checks/``).

Each detector runs inside a real engine (which keeps the shared context) behind a ``Recorder`` that captures
its raw findings and checks, on every call, that it mutates neither the observation nor the context.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    DETECTION,
    DETECTOR_NAMES,
    Event,
    Run,
    alert_key,
    at,
    contact,
    dense_traffic,
    engine_recording,
    event_sequences,
    feed,
    profile,
    roundtrip_state,
    tx,
    varied_traffic,
)

from detectors.engine import RiskEngine, build_detectors

# JSON bytes of one customer's whole state after 10k events of varied traffic must stay under this.
STATE_BOUND_BYTES = 64 * 1024
TRAFFIC_EVENTS = 10_000
# ... and under a worst case of an event every 30 seconds, where every window and id list is at its cap.
DENSE_STATE_BOUND_BYTES = 160 * 1024


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _findings(name: str, events: list[Event]) -> list[tuple[str, Any]]:
    engine, rec = engine_recording(name)
    feed(engine, events)
    assert rec.mutations == []
    return [(eid, f) for eid, f in rec.findings]


def test_every_detector_is_covered() -> None:
    names = [d.name for d in build_detectors(DETECTION)]
    assert names == DETECTOR_NAMES
    assert len(set(names)) == len(names) == 7


@pytest.fixture(scope="module")
def traffic() -> list[Event]:
    return varied_traffic(TRAFFIC_EVENTS, seed=11)


@pytest.fixture(scope="module")
def traffic_run(traffic: list[Event]) -> Run:
    return feed(RiskEngine(DETECTION), traffic)


# --------------------------------------------------------------------------------- per detector
@pytest.mark.parametrize("name", DETECTOR_NAMES)
class TestDetectorContract:
    @given(events=event_sequences())
    def test_deterministic(self, name: str, events: list[Event]) -> None:
        assert _findings(name, events) == _findings(name, events)

    @given(events=event_sequences())
    def test_no_mutation_of_observation_or_context(self, name: str, events: list[Event]) -> None:
        dumped = [e.model_dump_json() for e in events]
        engine, rec = engine_recording(name)
        feed(engine, events)
        assert rec.mutations == []
        assert [e.model_dump_json() for e in events] == dumped

    @given(events=event_sequences(min_size=2), data=st.data())
    def test_state_json_round_trip(self, name: str, events: list[Event], data: st.DataObject) -> None:
        split = data.draw(st.integers(min_value=0, max_value=len(events)), label="split")
        straight = _findings(name, events)

        engine, rec = engine_recording(name)
        run = feed(engine, events[:split])
        detector = next(d for d in engine.detectors if d.name == name)
        wire = json.dumps(detector.state_to_json(run.state.detectors[name]))
        run.state.detectors[name] = detector.state_from_json(json.loads(wire))
        assert _json(detector.state_to_json(run.state.detectors[name])) == _json(json.loads(wire))
        feed(engine, events[split:], run)
        assert rec.findings == straight

    @given(events=event_sequences())
    def test_state_view_serialises_as_state_to_json(self, name: str, events: list[Event]) -> None:
        """The worker writes ``state_view`` (no copies) to the changelog; it must read back the same."""
        engine, rec = engine_recording(name)
        state = feed(engine, events).state.detectors[name]
        assert orjson.loads(orjson.dumps(rec.state_view(state))) == json.loads(
            json.dumps(rec.state_to_json(state))
        )

    def test_cold_start_on_every_kind_of_first_event(self, name: str) -> None:
        firsts: list[Event] = [
            tx("49999", at(), channel="cash"),
            tx("9000000", at(), channel="transfer", counterparty_id="p", counterparty_country="US"),
            tx("1", at(), direction="credit"),
            contact("device", None),
            contact("email", "a@b.example"),
            profile(politically_exposed=True),
        ]
        for first in firsts:
            engine, rec = engine_recording(name)
            state = engine.new_state("cust-1")
            assert json.loads(json.dumps(engine.state_to_json(state)))["detectors"][name] == json.loads(
                json.dumps(rec.state_to_json(rec.new_state()))
            )
            engine.process(state, first, at())
            assert rec.mutations == []

    def test_new_state_round_trips(self, name: str) -> None:
        _, rec = engine_recording(name)
        data = json.loads(json.dumps(rec.state_to_json(rec.new_state())))
        assert _json(rec.state_to_json(rec.state_from_json(data))) == _json(data)

    def test_state_bounded_after_10k_events(self, name: str, traffic_run: Run) -> None:
        engine = RiskEngine(DETECTION)
        detector = next(d for d in engine.detectors if d.name == name)
        size = len(json.dumps(detector.state_to_json(traffic_run.state.detectors[name])))
        assert size < STATE_BOUND_BYTES / 2, f"{name}: {size} bytes"

    def test_to_json_is_a_snapshot(self, name: str, traffic: list[Event]) -> None:
        """A state_to_json result kept in memory (a checkpoint) must not change as the state moves on."""
        engine = RiskEngine(DETECTION)
        detector = next(d for d in engine.detectors if d.name == name)
        run = feed(engine, traffic[:3000])
        snapshot = detector.state_to_json(run.state.detectors[name])
        frozen = _json(snapshot)
        feed(engine, traffic[3000:3600], run)
        assert _json(snapshot) == frozen


# ------------------------------------------------------------------------------------ the engine
@given(events=event_sequences())
def test_engine_deterministic(events: list[Event]) -> None:
    first = feed(RiskEngine(DETECTION), events)
    second = feed(RiskEngine(DETECTION), events)
    assert [alert_key(a) for a in first.alerts] == [alert_key(a) for a in second.alerts]
    assert [r.model_dump_json() for r in first.risks] == [r.model_dump_json() for r in second.risks]
    engine = RiskEngine(DETECTION)
    assert _json(engine.state_to_json(first.state)) == _json(engine.state_to_json(second.state))


@given(events=event_sequences())
def test_engine_does_not_mutate_events(events: list[Event]) -> None:
    dumped = [e.model_dump_json() for e in events]
    feed(RiskEngine(DETECTION), events)
    assert [e.model_dump_json() for e in events] == dumped


@given(events=event_sequences(min_size=2), data=st.data())
def test_engine_round_trip(events: list[Event], data: st.DataObject) -> None:
    split = data.draw(st.integers(min_value=0, max_value=len(events)), label="split")
    engine = RiskEngine(DETECTION)
    straight = feed(engine, events)
    run = feed(engine, events[:split])
    resumed = Run(roundtrip_state(engine, run.state), list(run.alerts), list(run.risks))
    feed(engine, events[split:], resumed)
    assert [alert_key(a) for a in resumed.alerts] == [alert_key(a) for a in straight.alerts]
    assert resumed.risks == straight.risks
    assert _json(engine.state_to_json(resumed.state)) == _json(engine.state_to_json(straight.state))


def test_engine_state_bounded_after_10k_events(traffic_run: Run) -> None:
    engine = RiskEngine(DETECTION)
    size = len(json.dumps(engine.state_to_json(traffic_run.state)))
    # The figure the report quotes: bytes of JSON state per customer after 10k varied events.
    print(f"\nstate bytes per customer after {TRAFFIC_EVENTS} events: {size}")
    assert size < STATE_BOUND_BYTES
    assert traffic_run.state.events_processed == TRAFFIC_EVENTS
    assert traffic_run.alerts, "varied traffic should raise some alerts"


def test_engine_state_bounded_under_dense_traffic() -> None:
    """An event every 30 seconds fills every cap within 10k events; the state must stop growing, not just stay smallish."""
    engine = RiskEngine(DETECTION)
    events = dense_traffic(2 * TRAFFIC_EVENTS)
    run = feed(engine, events[:TRAFFIC_EVENTS])
    at_10k = len(json.dumps(engine.state_to_json(run.state)))
    feed(engine, events[TRAFFIC_EVENTS:], run)
    at_20k = len(json.dumps(engine.state_to_json(run.state)))
    print(f"\ndense traffic: state bytes per customer {at_10k} at 10k events, {at_20k} at 20k")
    assert at_10k < DENSE_STATE_BOUND_BYTES
    assert at_20k < at_10k * 1.05


def test_engine_state_to_json_is_a_snapshot(traffic: list[Event]) -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, traffic[:3000])
    snapshot = engine.state_to_json(run.state)
    frozen = _json(snapshot)
    feed(engine, traffic[3000:3600], run)
    assert _json(snapshot) == frozen


def test_engine_cold_start_baseline_detectors_silent() -> None:
    """Before min history, amount_spike stays silent even for an enormous debit (other rules may fire)."""
    engine = RiskEngine(DETECTION)
    history = [tx("50", at(hours=i)) for i in range(DETECTION.amount_spike.min_history_events - 1)]
    run = feed(engine, [*history, tx("30000", at(hours=20))])
    assert by_name(run, "amount_spike") == []
    assert by_name(run, "velocity_spike") == []


def by_name(run: Run, name: str) -> list[Any]:
    return [a for a in run.alerts if a.detector == name]


def test_engine_state_view_serialises_as_state_to_json(traffic_run: Run) -> None:
    engine = RiskEngine(DETECTION)
    view = orjson.loads(orjson.dumps(engine.state_view(traffic_run.state)))
    assert view == json.loads(json.dumps(engine.state_to_json(traffic_run.state)))
    assert engine.state_from_json(view).events_processed == traffic_run.state.events_processed
