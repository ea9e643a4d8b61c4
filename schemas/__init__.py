"""Pydantic models of every message riskwatch reads and writes: the single source of the wire format."""

from schemas.common import SCHEMA_VERSION, RiskTier, Severity
from schemas.events import (
    ContactChange,
    CustomerProfile,
    InputEvent,
    Transaction,
    parse_event,
    parse_event_json,
)
from schemas.outputs import Alert, CustomerRisk, DeadLetter

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "ContactChange",
    "CustomerProfile",
    "CustomerRisk",
    "DeadLetter",
    "InputEvent",
    "RiskTier",
    "Severity",
    "Transaction",
    "parse_event",
    "parse_event_json",
]
