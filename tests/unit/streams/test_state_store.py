"""The worker's per-partition state: LRU of decoded customers, compact JSON for the rest, exact round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from config.settings import load_settings
from detectors.engine import STATE_FORMAT_VERSION, RiskEngine, migrate_state_v1, migrate_state_v4
from detectors.state import CustomerState
from detectors.state_codec import StateCodec
from schemas.events import parse_event
from streams.worker.state_store import (
    RECORD_OVERHEAD_BYTES,
    PartitionState,
    decoded_cost,
    evict_to_budget,
    records_over_budget,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _tx(customer: str, n: int, amount: str = "120.50", channel: str = "card") -> object:
    return parse_event(
        {
            "type": "transaction",
            "event_id": f"{customer}-{n}",
            "customer_id": customer,
            # five hours apart: ordinary spending, no velocity burst
            "timestamp": (datetime(2026, 3, 1, 8, tzinfo=UTC) + timedelta(hours=5 * n)).isoformat(),
            "account_id": "a",
            "amount": amount,
            "currency": "CNY",
            "direction": "debit",
            "channel": channel,
            "counterparty_id": f"m-{n % 7}",
        }
    )


def _feed(store: PartitionState, engine: RiskEngine, customer: str, n: int) -> None:
    state = store.get(customer) or engine.new_state(customer)
    engine.process(state, _tx(customer, n), NOW)  # type: ignore[arg-type]
    store.put(customer, state)


def test_eviction_keeps_every_customer_and_their_exact_state() -> None:
    engine = RiskEngine(load_settings().detection)
    small = PartitionState(engine, max_decoded=3)
    large = PartitionState(engine, max_decoded=1000)
    customers = [f"c{i}" for i in range(10)]
    for n in range(30):
        for c in customers:
            _feed(small, engine, c, n)
            _feed(large, engine, c, n)
        written_small = dict(small.take_dirty())
        written_large = dict(large.take_dirty())
        assert written_small == written_large  # eviction never changes what is written to the changelog
        assert len(small) == len(large) == len(customers)
        assert len(small.states) <= 3
    for c in customers:
        a, b = small.get(c), large.get(c)
        assert a is not None
        assert b is not None
        assert engine.state_to_json(a) == engine.state_to_json(b)


def test_restore_then_decode_on_first_use() -> None:
    engine = RiskEngine(load_settings().detection)
    first = PartitionState(engine)
    for n in range(5):
        _feed(first, engine, "c1", n)
    ((cid, blob),) = first.take_dirty()
    restored = PartitionState(engine)
    restored.load(cid, blob)
    assert len(restored) == 1
    assert not restored.states
    state = restored.get("c1")
    assert state is not None
    assert state.events_processed == 5
    restored.load("c1", None)  # tombstone
    assert restored.get("c1") is None
    assert len(restored) == 0


def test_a_version_1_state_is_migrated_not_rejected() -> None:
    engine = RiskEngine(load_settings().detection)
    state = engine.new_state("c1")
    for n in range(40):
        engine.process(state, _tx("c1", n), NOW)  # type: ignore[arg-type]
    current = engine.state_to_json(state)
    v1 = json.loads(json.dumps(current))
    v1["v"] = 1
    v1["ctx"]["debits"] = [a for _, a in current["ctx"]["debits"]]
    v1["ctx"]["counterparties"] = [[k, c, m, 0.0] for k, c, m in current["ctx"]["counterparties"]]
    migrated = engine.state_from_json(orjson.loads(orjson.dumps(v1)))
    assert list(migrated.ctx.debit_baseline.amounts) == list(state.ctx.debit_baseline.amounts)
    assert migrate_state_v1(v1)["v"] == 2
    again = engine.process(migrated, _tx("c1", 99, amount="90000", channel="transfer"), NOW)
    assert [a.detector for a in again.alerts] == ["amount_spike"]  # the migrated baseline still works


def test_erased_customer_becomes_a_tombstone_and_loses_its_deadline() -> None:
    engine = RiskEngine(load_settings().detection)
    store = PartitionState(engine, max_decoded=10)
    _feed(store, engine, "c1", 0)
    ((cid, blob),) = store.take_dirty()
    assert cid == "c1"
    assert blob is not None
    # the first event starts the review clock: the punctuation knows when c1 next needs it
    deadline = store.deadlines["c1"]
    assert deadline > NOW.timestamp()
    store.delete("c1")
    assert store.take_dirty() == [("c1", None)]
    assert store.get("c1") is None
    assert "c1" not in store.deadlines


def test_deadline_survives_restore_through_the_record_header() -> None:
    from streams.worker.state_store import deadline_from_headers, deadline_header

    engine = RiskEngine(load_settings().detection)
    store = PartitionState(engine, max_decoded=10)
    _feed(store, engine, "c1", 0)
    ((_, blob),) = store.take_dirty()
    headers = deadline_header(store.deadlines["c1"])
    restored = PartitionState(engine, max_decoded=10)
    restored.load("c1", blob, deadline_from_headers(headers))
    assert restored.deadlines == store.deadlines
    assert restored.due(store.deadlines["c1"]) == ["c1"]
    assert restored.due(store.deadlines["c1"] - 1) == []


@pytest.mark.parametrize("version", [2, 3, 4])
def test_a_version_2_to_4_state_is_migrated_not_rejected(version: int) -> None:
    """Versions 2 to 4 had no day-window memory in velocity_spike and no sustained_shift state."""
    engine = RiskEngine(load_settings().detection)
    state = engine.new_state("c1")
    for n in range(40):
        engine.process(state, _tx("c1", n), NOW)  # type: ignore[arg-type]
    v2 = json.loads(json.dumps(engine.state_to_json(state)))
    v2["v"] = version
    del v2["detectors"]["velocity_spike"]["day_alert_ts"]
    del v2["detectors"]["sustained_shift"]
    assert "day_alert_ts" in migrate_state_v4(v2)["detectors"]["velocity_spike"]
    assert STATE_FORMAT_VERSION == 6
    migrated = engine.state_from_json(orjson.loads(orjson.dumps(v2)))
    assert migrated.detectors["velocity_spike"].day_alert_ts is None
    assert (
        engine.state_to_json(migrated)["detectors"]["sustained_shift"]
        == engine.state_to_json(engine.new_state("c1"))["detectors"]["sustained_shift"]
    )
    assert list(migrated.ctx.debit_baseline.amounts) == list(state.ctx.debit_baseline.amounts)


def test_a_customer_decoded_but_unchanged_leaves_the_cache_without_being_encoded_again() -> None:
    engine = RiskEngine(load_settings().detection)
    first = PartitionState(engine)
    for c in ("c0", "c1", "c2"):
        _feed(first, engine, c, 0)
    records = dict(first.take_dirty())
    store = PartitionState(engine, max_decoded=2)
    for cid, blob in records.items():
        store.load(cid, blob)
    encoded: list[str] = []
    store.codec = CountingCodec(store.codec, encoded)  # type: ignore[assignment]
    for c in ("c0", "c1", "c2"):
        assert store.get(c) is not None
    assert store.take_dirty() == []
    assert list(store.states) == ["c1", "c2"]  # c0 left the cache: least recently used
    assert encoded == []
    assert store.raw == records  # every customer still has the record it was restored from
    assert len(store) == 3
    _feed(store, engine, "c0", 1)
    assert len(store) == 3
    ((cid, blob),) = store.take_dirty()
    assert (cid, encoded) == ("c0", ["c0"])
    assert store.raw["c0"] == blob != records["c0"]
    assert len(store) == 3


class CountingCodec:
    """The store's codec, noting whose state it encodes (the codec class itself may be compiled)."""

    def __init__(self, codec: StateCodec, encoded: list[str]) -> None:
        self.codec = codec
        self.encoded = encoded

    def encode(self, state: CustomerState) -> bytes:
        self.encoded.append(state.ctx.customer_id)
        return self.codec.encode(state)

    def decode(self, raw: bytes) -> CustomerState:
        return self.codec.decode(raw)


