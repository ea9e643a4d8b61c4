"""The column packing of detectors' binary state parts: exact for any value, narrow where values are small."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.columns import (
    differences,
    from_small_ints,
    from_times_column,
    pack_part,
    running_sums,
    small_ints,
    times_column,
    unpack_part,
)

_int32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


@given(st.lists(_int32, max_size=50))
def test_integers_round_trip_narrow_where_they_can(values: list[int]) -> None:
    packed = small_ints(array("i", values))
    assert from_small_ints(memoryview(packed)).tolist() == values
    if all(0 <= v < 256 for v in values):
        assert len(packed) == 1 + len(values)
    steps = from_small_ints(memoryview(small_ints(differences(array("i", values)))))
    assert running_sums(steps) == values


@given(
    st.lists(
        st.integers(min_value=-(2**40), max_value=2**40).map(float) | st.floats(allow_nan=False), max_size=30
    )
)
def test_times_round_trip_exactly(times: list[float]) -> None:
    packed = times_column(array("d", times))
    assert from_times_column(memoryview(packed)).tolist() == times


def test_a_part_reads_back_and_a_foreign_one_is_refused() -> None:
    part = pack_part(3, b"head", (b"one", b"", b"three"))
    head, columns = unpack_part(memoryview(part), 3, 4, 3)
    assert bytes(head) == b"head"
    assert [bytes(c) for c in columns] == [b"one", b"", b"three"]
    with pytest.raises(ValueError, match="layout"):
        unpack_part(memoryview(part), 4, 4, 3)
    with pytest.raises(ValueError, match="shorter than its head"):
        unpack_part(memoryview(part[:10]), 3, 4, 3)
    with pytest.raises(ValueError, match="columns say more"):
        unpack_part(memoryview(part[:15]), 3, 4, 3)
    with pytest.raises(ValueError, match="typecode"):
        from_small_ints(memoryview(b"x\x00"))
