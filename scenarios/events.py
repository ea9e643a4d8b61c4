"""Event dicts as the contract spells them, with unique ids and +08:00 RFC 3339 timestamps.

Internally every event is an ``Ev``: integer epoch seconds (for ordering) plus the wire dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal
from typing import Any

CST = timezone(timedelta(hours=8))
DAY = 86400
HOUR = 3600


def rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, CST).isoformat()


def local_day_start(ts: int) -> int:
    """Epoch seconds of 00:00 (+08:00) on the local day of ``ts``."""
    return ts - (ts + 8 * HOUR) % DAY


def local_midnight(start_date: str) -> int:
    """Epoch seconds of ``start_date`` (YYYY-MM-DD) 00:00 at +08:00."""
    return int(datetime.fromisoformat(start_date).replace(tzinfo=CST).timestamp())


@dataclass(slots=True)
class Ev:
    ts: int
    event: dict[str, Any]
    cny: float = 0.0  # a transaction's amount in CNY as generated (0 for other events)

    @property
    def event_id(self) -> str:
        return str(self.event["event_id"])


class EventFactory:
    """Builds event dicts; ids are ``<prefix><counter>`` so one run never repeats an id."""

    def __init__(self, prefix: str, fx_rates: dict[str, Decimal]) -> None:
        self.prefix = prefix
        self.fx = fx_rates
        self._n = 0

    def _id(self) -> str:
        self._n += 1
        return f"{self.prefix}{self._n:08d}"

    def foreign_amount(self, amount_cny: float, currency: str) -> str:
        """The amount in ``currency`` whose conversion is at least ``amount_cny`` (rounded up to cents)."""
        if currency == "CNY":
            return f"{amount_cny:.2f}"
        value = (Decimal(repr(amount_cny)) / self.fx[currency]).quantize(
            Decimal("0.01"), rounding=ROUND_CEILING
        )
        return str(value)

    def tx(
        self,
        ts: int,
        customer_id: str,
        account_id: str,
        amount_cny: float,
        direction: str,
        channel: str,
        counterparty_id: str | None = None,
        country: str | None = "CN",
        mcc: str | None = None,
        currency: str = "CNY",
    ) -> Ev:
        amount_cny = max(amount_cny, 0.01)
        event: dict[str, Any] = {
            "type": "transaction",
            "event_id": self._id(),
            "customer_id": customer_id,
            "timestamp": rfc3339(ts),
            "account_id": account_id,
            "amount": self.foreign_amount(amount_cny, currency),
            "currency": currency,
            "direction": direction,
            "channel": channel,
        }
        if counterparty_id is not None:
            event["counterparty_id"] = counterparty_id
        if country is not None:
            event["counterparty_country"] = country
        if mcc is not None:
            event["merchant_category"] = mcc
        return Ev(ts, event, amount_cny)

    def contact(self, ts: int, customer_id: str, field: str, new_value: str, channel: str) -> Ev:
        return Ev(
            ts,
            {
                "type": "contact_change",
                "event_id": self._id(),
                "customer_id": customer_id,
                "timestamp": rfc3339(ts),
                "field": field,
                "new_value": new_value,
                "channel": channel,
            },
        )

    def profile(self, ts: int, customer_id: str, fields: dict[str, Any]) -> Ev:
        return Ev(
            ts,
            {
                "type": "customer_profile",
                "event_id": self._id(),
                "customer_id": customer_id,
                "timestamp": rfc3339(ts),
                **fields,
            },
        )


def amount_cny(event: dict[str, Any], fx: dict[str, Decimal]) -> Decimal:
    """A transaction's amount converted as the engine converts it."""
    return Decimal(event["amount"]) * fx[event["currency"]]
