"""The projection rules, without Kafka or Redis: what each record becomes, erasure, bad records, offsets."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest

from readmodel.records import AddAlert, Erase, PutDisposition, PutField, PutRisk, Record, Role, Skip, plan


def risk(cid: str, tier: str = "high", score: float = 75.0, due: str = "2026-06-01") -> bytes:
    return orjson.dumps(
        {
            "customer_id": cid,
            "schema_version": 1,
            "tier": tier,
            "score": score,
            "previous_tier": None,
            "factors": {"credit_record": 30.0},
            "updated_at": "2026-01-01T00:00:00Z",
            "next_review_due": due,
            "reason": "r",
        }
    )


def alert(cid: str, alert_id: str, event_time: str = "2026-01-02T00:00:00Z") -> bytes:
    return orjson.dumps(
        {
            "alert_id": alert_id,
            "schema_version": 1,
            "customer_id": cid,
            "detector": "structuring",
            "severity": "critical",
            "score": 0.5,
            "risk_tier": "high",
            "event_time": event_time,
            "detected_at": "2026-01-02T00:00:01Z",
            "trigger_event_ids": ["e1"],
            "reason": "r",
            "evidence": {},
        }
    )


class Topic:
    """Hands out consecutive offsets per partition, like a topic would."""

    def __init__(self, role: Role, name: str | None = None):
        self.role, self.name, self.next = role, name or role, {0: 0, 1: 0}

    def rec(self, cid: str | None, value: bytes | None, ts: int = 1000, partition: int = 0) -> Record:
        offset = self.next[partition]
        self.next[partition] = offset + 1
        key = None if cid is None else cid.encode()
        return Record(self.role, self.name, partition, offset, ts, key, value)


def test_each_output_becomes_its_operation_and_offsets_move_past_the_last_record() -> None:
    risks, alerts = Topic("customer_risk"), Topic("alerts")
    records = [
        risks.rec("C1", risk("C1", "medium", 55.5)),
        alerts.rec("C1", alert("C1", "a1", "2026-01-02T00:00:00.250Z"), partition=1),
        risks.rec("C1", risk("C1", "high", 80.0, "2026-03-01")),
    ]
    out = plan(records, {})
    assert [type(op) for op in out.ops] == [PutRisk, AddAlert, PutRisk]
    last = out.ops[2]
    assert isinstance(last, PutRisk)
    assert (last.tier, last.score, last.next_review_due) == ("high", 80.0, date(2026, 3, 1))
    assert orjson.loads(last.row_json()) == {
        "customer_id": "C1",
        "tier": "high",
        "score": 80.0,
        "next_review_due": "2026-03-01",
    }
    added = out.ops[1]
    assert isinstance(added, AddAlert)
    assert added.alert_id == "a1"
    assert added.event_time_ms == 1767312000250
    assert out.offsets == {("customer_risk", 0): 2, ("alerts", 1): 1}
    assert out.touched_alerts == {"C1"}


def test_a_tombstone_erases_and_hides_the_customers_older_records_from_other_topics() -> None:
    risks, alerts, reviews = Topic("customer_risk"), Topic("alerts"), Topic("reviews")
    review = orjson.dumps(
        {
            "customer_id": "C1",
            "schema_version": 1,
            "tier": "high",
            "due_date": "2026-06-01",
            "last_review": None,
            "review_id": "x",
            "reason": "due",
        }
    )
    records = [
        alerts.rec("C1", alert("C1", "before"), ts=900),  # before the erasure, in the same batch: dropped
        risks.rec("C1", None, ts=1000),
        alerts.rec("C1", alert("C1", "same-ms"), ts=1000),
        reviews.rec("C1", review, ts=999),
        alerts.rec("C1", alert("C1", "after"), ts=1001),
        alerts.rec("C2", alert("C2", "other"), ts=10),
    ]
    out = plan(records, {})
    assert out.ops[0] == Erase("C1", 1000)
    kept = [op.alert_id for op in out.ops if isinstance(op, AddAlert)]
    assert kept == ["after", "other"]
    assert not any(isinstance(op, PutField) for op in out.ops)
    # every record still moves its partition on, applied or not
    assert out.offsets[("alerts", 0)] == 4


def test_an_erasure_already_in_redis_hides_older_records_of_a_later_batch() -> None:
    alerts = Topic("alerts")
    out = plan(
        [alerts.rec("C1", alert("C1", "old"), ts=5), alerts.rec("C1", alert("C1", "new"), ts=50)], {"C1": 10}
    )
    assert [op.alert_id for op in out.ops if isinstance(op, AddAlert)] == ["new"]


@pytest.mark.parametrize(
    ("role", "cid", "value", "reason"),
    [
        ("alerts", "C1", b"{not json", "not a valid alerts message: message: Invalid JSON"),
        (
            "customer_risk",
            "C1",
            risk("C1").replace(b'"high"', b'"extreme"'),
            "not a valid customer_risk message: tier:",
        ),
        ("alerts", "C9", alert("C1", "a"), "customer_id 'C1' differs from the message key 'C9'"),
        ("alerts", None, alert("C1", "a"), "no customer id in the message key"),
        ("alerts", "C1", None, "null value outside customer-risk"),
    ],
)
def test_a_bad_record_is_skipped_with_its_reason_and_place(
    role: Role, cid: str | None, value: bytes | None, reason: str
) -> None:
    out = plan([Topic(role).rec(cid, value)], {})
    (op,) = out.ops
    assert isinstance(op, Skip)
    assert reason in op.reason
    assert (op.topic, op.partition, op.offset) == (role, 0, 0)
    assert out.offsets == {(role, 0): 1}


def test_officer_records_become_fields_and_dispositions() -> None:
    override: dict[str, Any] = {
        "type": "risk_override",
        "event_id": "o1",
        "customer_id": "C1",
        "timestamp": "2026-01-01T00:00:00Z",
        "officer_id": "off-7",
        "reason": "sanctions hit",
        "tier": "high",
        "expires_at": "2026-02-01T00:00:00Z",
    }
    lifted = {**override, "event_id": "o2", "tier": None}
    disposition = orjson.dumps(
        {
            "alert_id": "a1",
            "customer_id": "C1",
            "detector": "structuring",
            "officer_id": "off-7",
            "disposition": "confirmed",
            "decided_at": "2026-01-03T00:00:00Z",
        }
    )
    overrides, dispositions = Topic("risk_overrides"), Topic("alert_dispositions")
    out = plan(
        [
            overrides.rec("C1", orjson.dumps(override)),
            dispositions.rec("C1", disposition),
            overrides.rec("C1", orjson.dumps(lifted)),
        ],
        {},
    )
    first, second, third = out.ops
    assert isinstance(first, PutField)
    assert first.name == "override"
    assert orjson.loads(first.value_json or b"") == {
        "tier": "high",
        "expires_at": "2026-02-01T00:00:00+00:00",
        "officer_id": "off-7",
        "reason": "sanctions hit",
        "requested_at": "2026-01-01T00:00:00+00:00",
    }
    assert second == PutDisposition("C1", "a1", disposition)
    assert third == PutField("C1", "override", None)
