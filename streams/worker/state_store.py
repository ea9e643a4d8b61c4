"""Customer state of the assigned partitions, restored from and written to a compacted changelog topic.

The changelog is written in the same Kafka transaction as the alerts and the input offsets, so after a
crash the state, the outputs and the position always agree (the Kafka Streams design). Restored records
are kept as the changelog's compact bytes (``detectors/state_codec.py``) and decoded on first use, so
taking over a partition costs one read of its changelog rather than decoding every customer up front.
"""

from __future__ import annotations

from collections import OrderedDict

from detectors.engine import RiskEngine
from detectors.state import CustomerState
from detectors.state_codec import BINARY_FORMAT, StateCodec


class PartitionState:
    """One input partition's customers (the same partition number of every co-partitioned input topic).

    Hot customers are kept decoded, at most ``max_decoded`` of them (least recently used leave first);
    every customer not changed since its last changelog record keeps that record, so a decoded customer
    leaves the cache without being encoded again. Memory is then roughly ``max_decoded`` x a decoded state
    plus a record per customer, instead of every customer decoded.
    """

    def __init__(
        self, engine: RiskEngine, max_decoded: int = 5000, write_format: int = BINARY_FORMAT
    ) -> None:
        self.engine = engine
        self.codec = StateCodec(engine, write_format)
        self.max_decoded = max_decoded
        # customer -> its last changelog record, for every customer not changed since (decoded or not)
        self.raw: dict[str, bytes] = {}
        self.states: OrderedDict[str, CustomerState] = OrderedDict()
        self.dirty: set[str] = set()
        # erased since the last take_dirty: a tombstone goes to the changelog
        self.deleted: set[str] = set()
        # customer -> when its next timed move falls due (epoch s): what the wall-clock punctuation looks at;
        # kept for undecoded customers too (from the changelog record's header), so none is decoded to ask
        self.deadlines: dict[str, float] = {}

    def get(self, customer_id: str) -> CustomerState | None:
        state = self.states.get(customer_id)
        if state is not None:
            self.states.move_to_end(customer_id)
            return state
        raw = self.raw.get(customer_id)
        if raw is None:
            return None
        state = self.states[customer_id] = self.codec.decode(raw)
        return state

    def put(self, customer_id: str, state: CustomerState) -> None:
        self.states[customer_id] = state
        self.states.move_to_end(customer_id)
        self.raw.pop(customer_id, None)  # its record no longer says what the state is
        self.dirty.add(customer_id)
        self.deleted.discard(customer_id)

    def delete(self, customer_id: str) -> None:
        self.states.pop(customer_id, None)
        self.raw.pop(customer_id, None)
        self.dirty.discard(customer_id)
        self.deleted.add(customer_id)
        self.deadlines.pop(customer_id, None)

    def load(self, customer_id: str, raw: bytes | None, deadline: float | None = None) -> None:
        """Apply one changelog record during restore (``None`` is a tombstone)."""
        self.states.pop(customer_id, None)
        if raw is None:
            self.raw.pop(customer_id, None)
        else:
            self.raw[customer_id] = raw
        if deadline is None:
            self.deadlines.pop(customer_id, None)
        else:
            self.deadlines[customer_id] = deadline

    def due(self, now: float) -> list[str]:
        """Customers whose next timed move is at or before ``now``, in a stable order."""
        return sorted(cid for cid, t in self.deadlines.items() if t <= now)

    def _refresh_deadline(self, customer_id: str, state: CustomerState) -> None:
        deadline = self.engine.next_deadline(state)
        if deadline is None:
            self.deadlines.pop(customer_id, None)
        else:
            self.deadlines[customer_id] = deadline

    def take_dirty(self) -> list[tuple[str, bytes | None]]:
        """The record of every customer changed since the last call (None for an erased one: a tombstone),
        then eviction down to ``max_decoded``."""
        out: list[tuple[str, bytes | None]] = []
        for cid in sorted(self.dirty):
            state = self.states[cid]
            blob = self.raw[cid] = self.codec.encode(state)
            out.append((cid, blob))
            self._refresh_deadline(cid, state)
        out += [(cid, None) for cid in sorted(self.deleted)]
        self.dirty = set()
        self.deleted = set()
        excess = len(self.states) - self.max_decoded
        for _ in range(max(0, excess)):
            self.states.popitem(last=False)  # its record is in ``raw``: every change was just written
        return out

    def __len__(self) -> int:
        # every customer is in ``raw`` but those changed since the last ``take_dirty``
        return len(self.raw) + len(self.dirty)


def changelog_topic(group: str) -> str:
    return f"{group}-customer-state-changelog"


DEADLINE_HEADER = "riskwatch-next-deadline"


def deadline_header(deadline: float | None) -> list[tuple[str, str | bytes | None]] | None:
    return None if deadline is None else [(DEADLINE_HEADER, repr(deadline).encode())]


def deadline_from_headers(
    headers: dict[str, str | bytes | None] | list[tuple[str, str | bytes | None]] | None,
) -> float | None:
    items = headers.items() if isinstance(headers, dict) else headers or ()
    for name, value in items:
        if name == DEADLINE_HEADER and value:
            return float(value)
    return None
