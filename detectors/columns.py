"""Packing a detector's state as columns of numbers for its ``Detector.state_bytes``.

Every column is little-endian whatever the machine, so a record written on one host is read on any
other; on a little-endian machine (nearly all) packing an ``array`` is one copy and unpacking one
``frombytes``. A part is its layout byte, a fixed head of numbers, the lengths of its columns, and the
columns, so that reading it takes one ``struct`` call for the head and one C call per column.

Counts go as the narrowest unsigned integers that hold them (a typecode byte first), day numbers and
event times in whole seconds as differences from the one before, as narrow: a record is compressed, and columns of narrow, repeating
values compress to no more than the JSON text they replace, where full-width integers and the doubles
of whole seconds did not (measured: the record grew 4%). Every conversion is one C call (``array``
from an array, a slice assignment, ``map``), never a loop over the values in Python: a loop cost more
than the JSON it replaced.
"""

from __future__ import annotations

import math
import operator
import struct
import sys
from array import array
from itertools import accumulate, chain
from typing import Any

BIG_ENDIAN = sys.byteorder == "big"


def column(values: array[Any]) -> bytes:
    """An array's bytes, little-endian."""
    if BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def from_column(kind: str, data: bytes | memoryview) -> array[Any]:
    """The array of ``kind`` that ``column`` wrote; ``ValueError`` if ``data`` is not whole items."""
    values = array(kind)
    if len(data) % values.itemsize:
        raise ValueError(f"a state column of {len(data)} bytes is not whole items of {values.itemsize}")
    values.frombytes(data)
    if BIG_ENDIAN:
        values.byteswap()
    return values


def narrow(values: array[int]) -> bytes:
    """Integers as the narrowest of bytes, 16-bit unsigned, 32- or 64-bit signed that holds them all (a
    typecode byte first): chosen from their least and greatest, converted in one C call."""
    code = "B"
    if values:
        lo, hi = min(values), max(values)
        if lo < 0 or hi >= 65536:
            code = "i" if lo >= -(2**31) and hi < 2**31 else "q"
        elif hi >= 256:
            code = "H"
    return code.encode() + column(values if values.typecode == code else array(code, values))


def widen(data: memoryview, kind: str = "i") -> array[int]:
    """The integers ``narrow`` wrote, as an array of ``kind``."""
    if not data:
        raise ValueError("an integer column without its typecode")
    code = chr(data[0])
    if code not in "BHiq":
        raise ValueError(f"an integer column of typecode {code!r}")
    held = from_column(code, data[1:])
    if code == kind:
        return held
    try:
        return array(kind, held)
    except OverflowError as e:
        raise ValueError(f"an integer column too wide for {kind!r}") from e


def differences(values: array[int]) -> array[int]:
    """Each value less the one before (the first as it is), as 64-bit integers: ``running_sums``
    reverses it. Day numbers and event times a few apart become small, repeating numbers."""
    return array("q", map(operator.sub, values, chain((0,), values)))


def running_sums(steps: array[int], kind: str = "i") -> array[int]:
    try:
        return array(kind, accumulate(steps))
    except OverflowError as e:
        raise ValueError(f"a column of differences sums beyond {kind!r}") from e


def interleave(columns: list[array[int]], kind: str = "i") -> array[int]:
    """Rows of one value from each column, as one array: slice assignments, no loop over the values."""
    n = len(columns[0])
    rows = array(kind, bytes(array(kind).itemsize * n * len(columns)))
    for j, values in enumerate(columns):
        if len(values) != n:
            raise ValueError("a state part's columns differ in length")
        rows[j :: len(columns)] = values if values.typecode == kind else array(kind, values)
    return rows


def times_column(times: array[float]) -> bytes:
    """Event times: whole seconds (nearly always) as differences (``narrow``), else the doubles as they
    are."""
    if all(map(float.is_integer, times)) and (not times or -(2.0**52) < min(times) <= max(times) < 2.0**52):
        return b"q" + narrow(differences(array("q", map(int, times))))
    return b"d" + column(times)


def from_times_column(data: memoryview) -> array[float]:
    if not data:
        raise ValueError("a time column without its typecode")
    if data[0] == ord("d"):
        return from_column("d", data[1:])
    if data[0] != ord("q"):
        raise ValueError(f"a time column of typecode {chr(data[0])!r}")
    return array("d", map(float, accumulate(widen(data[1:], "q"))))


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
