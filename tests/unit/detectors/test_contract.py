"""One generic check suite (``checks.py``) run against every registered detector, and the engine as a whole.

The detectors come from ``detectors.registry``: a new entry there is checked here without any edit.
"""

from __future__ import annotations

import json
from typing import Any

import checks
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    DETECTION,
    Event,
    Run,
    alert_key,
    at,
    dense_traffic,
    event_sequences,
    feed,
    roundtrip_state,
    tx,
    varied_traffic,
)

from detectors.engine import RiskEngine
from detectors.registry import REGISTERED_NAMES, REGISTRY, build_detectors
from schemas.outputs import DETECTOR_NAMES

# JSON bytes of one customer's whole state after 10k events of varied traffic must stay under this.
STATE_BOUND_BYTES = 64 * 1024
TRAFFIC_EVENTS = 10_000
# ... and under a worst case of an event every 30 seconds, where every window and id list is at its cap.
DENSE_STATE_BOUND_BYTES = 160 * 1024


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def test_registry_is_the_schema_list() -> None:
    """The alert schema's detector names (which cannot import the registry) are exactly the registered
    ones, each registered once, with a settings section of its own that the built detector uses."""
    assert REGISTERED_NAMES == DETECTOR_NAMES
    assert len(set(REGISTERED_NAMES)) == len(REGISTERED_NAMES)
    for spec in REGISTRY:
        detector = spec.build(DETECTION)
        assert type(detector) is spec.cls
        assert detector.name == spec.name
        assert getattr(detector, "s", None) is getattr(DETECTION, spec.section), spec.name
    assert [d.name for d in RiskEngine(DETECTION).detectors] == list(REGISTERED_NAMES)


@pytest.fixture(scope="module")
def traffic() -> list[Event]:
    return varied_traffic(TRAFFIC_EVENTS, seed=11)


@pytest.fixture(scope="module")
def traffic_run(traffic: list[Event]) -> Run:
    return feed(RiskEngine(DETECTION), traffic)


# --------------------------------------------------------------------------------- per detector
@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.name)
class TestDetectorContract:
    @given(events=event_sequences())
    def test_deterministic_and_well_formed(self, spec: Any, events: list[Event]) -> None:
        checks.check_deterministic(lambda: spec.build(DETECTION), events)
        checks.check_findings_well_formed(lambda: spec.build(DETECTION), events)

    @given(events=event_sequences())
    def test_no_mutation_of_observation_or_context(self, spec: Any, events: list[Event]) -> None:
        checks.check_no_mutation(lambda: spec.build(DETECTION), events)

    @given(events=event_sequences(min_size=2), data=st.data())
    def test_state_json_round_trip(self, spec: Any, events: list[Event], data: st.DataObject) -> None:
        split = data.draw(st.integers(min_value=0, max_value=len(events)), label="split")
        checks.check_state_round_trip(lambda: spec.build(DETECTION), events, split)

    @given(events=event_sequences(min_size=2), data=st.data())
    def test_state_bytes_round_trip(self, spec: Any, events: list[Event], data: st.DataObject) -> None:
        split = data.draw(st.integers(min_value=0, max_value=len(events)), label="split")
        checks.check_state_bytes_round_trip(lambda: spec.build(DETECTION), events, split)

    @given(events=event_sequences())
    def test_state_view_serialises_as_state_to_json(self, spec: Any, events: list[Event]) -> None:
        checks.check_state_view(lambda: spec.build(DETECTION), events)

    def test_cold_start_on_every_kind_of_first_event(self, spec: Any) -> None:
        checks.check_cold_start(lambda: spec.build(DETECTION))

    def test_new_state_round_trips(self, spec: Any) -> None:
        checks.check_new_state_round_trips(lambda: spec.build(DETECTION))

    def test_on_varied_traffic(self, spec: Any, traffic: list[Event]) -> None:
        """Long realistic traffic: state bounded, snapshots stable, a round trip mid-way changes nothing."""
        make = lambda: spec.build(DETECTION)  # noqa: E731
        checks.check_state_bounded(make, traffic, STATE_BOUND_BYTES // 2)
        checks.check_to_json_is_a_snapshot(make, traffic[:3600])
        checks.check_state_round_trip(make, traffic[:4000], 2500)
        checks.check_state_bytes_round_trip(make, traffic[:4000], 2500)
        checks.check_no_mutation(make, traffic[:1500])


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
    resumed = Run(roundtrip_state(RiskEngine(DETECTION), run.state), list(run.alerts), list(run.risks))
    feed(RiskEngine(DETECTION), events[split:], resumed)
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
    assert [a for a in run.alerts if a.detector == "amount_spike"] == []
    assert [a for a in run.alerts if a.detector == "velocity_spike"] == []


def test_engine_state_view_serialises_as_state_to_json(traffic_run: Run) -> None:
    engine = RiskEngine(DETECTION)
    view = orjson.loads(orjson.dumps(engine.state_view(traffic_run.state)))
    assert view == json.loads(json.dumps(engine.state_to_json(traffic_run.state)))
    assert engine.state_from_json(view).events_processed == traffic_run.state.events_processed


def test_default_engine_builds_every_registered_detector() -> None:
    assert [d.name for d in build_detectors(DETECTION)] == list(REGISTERED_NAMES)
