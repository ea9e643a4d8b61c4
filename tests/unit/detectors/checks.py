"""The generic checks every detector must pass (river's ``river/checks/``): each is a plain function given a
factory of fresh detectors and some events, and raises ``AssertionError`` naming what broke.

A check runs the detector alone inside a real engine (which keeps the customer context it reads), behind a
``Recorder`` that the engine really calls (it is injected, not swapped in afterwards). ``test_contract.py``
runs them over every registered detector; ``test_checks.py`` proves each one fails on a detector broken in
the way it is meant to catch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from strategies import DETECTION, Event, Recorder, Run, at, contact, feed, profile, tx

from detectors.base import Detector
from detectors.engine import RiskEngine
from detectors.findings import Finding
from schemas.common import SEVERITY_RANK

Make = Callable[[], Detector[Any]]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def run_recorded(make: Make, events: Sequence[Event], run: Run | None = None) -> tuple[Run, Recorder]:
    recorder = Recorder(make())
    engine = RiskEngine(DETECTION, detectors=[recorder])
    return feed(engine, events, run), recorder


def findings_of(make: Make, events: Sequence[Event]) -> list[tuple[str, Finding]]:
    _, rec = run_recorded(make, events)
    return rec.findings


def check_deterministic(make: Make, events: Sequence[Event]) -> None:
    """Two fresh detectors given the same events find the same things (no clock, no randomness, no
    iteration over unordered sets leaking into output)."""
    first, second = findings_of(make, events), findings_of(make, events)
    assert first == second, "same events, different findings: the detector is not deterministic"


def check_no_mutation(make: Make, events: Sequence[Event]) -> None:
    """``update`` leaves the observation, the customer context and the input events as they were."""
    dumped = [e.model_dump_json() for e in events]
    _, rec = run_recorded(make, events)
    assert rec.mutations == [], f"update mutated its inputs: {rec.mutations[:3]}"
    assert [e.model_dump_json() for e in events] == dumped, "the input events changed"


def check_state_round_trip(make: Make, events: Sequence[Event], split: int) -> None:
    """Stopping after ``split`` events, writing the state as JSON and resuming on a FRESH detector (another
    worker after a rebalance) finds exactly what one uninterrupted run finds."""
    straight = findings_of(make, events)
    run, first = run_recorded(make, events[:split])
    wire = json.dumps(first.state_to_json(run.state.detectors[first.name]))
    resumed_detector = make()
    restored = resumed_detector.state_from_json(json.loads(wire))
    assert _json(resumed_detector.state_to_json(restored)) == _json(json.loads(wire)), (
        "state_to_json(state_from_json(x)) != x"
    )
    run.state.detectors[first.name] = restored
    recorder = Recorder(resumed_detector)
    feed(RiskEngine(DETECTION, detectors=[recorder]), events[split:], run)
    assert first.findings + recorder.findings == straight, (
        f"findings differ after a state round trip at event {split}"
    )


def check_state_bytes_round_trip(make: Make, events: Sequence[Event], split: int) -> None:
    """A detector that packs its state (``Detector.state_bytes``, what the changelog holds) reads it back
    as the same state, on a FRESH detector: the same JSON form, the same bytes again, and the same findings
    afterwards as one uninterrupted run. A detector that packs nothing passes (its JSON is checked)."""
    run, first = run_recorded(make, events[:split])
    state = run.state.detectors[first.name]
    packed = first.state_bytes(state)
    if packed is None:
        return
    straight = findings_of(make, events)
    resumed_detector = make()
    restored = resumed_detector.state_from_bytes(memoryview(bytes(packed)))
    assert _json(resumed_detector.state_to_json(restored)) == _json(first.state_to_json(state)), (
        "state_from_bytes(state_bytes(x)) reads back as another state than x"
    )
    assert resumed_detector.state_bytes(restored) == packed, "the state read back packs to other bytes"
    run.state.detectors[first.name] = restored
    recorder = Recorder(resumed_detector)
    feed(RiskEngine(DETECTION, detectors=[recorder]), events[split:], run)
    assert first.findings + recorder.findings == straight, (
        f"findings differ after a round trip through bytes at event {split}"
    )


def check_state_view(make: Make, events: Sequence[Event]) -> None:
    """The worker serialises ``state_view`` (no copies); it must read back as ``state_to_json``."""
    run, rec = run_recorded(make, events)
    state = run.state.detectors[rec.name]
    assert orjson.loads(orjson.dumps(rec.state_view(state))) == json.loads(
        json.dumps(rec.state_to_json(state))
    ), "state_view serialises differently from state_to_json"


def check_new_state_round_trips(make: Make) -> None:
    detector = make()
    data = json.loads(json.dumps(detector.state_to_json(detector.new_state())))
    assert _json(detector.state_to_json(detector.state_from_json(data))) == _json(data)
    packed = detector.state_bytes(detector.new_state())
    if packed is not None:
        assert _json(detector.state_to_json(detector.state_from_bytes(memoryview(packed)))) == _json(data)


COLD_STARTS: list[Callable[[], Event]] = [
    lambda: tx("49999", at(), channel="cash"),
    lambda: tx("9000000", at(), channel="transfer", counterparty_id="p", counterparty_country="US"),
    lambda: tx("1", at(), direction="credit"),
    lambda: contact("device", None),
    lambda: contact("email", "a@b.example"),
    lambda: profile(politically_exposed=True),
]


def check_cold_start(make: Make) -> None:
    """Every kind of first event works on a brand-new customer without touching its inputs."""
    for first in COLD_STARTS:
        _, rec = run_recorded(make, [first()])
        assert rec.mutations == [], f"cold start mutated its inputs: {rec.mutations}"


def check_findings_well_formed(make: Make, events: Sequence[Event]) -> None:
    """Each finding names its detector, has a severity and a score in [0, 1], and trigger events that were
    seen, the completing one among them."""
    seen = {e.event_id for e in events}
    detector = make()
    recorder = Recorder(make(), swallow=True)
    feed(RiskEngine(DETECTION, detectors=[recorder]), events)
    for event_id, f in recorder.findings:
        assert f.detector == detector.name, f"finding names {f.detector!r}, detector is {detector.name!r}"
        assert f.severity in SEVERITY_RANK, f.severity
        assert 0.0 <= f.score <= 1.0, f.score
        assert f.trigger_event_ids, "no trigger events"
        assert set(f.trigger_event_ids) <= seen, f.trigger_event_ids
        assert event_id in f.trigger_event_ids, "the completing event is not among the triggers"
        assert f.reason, "no reason"


def check_state_bounded(make: Make, events: Sequence[Event], max_bytes: int) -> None:
    run, rec = run_recorded(make, events)
    size = len(json.dumps(rec.state_to_json(run.state.detectors[rec.name])))
    assert size < max_bytes, f"{rec.name}: {size} bytes of state after {len(events)} events"


def check_to_json_is_a_snapshot(make: Make, events: Sequence[Event]) -> None:
    """A ``state_to_json`` kept in memory (a checkpoint) does not change as the state moves on."""
    cut = len(events) * 5 // 6
    run, rec = run_recorded(make, events[:cut])
    snapshot = rec.state_to_json(run.state.detectors[rec.name])
    frozen = _json(snapshot)
    feed(RiskEngine(DETECTION, detectors=[rec]), events[cut:], run)
    assert _json(snapshot) == frozen, "state_to_json shares parts with the live state"
