"""Contract 1.1: the officers' inputs parse from the mixed stream, and ReviewDue/AlertDisposition hold their
fields; a bad officer input names the field like any other input."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from config.settings import TopicSettings
from schemas.events import (
    ErasureRequest,
    EventError,
    ReviewCompleted,
    RiskOverride,
    parse_event_json,
)
from schemas.outputs import AlertDisposition, ReviewDue, review_id

BASE: dict[str, Any] = {
    "event_id": "o1",
    "customer_id": "c1",
    "timestamp": "2025-03-01T09:00:00+08:00",
    "officer_id": "officer-7",
    "reason": "Adverse media: director under investigation",
}
OVERRIDE = {**BASE, "type": "risk_override", "tier": "high", "expires_at": "2025-06-01T00:00:00Z"}
LIFT = {**OVERRIDE, "tier": None}
REVIEW = {**BASE, "type": "review_completed", "outcome": "tier_changed", "tier": "medium"}
ERASE = {**BASE, "type": "erasure_request"}


@pytest.mark.parametrize(
    ("raw", "model"),
    [(OVERRIDE, RiskOverride), (LIFT, RiskOverride), (REVIEW, ReviewCompleted), (ERASE, ErasureRequest)],
)
def test_officer_inputs_parse(raw: dict[str, Any], model: type) -> None:
    event = parse_event_json(json.dumps(raw))
    assert isinstance(event, model)
    assert event.type == raw["type"]


def test_lifting_an_override_is_a_null_tier() -> None:
    event = parse_event_json(json.dumps(LIFT))
    assert isinstance(event, RiskOverride)
    assert event.tier is None


def test_reason_stays_out_of_repr() -> None:
    assert "investigation" not in repr(parse_event_json(json.dumps(OVERRIDE)))


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({**OVERRIDE, "tier": "extreme"}, "tier"),
        ({k: v for k, v in OVERRIDE.items() if k != "expires_at"}, "expires_at"),
        ({k: v for k, v in OVERRIDE.items() if k != "tier"}, "tier"),
        ({**REVIEW, "outcome": "closed"}, "outcome"),
        ({k: v for k, v in ERASE.items() if k != "officer_id"}, "officer_id"),
        ({**ERASE, "reason": ""}, "reason"),
        ({**ERASE, "type": "erase"}, "type"),
    ],
)
def test_bad_officer_input_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(EventError) as err:
        parse_event_json(json.dumps(raw))
    assert err.value.reason.startswith(f"{field}:")


def test_review_id_is_one_per_customer_and_due_date() -> None:
    a = review_id("c1", date(2025, 9, 1))
    assert a == review_id("c1", date(2025, 9, 1))
    assert a != review_id("c1", date(2025, 9, 2))
    assert a != review_id("c2", date(2025, 9, 1))
    due = ReviewDue(
        customer_id="c1", tier="high", due_date=date(2025, 9, 1), last_review=None, review_id=a, reason="r"
    )
    assert ReviewDue.model_validate_json(due.model_dump_json()) == due


def test_alert_disposition_round_trip_and_choices() -> None:
    raw = {
        "alert_id": "a" * 32,
        "customer_id": "c1",
        "detector": "structuring",
        "officer_id": "officer-7",
        "disposition": "false_positive",
        "decided_at": "2025-03-02T10:00:00Z",
    }
    d = AlertDisposition.model_validate(raw)
    assert d.note is None
    assert AlertDisposition.model_validate_json(d.model_dump_json()) == d
    with pytest.raises(ValidationError):
        AlertDisposition.model_validate({**raw, "disposition": "ignored"})


def test_topic_settings_know_the_new_topics() -> None:
    t = TopicSettings()
    assert t.input_types()["risk-overrides"] == "risk_override"
    assert t.input_types()["review-completed"] == "review_completed"
    assert t.input_types()["erasure-requests"] == "erasure_request"
    assert len(t.input_topics()) == 6
    every = t.all_topics()
    assert {"reviews", "alert-dispositions", "risk-overrides"} <= set(every)
    assert every["reviews"] is False
