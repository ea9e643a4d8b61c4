"""The day totals of large_value and tier_limit: compact rows, packed as bytes, and their JSON (the shape of
formats 1 to 8) read and written as before."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import DETECTION, feed, varied_traffic

from detectors.day_totals import DayTotals, day_number, day_text, evidence, from_dated_json
from detectors.engine import RiskEngine

#: each changed detector's part as the code of format 8 (before ``DayTotals``) wrote it after these events
V8_PARTS = Path(__file__).parent / "data" / "day_totals_v8_parts.json"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(("n", "seed"), [(1500, 7), (2600, 11)])
def test_a_part_written_by_formats_1_to_8_reads_as_the_state_it_was(n: int, seed: int) -> None:
    """A worker restoring an older changelog migrates: the part the code before wrote reads as the state
    the same events build now, and that state gives the same JSON (what format 8, written for a rolling
    upgrade, holds) and packs to bytes that read back as it."""
    captured = json.loads(V8_PARTS.read_text())[f"varied_traffic({n}, seed={seed})"]
    engine = RiskEngine(DETECTION)
    run = feed(engine, varied_traffic(n, seed=seed))
    for detector in engine.detectors:
        if detector.name in captured:
            migrated = detector.state_from_json(captured[detector.name])
            now = run.state.detectors[detector.name]
            assert _json(detector.state_to_json(now)) == _json(captured[detector.name]), detector.name
            assert _json(detector.state_to_json(migrated)) == _json(captured[detector.name]), detector.name
            packed = detector.state_bytes(now)
            if packed is not None:
                assert detector.state_bytes(detector.state_from_bytes(memoryview(packed))) == packed
    assert len(run.state.detectors["large_value"]) > 1


def test_rows_count_keep_their_first_ids_and_drop_by_day() -> None:
    table = DayTotals()
    day = day_number("2025-03-25")
    assert (day, day_text(day)) == (20172, "2025-03-25")
    for i, amount in enumerate(["1.10", "2", "3.005"]):
        row = table.find(day << 3 | 5)
        row = row if row >= 0 else table.add_row(day << 3 | 5)
        table.add(row, Decimal(amount), f"e{i}\x00", max_ids=2)
    other = table.add_row((day + 1) << 3)
    table.add(other, Decimal("7"), "x", max_ids=2)
    table.flag(other)
    assert (table.find(day << 3 | 5), table.find(day << 3), table.count(0), table.flagged(1)) == (
        0,
        -1,
        3,
        True,
    )
    assert str(table.totals[0]) == "6.105"
    packed = table.to_bytes()
    restored = DayTotals.from_bytes(memoryview(packed))
    assert (restored.keys, restored.totals, restored.ids, restored.marks) == (
        table.keys,
        ["6.105", "7"],  # as text until an event adds to them
        table.ids,
        [6, 3],
    )
    assert restored.to_bytes() == packed
    # ids holding the separator come back whole; the third one was not kept, the new one goes last
    assert evidence(restored.ids[0], "e0\x00") == ("e1\x00", "e0\x00")
    dated = restored.to_dated_json(str, counted=True)
    assert dated == {
        str(day << 3 | 5): ["6.105", ["e0\x00", "e1\x00"], 3, False],
        str((day + 1) << 3): ["7", ["x"], 1, True],
    }
    assert from_dated_json(json.loads(json.dumps(dated)), int).to_bytes() == packed
    table.keep_days([day + 1])
    assert (table.days(), [str(t) for t in table.totals]) == ([day + 1], ["7"])


def test_malformed_bytes_are_refused() -> None:
    table = DayTotals()
    table.add(table.add_row(8), Decimal("12.5"), "é-1", max_ids=3)
    packed = table.to_bytes()
    assert DayTotals.from_bytes(memoryview(packed)).to_dated_json(str, counted=True) == {
        "8": ["12.5", ["é-1"], 1, False]
    }
    for bad in (
        packed[:-1],
        packed + b"x",
        b"\x02" + packed[1:],
        b"\x01[[1],[2]]",
        b'\x01[[8],["1"],["a"],[2]]',
    ):
        with pytest.raises(ValueError, match=r"day totals|unexpected|not enough values"):
            DayTotals.from_bytes(memoryview(bad))


@given(
    steps=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False),
            st.booleans(),
        ),
        max_size=25,
    )
)
def test_encoding_between_events_changes_no_total_and_no_byte(steps: list[tuple[int, Decimal, bool]]) -> None:
    """``to_bytes`` keeps the totals as the texts it wrote, and ``add`` reads them back: a table encoded
    after any of its events (as the worker does each batch) gives the same totals and the same bytes as
    one encoded only at the end, whatever the amounts' exponents."""
    encoded, plain = DayTotals(), DayTotals()
    for key, amount, encode_now in steps:
        totals = []
        for table in (encoded, plain):
            row = table.find(key)
            totals.append(table.add(row if row >= 0 else table.add_row(key), amount, "e", max_ids=3))
        assert str(totals[0]) == str(totals[1])
        if encode_now:
            encoded.to_bytes()
    assert encoded.to_bytes() == plain.to_bytes()
