"""Amounts in whole cents: how a state record writes a money column when every amount is one.

Cents as 64-bit integers compress far better than the doubles' mantissas, and ``c / 100`` gives the same
float back, so the column is exact either way. The live state keeps the cents of its baseline and payee
amounts beside the amounts as they come and go (one rounding per new amount), so writing a changed
customer's columns is a copy, not a check of every amount.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Final

#: an amount at or beyond this magnitude is written as a double (its cents would lose precision)
CENTS_LIMIT: Final = 1e13


def cents(amount: float) -> int | None:
    """``amount`` in whole cents, or None when it is not a whole number of cents.

    The nearest integer by adding a half and truncating, not ``round()``, which the compiled build calls
    as a Python builtin (on every debit's baseline and payee updates). They differ only on an exact half, and
    no half is a whole number of cents either way; below ``CENTS_LIMIT`` cents adding the half is exact."""
    c = 0
    if -CENTS_LIMIT < amount < CENTS_LIMIT:
        scaled = amount * 100
        c = int(scaled + 0.5) if scaled >= 0 else -int(0.5 - scaled)
    return c if c / 100 == amount else None


def cents_of(amounts: Iterable[float]) -> array[int] | None:
    """Every amount in whole cents (64-bit), or None when one is not a whole number of cents."""
    out: array[int] = array("q")
    for amount in amounts:
        c = cents(amount)
        if c is None:
            return None
        out.append(c)
    return out


def amounts_of(cents_column: array[int]) -> array[float]:
    """The amounts of a column of whole cents (exactly the floats they were taken from)."""
    return array("d", [c / 100 for c in cents_column])
