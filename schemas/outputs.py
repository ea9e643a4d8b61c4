"""What riskwatch writes: Alert, CustomerRisk, DeadLetter, ReviewDue, and the officers' AlertDisposition."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import SCHEMA_VERSION, RiskTier, Severity, Timestamp

DetectorName = Literal[
    "amount_spike",
    "velocity_spike",
    "contact_change_burst",
    "account_takeover",
    "structuring",
    "large_value",
    "tier_limit",
    "sustained_shift",
]
DETECTOR_NAMES: tuple[str, ...] = DetectorName.__args__  # type: ignore[attr-defined]


class _Output(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alert(_Output):
    alert_id: str
    schema_version: Literal[1] = SCHEMA_VERSION
    customer_id: str
    detector: DetectorName
    severity: Severity
    score: Annotated[float, Field(ge=0, le=1)]
    risk_tier: RiskTier
    event_time: Timestamp
    detected_at: Timestamp
    trigger_event_ids: Annotated[list[str], Field(min_length=1)]
    reason: str
    # Figures only (numbers, decimal strings, hashes, enums): never contact values or other personal data.
    evidence: dict[str, Any]


class CustomerRisk(_Output):
    """``factors`` keys (1.1): the scorecard's own factors (``credit_record``, ``financial_condition``,
    ``business_size``, ``industry_risk``, ``politically_exposed``) in points; ``knockout.<rule>`` the points a
    knock-out rule added to lift the score into its tier's band; ``behaviour.<detector>`` the decayed points
    of that detector's alerts; ``override`` the points an officer override moved the score by (signed)."""

    customer_id: str
    schema_version: Literal[1] = SCHEMA_VERSION
    tier: RiskTier
    score: Annotated[float, Field(ge=0, le=100)]
    previous_tier: RiskTier | None
    factors: dict[str, float]
    updated_at: Timestamp
    next_review_due: date
    reason: str


class DeadLetter(_Output):
    source: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    raw: str
    raw_encoding: Literal["utf-8", "base64"] = "utf-8"
    # riskwatch's own (the contract is silent): ``raw`` holds only the beginning of a message too large
    # for a dead letter; ``raw_bytes`` is the size of the whole message value
    raw_truncated: bool = False
    raw_bytes: int = 0
    error: str
    received_at: Timestamp


def review_id(customer_id: str, due_date: date) -> str:
    """One id per customer and due date, so a review re-emitted after a restart deduplicates downstream."""
    material = f"review\x1f{customer_id}\x1f{due_date.isoformat()}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


class ReviewDue(_Output):
    """A customer's periodic review has fallen due (1.1); exactly one per customer and due date."""

    customer_id: str
    schema_version: Literal[1] = SCHEMA_VERSION
    tier: RiskTier
    due_date: date
    last_review: date | None
    review_id: str
    reason: str


class AlertDisposition(_Output):
    """An officer's judgement of an alert (1.1), written by the workbench to ``alert-dispositions``."""

    alert_id: str
    customer_id: str
    detector: DetectorName
    officer_id: Annotated[str, Field(min_length=1, max_length=256)]
    disposition: Literal["confirmed", "false_positive", "escalated"]
    note: Annotated[str, Field(max_length=4096)] | None = None
    decided_at: Timestamp
