"""All that riskwatch remembers about one customer, and nothing else: the unit of durable state.

Every part is bounded (windows, id memory, counterparties, baselines), so memory grows with customers,
not with events. ``RiskEngine.state_to_json``/``state_from_json`` turn it into plain JSON and back.
"""

from __future__ import annotations

import base64
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from detectors.context import CustomerContext
from detectors.riskbook import Book

# the fingerprint of an event remembered before fingerprints were kept (state format 3 and older)
UNKNOWN_FINGERPRINT = bytes(4)


@dataclass(slots=True)
class SeenEvents:
    """The last N event ids of a customer, each with a fingerprint of its content (4 bytes of a keyed
    hash: compact, and no contact value can be recovered from it), so a redelivered event is counted once
    and an id reused for different content is told apart from a redelivery."""

    max_ids: int
    order: deque[str] = field(default_factory=deque)
    ids: dict[str, bytes] = field(default_factory=dict)

    def __contains__(self, event_id: str) -> bool:
        return event_id in self.ids

    def fingerprint(self, event_id: str) -> bytes | None:
        return self.ids.get(event_id)

    def add(self, event_id: str, fingerprint: bytes = UNKNOWN_FINGERPRINT) -> None:
        self.order.append(event_id)
        self.ids[event_id] = fingerprint
        if len(self.order) > self.max_ids:
            self.ids.pop(self.order.popleft(), None)

    def fingerprints_blob(self) -> str:
        """All fingerprints in id order as one base64 string (~6 bytes of JSON per id, not a list)."""
        return base64.b64encode(b"".join(map(self.ids.__getitem__, self.order))).decode("ascii")

    def restore(self, event_ids: list[str], fingerprints: list[bytes]) -> None:
        """Refill an empty memory in one go (a decoded state): as ``add`` of each pair in order."""
        kept = slice(-self.max_ids, None)
        self.order = deque(event_ids[kept])
        self.ids = dict(zip(event_ids[kept], fingerprints[kept], strict=True))


@dataclass(slots=True)
class CustomerState:
    ctx: CustomerContext
    seen: SeenEvents
    # "detector|dedup_key" -> [event time of the last alert, its severity rank]
    cooldowns: dict[str, list[float]]
    detectors: dict[str, Any]
    events_processed: int = 0
    book: Book = field(default_factory=Book)
