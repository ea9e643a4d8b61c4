"""``contact_change_burst``: several distinct contact-detail changes within a window.

Distinct means a different (field, keyed hash of the new value): submitting the same new phone number twice
is one change. Only hashes are kept; the alert names the fields, never values or hashes.
"""

from __future__ import annotations

from typing import Any

from config.detection import ContactChangeBurstSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score, severity_by_ratio
from detectors.observation import ContactObservation, Observation
from detectors.window import EventWindow


class ContactChangeBurst(Detector[EventWindow]):
    """Phone, email and device changed within days: the set-up of a takeover, not a move of house.

    >>> from config.detection import ContactChangeBurstSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import ContactObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> burst = ContactChangeBurst(ContactChangeBurstSettings(), allowed_lateness_seconds=0)
    >>> def changes(*changed):  # (field, keyed hash of the new value), an hour apart
    ...     state = burst.new_state()
    ...     found = [burst.update(state, ContactObservation(f"e{i}", i * 3600.0, f, h, "app"), ctx) for i, (f, h) in enumerate(changed)]
    ...     return [(f.severity, f.evidence["fields_changed"]) for fs in found for f in fs]
    >>> changes(("phone", "h1"), ("email", "h2"), ("device", "h3"))
    [('high', ['device', 'email', 'phone'])]
    >>> changes(("phone", "h1"), ("phone", "h1"), ("phone", "h1"))  # one new number, submitted three times
    []
    """

    name = "contact_change_burst"
    kinds = frozenset({"contact_change"})

    def __init__(self, settings: ContactChangeBurstSettings, allowed_lateness_seconds: int) -> None:
        self.s = settings
        self.lateness = allowed_lateness_seconds
        self.cooldown_seconds = settings.cooldown_seconds
        self._min_changes = per_tier(settings.min_changes.for_tier)

    def new_state(self) -> EventWindow:
        return EventWindow(self.s.max_window_changes)

    def update(self, state: EventWindow, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, ContactObservation):
            return NO_FINDINGS
        now = state.latest(obs.ts)
        state.add(obs.ts, obs.event_id, [obs.field, obs.value_hash])
        state.evict_before(now - self.s.window_seconds - self.lateness)
        in_window = state.between(now - self.s.window_seconds, now)
        distinct: dict[tuple[str, str], str] = {}
        for _, eid, (field, value_hash) in in_window:
            distinct.setdefault((field, value_hash or eid), eid)
        count = len(distinct)
        threshold = self._min_changes[ctx.tier]
        if count < threshold or obs.event_id not in distinct.values():
            return NO_FINDINGS
        fields = sorted({f for f, _ in distinct})
        ratio = count / threshold
        severity = severity_by_ratio(ratio, (1.5, 2.5))
        if {"phone", "email", "device"} <= set(fields) and severity == "medium":
            severity = "high"
        ids = [eid for eid in distinct.values() if eid != obs.event_id] + [obs.event_id]
        return [
            Finding(
                detector=self.name,
                severity=severity,
                score=past_threshold_score(count, threshold - 1),
                trigger_event_ids=tuple(ids),
                reason=(
                    f"{count} contact-detail changes ({', '.join(fields)}) within "
                    f"{self.s.window_seconds // 3600} hours (threshold {threshold:g} for a "
                    f"{ctx.tier}-risk customer)."
                ),
                evidence={
                    "change_count": count,
                    "fields_changed": fields,
                    "window_seconds": self.s.window_seconds,
                    "min_changes": threshold,
                },
                dedup_key="burst",
            )
        ]

    def state_to_json(self, state: EventWindow) -> Any:
        return state.to_json()

    def state_view(self, state: EventWindow) -> Any:
        return state.view()

    def state_from_json(self, data: Any) -> EventWindow:
        return EventWindow.from_json(data, self.s.max_window_changes)
