"""The changelog's binary state records: exact round trip, older JSON records read, a bounded size."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from strategies import DETECTION, Event, Run, alert_key, dense_traffic, event_sequences, feed, varied_traffic

from detectors.engine import RiskEngine
from detectors.state import CustomerState
from detectors.state_codec import BINARY_FORMAT, DICTIONARY_V7, DICTIONARY_V9, StateCodec, trained_dictionary
from schemas.events import parse_event_json
from streams.processor import MemoryStateStore, Processor

# one customer of the generator (255 events over 40 days, every id list and the payee memory at its cap),
# its state written by the worker of state format 5 (JSON) after its first 170 events
V5_RECORD = Path(__file__).parent / "data" / "state_v5_changelog_record.json"
# the same customer after the same events, as the worker of state format 6 (zstd of a JSON tree) wrote it
V6_RECORD = Path(__file__).parent / "data" / "state_v6_changelog_record.json"
# and as the worker of state format 7 (binary columns, the baseline's ids as positions) wrote it
V7_RECORD = Path(__file__).parent / "data" / "state_v7_changelog_record.json"
# and as the worker of state format 8 (the baseline's ids as text, every detector's part as JSON) wrote it
V8_RECORD = Path(__file__).parent / "data" / "state_v8_changelog_record.json"
# and as the worker of state format 9 (the detectors' own binary parts, the fingerprints in the frame) wrote it
V9_RECORD = Path(__file__).parent / "data" / "state_v9_changelog_record.json"
CAPTURED = {6: V6_RECORD, 7: V7_RECORD, 8: V8_RECORD, 9: V9_RECORD}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _round_trip(codec: StateCodec, state: CustomerState) -> CustomerState:
    return codec.decode(codec.encode(state))


def test_records_are_binary_and_decode_to_the_same_state() -> None:
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    run = feed(engine, varied_traffic(3000, seed=5))
    record = codec.encode(run.state)
    assert record[0] == BINARY_FORMAT
    restored = codec.decode(record)
    assert _json(engine.state_to_json(restored)) == _json(engine.state_to_json(run.state))
    assert codec.to_json(record) == json.loads(_json(engine.state_to_json(run.state)))
    # deterministic: the same state gives the same bytes, so a restored worker writes what it read
    assert codec.encode(restored) == record


@given(events=event_sequences(min_size=2), data=st.data())
def test_a_round_trip_anywhere_changes_nothing_that_follows(events: list[Event], data: st.DataObject) -> None:
    split = data.draw(st.integers(min_value=0, max_value=len(events)), label="split")
    engine = RiskEngine(DETECTION)
    straight = feed(engine, events)
    run = feed(engine, events[:split])
    resumed = Run(_round_trip(StateCodec(engine), run.state), list(run.alerts), list(run.risks))
    feed(engine, events[split:], resumed)
    assert [alert_key(a) for a in resumed.alerts] == [alert_key(a) for a in straight.alerts]
    assert resumed.risks == straight.risks
    assert _json(engine.state_to_json(resumed.state)) == _json(engine.state_to_json(straight.state))


@pytest.mark.parametrize("traffic", ["varied", "dense"])
def test_round_trips_mid_stream_on_long_traffic(traffic: str) -> None:
    events = varied_traffic(6000, seed=11) if traffic == "varied" else dense_traffic(6000)
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    straight = feed(engine, events)
    resumed = Run(engine.new_state(events[0].customer_id))
    for start in range(0, len(events), 1000):
        feed(engine, events[start : start + 1000], resumed)
        resumed.state = _round_trip(codec, resumed.state)
    assert straight.alerts
    assert [alert_key(a) for a in resumed.alerts] == [alert_key(a) for a in straight.alerts]
    assert codec.encode(resumed.state) == codec.encode(straight.state)


def test_amounts_that_are_not_whole_cents_stay_exact() -> None:
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    state = engine.new_state("c")
    odd = [0.1 + 0.2, 1 / 3, 12.345, 1e-9, 99999999.99, 123.45]
    for i, amount in enumerate(odd):
        state.ctx.debit_baseline.add(amount, f"e{i}")
        state.ctx.remember_counterparty(f"p{i}", amount)
    restored = codec.decode(codec.encode(state))
    assert list(restored.ctx.debit_baseline.amounts) == odd
    assert [v[1] for v in restored.ctx.counterparties.values()] == odd


def test_a_format_5_json_record_is_migrated_with_the_same_detection_afterwards() -> None:
    """The worker of format 5 wrote JSON; a worker of this format restores it and goes on as if it had
    never stopped: the same alerts as a run of all the events by the current code, and the same state."""
    fixture = json.loads(V5_RECORD.read_text())
    before = [line.encode() for line in fixture["events_before"]]
    after = [line.encode() for line in fixture["events_after"]]
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)

    def run(store: MemoryStateStore, lines: list[bytes]) -> list[str]:
        processor = Processor(engine, store)
        alerts = []
        for offset, line in enumerate(lines):
            result = processor.handle(line, source="t", offset=offset)
            assert result.dead_letter is None
            alerts += [alert_key(a) for a in result.alerts]
        return alerts

    straight = MemoryStateStore()
    run(straight, before)
    expected = run(straight, after)
    restored = MemoryStateStore()
    restored.put(fixture["customer_id"], codec.decode(fixture["state_v5"].encode()))
    assert orjson.loads(fixture["state_v5"])["v"] == 5
    assert run(restored, after) == expected
    # an id it remembered keeps recognising its redelivery (its fingerprint was cut to 4 bytes)
    assert Processor(engine, restored).handle(before[-1], source="t").duplicate
    assert expected, "the fixture's customer raises alerts after the restore"
    cid = fixture["customer_id"]
    assert parse_event_json(after[0]).customer_id == cid
    # the same state in everything the engine keeps; each detector's part is its own migration's (a
    # detector's memory that format 5 did not hold starts from the restore, e.g. velocity_spike's counts of
    # payments to new counterparties) and is checked by that detector's tests
    restored_json = engine.state_to_json(restored.states[cid])
    straight_json = engine.state_to_json(straight.states[cid])
    assert set(restored_json["detectors"]) == set(straight_json["detectors"])
    del restored_json["detectors"], straight_json["detectors"]
    assert _json(restored_json) == _json(straight_json)
    record = codec.encode(restored.states[cid])
    assert codec.encode(codec.decode(record)) == record


@pytest.mark.parametrize("fmt", [6, 7, 8, 9])
def test_a_format_6_to_9_record_is_read_as_the_state_it_was_written_from(fmt: int) -> None:
    """A worker of format 6, 7, 8 or 9 wrote it: it decodes to what a run of the same events by the
    current code keeps, goes on with the same alerts, and is rewritten as format 10."""
    fixture = json.loads(V5_RECORD.read_text())
    captured = json.loads(CAPTURED[fmt].read_text())
    record = base64.b64decode(captured[f"record_v{fmt}_base64"])
    assert record[0] == fmt
    assert captured["customer_id"] == fixture["customer_id"]
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    straight = MemoryStateStore()
    processor = Processor(engine, straight)
    for offset, line in enumerate(fixture["events_before"]):
        assert processor.handle(line.encode(), source="t", offset=offset).dead_letter is None
    cid = fixture["customer_id"]
    restored = MemoryStateStore()
    restored.put(cid, codec.decode(record))
    # everything the engine keeps as it was; each detector's part as that detector reads what format 6 held
    # (a detector whose state changed since migrates its own part, checked by its own tests)
    restored_json = engine.state_to_json(restored.states[cid])
    straight_json = engine.state_to_json(straight.states[cid])
    held = codec.to_json(record)["detectors"]
    assert _json(restored_json.pop("detectors")) == _json(
        {d.name: d.state_to_json(d.state_from_json(held[d.name])) for d in engine.detectors}
    )
    del straight_json["detectors"]
    assert _json(restored_json) == _json(straight_json)
    alerts = {}
    for name, store in (("straight", straight), ("restored", restored)):
        processor = Processor(engine, store)
        alerts[name] = [
            alert_key(a)
            for offset, line in enumerate(fixture["events_after"])
            for a in processor.handle(line.encode(), source="t", offset=offset).alerts
        ]
    assert alerts["restored"] == alerts["straight"]
    assert alerts["straight"], "the fixture's customer raises alerts after the restore"
    rewritten = codec.encode(restored.states[cid])
    assert rewritten[0] == BINARY_FORMAT == 0x0A
    assert codec.encode(codec.decode(rewritten)) == rewritten


def _v7_sections(record: bytes) -> tuple[list[Any], list[bytes]]:
    """A format 7 record's JSON part and its other seven sections, as the version before reads them."""
    assert record[0] == 0x07
    body = zstandard.ZstdDecompressor(dict_data=trained_dictionary(DICTIONARY_V7)).decompress(record[1:])
    lengths = struct.unpack_from("<8I", body)
    sections, at = [], 32
    for n in lengths:
        sections.append(body[at : at + n])
        at += n
    assert at == len(body)
    return orjson.loads(sections[0]), sections[1:]


