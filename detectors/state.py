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
FINGERPRINT_WIDTH = 4
UNKNOWN_FINGERPRINT = bytes(FINGERPRINT_WIDTH)


@dataclass(slots=True)
class SeenEvents:
    """The last N event ids of a customer, each with a fingerprint of its content (4 bytes of a keyed
    hash: compact, and no contact value can be recovered from it), so a redelivered event is counted once
    and an id reused for different content is told apart from a redelivery.

    The fingerprints sit in one byte string in id order rather than one bytes object per id: a decoded
    customer is smaller, and decoding one takes its column as it is."""

    max_ids: int
    order: deque[str] = field(default_factory=deque)
    # event id -> its serial number (how many ids were added before it); its fingerprint starts at byte
    # ``(serial - first) * FINGERPRINT_WIDTH`` of ``fingerprints``
    ids: dict[str, int] = field(default_factory=dict)
    fingerprints: bytearray = field(default_factory=bytearray)
    first: int = 0

    def __contains__(self, event_id: str) -> bool:
        return event_id in self.ids

    def fingerprint(self, event_id: str) -> bytes | None:
        serial = self.ids.get(event_id)
        if serial is None:
            return None
        at = (serial - self.first) * FINGERPRINT_WIDTH
        return bytes(self.fingerprints[at : at + FINGERPRINT_WIDTH])

    def add(self, event_id: str, fingerprint: bytes = UNKNOWN_FINGERPRINT) -> None:
        if len(fingerprint) != FINGERPRINT_WIDTH:
            raise ValueError(f"an event fingerprint has {FINGERPRINT_WIDTH} bytes, not {len(fingerprint)}")
        self.ids[event_id] = self.first + len(self.order)
        self.order.append(event_id)
        self.fingerprints += fingerprint
        if len(self.order) > self.max_ids:
            self.ids.pop(self.order.popleft(), None)
            del self.fingerprints[:FINGERPRINT_WIDTH]
            self.first += 1

    def fingerprints_blob(self) -> str:
        """All fingerprints in id order as one base64 string (~6 bytes of JSON per id, not a list)."""
        return base64.b64encode(self.fingerprints).decode("ascii")

    def fingerprints_bytes(self) -> bytes:
        """All fingerprints in id order, 4 bytes each (the binary state record's column)."""
        return bytes(self.fingerprints)

    def restore(self, event_ids: list[str], fingerprints: list[bytes]) -> None:
        """Refill an empty memory in one go (a decoded state): as ``add`` of each pair in order."""
        self.restore_packed(event_ids, b"".join(fingerprints))

    def restore_packed(self, event_ids: list[str], fingerprints: bytes) -> None:
        """``restore`` with the fingerprints as one byte string in id order."""
        if len(fingerprints) != FINGERPRINT_WIDTH * len(event_ids):
            raise ValueError("event ids and fingerprints differ in number")
        kept = event_ids[-self.max_ids :]
        self.order = deque(kept)
        self.ids = dict(zip(kept, range(len(kept)), strict=True))
        self.fingerprints = bytearray(fingerprints[len(fingerprints) - FINGERPRINT_WIDTH * len(kept) :])
        self.first = 0


@dataclass(slots=True)
class CustomerState:
    ctx: CustomerContext
    seen: SeenEvents
    # "detector|dedup_key" -> [event time of the last alert, its severity rank]
    cooldowns: dict[str, list[float]]
    detectors: dict[str, Any]
    events_processed: int = 0
    book: Book = field(default_factory=Book)
