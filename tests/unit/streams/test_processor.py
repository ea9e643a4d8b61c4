"""The processor shared by replay and the worker: bad input becomes a dead letter, never an exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import load_settings
from detectors.base import Detector
from detectors.context import CustomerContext
from detectors.engine import RiskEngine
from detectors.findings import Finding
from detectors.observation import Observation
from detectors.registry import build_detectors
from streams.processor import MemoryStateStore, Processor, reject_category

FIXED = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def processor() -> Processor:
    return Processor(RiskEngine(load_settings().detection), MemoryStateStore(), clock=lambda: FIXED)


def _tx(**extra: object) -> bytes:
    event = {
        "type": "transaction",
        "event_id": "t-1",
        "customer_id": "c-1",
        "timestamp": "2026-03-02T10:00:00+08:00",
        "account_id": "a-1",
        "amount": "60000",
        "currency": "CNY",
        "direction": "debit",
        "channel": "cash",
        **extra,
    }
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    ("raw", "key", "expected_type", "category"),
    [
        (b"{", b"c-1", None, "invalid_json"),
        (_tx(currency="QQQ"), b"c-1", None, "unknown_currency"),
        (_tx(), b"c-2", None, "key_mismatch"),
        (_tx(), b"", None, "key_mismatch"),
        (_tx(), b"c-1", "contact_change", "wrong_type"),
        (_tx(amount="0"), b"c-1", None, "invalid_field"),
        (json.dumps({"type": "transaction", "customer_id": "c-1"}).encode(), b"c-1", None, "missing_field"),
    ],
)
def test_rejections_become_dead_letters_with_a_category(
    processor: Processor, raw: bytes, key: bytes, expected_type: str | None, category: str
) -> None:
    result = processor.handle(
        raw, source="transactions", partition=3, offset=42, key=key, expected_type=expected_type
    )
    assert result.dead_letter is not None
    assert result.alerts == []
    assert reject_category(result.dead_letter.error) == category
    assert (result.dead_letter.partition, result.dead_letter.offset) == (3, 42)
    assert result.dead_letter.received_at == FIXED
    assert len(processor.store) == 0  # type: ignore[arg-type]


def test_a_good_event_alerts_and_a_redelivery_is_a_duplicate(processor: Processor) -> None:
    first = processor.handle(_tx(), source="transactions", key=b"c-1")
    assert [a.detector for a in first.alerts] == ["large_value"]
    assert first.alerts[0].detected_at == FIXED
    again = processor.handle(_tx(), source="transactions", key=b"c-1")
    assert again.duplicate
    assert again.alerts == []


def test_contact_values_never_reach_a_dead_letter_reason(processor: Processor) -> None:
    raw = json.dumps(
        {
            "type": "contact_change",
            "event_id": "c-9",
            "customer_id": "c-1",
            "timestamp": "not a time",
            "field": "phone",
            "new_value": "+86 138 0013 8000",
        }
    ).encode()
    result = processor.handle(raw, source="contact-changes", key=b"c-1")
    assert result.dead_letter is not None
    assert "138" not in result.dead_letter.error


class BrokenOnFirstEvent(Detector[None]):
    """A detector with a bug that shows on event t-1 only (injected into a real engine: the compiled
    build's engine takes no monkeypatched methods)."""

    name = "broken"

    def new_state(self) -> None:
        return None

    def update(self, state: None, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if obs.event_id == "t-1":
            raise ZeroDivisionError("boom")
        return []

    def state_to_json(self, state: None) -> Any:
        return None

    def state_from_json(self, data: Any) -> None:
        return None


def test_a_bug_in_detection_dead_letters_the_event_and_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings().detection
    engine = RiskEngine(settings, detectors=[*build_detectors(settings), BrokenOnFirstEvent()])
    processor = Processor(engine, MemoryStateStore(), clock=lambda: FIXED)
    result = processor.handle(_tx(), source="transactions", partition=1, offset=7, key=b"c-1")
    assert result.dead_letter is not None
    assert reject_category(result.dead_letter.error) == "internal_error"
    assert "ZeroDivisionError" in result.dead_letter.error
    assert "internal error on event t-1" in caplog.text
    assert [
        a.detector for a in processor.handle(_tx(event_id="t-2"), source="transactions", key=b"c-1").alerts
    ] == ["large_value"]


def test_a_customer_on_the_wrong_partition_is_a_dead_letter() -> None:
    placed = Processor(
        RiskEngine(load_settings().detection),
        MemoryStateStore(),
        clock=lambda: FIXED,
        partition_of=lambda customer_id: 2,
    )
    wrong = placed.handle(_tx(), source="transactions", partition=5, offset=1, key=b"c-1")
    assert wrong.dead_letter is not None
    assert "belongs on partition 2" in wrong.dead_letter.error
    assert reject_category(wrong.dead_letter.error) == "key_mismatch"
    right = placed.handle(_tx(), source="transactions", partition=2, offset=2, key=b"c-1")
    assert [a.detector for a in right.alerts] == ["large_value"]


def test_an_event_id_reused_for_other_content_is_a_conflict_dead_letter(processor: Processor) -> None:
    first = processor.handle(_tx(), source="transactions")
    assert first.alerts
    assert processor.handle(_tx(), source="transactions").duplicate
    conflict = processor.handle(_tx(amount="70000"), source="transactions")
    assert conflict.dead_letter is not None
    assert conflict.dead_letter.error.startswith("event_id: already seen for this customer")
    assert reject_category(conflict.dead_letter.error) == "event_id_conflict"
    assert not conflict.alerts


def test_an_amount_above_the_ceiling_is_a_dead_letter(processor: Processor) -> None:
    result = processor.handle(_tx(amount="1" + "0" * 39), source="transactions")
    assert result.dead_letter is not None
    assert result.dead_letter.error.startswith("amount: above the ceiling")
