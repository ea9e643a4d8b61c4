"""The column packing of detectors' binary state parts: exact, and refusing what it did not write."""

from __future__ import annotations

import struct
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.columns import (
    column,
    doubles_column,
    from_column,
    pack_part,
    shuffled,
    shuffled_ints,
    unpack_part,
    unshuffled,
)

_int32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


@given(st.lists(_int32, max_size=50))
def test_integers_and_doubles_round_trip(values: list[int]) -> None:
    assert from_column("i", column(array("i", values))).tolist() == values
    assert unshuffled("i", shuffled(array("i", values))).tolist() == values
    assert unshuffled("d", shuffled(array("d", map(float, values)))).tolist() == list(map(float, values))


@given(st.lists(_int32, max_size=50), st.lists(st.floats(allow_nan=False), max_size=20))
def test_lists_pack_to_the_bytes_of_their_arrays(values: list[int], times: list[float]) -> None:
    """The list packers write exactly what the array forms wrote (records stay byte for byte)."""
    assert shuffled_ints(values) == shuffled(array("i", values))
    assert doubles_column(times) == column(array("d", times))


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
    with pytest.raises(ValueError, match="not whole items"):
        from_column("i", b"\x00\x00\x00")
    with pytest.raises(ValueError, match="not whole items"):
        unshuffled("i", b"\x00" * 5)
