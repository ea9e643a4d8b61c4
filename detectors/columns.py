"""Packing a detector's state as columns of numbers for its ``Detector.state_bytes``.

Every column is little-endian whatever the machine, so a record written on one host is read on any
other; on a little-endian machine (nearly all) packing an ``array`` is one copy and unpacking one
``frombytes``. A part is its layout byte, a fixed head of numbers, the lengths of its columns, and the
columns, so that reading it takes one ``struct`` call for the head and one C call per column.

Columns are the live arrays' own bytes, those of integers shuffled into byte planes (``shuffled``): the
planes of small counts' high bytes are zeros and those of day numbers nearly constant, which zstd
compresses to almost nothing (unshuffled, the same columns made records larger than the JSON they
replaced; event times' doubles gain nothing from it, and stay as they are). Nothing converts value by
value: each value touched in Python, or passed through ``min``, ``map`` or an ``array`` of another
typecode, costs an object, and narrowing the integers and taking differences made encoding these parts
slower than their JSON. Rows of several numbers go as one column, not one per number: splitting them cost
more to decode (a slice assignment per column) than the few bytes it saved. The measurements are in
docs/performance.md.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from typing import Any

BIG_ENDIAN = sys.byteorder == "big"
_ITEM_SIZES = {code: array(code).itemsize for code in "bBhHiIlLqQfd"}


def column(values: array[Any]) -> bytes:
    """An array's bytes, little-endian."""
    if BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def from_column(kind: str, data: bytes | bytearray | memoryview) -> array[Any]:
    """The array of ``kind`` that ``column`` wrote; ``ValueError`` if ``data`` is not whole items."""
    values = array(kind)
    if len(data) % values.itemsize:
        raise ValueError(f"a state column of {len(data)} bytes is not whole items of {values.itemsize}")
    values.frombytes(data)
    if BIG_ENDIAN:
        values.byteswap()
    return values


def shuffled(values: array[Any]) -> bytes:
    """An array's little-endian bytes as byte planes: every value's first byte, then every second byte,
    and so on (blosc's shuffle). The planes of small counts' high bytes are zeros, those of day numbers
    and event times nearly constant: what zstd compresses to almost nothing, where the same values
    interleaved cost more than their JSON text. Slices in C, no object per value."""
    data = column(values)
    size = values.itemsize
    return b"".join([data[k::size] for k in range(size)])


def shuffled_ints(values: list[int]) -> bytes:
    """``shuffled(array("i", values))`` of a list of 32-bit integers, without the array: ``struct``
    converts a list's items several times faster than the ``array`` constructor, which sets them one by
    one (the day rows of velocity_spike and sustained_shift, on every encode of their customer)."""
    size = 4
    data = struct.pack(f"<{len(values)}i", *values)
    return b"".join([data[k::size] for k in range(size)])


def doubles_column(values: list[float]) -> bytes:
    """``column(array("d", values))`` of a list of floats, without the array (as ``shuffled_ints``)."""
    return struct.pack(f"<{len(values)}d", *values)


def unshuffled(kind: str, data: bytes | memoryview) -> array[Any]:
    """The array that ``shuffled`` wrote."""
    size = _ITEM_SIZES[kind]
    if len(data) % size:
        raise ValueError(f"a state column of {len(data)} bytes is not whole items of {size}")
    n = len(data) // size
    plain = bytearray(len(data))
    for k in range(size):
        plain[k::size] = data[k * n : (k + 1) * n]
    return from_column(kind, plain)


def time_or_nan(ts: float | None) -> float:
    """An optional event time as a double: None is NaN (no validated event time is one)."""
    return math.nan if ts is None else ts


def time_or_none(value: float) -> float | None:
    return None if value != value else value


def pack_part(layout: int, shape: struct.Struct, head: tuple[Any, ...], columns: tuple[bytes, ...]) -> bytes:
    """A part: its layout byte, then ``shape`` packing the ``head`` values followed by the lengths of all
    columns but the last, then the columns."""
    lengths = [len(c) for c in columns[:-1]]
    return bytes((layout,)) + shape.pack(*head, *lengths) + b"".join(columns)


def unpack_part(
    data: memoryview, layout: int, shape: struct.Struct, columns: int
) -> tuple[tuple[Any, ...], list[memoryview]]:
    """(its head values, its columns) of a part ``pack_part`` wrote with ``layout`` and ``shape``;
    ``ValueError`` otherwise."""
    if not data or data[0] != layout:
        found = data[0] if data else None
        raise ValueError(f"unknown state part layout {found!r} (expected {layout})")
    at = 1 + shape.size
    if len(data) < at:
        raise ValueError(f"state part of {len(data)} bytes, shorter than its head ({at})")
    values = shape.unpack_from(data, 1)
    cut = len(values) - (columns - 1)
    out = []
    for n in values[cut:]:
        out.append(data[at : at + n])
        at += n
    if at > len(data):
        raise ValueError(f"state part of {len(data)} bytes, its columns say more ({at})")
    out.append(data[at:])
    return values[:cut], out
