"""From consumed records to read-model operations: pure (no Kafka, no Redis), so the projection rules are
unit-tested on their own.

Rules:
- ``customer-risk``: the latest CustomerRisk of a customer replaces the previous one; a tombstone (null
  value, written on erasure) deletes every key of that customer and remembers the erasure's record time.
- ``alerts``: added by alert id (so a repeated alert is one entry), newest N by event time kept.
- ``reviews``: the customer's latest ReviewDue; ``alert-dispositions``: the latest per alert;
  ``risk-overrides``: the latest override an officer asked for (``tier: null`` lifts it).
- Records of a customer that are older (record time) than the customer's erasure are skipped: the alerts
  topic keeps pre-erasure alerts, and the projector reads it independently of customer-risk.
- A record that cannot be decoded is skipped with its reason (logged and counted), never applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import orjson
from pydantic import ValidationError

from schemas.events import RiskOverride
from schemas.outputs import Alert, AlertDisposition, CustomerRisk, ReviewDue

Role = Literal["customer_risk", "alerts", "reviews", "alert_dispositions", "risk_overrides"]
ROLES: tuple[Role, ...] = ("customer_risk", "alerts", "reviews", "alert_dispositions", "risk_overrides")


@dataclass(frozen=True, slots=True)
class Record:
    role: Role
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class PutRisk:
    customer_id: str
    risk_json: bytes
    tier: str
    score: float
    next_review_due: date

    def row_json(self) -> bytes:
        """The customer's row in lists (``customers``, ``reviews due``)."""
        return orjson.dumps(
            {
                "customer_id": self.customer_id,
                "tier": self.tier,
                "score": self.score,
                "next_review_due": self.next_review_due.isoformat(),
            }
        )


@dataclass(frozen=True, slots=True)
class Erase:
    customer_id: str
    erased_at_ms: int


@dataclass(frozen=True, slots=True)
class AddAlert:
    customer_id: str
    alert_id: str
    event_time_ms: int
    alert_json: bytes


@dataclass(frozen=True, slots=True)
class PutField:
    """One JSON value in the customer's hash (``review``, ``override``), or its removal (``None``)."""

    customer_id: str
    name: str
    value_json: bytes | None


@dataclass(frozen=True, slots=True)
class PutDisposition:
    customer_id: str
    alert_id: str
    disposition_json: bytes


@dataclass(frozen=True, slots=True)
class Skip:
    topic: str
    partition: int
    offset: int
    reason: str


Op = PutRisk | Erase | AddAlert | PutField | PutDisposition | Skip


def customer_of(record: Record) -> str | None:
    """The customer a record belongs to, from its key (every output is keyed by customer id)."""
    if record.key is None:
        return None
    try:
        return record.key.decode()
    except UnicodeDecodeError:
        return None


@dataclass
class Plan:
    ops: list[Op] = field(default_factory=list)
    # (topic, partition) -> the next offset to read once these ops are applied
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    touched_alerts: set[str] = field(default_factory=set)


def plan(records: list[Record], erased_at_ms: dict[str, int]) -> Plan:
    """The operations for ``records`` (in consumption order), given the known erasure times per customer
    (updated here by the batch's own tombstones, so a batch needs no second look at Redis)."""
    erased = dict(erased_at_ms)
    for r in records:
        if r.role == "customer_risk" and r.value is None and (cid := customer_of(r)) is not None:
            erased[cid] = max(erased.get(cid, r.timestamp_ms), r.timestamp_ms)
    out = Plan()
    for r in records:
        out.offsets[(r.topic, r.partition)] = r.offset + 1
        op = _op(r, erased)
        if op is None:
            continue
        if isinstance(op, AddAlert):
            out.touched_alerts.add(op.customer_id)
        out.ops.append(op)
    return out


def _op(r: Record, erased: dict[str, int]) -> Op | None:
    cid = customer_of(r)
    if cid is None:
        return Skip(r.topic, r.partition, r.offset, "no customer id in the message key")
    if r.value is None:
        if r.role == "customer_risk":
            return Erase(cid, r.timestamp_ms)
        return Skip(r.topic, r.partition, r.offset, "null value outside customer-risk")
    if r.role != "customer_risk" and r.timestamp_ms <= erased.get(cid, -1):
        return None  # from before the customer's erasure: nothing of it may come back
    try:
        return _decode(r, cid)
    except ValueError as exc:  # pydantic's ValidationError included
        return Skip(r.topic, r.partition, r.offset, f"not a valid {r.role} message: {_reason(exc)}")


def _reason(exc: ValueError) -> str:
    """The first problem, naming the field: enough to find the record and its producer."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        return f"{where}: {first['msg']}"
    return str(exc)


def _decode(r: Record, cid: str) -> Op:
    value = r.value or b""
    if r.role == "customer_risk":
        risk = CustomerRisk.model_validate_json(value)
        _same_customer(risk.customer_id, cid)
        return PutRisk(cid, value, risk.tier, risk.score, risk.next_review_due)
    if r.role == "alerts":
        alert = Alert.model_validate_json(value)
        _same_customer(alert.customer_id, cid)
        return AddAlert(cid, alert.alert_id, int(alert.event_time.timestamp() * 1000), value)
    if r.role == "reviews":
        review = ReviewDue.model_validate_json(value)
        _same_customer(review.customer_id, cid)
        return PutField(cid, "review", value)
    if r.role == "alert_dispositions":
        disposition = AlertDisposition.model_validate_json(value)
        _same_customer(disposition.customer_id, cid)
        return PutDisposition(cid, disposition.alert_id, value)
    override = RiskOverride.model_validate_json(value)
    _same_customer(override.customer_id, cid)
    if override.tier is None:
        return PutField(cid, "override", None)
    kept = {
        "tier": override.tier,
        "expires_at": override.expires_at.isoformat(),
        "officer_id": override.officer_id,
        "reason": override.reason,
        "requested_at": override.timestamp.isoformat(),
    }
    return PutField(cid, "override", orjson.dumps(kept))


def _same_customer(in_value: str, in_key: str) -> None:
    if in_value != in_key:
        raise ValueError(f"customer_id {in_value!r} differs from the message key {in_key!r}")
