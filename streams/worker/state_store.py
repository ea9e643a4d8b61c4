"""Customer state of the assigned partitions, restored from and written to a compacted changelog topic.

The changelog is written in the same Kafka transaction as the alerts and the input offsets, so after a
crash the state, the outputs and the position always agree (the Kafka Streams design). Restored records
are kept as the changelog's compact bytes (``detectors/state_codec.py``) and decoded on first use, so
taking over a partition costs one read of its changelog rather than decoding every customer up front.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Final

from detectors.engine import RiskEngine
from detectors.state import CustomerState
from detectors.state_codec import BINARY_FORMAT, StateCodec

# What a customer costs in memory, for the worker's budget (worker.state_memory_budget_mib). A record held
# costs its bytes plus the slots that hold it (its id, the bytes object, the raw and deadline dicts). A
# decoded customer costs a base plus a share of its record's length: a longer record is a longer history,
# held as more objects. Fitted on the generator's customers, with the resident memory measured against the
# estimate by ``bench/state_size.py`` (README, "Customer state on the changelog").
RECORD_OVERHEAD_BYTES: Final = 160
DECODED_BASE_BYTES: Final = 6400
DECODED_BYTES_PER_RECORD_BYTE: Final = 5


def decoded_cost(record_bytes: int) -> int:
    """The estimated memory of a decoded customer whose changelog record is ``record_bytes`` long."""
    return DECODED_BASE_BYTES + DECODED_BYTES_PER_RECORD_BYTE * record_bytes


class PartitionState:
    """One input partition's customers (the same partition number of every co-partitioned input topic).

    Hot customers are kept decoded; every customer not changed since its last changelog record keeps that
    record, so a decoded customer leaves the cache without being encoded again. What leaves, and when, is
    the caller's choice after each ``take_dirty``: ``evict`` frees a number of (estimated) bytes, first the
    customers decoded for the first time lately (a customer seen once a day gains nothing from staying
    decoded, and pushing out a hot one for it costs a decode later), then the least recently used.
    ``max_decoded`` optionally bounds the count as well (the faust runtime's store and tests use a count).
    ``record_bytes`` and ``decoded_bytes`` say what the partition holds, by the estimates above.
    """

    def __init__(
        self, engine: RiskEngine, max_decoded: int | None = None, write_format: int = BINARY_FORMAT
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
        self.record_bytes = 0
        self.decoded_bytes = 0
        self._cost: dict[str, int] = {}  # decoded customer -> its estimated memory
        # decoded since the last eviction and not lately before: the first to leave
        self._newcomers: list[str] = []
        # left as newcomers: decoded again before this is cleared, a customer joins the cache like any other
        self._left_once: set[str] = set()

    def get(self, customer_id: str) -> CustomerState | None:
        state = self.states.get(customer_id)
        if state is not None:
            self.states.move_to_end(customer_id)
            return state
        raw = self.raw.get(customer_id)
        if raw is None:
            return None
        state = self.states[customer_id] = self.codec.decode(raw)
        self._admit(customer_id, decoded_cost(len(raw)))
        return state

    def put(self, customer_id: str, state: CustomerState) -> None:
        if customer_id not in self._cost:
            self._admit(customer_id, DECODED_BASE_BYTES)  # a new customer (a get decodes the others)
        states = self.states
        states[customer_id] = state
        states.move_to_end(customer_id)
        self._forget_record(customer_id)  # its record no longer says what the state is
        self.dirty.add(customer_id)
        if self.deleted:
            self.deleted.discard(customer_id)

    def delete(self, customer_id: str) -> None:
        self._drop_decoded(customer_id)
        self._forget_record(customer_id)
        self.dirty.discard(customer_id)
        self.deleted.add(customer_id)
        self.deadlines.pop(customer_id, None)

    def load(self, customer_id: str, raw: bytes | None, deadline: float | None = None) -> None:
        """Apply one changelog record during restore (``None`` is a tombstone)."""
        self._drop_decoded(customer_id)
        self._forget_record(customer_id)
        if raw is not None:
            self._keep_record(customer_id, raw)
        if deadline is None:
            self.deadlines.pop(customer_id, None)
        else:
            self.deadlines[customer_id] = deadline

    def due(self, now: float) -> list[str]:
        """Customers whose next timed move is at or before ``now``, in a stable order."""
        return sorted(cid for cid, t in self.deadlines.items() if t <= now)

    def take_dirty(self) -> list[tuple[str, bytes | None]]:
        """The record of every customer changed since the last call (None for an erased one: a tombstone),
        then eviction down to ``max_decoded`` if set."""
        out: list[tuple[str, bytes | None]] = []
        # written out for the per-customer cost (once per event on sparse traffic): a changed customer has
        # no record held (``put`` forgot it), so keeping the new one is a plain store
        cost, raw, states, deadlines = self._cost, self.raw, self.states, self.deadlines
        encode, next_deadline = self.codec.encode, self.engine.next_deadline
        record_bytes = decoded_bytes = 0
        for cid in sorted(self.dirty):
            state = states[cid]
            blob = encode(state)
            raw[cid] = blob
            n = len(blob)
            record_bytes += n + RECORD_OVERHEAD_BYTES
            size = decoded_cost(n)
            decoded_bytes += size - cost[cid]
            cost[cid] = size
            out.append((cid, blob))
            deadline = next_deadline(state)
            if deadline is None:
                deadlines.pop(cid, None)
            else:
                deadlines[cid] = deadline
        self.record_bytes += record_bytes
        self.decoded_bytes += decoded_bytes
        out += [(cid, None) for cid in sorted(self.deleted)]
        self.dirty = set()
        self.deleted = set()
        if self.max_decoded is not None and len(self.states) > self.max_decoded:
            self._newcomers = []  # a count bound keeps plain least-recently-used order
            while len(self.states) > self.max_decoded:
                self._drop_decoded(next(iter(self.states)))
        return out

    def evict(self, nbytes: int) -> int:
        """Free at least ``nbytes`` of decoded customers, or all of them; the bytes freed. The customers
        decoded since the last call and kept become ordinary members. Only between ``take_dirty`` and the
        next change: a decoded customer leaves because its record says it all."""
        if self.dirty or self.deleted:
            raise RuntimeError("decoded customers evicted with changes not yet in their changelog records")
        freed = 0
        for cid in self._newcomers:
            if freed >= nbytes:
                break
            if cid in self.states:
                freed += self._drop_decoded(cid)
                self._left_once.add(cid)
        self._newcomers = []
        while freed < nbytes and self.states:
            freed += self._drop_decoded(next(iter(self.states)))
        # the admission memory is bounded like a cache of its own; cleared whole (a doorkeeper's reset)
        if len(self._left_once) > len(self.states) + 1024:
            self._left_once = set()
        return freed

    def _admit(self, customer_id: str, size: int) -> None:
        self._cost[customer_id] = size
        self.decoded_bytes += size
        if customer_id in self._left_once:
            self._left_once.discard(customer_id)
        else:
            self._newcomers.append(customer_id)

    def _drop_decoded(self, customer_id: str) -> int:
        if self.states.pop(customer_id, None) is None:
            return 0
        size = self._cost.pop(customer_id)
        self.decoded_bytes -= size
        return size

    def _keep_record(self, customer_id: str, raw: bytes) -> None:
        self._forget_record(customer_id)
        self.raw[customer_id] = raw
        self.record_bytes += len(raw) + RECORD_OVERHEAD_BYTES

    def _forget_record(self, customer_id: str) -> None:
        raw = self.raw.pop(customer_id, None)
        if raw is not None:
            self.record_bytes -= len(raw) + RECORD_OVERHEAD_BYTES

    def __len__(self) -> int:
        # every customer is in ``raw`` but those changed since the last ``take_dirty``
        return len(self.raw) + len(self.dirty)


def held_bytes(stores: Iterable[PartitionState]) -> tuple[int, int]:
    """The estimated bytes the stores hold: every customer's record, and the decoded customers."""
    records = decoded = 0
    for s in stores:
        records += s.record_bytes
        decoded += s.decoded_bytes
    return records, decoded


def evict_to_budget(stores: Iterable[PartitionState], budget_bytes: int) -> int:
    """Evict decoded customers until the stores' customers fit ``budget_bytes`` (records first: they are
    the state; whatever is left holds decoded customers), each store freeing its share of the excess in
    proportion to what it holds decoded; the bytes freed. After every store's ``take_dirty``."""
    stores = list(stores)
    records, decoded = held_bytes(stores)
    excess = max(0, records + decoded - budget_bytes)
    # every store is asked, nothing to free included: that ends its newcomers' probation
    return sum(s.evict(-(-excess * s.decoded_bytes // decoded) if decoded else 0) for s in stores)


def records_over_budget(stores: Iterable[PartitionState], budget_bytes: int) -> str | None:
    """The line an operator needs when the records alone take more than the budget (no customer then stays
    decoded between batches: every event decodes, and memory goes past the budget), else None."""
    records, _ = held_bytes(stores)
    if records <= budget_bytes:
        return None
    return (
        f"the customers' state records take {records / 2**20:,.1f} MiB, more than worker.state_memory_budget_mib "
        f"({budget_bytes / 2**20:,.0f}): no customer stays decoded between batches, so every event pays a "
        "decode; raise it (RISKWATCH_WORKER__STATE_MEMORY_BUDGET_MIB) or spread the partitions over more workers"
    )


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
