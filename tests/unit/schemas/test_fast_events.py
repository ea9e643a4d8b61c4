"""The shortcut past pydantic (``schemas.fast_events``) against full validation, on arbitrary input: every
event the shortcut builds is the very event validation builds (same type, field values of the same type and
repr, same fields set, same JSON), and whatever it declines is left to validation. The last tests show the
comparison catches a shortcut broken in the ways one could plausibly break it."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from sample_events import CC, TX

import schemas
from scenarios.generator import ScenarioConfig, generate
from scenarios.malformed import malformed_lines
from schemas import fast_events
from schemas.events import (
    ContactChange,
    EventError,
    Transaction,
    parse_event_json,
    validate_event_json,
)

Parser = Callable[[str | bytes], Any]
SHORTCUT = fast_events.CommonEvents(Transaction, ContactChange)


def _fingerprint(event: Any) -> tuple[Any, ...]:
    """Everything that could tell two events apart: the values' types and reprs (a Decimal's exponent, a
    datetime's tzinfo class), their order, the fields set, extras, private attributes, the JSON."""
    values = tuple((k, type(v).__name__, repr(v)) for k, v in event.__dict__.items())
    return (
        type(event).__name__,
        values,
        sorted(event.model_fields_set),
        event.__pydantic_extra__,
        event.__pydantic_private__,
        event.model_dump_json(),
    )


def mismatch(shortcut: Parser, data: str | bytes) -> str | None:
    """How the shortcut's event differs from validation's for ``data``; None when it declines or agrees."""
    fast = shortcut(data)
    if fast is None:
        return None
    try:
        full = validate_event_json(data)
    except EventError as exc:
        return f"shortcut accepted what validation rejects: {exc.reason}"
    if fast != full or _fingerprint(fast) != _fingerprint(full):
        return f"shortcut {_fingerprint(fast)} != validation {_fingerprint(full)}"
    return None


# ---------------------------------------------------------------------------------------------- inputs
def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


EDGE_YEARS = [1, 2, 3, 9997, 9998, 9999]


