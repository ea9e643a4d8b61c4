"""Pydantic models of every message riskwatch reads and writes: the single source of the wire format."""

from schemas.common import SCHEMA_VERSION, RiskTier, Severity
from schemas.events import (
    ContactChange,
    CustomerProfile,
    ErasureRequest,
    InputEvent,
    ReviewCompleted,
    RiskOverride,
    Transaction,
    parse_event,
    parse_event_json,
)
from schemas.outputs import Alert, AlertDisposition, CustomerRisk, DeadLetter, ReviewDue, review_id

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "AlertDisposition",
    "ContactChange",
    "CustomerProfile",
    "CustomerRisk",
    "DeadLetter",
    "ErasureRequest",
    "InputEvent",
    "ReviewCompleted",
    "ReviewDue",
    "RiskOverride",
    "RiskTier",
    "Severity",
    "Transaction",
    "parse_event",
    "parse_event_json",
    "review_id",
]
