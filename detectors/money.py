"""Exact money arithmetic.

Python's default decimal context rounds every result to 28 significant digits, ``Decimal(0) + amount``
included: a day total of one 40-digit amount came out rounded while the same amount shown on its own was
exact. Money here is only ever added and multiplied by a configured rate, so those are done in a context
wide enough never to round; the ceiling on amounts (``detection.max_amount_base``) and on their decimal
places keep the numbers small.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, Rounded
from typing import Final

# Inexact and Rounded trap: should a result ever need rounding, it fails loudly instead of rounding
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, Rounded])
# bound once and ``Final``: compiled, a call of ``EXACT.add`` looks the method up on the context each time
# (a few times per debit)
_ADD: Final = EXACT.add
_MULTIPLY: Final = EXACT.multiply


def add(a: Decimal, b: Decimal) -> Decimal:
    return _ADD(a, b)


def multiply(a: Decimal, b: Decimal) -> Decimal:
    return _MULTIPLY(a, b)


def total(amounts: Iterable[Decimal]) -> Decimal:
    result = Decimal(0)
    for amount in amounts:
        result = _ADD(result, amount)
    return result
