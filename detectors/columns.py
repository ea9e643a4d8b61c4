"""Packing a detector's state as columns of numbers for its ``Detector.state_bytes``.

Every column is little-endian whatever the machine, so a record written on one host is read on any
other; on a little-endian machine (nearly all) packing an ``array`` is one copy and unpacking one
``frombytes``. A part is its layout byte, a fixed head of numbers, the lengths of its columns, and the
columns, so that reading it takes one ``struct`` call for the head and one C call per column.

Counts and day numbers go as the narrowest unsigned integers that hold them (a typecode byte first),
days and event times as differences from the one before: a record is compressed, and a column of small,
repeating values compresses to less than the JSON text it replaces, where full-width integers and the
doubles of whole seconds did not (measured: the record grew 4%).
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from typing import Any

BIG_ENDIAN = sys.byteorder == "big"
_LENGTH = struct.Struct("<I")


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


def small_ints(values: array[int] | list[int]) -> bytes:
    """Integers as the narrowest of bytes, 16-bit unsigned, 32- or 64-bit signed that holds them all."""
    for code in "BHiq":
        try:
            narrow = array(code, values)
        except OverflowError:
            continue
        return code.encode() + column(narrow)
    raise ValueError("a state column's integers do not fit 64 bits")


def from_small_ints(data: memoryview) -> array[int]:
    """The integers ``small_ints`` wrote, as an ``array('i')`` (``array('q')`` if they needed 64 bits)."""
    if not data:
        raise ValueError("an integer column without its typecode")
    code = chr(data[0])
    if code not in "BHiq":
        raise ValueError(f"an integer column of typecode {code!r}")
    held = from_column(code, data[1:])
    return held if code in "iq" else array("i", held)


def differences(values: array[int]) -> list[int]:
    """Each value less the one before (the first as it is): ``running_sums`` reverses it."""
    out = []
    before = 0
    for v in values:
        out.append(v - before)
        before = v
    return out


def running_sums(steps: array[int]) -> list[int]:
    out = []
    total = 0
    for step in steps:
        total += step
        out.append(total)
    return out


def times_column(times: array[float]) -> bytes:
    """Event times: whole seconds (nearly always) as 64-bit differences, else the doubles as they are."""
    seconds = []
    before = 0
    for t in times:
        if not t.is_integer() or abs(t) >= 2.0**53:
            return b"d" + column(times)
        whole = int(t)
        seconds.append(whole - before)
        before = whole
    return b"q" + column(array("q", seconds))


def from_times_column(data: memoryview) -> array[float]:
    if not data:
        raise ValueError("a time column without its typecode")
    if data[0] == ord("d"):
        return from_column("d", data[1:])
    if data[0] != ord("q"):
        raise ValueError(f"a time column of typecode {chr(data[0])!r}")
    times = array("d")
    total = 0
    for step in from_column("q", data[1:]):
        total += step
        times.append(float(total))
    return times


def time_or_nan(ts: float | None) -> float:
    """An optional event time as a double: None is NaN (no validated event time is one)."""
    return math.nan if ts is None else ts


def time_or_none(value: float) -> float | None:
    return None if value != value else value


def pack_part(layout: int, head: bytes, columns: tuple[bytes, ...]) -> bytes:
    """A part: its layout byte, its fixed ``head``, the lengths of all columns but the last, the columns."""
    lengths = b"".join(_LENGTH.pack(len(c)) for c in columns[:-1])
    return bytes((layout,)) + head + lengths + b"".join(columns)


def unpack_part(
    data: memoryview, layout: int, head_size: int, columns: int
) -> tuple[memoryview, list[memoryview]]:
    """(its head, its columns) of a part ``pack_part`` wrote with ``layout``; ``ValueError`` otherwise."""
    if not data or data[0] != layout:
        found = data[0] if data else None
        raise ValueError(f"unknown state part layout {found!r} (expected {layout})")
    at = 1 + head_size + 4 * (columns - 1)
    if len(data) < at:
        raise ValueError(f"state part of {len(data)} bytes, shorter than its head ({at})")
    head = data[1 : 1 + head_size]
    out = []
    for i in range(columns - 1):
        n = _LENGTH.unpack_from(data, 1 + head_size + 4 * i)[0]
        out.append(data[at : at + n])
        at += n
    if at > len(data):
        raise ValueError(f"state part of {len(data)} bytes, its columns say more ({at})")
    out.append(data[at:])
    return head, out
