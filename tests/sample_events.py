"""Valid input events of the hot types, as JSON objects: the base the schema tests vary one field of."""

from __future__ import annotations

from typing import Any

TX: dict[str, Any] = {
    "type": "transaction",
    "event_id": "e1",
    "customer_id": "c1",
    "timestamp": "2024-03-04T09:00:00+08:00",
    "account_id": "a1",
    "amount": "12.50",
    "currency": "CNY",
    "direction": "debit",
    "channel": "card",
}
CC: dict[str, Any] = {
    "type": "contact_change",
    "event_id": "e2",
    "customer_id": "c1",
    "timestamp": "2024-03-04T01:00:00Z",
    "field": "phone",
    "new_value": "+86 138 0000 1111",
}
CP: dict[str, Any] = {
    "type": "customer_profile",
    "event_id": "e3",
    "customer_id": "c1",
    "timestamp": "2024-03-04T01:00:00.123456Z",
    "segment": "corporate",
    "industry": "retail",
    "credit_score": 700,
    "annual_income": 1000000,
    "politically_exposed": False,
}
