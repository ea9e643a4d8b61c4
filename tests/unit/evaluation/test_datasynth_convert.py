"""The datasynth-banking converter on a hand-written dump: the typology mapping, the channel mapping and what
is left unlabelled are what the README's figures rest on."""

from __future__ import annotations

from typing import Any

from evaluation.datasynth import caught_by_kind, convert
from evaluation.labels import parse_label
from schemas.events import parse_event

CUSTOMERS = [
    {"customer_id": "c1", "customer_type": "retail", "is_pep": False, "residence_country": "US"},
    {"customer_id": "c2", "customer_type": "business", "is_pep": False, "residence_country": "US"},
]
ACCOUNTS = [{"account_id": "a1", "primary_owner_id": "c1"}, {"account_id": "a2", "primary_owner_id": "c2"}]


def _tx(tid: str, when: str, account: str = "a1", **extra: Any) -> dict[str, Any]:
    return {
        "transaction_id": tid,
        "account_id": account,
        "timestamp_initiated": when,
        "amount": "120.50",
        "currency": "USD",
        "direction": "outbound",
        "channel": "card_present",
        "category": "groceries",
        "counterparty": {"counterparty_type": "merchant", "counterparty_id": "m1", "name": "Shop"},
        "mcc": 5411,
        "is_suspicious": False,
        "suspicion_reason": None,
        "scenario_id": None,
        **extra,
    }


def _case(reason: str, scenario: str | None) -> dict[str, Any]:
    return {"is_suspicious": True, "suspicion_reason": reason, "scenario_id": scenario}


TRANSACTIONS = [
    _tx(
        "t3",
        "2024-03-02T10:00:00Z",
        channel="cash",
        category="cash_deposit",
        direction="inbound",
        amount="9500",
        **_case("structuring", "STR-1"),
    ),
    _tx("t1", "2024-03-01T09:00:00.250Z"),
    _tx(
        "t4",
        "2024-03-03T10:00:00Z",
        channel="cash",
        category="cash_deposit",
        direction="inbound",
        amount="9100",
        **_case("structuring", "STR-1"),
    ),
    _tx("t5", "2024-03-04T11:00:00Z", channel="wire", **_case("account_takeover", "ATO-7")),
    _tx("t6", "2024-03-04T12:00:00Z", account="a2", channel="ach", **_case("money_mule", "MUL-2")),
    _tx("t7", "2024-03-05T12:00:00Z", channel="branch", category="atm_withdrawal"),
    _tx("t8", "2024-03-05T13:00:00Z", **_case("first_party_fraud", None)),
    _tx("t9", "2024-03-05T14:00:00Z", account="nobody"),
    # the crate's injectors share an id sequence: the same id for a layering transaction of another customer
    _tx("t6", "2024-03-06T12:00:00Z", channel="wire", **_case("layering", "LAY-3")),
]


def test_events_are_valid_contract_events_in_time_order() -> None:
    events, _, skipped = convert(CUSTOMERS, ACCOUNTS, TRANSACTIONS)
    parsed = [parse_event(e) for e in events]
    profiles = [e for e in events if e["type"] == "customer_profile"]
    assert [p["segment"] for p in profiles] == ["individual", "corporate"]
    txs = [e for e in events if e["type"] == "transaction"]
    assert [e["event_id"] for e in txs] == [
        "ds-t1",
        "ds-t3",
        "ds-t4",
        "ds-t5",
        "ds-t6",
        "ds-t7",
        "ds-t8",
        "ds-t6-1",
    ]
    assert len(parsed) == len(events)
    by_id = {e["event_id"]: e for e in txs}
    assert by_id["ds-t1"]["channel"] == "card"
    assert by_id["ds-t1"]["merchant_category"] == "5411"
    assert by_id["ds-t1"]["timestamp"] == "2024-03-01T09:00:00.250000Z"
    assert by_id["ds-t3"]["channel"] == "cash"
    assert by_id["ds-t3"]["direction"] == "credit"
    assert by_id["ds-t5"]["channel"] == "transfer"
    assert by_id["ds-t5"]["currency"] == "USD"
    assert by_id["ds-t7"]["channel"] == "cash"
    assert by_id["ds-t6"]["customer_id"] == "ds-c2"
    assert skipped == {
        "transaction_of_unknown_account": 1,
        "marked_without_pattern:first_party_fraud": 1,
        "renamed_duplicate_transaction_id": 1,
    }


def test_typologies_map_to_detectors_or_to_no_counterpart() -> None:
    _, labels, _ = convert(CUSTOMERS, ACCOUNTS, TRANSACTIONS)
    for lb in labels:
        parse_label(lb)
    got = {lb["kind"]: (lb["expected_detector"], lb["event_ids"], lb["history_debits"]) for lb in labels}
    assert got == {
        "datasynth_structuring": ("structuring", ["ds-t3", "ds-t4"], 1),
        "datasynth_account_takeover": ("amount_spike", ["ds-t5"], 1),
        "datasynth_money_mule": ("no_counterpart", ["ds-t6"], 0),
        "datasynth_layering": ("no_counterpart", ["ds-t6-1"], 4),
    }


def test_caught_by_kind_counts_any_detector() -> None:
    _, labels, _ = convert(CUSTOMERS, ACCOUNTS, TRANSACTIONS)
    alerts = [{"detector": "large_value", "trigger_event_ids": ["ds-t4"]}]
    caught = caught_by_kind(labels, alerts)
    assert caught["datasynth_structuring"] == {
        "cases": 1,
        "caught_by_any": 1,
        "by_detector": {"large_value": 1},
    }
    assert caught["datasynth_account_takeover"]["caught_by_any"] == 0