def _fixture_state(engine: RiskEngine) -> CustomerState:
    """The state the captured records were written from: the fixture customer's events before them."""
    fixture = json.loads(V5_RECORD.read_text())
    store = MemoryStateStore()
    processor = Processor(engine, store)
    for offset, line in enumerate(fixture["events_before"]):
        assert processor.handle(line.encode(), source="t", offset=offset).dead_letter is None
    return store.states[fixture["customer_id"]]


def test_format_7_is_written_for_a_rolling_upgrade_as_the_version_before_wrote_it() -> None:
    """A worker of the version before reads what ``StateCodec(engine, 7)`` writes: for the state of the
    same events, the captured record's sections byte for byte, and its JSON part value for value but the
    detectors' parts, which are as each detector writes its part now (a detector's state may have changed
    since, as sustained_shift's did; reading its older part is checked by its own tests)."""
    captured = base64.b64decode(json.loads(V7_RECORD.read_text())["record_v7_base64"])
    engine = RiskEngine(DETECTION)
    state = _fixture_state(engine)
    record = StateCodec(engine, 0x07).encode(state)
    written_json, written = _v7_sections(record)
    captured_json, held = _v7_sections(captured)
    assert written == held
    parts, captured_parts = written_json.pop(12), captured_json.pop(12)
    assert written_json == captured_json
    assert set(parts) == set(captured_parts)
    assert _json(engine.state_to_json(StateCodec(engine).decode(record))) == _json(
        engine.state_to_json(state)
    )
    assert StateCodec(engine).encode(state)[0] == 0x0A
    with pytest.raises(ValueError, match="cannot be written"):
        StateCodec(engine, 0x06)


