"""The column packing of detectors' binary state parts: exact for any value, narrow where values are small."""

from __future__ import annotations

import struct
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.columns import (
    differences,
    from_times_column,
    interleave,
    narrow,
    pack_part,
    running_sums,
    times_column,
    unpack_part,
    widen,
)

_int32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


@given(st.lists(_int32, max_size=50))
def test_integers_round_trip_narrow_where_they_can(values: list[int]) -> None:
    packed = narrow(array("i", values))
    assert widen(memoryview(packed)).tolist() == values
    if all(0 <= v < 256 for v in values):
        assert len(packed) == 1 + len(values)
    assert running_sums(widen(memoryview(narrow(differences(array("i", values)))), "q")).tolist() == values
    rows = interleave([array("i", values), array("B", [1] * len(values))])
    assert rows[0::2].tolist() == values
    assert rows[1::2].tolist() == [1] * len(values)


@given(
    st.lists(
        st.integers(min_value=-(2**52), max_value=2**52).map(float) | st.floats(allow_nan=False), max_size=30
    )
)
def test_times_round_trip_exactly(times: list[float]) -> None:
    packed = times_column(array("d", times))
    assert from_times_column(memoryview(packed)).tolist() == times


def test_a_part_reads_back_and_a_foreign_one_is_refused() -> None:
    shape = struct.Struct("<d2I")
    part = pack_part(3, shape, (1.5,), (b"one", b"", b"three"))
    head, columns = unpack_part(memoryview(part), 3, shape, 3)
    assert head == (1.5,)
    assert [bytes(c) for c in columns] == [b"one", b"", b"three"]
    with pytest.raises(ValueError, match="layout"):
        unpack_part(memoryview(part), 4, shape, 3)
    with pytest.raises(ValueError, match="shorter than its head"):
        unpack_part(memoryview(part[:10]), 3, shape, 3)
    with pytest.raises(ValueError, match="columns say more"):
        unpack_part(memoryview(part[:19]), 3, shape, 3)
    with pytest.raises(ValueError, match="typecode"):
        widen(memoryview(b"x\x00"))
    with pytest.raises(ValueError, match="differ in length"):
        interleave([array("i", [1, 2]), array("i", [1])])
