"""Outputs: Alert, CustomerRisk and DeadLetter survive a JSON round trip; the version is fixed at 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.outputs import DETECTOR_NAMES, Alert, CustomerRisk, DeadLetter

aware = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1)).flatmap(
    lambda d: st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    ).map(lambda tz: d.replace(tzinfo=tz))
)
text = st.text(max_size=40)
tiers = st.sampled_from(["low", "medium", "high"])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | text
    | st.floats(allow_nan=False, allow_infinity=False)
)
evidence = st.dictionaries(text, json_scalars | st.lists(json_scalars, max_size=3), max_size=5)

alerts = st.builds(
    Alert,
    alert_id=text,
    customer_id=text,
    detector=st.sampled_from(DETECTOR_NAMES),
    severity=st.sampled_from(["low", "medium", "high", "critical"]),
    score=st.floats(0, 1),
    risk_tier=tiers,
    event_time=aware,
    detected_at=aware,
    trigger_event_ids=st.lists(text, min_size=1, max_size=5),
    reason=text,
    evidence=evidence,
)
risks = st.builds(
    CustomerRisk,
    customer_id=text,
    tier=tiers,
    score=st.floats(0, 100),
    previous_tier=st.none() | tiers,
    factors=st.dictionaries(text, st.floats(0, 100), max_size=5),
    updated_at=aware,
    next_review_due=st.dates(),
    reason=text,
)
dead_letters = st.builds(
    DeadLetter,
    source=text,
    partition=st.none() | st.integers(0, 1000),
    offset=st.none() | st.integers(0, 2**62),
    key=st.none() | text,
    raw=st.text(max_size=200),
    raw_encoding=st.sampled_from(["utf-8", "base64"]),
    error=text,
    received_at=aware,
)


@given(model=st.one_of(alerts, risks, dead_letters))
def test_json_round_trip(model: Alert | CustomerRisk | DeadLetter) -> None:
    back = type(model).model_validate_json(model.model_dump_json())
    assert back == model
    assert back.model_dump_json() == model.model_dump_json()


def test_schema_version_is_one_and_fixed() -> None:
    risk = CustomerRisk(
        customer_id="c",
        tier="low",
        score=1,
        previous_tier=None,
        factors={},
        updated_at=datetime(2024, 1, 1, tzinfo=UTC),
        next_review_due="2026-01-01",
        reason="r",
    )
    assert risk.schema_version == 1
    with pytest.raises(ValidationError):
        CustomerRisk.model_validate({**risk.model_dump(), "schema_version": 2})


def test_alert_rejects_out_of_range_and_unknown_fields() -> None:
    base = {
        "alert_id": "a",
        "customer_id": "c",
        "detector": "large_value",
        "severity": "low",
        "score": 0.5,
        "risk_tier": "low",
        "event_time": "2024-01-01T00:00:00Z",
        "detected_at": "2024-01-01T00:00:00Z",
        "trigger_event_ids": ["e"],
        "reason": "r",
        "evidence": {},
    }
    assert Alert.model_validate(base).score == 0.5
    for bad in ({"score": 1.5}, {"detector": "nope"}, {"trigger_event_ids": []}, {"surprise": 1}):
        with pytest.raises(ValidationError):
            Alert.model_validate({**base, **bad})