def test_format_8_is_written_for_a_rolling_upgrade_as_the_version_before_wrote_it() -> None:
    """A worker of the version before (format 8) reads what ``StateCodec(engine, 8)`` writes: for the
    state of the same events, the captured record's body byte for byte (the detectors that pack their
    state now still give the same JSON)."""
    captured = base64.b64decode(json.loads(V8_RECORD.read_text())["record_v8_base64"])
    engine = RiskEngine(DETECTION)
    state = _fixture_state(engine)
    record = StateCodec(engine, 0x08).encode(state)
    assert record[0] == captured[0] == 0x08
    unzip = zstandard.ZstdDecompressor(dict_data=trained_dictionary(DICTIONARY_V7))
    assert unzip.decompress(record[1:]) == unzip.decompress(captured[1:])


def test_format_9_is_written_for_a_rolling_upgrade_as_the_version_before_wrote_it() -> None:
    """A worker of the version before (format 9) reads what ``StateCodec(engine, 9)`` writes: for the
    state of the same events, the captured record byte for byte."""
    captured = base64.b64decode(json.loads(V9_RECORD.read_text())["record_v9_base64"])
    engine = RiskEngine(DETECTION)
    assert StateCodec(engine, 0x09).encode(_fixture_state(engine)) == captured


def test_format_10_holds_the_fingerprints_after_the_frame_as_they_are() -> None:
    """Format 10 is format 9's body without the fingerprints, compressed the same way, then the
    fingerprints: the same state, read back from either; a record whose fingerprints say more bytes than
    it has is refused."""
    engine = RiskEngine(DETECTION)
    state = _fixture_state(engine)
    record = StateCodec(engine).encode(state)
    as_9 = StateCodec(engine, 0x09).encode(state)
    fingerprints = state.seen.fingerprints_bytes()
    assert len(fingerprints) == 4 * len(state.seen.order) > 0
    assert record[0] == 0x0A
    assert record.endswith(fingerprints)
    unzip = zstandard.ZstdDecompressor(dict_data=trained_dictionary(DICTIONARY_V9))
    body_9 = unzip.decompress(as_9[1:])
    body_10 = unzip.decompress(record[1:], allow_extra_data=True)
    assert body_10[:36] == body_9[:36]  # the same header: the nine sections' lengths
    lengths = struct.unpack_from("<9I", body_9)
    at = 36 + lengths[0] + lengths[1]
    assert body_9[at : at + lengths[2]] == fingerprints
    assert body_10 == body_9[:at] + body_9[at + lengths[2] :]
    assert len(record) < len(as_9)
    codec = StateCodec(engine)
    expected = _json(engine.state_to_json(state))
    assert _json(engine.state_to_json(codec.decode(record))) == expected
    assert _json(engine.state_to_json(codec.decode(as_9))) == expected
    assert codec.encode(codec.decode(as_9)) == record
    # a damaged record: its header says more fingerprints than the record holds
    damaged = struct.pack("<9I", *lengths[:2], 10 * len(record), *lengths[3:]) + body_10[36:]
    zipped = zstandard.ZstdCompressor(dict_data=trained_dictionary(DICTIONARY_V9)).compress(damaged)
    with pytest.raises(ValueError, match="fingerprints say"):
        codec.decode(b"\x0a" + zipped + fingerprints)


