"""Input events: Transaction, ContactChange, CustomerProfile, the officers' inputs (contract 1.1), and the
parser of a mixed stream."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from schemas.common import (
    CountryCode,
    CurrencyCode,
    NonEmptyStr,
    NonNegativeMoney,
    PositiveMoney,
    RiskTier,
    Timestamp,
)


class _InputEvent(BaseModel):
    # Unknown extra fields are allowed by the contract but never carried further (extra="ignore").
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)

    event_id: NonEmptyStr
    customer_id: NonEmptyStr
    timestamp: Timestamp


class Transaction(_InputEvent):
    type: Literal["transaction"] = "transaction"
    account_id: NonEmptyStr
    amount: PositiveMoney
    currency: CurrencyCode
    direction: Literal["debit", "credit"]
    channel: Literal["card", "transfer", "cash", "online", "atm"]
    counterparty_id: NonEmptyStr | None = None
    counterparty_country: CountryCode | None = None
    merchant_category: Annotated[str, Field(max_length=8)] | None = None


class ContactChange(_InputEvent):
    type: Literal["contact_change"] = "contact_change"
    field: Literal["phone", "email", "address", "device"]
    # Personal data: riskwatch keeps only a keyed hash of it. repr=False keeps it out of logs and tracebacks.
    new_value: Annotated[str, Field(max_length=1024)] | None = Field(default=None, repr=False)
    channel: Annotated[str, Field(max_length=64)] | None = None


class CustomerProfile(_InputEvent):
    type: Literal["customer_profile"] = "customer_profile"
    segment: Literal["individual", "corporate"]
    industry: Annotated[str, Field(min_length=1, max_length=64)]
    credit_score: Annotated[int, Field(ge=300, le=900, strict=True)] | None = None
    overdue_count_12m: Annotated[int, Field(ge=0, strict=True)] | None = None
    annual_income: NonNegativeMoney | None = None
    total_assets: NonNegativeMoney | None = None
    total_liabilities: NonNegativeMoney | None = None
    business_size: Literal["micro", "small", "medium", "large"] | None = None
    politically_exposed: Annotated[bool, Field(strict=True)] | None = None
    home_country: CountryCode = "CN"


OfficerText = Annotated[str, Field(min_length=1, max_length=2048)]


class _OfficerInput(_InputEvent):
    """What an officer (or the data-protection officer) decided; ``reason`` is free text that never reaches
    metrics or logs."""

    officer_id: NonEmptyStr
    reason: OfficerText = Field(repr=False)


class RiskOverride(_OfficerInput):
    """Pin the customer's tier until ``expires_at`` (event time); ``tier: null`` lifts an override early."""

    type: Literal["risk_override"] = "risk_override"
    tier: RiskTier | None
    expires_at: Timestamp


class ReviewCompleted(_OfficerInput):
    """A periodic review is done: the review clock restarts from this event's time."""

    type: Literal["review_completed"] = "review_completed"
    outcome: Literal["no_change", "tier_changed", "exit_relationship"]
    tier: RiskTier | None = None


class ErasureRequest(_OfficerInput):
    """Delete everything riskwatch keeps about the customer (PIPL art. 47); later events start afresh."""

    type: Literal["erasure_request"] = "erasure_request"


OfficerEvent = RiskOverride | ReviewCompleted | ErasureRequest
AnyInputEvent = (
    Transaction | ContactChange | CustomerProfile | RiskOverride | ReviewCompleted | ErasureRequest
)
InputEvent = Annotated[AnyInputEvent, Field(discriminator="type")]
EVENT_TYPES: tuple[str, ...] = (
    "transaction",
    "contact_change",
    "customer_profile",
    "risk_override",
    "review_completed",
    "erasure_request",
)

_EVENT_ADAPTER: TypeAdapter[AnyInputEvent] = TypeAdapter(InputEvent)


class EventError(ValueError):
    """An input message that cannot be accepted; ``reason`` names the field and what is wrong with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Bounds of an error text, whatever the input: a reason names a field and a problem, it never grows with
# the value (a 990 KB value repeated in an error once made a dead letter too large to produce).
ERROR_LOCATION_MAX_CHARS = 64
ERROR_MESSAGE_MAX_CHARS = 200
ERROR_PROBLEMS_MAX = 5


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_validation_error(exc: ValidationError) -> str:
    """One readable line per problem, naming the field and the error type's message; never echoes the
    input (it may hold personal data, and it may be huge): pydantic's ``input`` and ``ctx`` are not used,
    and every part is clipped."""
    parts = []
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    for err in errors[:ERROR_PROBLEMS_MAX]:
        loc = [_clip(str(p), ERROR_LOCATION_MAX_CHARS) for p in err["loc"]]
        # The discriminated union puts the event type first in the location; the field is what matters.
        if loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]
        where = ".".join(loc) or "event"
        if err["type"] == "union_tag_invalid":
            msg = "type must be one of " + ", ".join(repr(t) for t in EVENT_TYPES)
            where = "type"
        elif err["type"] == "union_tag_not_found":
            msg = "is missing (needed to tell the event kind)"
            where = "type"
        elif err["type"] == "json_invalid":
            msg = "is not valid JSON"
        else:
            msg = _clip(err["msg"], ERROR_MESSAGE_MAX_CHARS)
        parts.append(f"{where}: {msg}")
    if len(errors) > ERROR_PROBLEMS_MAX:
        parts.append(f"and {len(errors) - ERROR_PROBLEMS_MAX} more problems")
    return "; ".join(parts)


def parse_event_json(data: str | bytes) -> AnyInputEvent:
    """Parse one JSON message into its event model or raise ``EventError`` with a readable reason.

    In the compiled build, plainly well-formed transactions and contact changes take a shortcut past
    pydantic (``fast_events``); everything else, every rejection included, is ``validate_event_json``'s."""
    if _SHORTCUT is not None:
        event: AnyInputEvent | None = _SHORTCUT.parse(data)
        if event is not None:
            return event
    return validate_event_json(data)


def validate_event_json(data: str | bytes) -> AnyInputEvent:
    """``parse_event_json`` by full pydantic validation, whatever the event."""
    try:
        return _EVENT_ADAPTER.validate_json(data)
    except ValidationError as exc:
        raise EventError(describe_validation_error(exc)) from None


def parse_event(data: object) -> AnyInputEvent:
    """Like ``parse_event_json`` for an already decoded object."""
    try:
        return _EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise EventError(describe_validation_error(exc)) from None


# Imported last: compiled, the module loads the build's shared library from the ``detectors`` package, whose
# import needs every name above. Interpreted, the shortcut costs more than the validation it saves.
from schemas import fast_events  # noqa: E402

_SHORTCUT = (
    None if fast_events.__file__.endswith(".py") else fast_events.CommonEvents(Transaction, ContactChange)
)
