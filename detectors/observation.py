"""Events as the detectors see them: already converted to the base currency, the reporting day and epoch
seconds, so that seven detectors do not each redo that work."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True, slots=True)
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
    kind: Literal["transaction"] = "transaction"


@dataclass(frozen=True, slots=True)
class ContactObservation:
    event_id: str
    ts: float
    field: str
    value_hash: str | None
    channel: str | None
    kind: Literal["contact_change"] = "contact_change"


Observation = TxObservation | ContactObservation
