"""The engine's cheaper forms of per-event conversions give exactly what the plain ones give: the epoch
seconds of an event's time, and an amount's decimal places and float."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import TzInfo
from strategies import DETECTION, at, tx

from detectors.engine import RiskEngine
from detectors.observation import TxObservation
from schemas.events import EventError

ENGINE = RiskEngine(DETECTION)

_offsets = st.integers(min_value=-86399, max_value=86399)
_zones = st.one_of(
    _offsets.map(TzInfo),
    _offsets.map(lambda s: timezone(timedelta(seconds=s))),
    st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/London"), None]),
)


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    _zones,
    _zones,
)
def test_epoch_seconds_is_timestamp(moment: datetime, zone: TzInfo | timezone | None, other: object) -> None:
    # ``other`` first, so that the offset remembered from the last zone is tried against another one
    if isinstance(other, TzInfo | timezone):
        ENGINE.epoch_seconds(moment.replace(tzinfo=other))
    stamped = moment.replace(tzinfo=zone)
    assert ENGINE.epoch_seconds(stamped) == stamped.timestamp()


@pytest.mark.parametrize(
    ("amount", "refused"),
    [
        ("12.5", False),
        ("1." + "0" * 18, False),  # 18 places, trailing zeros counted
        ("1." + "0" * 19, True),
        ("0.0000001", False),  # written 1E-7
        ("1E-18", False),
        ("1E-19", True),
        ("1E-999999", True),
        ("1E+3", False),
        ("123456789.123456789012345678", False),
    ],
)
def test_decimal_places_and_float_of_an_amount(amount: str, refused: bool) -> None:
    exponent = Decimal(amount).as_tuple().exponent
    assert isinstance(exponent, int)
    assert (-exponent > DETECTION.amount_max_decimal_places) == refused
    event = tx(amount)
    if refused:
        with pytest.raises(EventError, match=r"^amount: more than 18 digits"):
            ENGINE.observe(event, ENGINE.new_state("c").ctx, 0.0)
        return
    obs = ENGINE.observe(event, ENGINE.new_state("c").ctx, 0.0)
    assert isinstance(obs, TxObservation)
    assert obs.amount == Decimal(amount)
    assert obs.amount_f == float(Decimal(amount))
    converted = ENGINE.observe(tx(amount, currency="USD"), ENGINE.new_state("c").ctx, 0.0)
    assert isinstance(converted, TxObservation)
    assert converted.amount_f == float(converted.amount)


def test_a_late_offset_does_not_leak_into_the_next_event() -> None:
    """Two events in two zones one after the other: each gets its own offset."""
    shanghai = at().astimezone(TzInfo(8 * 3600))
    new_york = at().astimezone(TzInfo(-5 * 3600))
    assert ENGINE.epoch_seconds(shanghai) == ENGINE.epoch_seconds(new_york) == at().timestamp()


def test_a_naive_time_on_a_fresh_engine_is_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """No zone is no offset remembered: a naive time is local time, as ``timestamp()`` takes it, even as
    the first time a new engine sees."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        naive = datetime(2025, 3, 1, 12)
        assert RiskEngine(DETECTION).epoch_seconds(naive) == naive.timestamp()
    finally:
        monkeypatch.undo()
        time.tzset()
