"""Events as the detectors see them: already converted to the base currency, the reporting day and epoch
seconds, so that seven detectors do not each redo that work. Not frozen (frozen dataclasses cost twice as much
to build, on the hot path); detectors must not change them, which the shared contract suite checks."""

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


@dataclass(slots=True)
class ContactObservation:
    event_id: str
    ts: float
    field: str
    value_hash: str | None
    channel: str | None
    kind: Literal["contact_change"] = "contact_change"


Observation = TxObservation | ContactObservation
