"""Customer state of the assigned partitions, restored from and written to a compacted changelog topic.

The changelog is written in the same Kafka transaction as the alerts and the input offsets, so after a
crash the state, the outputs and the position always agree (the Kafka Streams design). Restored records
are kept as raw JSON and decoded on first use, so taking over a partition costs one read of its changelog
rather than decoding every customer up front.
"""

from __future__ import annotations

from collections import OrderedDict

import orjson

from detectors.engine import RiskEngine
from detectors.state import CustomerState


class PartitionState:
    """One input partition's customers (the same partition number of every co-partitioned input topic).

    Hot customers are kept decoded, at most ``max_decoded`` of them (least recently used leave first);
    everyone else is kept as the compact JSON last written to the changelog. Memory is then roughly
    ``max_decoded`` x a decoded state plus the JSON of the rest, instead of every customer decoded.
    """

    def __init__(self, engine: RiskEngine, max_decoded: int = 20000) -> None:
        self.engine = engine
        self.max_decoded = max_decoded
        self.raw: dict[str, bytes] = {}
        self.states: OrderedDict[str, CustomerState] = OrderedDict()
        self.dirty: set[str] = set()

    def get(self, customer_id: str) -> CustomerState | None:
        state = self.states.get(customer_id)
        if state is not None:
            self.states.move_to_end(customer_id)
            return state
        raw = self.raw.pop(customer_id, None)
        if raw is None:
            return None
        state = self.states[customer_id] = self.engine.state_from_json(orjson.loads(raw))
        return state

    def put(self, customer_id: str, state: CustomerState) -> None:
        self.states[customer_id] = state
        self.states.move_to_end(customer_id)
        self.dirty.add(customer_id)

    def load(self, customer_id: str, raw: bytes | None) -> None:
        """Apply one changelog record during restore (``None`` is a tombstone)."""
        self.states.pop(customer_id, None)
        if raw is None:
            self.raw.pop(customer_id, None)
        else:
            self.raw[customer_id] = raw

    def take_dirty(self) -> list[tuple[str, bytes]]:
        """The JSON of every customer changed since the last call, then eviction down to ``max_decoded``."""
        out = [(cid, orjson.dumps(self.engine.state_view(self.states[cid]))) for cid in sorted(self.dirty)]
        self.dirty = set()
        excess = len(self.states) - self.max_decoded
        if excess > 0:
            written = dict(out)
            for _ in range(excess):
                cid, state = self.states.popitem(last=False)
                blob = written.get(cid)
                self.raw[cid] = blob if blob is not None else orjson.dumps(self.engine.state_view(state))
        return out

    def __len__(self) -> int:
        return len(self.raw) + len(self.states)


def changelog_topic(group: str) -> str:
    return f"{group}-customer-state-changelog"
