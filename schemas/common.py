"""Types shared by input and output messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, PlainSerializer

SCHEMA_VERSION: Final[Literal[1]] = 1

RiskTier = Literal["low", "medium", "high"]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
TIER_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}

# RFC 3339 date-time: a full date, 'T' (or space), a full time and a mandatory offset or 'Z'.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$",
)


def _require_rfc3339(value: Any) -> Any:
    """Pydantic alone also takes epoch numbers and offset-less strings; the contract demands RFC 3339."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string with an offset or Z")
    if not _RFC3339.match(value):
        raise ValueError("is not an RFC 3339 timestamp with an offset or Z")  # never echo the value
    return value


def _within_range(value: datetime) -> datetime:
    """Keep event times convertible to any time zone (the reporting day, UTC epoch) without overflow."""
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not 2 <= year <= 9998:
        raise ValueError("is outside the supported range (years 0002 to 9998 in UTC)")
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_require_rfc3339),
    AfterValidator(_within_range),
    PlainSerializer(lambda d: d.isoformat(), return_type=str, when_used="json"),
]


def _finite_positive(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be finite")
    return value


def _number_or_decimal_string(value: Any) -> Any:
    """Amounts are decimal strings; JSON numbers are accepted. Booleans are never money."""
    if isinstance(value, bool):
        raise ValueError("must be a decimal string or number, not a boolean")
    if isinstance(value, float):
        # repr() gives the shortest string that round-trips, so 0.1 stays 0.1 rather than 0.1000000000000000055
        return repr(value)
    return value


PositiveMoney = Annotated[
    Decimal,
    BeforeValidator(_number_or_decimal_string),
    Field(gt=0, allow_inf_nan=False),
    AfterValidator(_finite_positive),
    PlainSerializer(lambda d: str(d), return_type=str, when_used="json"),
]
NonNegativeMoney = Annotated[
    Decimal,
    BeforeValidator(_number_or_decimal_string),
    Field(ge=0, allow_inf_nan=False),
    PlainSerializer(lambda d: str(d), return_type=str, when_used="json"),
]
NonEmptyStr = Annotated[str, Field(min_length=1, max_length=256)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
