"""Input events: what parses, and a readable EventError naming the field for what does not."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sample_events import CC, CP, TX

from schemas.events import (
    ContactChange,
    CustomerProfile,
    EventError,
    Transaction,
    parse_event,
    parse_event_json,
)


def reason(raw: str | bytes) -> str:
    with pytest.raises(EventError) as err:
        parse_event_json(raw)
    return err.value.reason


def with_(base: dict[str, Any], **changes: Any) -> str:
    return json.dumps({**base, **changes})


def without(base: dict[str, Any], key: str) -> str:
    return json.dumps({k: v for k, v in base.items() if k != key})


@pytest.mark.parametrize(("raw", "model"), [(TX, Transaction), (CC, ContactChange), (CP, CustomerProfile)])
def test_valid_events_parse(raw: dict[str, Any], model: type) -> None:
    event = parse_event_json(json.dumps(raw))
    assert isinstance(event, model)
    assert event.event_id == raw["event_id"]
    assert event.timestamp.utcoffset() is not None
    assert parse_event(raw) == event


def test_json_number_amount_is_exact() -> None:
    event = parse_event_json('{"amount": 12.5, ' + with_(TX)[1:].replace('"amount": "12.50", ', ""))
    assert isinstance(event, Transaction)
    assert event.amount == Decimal("12.5")
    assert str(event.amount) == "12.5"
    assert parse_event_json(with_(TX, amount=0.1)).amount == Decimal("0.1")  # type: ignore[union-attr]
    assert parse_event_json(with_(TX, amount=100)).amount == Decimal(100)  # type: ignore[union-attr]


def test_extra_fields_are_ignored() -> None:
    event = parse_event_json(with_(TX, loyalty_tier="gold", nested={"x": 1}))
    assert "loyalty_tier" not in event.model_dump()


def test_new_value_is_not_in_repr() -> None:
    event = parse_event_json(json.dumps(CC))
    assert "138 0000" not in repr(event)
    assert "138 0000" not in str(event)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (without(TX, "amount"), "amount"),
        (without(TX, "account_id"), "account_id"),
        (without(TX, "timestamp"), "timestamp"),
        (without(CC, "field"), "field"),
        (with_(TX, amount="-1"), "amount"),
        (with_(TX, amount="0"), "amount"),
        (with_(TX, amount=0), "amount"),
        (with_(TX, amount="NaN"), "amount"),
        (with_(TX, amount="Infinity"), "amount"),
        (with_(TX, amount="-Infinity"), "amount"),
        (with_(TX, amount=True), "amount"),
        (with_(TX, amount="twelve"), "amount"),
        (with_(TX, currency="usd"), "currency"),
        (with_(TX, currency="USDT"), "currency"),
        (with_(TX, timestamp="2024-03-04T09:00:00"), "timestamp"),
        (with_(TX, timestamp="2024-03-04"), "timestamp"),
        (with_(TX, timestamp=1709514000), "timestamp"),
        (with_(TX, timestamp="9999-12-31T23:00:00-05:00"), "timestamp"),
        (with_(TX, timestamp="0001-01-01T00:00:00+05:00"), "timestamp"),
        (with_(TX, customer_id=""), "customer_id"),
        (with_(TX, direction="sideways"), "direction"),
        (with_(TX, counterparty_country="China"), "counterparty_country"),
        (with_(CP, credit_score=299), "credit_score"),
        (with_(CP, credit_score=901), "credit_score"),
        (with_(CP, credit_score="700"), "credit_score"),
        (with_(CP, overdue_count_12m=-1), "overdue_count_12m"),
        (with_(CC, field="password"), "field"),
        (with_(TX, type="refund"), "type"),
        (without(TX, "type"), "type"),
    ],
)
def test_invalid_events_name_the_field(raw: str, field: str) -> None:
    assert reason(raw).startswith(f"{field}:")


def test_json_nan_and_infinity_literals_are_rejected() -> None:
    for literal in ("NaN", "Infinity", "1e400"):
        raw = with_(TX).replace('"12.50"', literal)
        assert reason(raw).startswith(("amount:", "event:"))


@pytest.mark.parametrize("raw", ["not json", b"\xff\xfe", "[1, 2]", "", "{"])
def test_not_an_event_object(raw: str | bytes) -> None:
    assert reason(raw)


def test_reason_never_echoes_the_value() -> None:
    raw = with_(CC, new_value="x" * 2000)
    assert "xxxx" not in reason(raw)
    assert reason(with_(TX, amount="-123456789")).count("123456789") == 0


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (1709514000, "timestamp: Value error, must be an RFC 3339 timestamp string with an offset or Z"),
        (None, "timestamp: Value error, must be an RFC 3339 timestamp string with an offset or Z"),
        ("2024-03-04T09:00:00", "timestamp: Value error, is not an RFC 3339 timestamp with an offset or Z"),
        ("2024-03-04T09:00Z", "timestamp: Value error, is not an RFC 3339 timestamp with an offset or Z"),
        (
            "9999-12-31T23:00:00-05:00",
            "timestamp: Value error, is outside the supported range (years 0002 to 9998 in UTC)",
        ),
        (
            "0002-01-01T00:00:00+00:01",
            "timestamp: Value error, is outside the supported range (years 0002 to 9998 in UTC)",
        ),
        ("2024-13-04T09:00:00Z", "timestamp: Input should be a valid datetime or date, month value is "),
        ("2024-03-04T09:00:00Z\n", "timestamp: Input should be a valid datetime or date, unexpected extra "),
    ],
)
def test_timestamp_reasons_are_the_same_from_json_and_from_python(timestamp: object, expected: str) -> None:
    """JSON input is checked inside pydantic-core, Python objects by a Python validator: a dead letter reads
    the same whichever path the event took."""
    from_json = reason(with_(TX, timestamp=timestamp))
    with pytest.raises(EventError) as from_python:
        parse_event({**TX, "timestamp": timestamp})
    assert from_json.startswith(expected)
    assert from_python.value.reason == from_json


def test_timestamp_bounds_are_inclusive_of_years_0002_and_9998_in_utc() -> None:
    for ts in ("0002-01-01T00:00:00Z", "0001-12-31T23:59:59-00:01", "9998-12-31T23:59:59Z"):
        assert parse_event_json(with_(TX, timestamp=ts)).timestamp.isoformat().startswith(ts[:4])
