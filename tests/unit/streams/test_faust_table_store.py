"""The faust runtime's StateStore over the table's storage: raw bytes in and out (the engine state's
record, as the confluent worker's changelog holds), exact round trip, revoked partitions forgotten."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import orjson

from config.settings import load_settings
from detectors.engine import RiskEngine
from detectors.state_codec import StateCodec
from streams.faust_worker.table_store import TableStateStore
from streams.partitioning import kafka_partition
from streams.processor import Processor
from streams.worker.state_store import PartitionState

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _tx_json(customer: str, n: int) -> bytes:
    return orjson.dumps(
        {
            "type": "transaction",
            "event_id": f"{customer}-{n}",
            "customer_id": customer,
            "timestamp": (datetime(2026, 3, 1, 8, tzinfo=UTC) + timedelta(hours=5 * n)).isoformat(),
            "account_id": "a",
            "amount": "120.50",
            "currency": "CNY",
            "direction": "debit",
            "channel": "card",
            "counterparty_id": f"m-{n % 7}",
        }
    )


def _engine() -> RiskEngine:
    return RiskEngine(load_settings().detection)


def test_the_faust_package_imports_without_faust() -> None:
    """pytest runs with warnings as errors and faust warns on import: only streams.faust_worker.app may
    import it, and only the faust runtime imports that."""
    import streams.faust_worker.runner
    import streams.worker.command  # noqa: F401

    assert "faust" not in sys.modules


def test_values_are_the_records_the_confluent_changelog_holds_and_round_trip() -> None:
    engine = _engine()
    data: dict[bytes, bytes] = {}
    store = TableStateStore(engine, data)
    processor = Processor(engine, store, lambda: NOW)
    for n in range(12):
        assert processor.handle(_tx_json("c-1", n), source="t").dead_letter is None
        records = store.take_dirty()
        assert [k for k, _ in records] == [b"c-1"]
    assert list(data) == [b"c-1"]
    codec = StateCodec(engine)
    state = codec.decode(data[b"c-1"])
    # the same bytes the confluent worker's PartitionState writes for the same state
    reference = PartitionState(engine)
    reference.put("c-1", state)
    assert reference.take_dirty() == [("c-1", data[b"c-1"])]
    # a fresh store over the same data (what recovery from the changelog gives) continues where it was
    again = TableStateStore(engine, dict(data))
    restored = again.get("c-1")
    assert restored is not None
    assert codec.encode(restored) == data[b"c-1"]
    assert again.get("unknown") is None
    # a redelivered event is recognised as a duplicate after the round trip
    assert Processor(engine, again, lambda: NOW).handle(_tx_json("c-1", 11), source="t").duplicate


def test_nothing_reaches_the_table_until_taken_and_discard_forgets() -> None:
    engine = _engine()
    data: dict[bytes, bytes] = {}
    store = TableStateStore(engine, data)
    Processor(engine, store, lambda: NOW).handle(_tx_json("c-2", 0), source="t")
    assert data == {}
    store.discard()
    assert store.get("c-2") is None
    assert store.take_dirty() == []


def test_decoded_cache_is_bounded_and_loses_nothing() -> None:
    engine = _engine()
    data: dict[bytes, bytes] = {}
    store = TableStateStore(engine, data, max_decoded=3)
    processor = Processor(engine, store, lambda: NOW)
    for i in range(10):
        processor.handle(_tx_json(f"c-{i}", 0), source="t")
        store.take_dirty()
    assert len(store.decoded) <= 10
    for i in range(10):
        assert store.get(f"c-{i}") is not None
        assert len(store.decoded) <= 3
    assert len(store) == 10


def test_drop_partitions_forgets_exactly_the_customers_of_those_partitions() -> None:
    engine = _engine()
    data: dict[bytes, bytes] = {}
    store = TableStateStore(engine, data)
    processor = Processor(engine, store, lambda: NOW)
    customers = [f"c-{i}" for i in range(30)]
    for c in customers:
        processor.handle(_tx_json(c, 0), source="t")
        store.take_dirty()
    revoked = {0, 2}
    dropped = store.drop_partitions(revoked, 6)
    kept = {c for c in customers if kafka_partition(c.encode(), 6) not in revoked}
    assert dropped == len(customers) - len(kept)
    assert {k.decode() for k in data} == kept
    assert all(store.get(c) is None for c in customers if c not in kept)
    assert store.drop_partitions(set(), 6) == 0