@st.composite
def timestamps(draw: st.DrawFn) -> Any:
    """Mostly RFC 3339-like strings, with the variations each part allows or almost allows."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none()))
    year = draw(st.one_of(st.sampled_from(EDGE_YEARS), st.integers(1, 9999)))
    month, day = draw(st.integers(1, 12)), draw(st.sampled_from([1, 15, 28, 29, 30, 31]))
    clock = draw(st.sampled_from(["00:00:00", "23:59:59", "12:30:45", "24:00:00", "23:59:60", "9:00:00"]))
    sep = draw(st.sampled_from("TTTt "))
    digits = draw(st.sampled_from([0, 0, 1, 3, 6, 7, 9, 10]))
    fraction = "." + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=digits, max_size=digits)))
    zone = draw(
        st.one_of(
            st.sampled_from(["Z", "+08:00", "-05:00", "z", "+00:00", "-00:00", "", "+0800", "+08:00:00"]),
            st.integers(-25 * 60, 25 * 60).map(_offset),
        )
    )
    return f"{year:04d}-{month:02d}-{day:02d}{sep}{clock}{fraction if digits else ''}{zone}"


def amounts() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),  # exponents, signs, -0, NaN
        st.decimals(min_value=0, max_value=10**6, places=2).map(str),
        st.from_regex(r"\A[ +\-.0-9eE_]{1,8}\Z"),
        st.sampled_from(
            ["0", "0.00", "00012.50", ".5", "5.", "1e2", "1E+2", " 5", "5 ", "\u0665", "1_000", "\u00b2"]
        ),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(),
        st.sampled_from([True, None, [], {}, 2**63, 2**64, 10**40, 1e308]),
    )


def names() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(max_size=12),
        st.sampled_from(["", "x" * 256, "x" * 257, "\u00e9" * 256, "\U0001f600" * 257, "a\x00b"]),
        st.integers(),
        st.none(),
    )


def codes(length: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(alphabet="ABXYZab\u00c0\u00c91 \n", min_size=length - 1, max_size=length + 1),
        st.sampled_from(["CNY", "USD", "XTS", "CN", "US", "cn", "CN\n", "\uff23\uff2e"]),
        st.integers(),
        st.none(),
    )


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10))
EXTRA_VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=5), SCALARS, max_size=3),
    st.sampled_from([60, 99, 100, 101, 250]).map(lambda depth: json.loads("[" * depth + "]" * depth)),
)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "event_id": names(),
    "customer_id": names(),
    "account_id": names(),
    "timestamp": timestamps(),
    "amount": amounts(),
    "currency": codes(3),
    "direction": st.sampled_from(["debit", "credit", "Debit", "", None, 1]),
    "channel": st.sampled_from(["card", "transfer", "cash", "online", "atm", "app", "web", "ATM", None, 3]),
    "counterparty_id": names(),
    "counterparty_country": codes(2),
    "merchant_category": st.one_of(st.text(max_size=10), st.integers(), st.none()),
    "field": st.sampled_from(["phone", "email", "address", "device", "name", None]),
    "new_value": st.one_of(st.text(max_size=30), st.just("v" * 1025), st.integers(), st.none()),
    "type": st.sampled_from(["transaction", "contact_change", "customer_profile", "refund", 7]),
}
# the fields with the most rules to get right come up most often
VARIED = [*FIELDS, "timestamp", "timestamp", "amount", "amount", "amount"]


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A transaction or contact change with one field or two varied, dropped or set null, sometimes with
    extra fields."""
    event = dict(draw(st.sampled_from([TX, TX, CC])))
    for key in draw(st.lists(st.sampled_from(VARIED), min_size=1, max_size=2)):
        if draw(st.integers(0, 7)) == 0:
            event.pop(key, None)
        else:
            event[key] = draw(FIELDS[key])
    if draw(st.integers(0, 3)) == 0:
        for key, value in draw(st.dictionaries(st.text(max_size=8), EXTRA_VALUES, max_size=2)).items():
            event.setdefault(key, value)
    return event


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """An event's JSON as an upstream system might send it, sometimes damaged on the way."""
    event = draw(events())
    text = json.dumps(event, ensure_ascii=draw(st.booleans()))
    damage = draw(st.integers(0, 11))
    if damage == 0:  # a key repeated: the last one counts, for both parsers
        key = draw(st.sampled_from(sorted(event) or ["type"]))
        value = draw(st.one_of(SCALARS, EXTRA_VALUES))
        text = text[:-1] + (", " if event else "") + json.dumps(key) + ": " + json.dumps(value) + "}"
    elif damage == 1:
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == 2:
        text = (
            draw(st.sampled_from([" ", "\n", "\ufeff", "\t\r\n"]))
            + text
            + draw(st.sampled_from(["", "\n", " x"]))
        )
    raw = text.encode("utf-8", "surrogatepass")
    if damage == 3:
        raw = draw(st.binary(max_size=8)) + raw
    return raw


# ---------------------------------------------------------------------------------------------- tests
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(messages())
def test_the_shortcut_builds_exactly_what_validation_builds(raw: bytes) -> None:
    assert mismatch(SHORTCUT.parse, raw) is None


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=60), st.text(max_size=60)))
def test_arbitrary_bytes_and_text(raw: bytes | str) -> None:
    assert mismatch(SHORTCUT.parse, raw) is None


def _variants() -> list[str]:
    """The scenarios' malformed lines and the edges of each field, around one valid transaction."""
    lines = malformed_lines(random.Random(7), TX, 16)
    edges: list[dict[str, Any]] = [
        {"amount": "1e2"},
        {"amount": "1.5E-3"},
        {"amount": 10**40},
        {"amount": 2**63},
        {"amount": 0.1},
        {"amount": 1e-7},
        {"amount": "0.000"},
        {"amount": "0"},
        {"amount": "-0"},
        {"timestamp": "0003-01-01T00:00:00+23:59"},
        {"timestamp": "0002-01-01T00:30:00+01:00"},
        {"timestamp": "9997-12-31T23:59:59-23:59"},
        {"timestamp": "9998-12-31T23:59:59-01:00"},
        {"timestamp": "2024-02-29T12:00:00.1234567+05:30"},
        {"timestamp": "2023-02-29T12:00:00+05:30"},
        {"timestamp": "2024-03-04T09:00:00.000001-00:00"},
        {"currency": "usd"},
        {"counterparty_country": None, "counterparty_id": None, "merchant_category": ""},
        {"merchant_category": "123456789"},
        {"event_id": "\u4ea4\u6613" * 128},
        {"account_id": "x" * 257},
        {"deep": json.loads("[" * 250 + "]" * 250)},
        {"nested": {"deep": [[[[]]]]}, "flag": True},
    ]
    lines += [json.dumps({**TX, **edge}) for edge in edges]
    lines += [
        json.dumps({**CC, "new_value": None, "channel": "x" * 64}),
        json.dumps({**CC, "channel": "x" * 65}),
    ]
    return lines