def test_format_9_packs_the_parts_of_detectors_that_give_bytes() -> None:
    """The detectors that pack their state (``Detector.state_bytes``) are not in the JSON part, the others
    are; and the record reads back as the state, as the same bytes."""
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    state = feed(engine, varied_traffic(3000, seed=5)).state
    packing = {d.name for d in engine.detectors if d.state_bytes(state.detectors[d.name]) is not None}
    assert {"velocity_spike", "sustained_shift"} <= packing
    body = memoryview(codec.body(state))
    lengths = struct.unpack_from("<9I", body)
    head = orjson.loads(body[36 : 36 + lengths[0]])
    assert set(head[10]) == {d.name for d in engine.detectors} - packing
    assert [name for name, _ in head[11]] == [d.name for d in engine.detectors if d.name in packing]
    assert sum(n for _, n in head[11]) == lengths[8]
    record = codec.encode(state)
    assert codec.encode(codec.decode(record)) == record
    assert _json(engine.state_to_json(codec.decode(record))) == _json(engine.state_to_json(state))


def test_a_damaged_binary_part_is_refused_with_a_reason() -> None:
    engine = RiskEngine(DETECTION)
    velocity = next(d for d in engine.detectors if d.name == "velocity_spike")
    state = feed(engine, varied_traffic(500, seed=5)).state.detectors["velocity_spike"]
    packed = velocity.state_bytes(state)
    assert packed is not None
    with pytest.raises(ValueError, match="layout"):
        velocity.state_from_bytes(memoryview(b"\x7f" + packed[1:]))
    with pytest.raises(ValueError, match=r"not whole items|differ in length"):
        velocity.state_from_bytes(memoryview(packed[:-1]))