def _restored(engine: RiskEngine, customers: int) -> tuple[PartitionState, dict[str, bytes]]:
    """A store restored from the records of ``customers`` customers with a few events each."""
    first = PartitionState(engine)
    for i in range(customers):
        for n in range(3):
            _feed(first, engine, f"c{i}", n)
    records = {cid: blob for cid, blob in first.take_dirty() if blob is not None}
    store = PartitionState(engine)
    for cid, blob in records.items():
        store.load(cid, blob)
    return store, records


def test_the_memory_budget_bounds_the_decoded_customers_and_never_their_state() -> None:
    engine = RiskEngine(load_settings().detection)
    stores, records = zip(*(_restored(engine, 20) for _ in range(2)), strict=True)
    held = sum(s.record_bytes for s in stores)
    assert held == sum(len(b) + RECORD_OVERHEAD_BYTES for r in records for b in r.values())
    budget = held + 6 * decoded_cost(max(len(b) for b in records[0].values()))
    for n in range(3, 8):
        for store in stores:
            for i in range(20):
                _feed(store, engine, f"c{i}", n)
            assert len(store.states) == 20  # a batch's customers all decoded until it commits
        for store in stores:
            store.take_dirty()
        evict_to_budget(stores, budget)
        assert sum(s.record_bytes + s.decoded_bytes for s in stores) <= budget
        assert 0 < sum(len(s.states) for s in stores) <= 6
        assert all(len(s) == 20 for s in stores)  # every customer is still there as its record
    # what the budget pushed out is exactly what an unbounded store holds
    unbounded, _ = _restored(engine, 20)
    for n in range(3, 8):
        for i in range(20):
            _feed(unbounded, engine, f"c{i}", n)
        unbounded.take_dirty()
    for i in range(20):
        state = stores[0].get(f"c{i}")
        assert state is not None
        assert engine.state_to_json(state) == engine.state_to_json(unbounded.states[f"c{i}"])
    # the estimates follow what is held: nothing decoded costs nothing
    stores[0].take_dirty()
    stores[0].evict(1 << 40)
    assert (stores[0].decoded_bytes, len(stores[0].states)) == (0, 0)


