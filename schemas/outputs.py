"""What riskwatch writes: Alert, CustomerRisk and DeadLetter."""

from __future__ import annotations

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
    error: str
    received_at: Timestamp
