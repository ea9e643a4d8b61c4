"""The contract suite can fail: each check in ``checks.py`` rejects a detector broken in the way it guards
against, and passes the same detector unbroken on the same events (so it is the breakage that is caught)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import checks
import pytest
from strategies import DETECTION, Delegating, Event, at, contact, tx, varied_traffic

from detectors.base import Detector
from detectors.context import CustomerContext
from detectors.findings import Finding
from detectors.observation import Observation
from detectors.registry import spec
from detectors.velocity import VelocitySpike


def _velocity() -> Detector[Any]:
    return spec("velocity_spike").build(DETECTION)


def burst() -> list[Event]:
    """Two quiet days, then 30 card payments in 30 minutes: velocity_spike fires on it."""
    quiet = [tx("80", at(hours=6 * i)) for i in range(8)]
    return [*quiet, contact("phone", "+1"), *(tx("20", at(days=2, seconds=60 * i)) for i in range(30))]


class Breakable(Delegating):
    """The real ``velocity_spike`` behind a delegating wrapper that each case below breaks in one way (by
    wrapping, not subclassing ``VelocitySpike``: a compiled build's detectors take no interpreted
    subclasses, only their ``Detector`` base does)."""

    def __init__(self) -> None:
        super().__init__(VelocitySpike(DETECTION.velocity_spike, DETECTION.allowed_lateness_seconds))


class MutatesContext(Breakable):
    """Raises the customer's tier as a side effect: every later detector would read a changed context."""

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        found = super().update(state, obs, ctx)
        ctx.tier = "high"
        return found


class MutatesObservation(Breakable):
    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        obs.ts += 1.0
        return super().update(state, obs, ctx)


_draws = itertools.count()


class Nondeterministic(Breakable):
    """Scores with a process-wide counter: two runs over the same events disagree."""

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        found = super().update(state, obs, ctx)
        return [
            Finding(f.detector, f.severity, (next(_draws) % 100) / 100, f.trigger_event_ids, f.reason)
            for f in found
        ]


class LossyRoundTrip(Breakable):
    """Forgets the sliding window when its state is read back: a restarted worker misses the burst."""

    def state_from_json(self, data: Any) -> Any:
        restored = super().state_from_json(data)
        restored.window = self.new_state().window
        return restored


class LossyBytes(Breakable):
    """Forgets the window when its state is read back from the changelog's bytes (but not from JSON)."""

    def state_from_bytes(self, data: memoryview) -> Any:
        restored = super().state_from_bytes(data)
        restored.window = self.new_state().window
        return restored


class BytesNotASnapshot(Breakable):
    """Packs the state as it will be, not as it is: bytes that do not read back as the state given."""

    def state_bytes(self, state: Any) -> bytes | None:
        later = self.state_from_json(self.state_to_json(state))
        later.first_ts = None
        return super().state_bytes(later)


class KeepsStateOnItself(Breakable):
    """Counts on the detector object instead of the per-customer state: a fresh worker starts again at 0."""

    seen = 0

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        self.seen += 1
        found = super().update(state, obs, ctx)
        return found if self.seen > 20 else []


class ViewDiffers(Breakable):
    def state_view(self, state: Any) -> Any:
        return {**self.state_to_json(state), "first_ts": None}


class SharesLiveState(Breakable):
    """Hands out one JSON object per state and keeps it up as the state moves on (as a view sharing a
    live list would): a checkpoint kept in memory changes under its holder."""

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[int, dict[str, Any]] = {}

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        found = super().update(state, obs, ctx)
        if id(state) in self.views:
            self.views[id(state)].update(super().state_to_json(state))
        return found

    def state_to_json(self, state: Any) -> Any:
        view = self.views.setdefault(id(state), {})
        view.update(super().state_to_json(state))
        return view


class ForeignFinding(Breakable):
    """Names another detector and gives a score above 1."""

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        return [
            Finding("amount_spike", f.severity, 2.0, f.trigger_event_ids, f.reason)
            for f in super().update(state, obs, ctx)
        ]


class Unbounded(Breakable):
    """Keeps every event id it ever saw."""

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        state.daily.extend((int(obs.ts), 1, 0))
        return super().update(state, obs, ctx)


def _lenient(cls: type[Breakable]) -> Callable[[], Detector[Any]]:
    return cls


Check = Callable[[Callable[[], Detector[Any]], Sequence[Event]], None]
CASES: list[tuple[str, Check, type[Breakable]]] = [
    ("mutates its context", checks.check_no_mutation, MutatesContext),
    ("mutates its observation", checks.check_no_mutation, MutatesObservation),
    ("nondeterministic", checks.check_deterministic, Nondeterministic),
    ("lossy state round trip", lambda m, e: checks.check_state_round_trip(m, e, 20), LossyRoundTrip),
    ("lossy bytes round trip", lambda m, e: checks.check_state_bytes_round_trip(m, e, 20), LossyBytes),
    ("bytes not the state", lambda m, e: checks.check_state_bytes_round_trip(m, e, 20), BytesNotASnapshot),
    ("state kept on the detector", lambda m, e: checks.check_state_round_trip(m, e, 20), KeepsStateOnItself),
    ("state_view differs", checks.check_state_view, ViewDiffers),
    ("state_to_json shares live state", checks.check_to_json_is_a_snapshot, SharesLiveState),
    ("finding names another detector", checks.check_findings_well_formed, ForeignFinding),
    (
        "unbounded state",
        lambda m, e: checks.check_state_bounded(m, [*e, *varied_traffic(3000, seed=5)], 16_000),
        Unbounded,
    ),
]


@pytest.mark.parametrize(("what", "check", "broken"), CASES, ids=[c[0] for c in CASES])
def test_check_catches_a_broken_detector(what: str, check: Check, broken: type[Breakable]) -> None:
    events = burst()
    assert any(True for _ in checks.findings_of(_velocity, events)), "the burst must make findings"
    check(_velocity, events)  # the real detector passes
    with pytest.raises(AssertionError):
        check(_lenient(broken), events)
    _draws.__init__()  # type: ignore[misc]


def test_cold_start_check_catches_a_mutation() -> None:
    checks.check_cold_start(_velocity)
    with pytest.raises(AssertionError):
        checks.check_cold_start(_lenient(MutatesContext))
