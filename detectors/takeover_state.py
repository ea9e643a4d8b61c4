"""``account_takeover``'s memory of one customer: their recent remote contact changes and large transfers.

Most customers hold neither (a quarter of a generated sample held nothing, most of the rest one large
transfer), so each window is made only when it first holds something and dropped once it is empty
again: an empty ``EventWindow`` is two lists and an object, about 170 bytes per customer decoded and
built each time one leaves the changelog. The JSON is that of formats 1 to 8 (an absent window is an
empty list), so older states read as they are.
"""

from __future__ import annotations

from typing import Any

from detectors.window import EventWindow

MAX_RECENT = 20
NOTHING: list[tuple[float, str, Any]] = []


class TakeoverState:
    """``changes``: (ts, event_id, field); ``transfers``: (ts, event_id, [amount, channel, threshold, median
    or None, new payee, already alerted, late threshold]); None while empty."""

    __slots__ = ("changes", "transfers")

    def __init__(self, changes: EventWindow | None = None, transfers: EventWindow | None = None) -> None:
        self.changes = changes
        self.transfers = transfers

    def add_change(self, ts: float, event_id: str, field: str) -> None:
        if self.changes is None:
            self.changes = EventWindow(MAX_RECENT)
        self.changes.add(ts, event_id, field)

    def add_transfer(self, ts: float, event_id: str, payload: list[Any]) -> None:
        if self.transfers is None:
            self.transfers = EventWindow(MAX_RECENT)
        self.transfers.add(ts, event_id, payload)

    def changes_between(self, start_exclusive: float, end_inclusive: float) -> list[tuple[float, str, Any]]:
        changes = self.changes
        return NOTHING if changes is None else changes.between(start_exclusive, end_inclusive)

    def transfers_between(self, start_exclusive: float, end_inclusive: float) -> list[tuple[float, str, Any]]:
        transfers = self.transfers
        return NOTHING if transfers is None else transfers.between(start_exclusive, end_inclusive)

    def evict(self, ts: float, keep_seconds: float) -> None:
        """Forget what is more than ``keep_seconds`` older than the newest event time held (or ``ts``)."""
        changes, transfers = self.changes, self.transfers
        now = ts
        if changes is not None:
            now = changes.latest(now)
        if transfers is not None:
            now = transfers.latest(now)
        horizon = now - keep_seconds
        if changes is not None:
            changes.evict_before(horizon)
            if not len(changes):
                self.changes = None
        if transfers is not None:
            transfers.evict_before(horizon)
            if not len(transfers):
                self.transfers = None

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [] if self.changes is None else self.changes.to_json(),
            "transfers": [] if self.transfers is None else self.transfers.to_json(),
        }

    def view(self) -> dict[str, Any]:
        """``to_json`` without copies (see ``Detector.state_view``)."""
        return {
            "changes": NOTHING if self.changes is None else self.changes.view(),
            "transfers": NOTHING if self.transfers is None else self.transfers.view(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TakeoverState:
        changes, transfers = data["changes"], data["transfers"]
        return TakeoverState(
            EventWindow.from_json(changes, MAX_RECENT) if changes else None,
            # a transfer remembered before the late bar existed keeps its one threshold
            EventWindow.from_json([[t, e, [*p, p[2]][:7]] for t, e, p in transfers], MAX_RECENT)
            if transfers
            else None,
        )
