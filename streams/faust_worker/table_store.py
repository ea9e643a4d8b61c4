"""The ``StateStore`` the shared ``Processor`` sees, over the data of the faust table.

Table keys are the customer id's UTF-8 bytes and values the engine state's record of
``detectors/state_codec.py`` (exactly what the confluent worker's changelog holds), never pickles. A
customer's state is decoded on first use and kept decoded until the agent takes the changed records to
write them to the changelog.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

from detectors.engine import RiskEngine
from detectors.state import CustomerState
from detectors.state_codec import BINARY_FORMAT, StateCodec
from streams.partitioning import kafka_partition


class TableStateStore:
    """Customer states in ``data`` (the faust table's storage: bytes -> bytes) plus a decoded cache."""

    def __init__(
        self,
        engine: RiskEngine,
        data: MutableMapping[bytes, bytes],
        max_decoded: int = 5000,
        write_format: int = BINARY_FORMAT,
    ):
        self.engine = engine
        self.codec = StateCodec(engine, write_format)
        self.data = data
        self.max_decoded = max_decoded
        self.decoded: dict[str, CustomerState] = {}
        self.dirty: set[str] = set()
        # erased, not yet taken: removed from ``data`` (a changelog tombstone) by take_dirty
        self.deleted: set[str] = set()

    def get(self, customer_id: str) -> CustomerState | None:
        if customer_id in self.deleted:
            return None
        state = self.decoded.get(customer_id)
        if state is not None:
            return state
        raw = self.data.get(customer_id.encode())
        if raw is None:
            return None
        if len(self.decoded) >= self.max_decoded:
            self.decoded.clear()  # every cached state is also in ``data``: dropping them loses nothing
        state = self.decoded[customer_id] = self.codec.decode(raw)
        return state

    def put(self, customer_id: str, state: CustomerState) -> None:
        self.decoded[customer_id] = state
        self.dirty.add(customer_id)
        self.deleted.discard(customer_id)

    def delete(self, customer_id: str) -> None:
        self.decoded.pop(customer_id, None)
        self.dirty.discard(customer_id)
        self.deleted.add(customer_id)

    def take_dirty(self) -> list[tuple[bytes, bytes | None]]:
        """Encode every customer changed since the last call into ``data``; the (key, value) records for the
        changelog (value None: an erased customer's tombstone)."""
        out: list[tuple[bytes, bytes | None]] = []
        for cid in sorted(self.dirty):
            key, blob = cid.encode(), self.codec.encode(self.decoded[cid])
            self.data[key] = blob
            out.append((key, blob))
        for cid in sorted(self.deleted):
            self.data.pop(cid.encode(), None)
            out.append((cid.encode(), None))
        self.dirty = set()
        self.deleted = set()
        if len(self.decoded) > self.max_decoded:
            self.decoded.clear()  # all written to ``data`` just now
        return out

    def discard(self) -> None:
        """Forget changes not yet taken (their event is to be processed again)."""
        for cid in self.dirty:
            self.decoded.pop(cid, None)
        self.dirty = set()
        self.deleted = set()

    def drop_partitions(self, partitions: Iterable[int], partition_count: int) -> int:
        """Forget the customers of revoked partitions (customers sit on their murmur2 partition: the
        processor dead-letters any other); how many were dropped."""
        gone = set(partitions)
        if not gone:
            return 0
        keys = [k for k in self.data if kafka_partition(k, partition_count) in gone]
        for k in keys:
            del self.data[k]
            self.decoded.pop(k.decode(), None)
        return len(keys)

    def __len__(self) -> int:
        return len(self.data)
