"""murmur2 exactly as Kafka's ``Utils.murmur2`` (vectors from Kafka's own UtilsTest)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.partitioning import kafka_partition, murmur2


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_matches_kafkas_test_vectors(data: bytes, expected: int) -> None:
    assert _signed(murmur2(data)) == expected


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=1000))
def test_partition_is_in_range_and_stable(key: bytes, partitions: int) -> None:
    p = kafka_partition(key, partitions)
    assert 0 <= p < partitions
    assert p == kafka_partition(bytes(key), partitions)