@pytest.mark.parametrize("line", _variants())
def test_malformed_and_edge_lines(line: str) -> None:
    assert mismatch(SHORTCUT.parse, line) is None
    assert mismatch(SHORTCUT.parse, line.encode()) is None
    try:
        expected: Any = validate_event_json(line)
    except EventError as exc:
        expected = exc.reason
    try:
        got: Any = parse_event_json(line)
    except EventError as exc:
        got = exc.reason
    assert (got if isinstance(got, str) else _fingerprint(got)) == (
        expected if isinstance(expected, str) else _fingerprint(expected)
    )


def test_ordinary_traffic_takes_the_shortcut() -> None:
    """Every transaction and contact change the generator writes is built by the shortcut (else it saves
    nothing), equal to what validation builds."""
    taken = 0
    for line in generate(ScenarioConfig(customers=40, days=20, seed=5)).json_lines():
        event = validate_event_json(line)
        if event.type in ("transaction", "contact_change"):
            assert SHORTCUT.parse(line) is not None, line
            assert mismatch(SHORTCUT.parse, line) is None
            taken += 1
    assert taken > 2000


# ------------------------------------------------------------------------- the comparison catches a bug
# deliberate bugs: (text of fast_events.py, what it becomes)
BUGS: dict[str, tuple[str, str]] = {
    "years outside the supported range": ("year < 3 or year > 9997", "year < 1 or year > 9999"),
    "name one character too long": ("_STR_MAX: Final = 256", "_STR_MAX: Final = 257"),
    "zero amount": ("points > 1 or not nonzero", "points > 1"),
    "float amount": (
        "    if isinstance(value, int) and not isinstance(value, bool):",
        "    if isinstance(value, float) and value > 0:\n        return Decimal(value)\n"
        "    if isinstance(value, int) and not isinstance(value, bool):",
    ),
    "deep nesting": ('if data.find(b"[") >= 0 or data.find(b"{", 1) >= 0:', "if False:"),
    "deep nesting (text)": ('if "[" in data or data.find("{", 1) >= 0:', "if False:"),
    "datetime.timezone instead of TzInfo": (
        "from pydantic_core import TzInfo",
        "from datetime import timedelta, timezone\n\n\ndef TzInfo(s): return timezone(timedelta(seconds=s))",
    ),
    "optional fields left out of the fields set": (
        '_TX_OPTIONAL: Final = ("counterparty_id", "counterparty_country", "merchant_category")',
        "_TX_OPTIONAL: Final = ()",
    ),
}


def _broken(bug: str) -> Parser:
    """The shortcut built from its source with one bug put in (pure Python, even in the compiled build)."""
    old, new = BUGS[bug]
    source = (Path(schemas.__file__).parent / "fast_events.py").read_text()
    assert source.count(old) == 1
    module = ModuleType("fast_events_broken")
    exec(compile(source.replace(old, new), "fast_events_broken.py", "exec"), module.__dict__)  # noqa: S102
    return module.CommonEvents(Transaction, ContactChange).parse  # type: ignore[no-any-return]


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_the_edge_lines_catch_a_broken_shortcut(bug: str) -> None:
    broken = _broken(bug)
    lines = [data for line in _variants() for data in (line, line.encode())]
    assert [data for data in lines if mismatch(broken, data) is not None]


@pytest.mark.parametrize(
    "bug",
    ["datetime.timezone instead of TzInfo", "float amount", "optional fields left out of the fields set"],
)
def test_the_property_alone_catches_a_broken_shortcut(bug: str) -> None:
    broken = _broken(bug)
    found = find(
        messages(),
        lambda raw: mismatch(broken, raw) is not None,
        settings=settings(max_examples=500, database=None, derandomize=True, phases=[Phase.generate]),
    )
    assert mismatch(SHORTCUT.parse, found) is None  # the real one agrees on the same input


def test_offsets_come_as_pydantic_cores_tzinfo() -> None:
    event = SHORTCUT.parse(json.dumps({**TX, "timestamp": "2024-03-04T09:00:00Z"}))
    assert event is not None
    assert type(event.timestamp.tzinfo) is type(validate_event_json(json.dumps(TX)).timestamp.tzinfo)
    assert event.timestamp == datetime(2024, 3, 4, 9, tzinfo=UTC)
