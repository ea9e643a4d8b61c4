"""Types shared by input and output messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import core_schema

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
    """Pydantic alone also takes epoch numbers and offset-less strings; the contract demands RFC 3339.

    Python objects only (a model built in code may hold a ``datetime``); JSON input is checked by the same
    rules inside pydantic-core (``_timestamp_schema``) with the same texts."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(_NOT_A_STRING)
    if not _RFC3339.match(value):
        raise ValueError(_NOT_RFC3339)  # never echo the value
    return value


_NOT_A_STRING = "must be an RFC 3339 timestamp string with an offset or Z"
_NOT_RFC3339 = "is not an RFC 3339 timestamp with an offset or Z"
_OUT_OF_RANGE = "is outside the supported range (years 0002 to 9998 in UTC)"


def _value_error(schema: core_schema.CoreSchema, message: str) -> core_schema.CoreSchema:
    """Any failure of ``schema`` as one error worded as a ``ValueError`` of a Python validator would be
    (``Value error, ...``): dead letters keep the texts they had when these checks were Python code."""
    return core_schema.custom_error_schema(
        schema, custom_error_type="timestamp_invalid", custom_error_message=f"Value error, {message}"
    )


def _timestamp_schema(source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """An RFC 3339 timestamp with an offset, checked entirely inside pydantic-core for JSON input (every
    input line): a string, of the RFC 3339 shape, a valid aware datetime, within years 0002-9998 in UTC so
    it converts to any time zone (the reporting day, the UTC epoch) without overflow."""
    aware = core_schema.datetime_schema(tz_constraint="aware")
    in_range = _value_error(
        core_schema.datetime_schema(ge=datetime(2, 1, 1, tzinfo=UTC), lt=datetime(9999, 1, 1, tzinfo=UTC)),
        _OUT_OF_RANGE,
    )
    return core_schema.json_or_python_schema(
        json_schema=core_schema.chain_schema(
            [
                _value_error(core_schema.str_schema(strict=True), _NOT_A_STRING),
                # Python's ``$`` also matches before a final newline, Rust's (pydantic-core's) does not
                _value_error(core_schema.str_schema(pattern=_RFC3339.pattern[:-1] + r"\n?$"), _NOT_RFC3339),
                aware,
                in_range,
            ]
        ),
        python_schema=core_schema.chain_schema(
            [core_schema.no_info_before_validator_function(_require_rfc3339, aware), in_range]
        ),
    )


Timestamp = Annotated[
    datetime,
    GetPydanticSchema(_timestamp_schema),
    WithJsonSchema({"format": "date-time", "type": "string"}, mode="validation"),
    PlainSerializer(lambda d: d.isoformat(), return_type=str, when_used="json"),
]


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
