"""A shortcut past pydantic for the input events nearly every message is: a transaction or a contact change
that is plainly well formed.

Full validation costs more per event than anything else the worker does before the detectors. Most
messages are ordinary: string fields of sane length, a plain decimal amount, an ISO timestamp with an
offset. For those, the fields are checked here directly and the model is built without validation, equal
in every field to what pydantic would build. This only ever *accepts*: whatever it does not positively
recognise (another event type, a missing or odd field, an exponent, a nested extra field, invalid JSON)
gives ``None``, and the caller runs the full pydantic validation, so every dead-letter text, and every
unusual but valid input, comes from that one path. ``tests/unit/schemas/test_fast_events.py`` checks on
arbitrary input that the two paths give equal events.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import orjson
from pydantic_core import TzInfo

_STR_MAX: Final = 256  # NonEmptyStr
_MERCHANT_CATEGORY_MAX: Final = 8
_NEW_VALUE_MAX: Final = 1024
_CONTACT_CHANNEL_MAX: Final = 64
_TX_CHANNELS: Final = frozenset(("card", "transfer", "cash", "online", "atm"))
_CONTACT_FIELDS: Final = frozenset(("phone", "email", "address", "device"))
_TX_REQUIRED: Final = frozenset(
    (
        "event_id",
        "customer_id",
        "timestamp",
        "type",
        "account_id",
        "amount",
        "currency",
        "direction",
        "channel",
    )
)
_TX_OPTIONAL: Final = ("counterparty_id", "counterparty_country", "merchant_category")
_CC_REQUIRED: Final = frozenset(("event_id", "customer_id", "timestamp", "type", "field"))
_CC_OPTIONAL: Final = ("new_value", "channel")

# pydantic-core's offset objects, one per offset seen (at most 2 x 24 x 60)
_OFFSETS: dict[str, TzInfo] = {}


def _name(value: object) -> bool:
    """A ``NonEmptyStr``."""
    return isinstance(value, str) and 0 < len(value) <= _STR_MAX


def _code(value: object, length: int) -> bool:
    """``^[A-Z]{length}$``: a currency or country code."""
    return (
        isinstance(value, str)
        and len(value) == length
        and value.isascii()
        and value.isalpha()
        and value.isupper()
    )


def _digits(text: str, start: int, end: int) -> int:
    """The number the ASCII digits ``text[start:end]`` spell, or -1 if any is not one."""
    number = 0
    for i in range(start, end):
        digit = ord(text[i]) - 48
        if digit < 0 or digit > 9:
            return -1
        number = number * 10 + digit
    return number


def _offset(suffix: str) -> TzInfo | None:
    """pydantic-core's offset object for ``Z`` or ``+HH:MM``/``-HH:MM`` (hours below 24), or None."""
    tz = _OFFSETS.get(suffix)
    if tz is not None:
        return tz
    if suffix == "Z":
        tz = TzInfo(0)
    elif len(suffix) == 6 and (suffix[0] == "+" or suffix[0] == "-") and suffix[3] == ":":
        hours = _digits(suffix, 1, 3)
        minutes = _digits(suffix, 4, 6)
        if hours < 0 or hours > 23 or minutes < 0 or minutes > 59:
            return None
        seconds = hours * 3600 + minutes * 60
        tz = TzInfo(-seconds if suffix[0] == "-" else seconds)
    else:
        return None
    _OFFSETS[suffix] = tz
    return tz


def _timestamp(value: object) -> datetime | None:
    """The datetime pydantic-core gives for ``YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM|-HH:MM)`` (its
    ``TzInfo`` included), each part in range, or None. Years 0003-9997 only: inside the supported UTC range
    (0002-9998) whatever the offset; the edges take the full path."""
    if not isinstance(value, str):
        return None
    n = len(value)
    if (
        n < 20
        or value[4] != "-"
        or value[7] != "-"
        or value[10] != "T"
        or value[13] != ":"
        or value[16] != ":"
    ):
        return None
    year = _digits(value, 0, 4)
    month = _digits(value, 5, 7)
    day = _digits(value, 8, 10)
    hour = _digits(value, 11, 13)
    minute = _digits(value, 14, 16)
    second = _digits(value, 17, 19)
    if year < 3 or year > 9997 or month < 1 or day < 1 or hour < 0 or hour > 23 or minute < 0 or minute > 59:
        return None  # -1 (not digits) included; month and day above their range fail in datetime()
    if second < 0 or second > 59:
        return None
    microsecond = 0
    end = 19
    if value[19] == ".":
        end = 20
        while end < n and end < 27 and "0" <= value[end] <= "9":
            end += 1
        places = end - 20
        if places < 1 or places > 6:
            return None
        microsecond = _digits(value, 20, end) * 10 ** (6 - places)
    tz = _offset(value[end:])
    if tz is None:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, microsecond, tz)
    except ValueError:  # a day the month does not have
        return None


def _amount(value: object) -> Decimal | None:
    """The ``PositiveMoney`` pydantic gives for a plain decimal string (ASCII digits, at most one point
    between them, not all zero) or a positive integer, or None. (Not for a JSON float: orjson also reads an
    integer beyond 64 bits as one.)"""
    if isinstance(value, str):
        n = len(value)
        if n == 0:
            return None
        points = 0
        nonzero = False
        for i in range(n):
            c = ord(value[i])
            if c == 46:  # .
                if i == 0 or i == n - 1:
                    return None
                points += 1
            elif 48 <= c <= 57:  # 0-9
                if c != 48:
                    nonzero = True
            else:
                return None
        if points > 1 or not nonzero:
            return None
        return Decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value) if value > 0 else None
    return None


