"""Events as the detectors see them: already converted to the base currency, the reporting day and epoch
seconds, so that seven detectors do not each redo that work. Not frozen (frozen dataclasses cost twice as much
to build, on the hot path); detectors must not change them, which the shared contract suite checks.

The hot dataclasses of ``detectors/`` write their ``__init__`` out: the one ``dataclasses`` generates is
interpreted even in the compiled build (about ten times slower to call than a compiled one), while a
written one is compiled and ``dataclass`` keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal


@dataclass(slots=True)
class TxObservation:
    event_id: str
    ts: float
    day: str
    amount: Decimal
    amount_f: float
    debit: bool
    channel: str
    counterparty_id: str | None
    cross_border: bool
    merchant_category: str | None = None
    kind: Literal["transaction"] = "transaction"

    def __init__(
        self,
        event_id: str,
        ts: float,
        day: str,
        amount: Decimal,
        amount_f: float,
        debit: bool,
        channel: str,
        counterparty_id: str | None,
        cross_border: bool,
        merchant_category: str | None = None,
    ) -> None:
        self.event_id = event_id
        self.ts = ts
        self.day = day
        self.amount = amount
        self.amount_f = amount_f
        self.debit = debit
        self.channel = channel
        self.counterparty_id = counterparty_id
        self.cross_border = cross_border
        self.merchant_category = merchant_category
        self.kind = "transaction"


@dataclass(slots=True)
class ContactObservation:
    event_id: str
    ts: float
    field: str
    value_hash: str | None
    channel: str | None
    kind: Literal["contact_change"] = "contact_change"

    def __init__(
        self, event_id: str, ts: float, field: str, value_hash: str | None, channel: str | None
    ) -> None:
        self.event_id = event_id
        self.ts = ts
        self.field = field
        self.value_hash = value_hash
        self.channel = channel
        self.kind = "contact_change"


Observation = TxObservation | ContactObservation