def test_ids_that_hold_the_separator_and_odd_amounts_round_trip() -> None:
    """The contract allows any text in an id: one holding the id texts' separator or escape is escaped."""
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    state = engine.new_state("c")
    for i, eid in enumerate(["a\x00b", "plain", "\x00", "é\u4e2d", "\x01", "\x010"]):
        state.seen.add(eid, bytes([i, 1, 2, 3]))
        state.ctx.debit_baseline.add(10.0 + i, eid)
        state.ctx.remember_counterparty(eid, 1e15 + i)
    state.ctx.debit_baseline.add(5.0, "not-remembered")
    restored = codec.decode(codec.encode(state))
    assert _json(engine.state_to_json(restored)) == _json(engine.state_to_json(state))
    for older in (0x07, 0x08):
        as_older = StateCodec(engine, older).encode(state)
        assert _json(engine.state_to_json(codec.decode(as_older))) == _json(engine.state_to_json(state))
    assert restored.seen.fingerprint("a\x00b") == bytes([0, 1, 2, 3])
    assert list(restored.ctx.debit_baseline.event_ids)[-1] == "not-remembered"


# format 7 (riskwatch 8f158da) of the state below: its payees' ids held the separator, so they were in the
# JSON part, and so was the baseline's id not among the remembered ones
V7_ODD_IDS = (
    "Byi1L/1gUQJNCAC0CI4CKQBbImNudWxsIm5vdC1yZW1lbWJlcmVkIl0sWyJhXHUwMDAwYiIsInBsYWluIiwiIiwiw6nkuK0iXXN0MABh"
    "ATBiAHBsYWluAAEwAMOp5LitAAABAgMBAQIDAgECAwMBAgMAAAAA/////3HoA0wEsBQF9AHwP2QAADQm9WsMQwgQGAA0JvVrDEMw/IAT"
    "sOy4uk3NT9o8ueVU29gOxL3LAFQ3HabyyBcykarEB1A7O9lvflw6vkWxDVanmR+HcapeighqADKY4nWGYjESdNzElnG8QmmW+qyP7nJG"
    "WG8Wi24IzlntulXZhk00hHx4oaMDBPqMH/QUNToQYz1y4QdoiLlvdFBw"
)


def test_a_format_7_record_with_ids_holding_the_separator_is_read() -> None:
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    state = engine.new_state("c")
    for i, eid in enumerate(["a\x00b", "plain", "\x00", "é\u4e2d"]):
        state.seen.add(eid, bytes([i, 1, 2, 3]))
        state.ctx.debit_baseline.add(10.0 + i, eid)
        state.ctx.remember_counterparty(eid, 1e15 + i)
    state.ctx.debit_baseline.add(5.0, "not-remembered")
    record = base64.b64decode(V7_ODD_IDS)
    assert record[0] == 0x07
    assert _json(engine.state_to_json(codec.decode(record))) == _json(engine.state_to_json(state))


def test_an_ordinary_customer_fits_in_a_small_record() -> None:
    """The fixture's customer has every id list and the payee memory at its cap: the JSON of format 5
    took ~9.9 KB for it."""
    fixture = json.loads(V5_RECORD.read_text())
    engine = RiskEngine(DETECTION)
    codec = StateCodec(engine)
    record = codec.encode(codec.decode(fixture["state_v5"].encode()))
    print(f"\nstate record bytes: {len(record)} (format 5 JSON: {len(fixture['state_v5'])})")
    assert len(record) <= 2560


def test_an_unknown_format_is_refused_with_its_byte() -> None:
    codec = StateCodec(RiskEngine(DETECTION))
    with pytest.raises(ValueError, match="0x0b"):
        codec.decode(b"\x0babc")
    with pytest.raises(ValueError, match="empty"):
        codec.decode(b"")


@pytest.mark.parametrize("fmt", [7, 8, 9, 10])
def test_a_damaged_frame_is_refused_as_a_value_error_naming_its_format(fmt: int) -> None:
    """zstd's own error is no ``ValueError``: the codec says which record format could not be read."""
    engine = RiskEngine(DETECTION)
    record = StateCodec(engine, fmt).encode(_fixture_state(engine))
    with pytest.raises(ValueError, match=f"damaged customer state record of format {fmt:#04x}"):
        StateCodec(engine).decode(record[:40])