def _optional(value: object, limit: int) -> bool:
    """An optional string field: absent, null, or a string of at most ``limit`` characters."""
    return value is None or (isinstance(value, str) and len(value) <= limit)


class CommonEvents:
    """Builds ``Transaction`` and ``ContactChange`` models (given, since ``schemas.events`` imports this
    module) the way ``BaseModel.model_construct`` does, without its per-field loop."""

    def __init__(self, transaction: type[Any], contact_change: type[Any]) -> None:
        self.transaction = transaction
        self.contact_change = contact_change

    def parse(self, data: str | bytes) -> Any:
        """The event model for a plainly well-formed transaction or contact change; None for anything else
        (the caller validates it fully)."""
        # Other event types are not read twice: a message that cannot be one of the two is declined
        # before parsing. Flat messages only: pydantic's JSON parser rejects nesting deeper than about
        # 200, orjson's only beyond 1024, even inside a value that a repeated key then replaces. (A
        # bracket inside a string value also takes the full path.)
        if isinstance(data, bytes):
            # find(), not ``in``: a bytes ``in`` first tries its operand as an integer, and that failure
            # (an exception set and cleared) costs more than the search
            if data.find(b"transaction") < 0 and data.find(b"contact_change") < 0:
                return None
            if data.find(b"[") >= 0 or data.find(b"{", 1) >= 0:
                return None
        else:
            if "transaction" not in data and "contact_change" not in data:
                return None
            if "[" in data or data.find("{", 1) >= 0:
                return None
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(obj, dict):
            return None
        kind = obj.get("type")
        if kind == "transaction":
            return self._transaction(obj)
        if kind == "contact_change":
            return self._contact_change(obj)
        return None

    def _transaction(self, obj: dict[str, object]) -> Any:
        event_id = obj.get("event_id")
        customer_id = obj.get("customer_id")
        account_id = obj.get("account_id")
        currency = obj.get("currency")
        direction = obj.get("direction")
        channel = obj.get("channel")
        counterparty_id = obj.get("counterparty_id")
        country = obj.get("counterparty_country")
        merchant_category = obj.get("merchant_category")
        if not (
            _name(event_id)
            and _name(customer_id)
            and _name(account_id)
            and _code(currency, 3)
            and (direction == "debit" or direction == "credit")
            and isinstance(channel, str)
            and channel in _TX_CHANNELS
            and (counterparty_id is None or _name(counterparty_id))
            and (country is None or _code(country, 2))
            and _optional(merchant_category, _MERCHANT_CATEGORY_MAX)
        ):
            return None
        timestamp = _timestamp(obj.get("timestamp"))
        if timestamp is None:
            return None
        amount = _amount(obj.get("amount"))
        if amount is None:
            return None
        fields_set = _fields_set(obj, _TX_REQUIRED, _TX_OPTIONAL)
        values = {
            "event_id": event_id,
            "customer_id": customer_id,
            "timestamp": timestamp,
            "type": "transaction",
            "account_id": account_id,
            "amount": amount,
            "currency": currency,
            "direction": direction,
            "channel": channel,
            "counterparty_id": counterparty_id,
            "counterparty_country": country,
            "merchant_category": merchant_category,
        }
        return _construct(self.transaction, values, fields_set)

    def _contact_change(self, obj: dict[str, object]) -> Any:
        event_id = obj.get("event_id")
        customer_id = obj.get("customer_id")
        field = obj.get("field")
        new_value = obj.get("new_value")
        channel = obj.get("channel")
        if not (
            _name(event_id)
            and _name(customer_id)
            and isinstance(field, str)
            and field in _CONTACT_FIELDS
            and _optional(new_value, _NEW_VALUE_MAX)
            and _optional(channel, _CONTACT_CHANNEL_MAX)
        ):
            return None
        timestamp = _timestamp(obj.get("timestamp"))
        if timestamp is None:
            return None
        fields_set = _fields_set(obj, _CC_REQUIRED, _CC_OPTIONAL)
        values = {
            "event_id": event_id,
            "customer_id": customer_id,
            "timestamp": timestamp,
            "type": "contact_change",
            "field": field,
            "new_value": new_value,
            "channel": channel,
        }
        return _construct(self.contact_change, values, fields_set)


def _fields_set(obj: dict[str, object], required: frozenset[str], optional: tuple[str, ...]) -> set[str]:
    """The model's ``fields_set``: the required fields and the optional ones the message gives."""
    fields_set = set(required)
    if len(obj) > len(fields_set):  # optional or extra fields
        for key in optional:
            if key in obj:
                fields_set.add(key)
    return fields_set


def _construct(cls: type[Any], values: dict[str, object], fields_set: set[str]) -> Any:
    """What ``model_construct`` does for a model without extras or private attributes (the values in the
    order of the model's fields, as validation leaves them)."""
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", values)
    object.__setattr__(event, "__pydantic_fields_set__", fields_set)
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return event