def test_a_customer_decoded_once_leaves_before_the_hot_ones_and_joins_when_it_returns() -> None:
    engine = RiskEngine(load_settings().detection)
    store, records = _restored(engine, 6)
    for c in ("c0", "c1", "c2"):  # hot: decoded, then kept (the cache had room)
        assert store.get(c) is not None
    store.take_dirty()
    store.evict(0)
    assert store.get("c3") is not None  # a one-off, more recently used than the hot ones
    store.take_dirty()
    store.evict(1)  # room for one less: the one-off leaves, not c0 (least recently used)
    assert list(store.states) == ["c0", "c1", "c2"]
    assert store.get("c3") is not None  # back soon after: it stays like any other customer
    store.take_dirty()
    store.evict(1)
    assert list(store.states) == ["c1", "c2", "c3"]
    assert store.raw == records  # nothing changed, nothing encoded again


def test_eviction_refuses_customers_whose_change_is_not_written() -> None:
    engine = RiskEngine(load_settings().detection)
    store, _ = _restored(engine, 2)
    _feed(store, engine, "c0", 9)
    with pytest.raises(RuntimeError, match="not yet in their changelog records"):
        store.evict(1)
    store.take_dirty()
    assert store.evict(1) > 0


def test_records_over_the_budget_get_one_line_naming_the_setting() -> None:
    engine = RiskEngine(load_settings().detection)
    store, _ = _restored(engine, 4)
    assert records_over_budget([store], store.record_bytes) is None
    line = records_over_budget([store], store.record_bytes - 1)
    assert line is not None
    assert "worker.state_memory_budget_mib" in line
    assert "RISKWATCH_WORKER__STATE_MEMORY_BUDGET_MIB" in line
    # the records' size to a tenth of a MiB: whole MiB would say "40 MiB, more than ... (40)" at 40.3
    assert f"take {store.record_bytes / 2**20:,.1f} MiB" in line
    assert store.get("c0") is not None
    store.take_dirty()
    evict_to_budget([store], store.record_bytes - 1)
    assert not store.states  # nothing stays decoded, and nothing is lost
    assert len(store) == 4


def test_the_memory_estimates_follow_every_path_a_customer_takes() -> None:
    """``record_bytes`` and ``decoded_bytes`` are kept by hand on get, put, delete, load, take_dirty and
    evict: after any sequence of them they are exactly what the store holds, so the budget neither drifts
    up (nothing stays decoded) nor down (memory past the budget), and every customer keeps its state."""
    engine = RiskEngine(load_settings().detection)
    store, records = _restored(engine, 6)
    ops = [  # (operation, customer, event number): a fixed walk through every path
        ("feed", 0, 3), ("feed", 6, 0), ("delete", 1, 0), ("take", 0, 0), ("evict", 0, 1),
        ("feed", 1, 0), ("get", 2, 0), ("get", 3, 0), ("load", 3, 0), ("take", 0, 0), ("evict", 0, 1 << 40),
        ("feed", 2, 3), ("feed", 2, 4), ("delete", 2, 0), ("feed", 2, 0), ("take", 0, 0),
        ("get", 4, 0), ("load", 4, -1), ("get", 5, 0), ("take", 0, 0), ("evict", 0, 0), ("get", 0, 0),
    ]  # fmt: skip
    alive = set(records)
    for op, i, n in ops:
        cid = f"c{i}"
        if op == "feed":
            _feed(store, engine, cid, n)
            alive.add(cid)
        elif op == "get":
            assert store.get(cid) is not None
        elif op == "delete":
            store.delete(cid)
            alive.discard(cid)
        elif op == "load":  # a record of the changelog (n < 0: a tombstone)
            store.load(cid, None if n < 0 else records[cid])
            (alive.discard if n < 0 else alive.add)(cid)
        elif op == "take":
            store.take_dirty()
        else:
            store.evict(n)
        assert store.record_bytes == sum(len(b) + RECORD_OVERHEAD_BYTES for b in store.raw.values())
        assert store.decoded_bytes == sum(store._cost[c] for c in store.states)
        assert set(store._cost) == set(store.states)
    store.take_dirty()
    assert set(store.raw) == alive
    assert store.decoded_bytes == sum(decoded_cost(len(store.raw[c])) for c in store.states)
