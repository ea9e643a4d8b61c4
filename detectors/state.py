"""All that riskwatch remembers about one customer, and nothing else: the unit of durable state.

Every part is bounded (windows, id memory, counterparties, baselines), so memory grows with customers,
not with events. ``RiskEngine.state_to_json``/``state_from_json`` turn it into plain JSON and back.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from detectors.context import CustomerContext
from detectors.riskbook import Book


@dataclass(slots=True)
class SeenEvents:
    """The last N event ids of a customer, so a redelivered event is counted once."""

    max_ids: int
    order: deque[str] = field(default_factory=deque)
    ids: set[str] = field(default_factory=set)

    def __contains__(self, event_id: str) -> bool:
        return event_id in self.ids

    def add(self, event_id: str) -> None:
        self.order.append(event_id)
        self.ids.add(event_id)
        if len(self.order) > self.max_ids:
            self.ids.discard(self.order.popleft())


@dataclass(slots=True)
class CustomerState:
    ctx: CustomerContext
    seen: SeenEvents
    # "detector|dedup_key" -> [event time of the last alert, its severity rank]
    cooldowns: dict[str, list[float]]
    detectors: dict[str, Any]
    events_processed: int = 0
    book: Book = field(default_factory=Book)
