"""``sustained_shift``'s day window: its rows of day counts (numbers in one list) slide exactly as the dict of days
they replace did, in whose insertion order the last key is the newest day but for a late day not yet
seen; and the state packs to bytes that read back as the same state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detectors.context import DebitBaseline
from detectors.shift_state import (
    count_day,
    forget_reported,
    new_shift_state,
    slide_window,
    state_bytes,
    state_from_bytes,
    state_from_json,
    state_to_json,
)

WINDOW_DAYS = 7


def _reference_first_day(days: dict[int, int], day: int) -> int:
    """The window's first day read from the days themselves."""
    return max(day, next(reversed(days))) - WINDOW_DAYS + 1 if days else day - WINDOW_DAYS + 1


@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=40), st.booleans()), max_size=60),
    st.integers(min_value=0, max_value=60),
)
def test_the_day_rows_slide_as_a_dict_of_days(days: list[tuple[int, bool]], decode_at: int) -> None:
    """Days in any order (a late day not yet seen is added last), some not counted (as before the
    customer's history is long enough), and a decode (JSON, then bytes) part way."""
    state = new_shift_state(10, 2)
    reference: dict[int, int] = {}
    baseline = DebitBaseline(60)
    for i, (day, counted) in enumerate(days):
        if i == decode_at:
            state = state_from_json(state_to_json(state), 10, 2)
            state = state_from_bytes(memoryview(state_bytes(state)), 10, 2)
        expected = _reference_first_day(reference, day)
        first_day = slide_window(state, day, WINDOW_DAYS, baseline, 100)
        assert first_day == expected
        if reference and next(iter(reference)) < first_day:  # days leave whole once the oldest is out
            reference = {d: c for d, c in reference.items() if d >= first_day}
        if counted and day >= first_day:
            count_day(state, day)
            reference[day] = reference.get(day, 0) + 1
        assert state_to_json(state)["days"] == [[d, c] for d, c in reference.items()]


def test_the_bytes_hold_every_part() -> None:
    state = state_from_json(
        {
            "elevated": [[86400.0, "e1", [1, "payee", "120.50"]], [90000.0, "e\x00", [0, None, "99"]]],
            "days": [[1, 4], [0, 2]],
            "history": [10.0, 3.5, 2.0, 1.0],
            "cusum": [1.5, 86400.0, 3.0, 0.25, 0.125],
        },
        10,
        2,
    )
    packed = state_bytes(state)
    assert state_to_json(state_from_bytes(memoryview(packed), 10, 2)) == state_to_json(state)
    assert state_to_json(state_from_bytes(memoryview(packed), 10, 3))["history"] == [10.0, 3.5, 2.0, 1.0, 0.0]
    assert "far" not in state_to_json(state)  # none pending or seen: the record reads as before the far test


def test_the_far_payments_round_trip_and_a_report_takes_them() -> None:
    data = {
        "elevated": [[86400.0, "e1", [1, "payee", "120.50"]]],
        "days": [[1, 4]],
        "history": [10.0, 3.5, 2.0, 1.0],
        "cusum": [1.5, 86400.0, 3.0, 0.25, 0.125],
        "far": [[86400.0, "e1", [-1, "payee", "120.50"]], [90000.0, "e2", [-1, "shop", "99"]]],
        "far_seen": 3.0,
    }
    state = state_from_json(data, 10, 2)
    assert state_to_json(state) == data
    assert state_to_json(state_from_bytes(memoryview(state_bytes(state)), 10, 2)) == data
    forget_reported(state, list(state.elevated), 10)
    assert state.far is None  # the two pending ones were the episode's
    assert state.far_seen == 1.0
    assert state_to_json(state_from_bytes(memoryview(state_bytes(state)), 10, 2))["far_seen"] == 1.0
