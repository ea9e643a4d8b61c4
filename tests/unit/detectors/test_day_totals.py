"""The day totals of large_value and tier_limit: compact rows, and the dict shapes of formats 1 to 8 read."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from strategies import DETECTION, feed, varied_traffic

from detectors.day_totals import DayTotals, day_number, evidence
from detectors.engine import RiskEngine
from detectors.tier_limit import MAX_IDS_PER_DAY

#: each changed detector's part as the code of format 8 (before ``DayTotals``) wrote it after these events
V8_PARTS = Path(__file__).parent / "data" / "day_totals_v8_parts.json"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(("n", "seed"), [(1500, 7), (2600, 11)])
def test_a_part_written_by_formats_1_to_8_reads_as_the_state_it_was(n: int, seed: int) -> None:
    """A worker restoring an older changelog migrates: the old dict read gives exactly the state the same
    events build now (same rows in the same order, totals, ids, counts, reported flags), but for
    tier_limit's counts past its id cap, which format 8 did not hold and which it never reads."""
    captured = json.loads(V8_PARTS.read_text())[f"varied_traffic({n}, seed={seed})"]
    engine = RiskEngine(DETECTION)
    run = feed(engine, varied_traffic(n, seed=seed))
    for detector in engine.detectors:
        if detector.name in captured:
            migrated = detector.state_from_json(captured[detector.name])
            now = detector.state_to_json(run.state.detectors[detector.name])
            if detector.name == "tier_limit":
                now[3] = [min(mark, 2 * MAX_IDS_PER_DAY) for mark in now[3]]
            assert _json(detector.state_to_json(migrated)) == _json(now), detector.name
    assert isinstance(captured["large_value"], dict)
    assert len(run.state.detectors["large_value"]) > 1


def test_rows_count_keep_their_first_ids_and_drop_by_day() -> None:
    table = DayTotals()
    day = day_number("2025-03-25")
    assert day == 20172
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
    restored = DayTotals.from_json(json.loads(json.dumps(table.to_json())))
    assert restored.to_json() == table.to_json()
    packed = table.to_bytes()
    assert DayTotals.from_bytes(memoryview(packed)).to_json() == table.to_json()
    assert DayTotals.from_bytes(memoryview(packed)).to_bytes() == packed
    # ids holding the separator come back whole; the third one was not kept, the new one goes last
    assert evidence(restored.ids[0], "e0\x00") == ("e1\x00", "e0\x00")
    table.keep_days([day + 1])
    assert (table.days(), table.to_json()[1]) == ([day + 1], ["7"])


def test_a_malformed_part_is_refused() -> None:
    table = DayTotals()
    table.add(table.add_row(8), Decimal("12.5"), "é-1", max_ids=3)
    packed = table.to_bytes()
    assert DayTotals.from_bytes(memoryview(packed)).to_json() == [[8], ["12.5"], ["\x00é-1\x00"], [2]]
    for bad in (packed[:-1], packed + b"x", packed[:12], b"\x02" + packed[1:]):
        with pytest.raises(ValueError, match="day totals"):
            DayTotals.from_bytes(memoryview(bad))
    with pytest.raises(ValueError, match="columns"):
        DayTotals.from_json([[1, 2], ["1"], ["\x00"], [2]])
    with pytest.raises(ValueError, match="separator"):
        DayTotals.from_json([[1], ["1"], ["a"], [2]])
