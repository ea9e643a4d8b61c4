"""Customer state of the assigned partitions, restored from and written to a compacted changelog topic.

The changelog is written in the same Kafka transaction as the alerts and the input offsets, so after a
crash the state, the outputs and the position always agree (the Kafka Streams design). Restored records
are kept as raw JSON and decoded on first use, so taking over a partition costs one read of its changelog
rather than decoding every customer up front.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from detectors.engine import RiskEngine
from detectors.state import CustomerState


class PartitionState:
    """One input partition's customers (the same partition number of every co-partitioned input topic)."""

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine
        self.raw: dict[str, bytes] = {}
        self.states: dict[str, CustomerState] = {}
        self.dirty: set[str] = set()

    def get(self, customer_id: str) -> CustomerState | None:
        state = self.states.get(customer_id)
        if state is None:
            raw = self.raw.pop(customer_id, None)
            if raw is not None:
                state = self.engine.state_from_json(json.loads(raw))
                self.states[customer_id] = state
        return state

    def put(self, customer_id: str, state: CustomerState) -> None:
        self.states[customer_id] = state
        self.dirty.add(customer_id)

    def load(self, customer_id: str, raw: bytes | None) -> None:
        """Apply one changelog record during restore (``None`` is a tombstone)."""
        self.states.pop(customer_id, None)
        if raw is None:
            self.raw.pop(customer_id, None)
        else:
            self.raw[customer_id] = raw

    def take_dirty(self) -> Iterator[tuple[str, bytes]]:
        dirty, self.dirty = self.dirty, set()
        for cid in sorted(dirty):
            yield cid, json.dumps(self.engine.state_to_json(self.states[cid]), separators=(",", ":")).encode()

    def discard_dirty(self) -> None:
        self.dirty.clear()

    def __len__(self) -> int:
        return len(self.raw) + len(self.states)


def changelog_topic(group: str) -> str:
    return f"{group}-customer-state-changelog"
