"""``sustained_shift``'s day window: the last day it remembers (kept beside the days, not in the state)
is always the last key of its days, so the window slides exactly as one read from the days would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detectors.context import DebitBaseline
from detectors.shift_state import count_day, new_shift_state, slide_window, state_from_json, state_to_json

WINDOW_DAYS = 7


def _reference_first_day(days: dict[int, int], day: int) -> int:
    """The window's first day read from the days themselves."""
    return max(day, next(reversed(days))) - WINDOW_DAYS + 1 if days else day - WINDOW_DAYS + 1


@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=40), st.booleans()), max_size=60),
    st.integers(min_value=0, max_value=60),
)
def test_the_remembered_last_day_is_the_last_key(days: list[tuple[int, bool]], decode_at: int) -> None:
    """Days in any order (a late day not yet seen is added last), some not counted (as before the
    customer's history is long enough), and a decode (which forgets the remembered day) part way."""
    state = new_shift_state(10, 2)
    baseline = DebitBaseline(60)
    for i, (day, counted) in enumerate(days):
        if i == decode_at:
            state = state_from_json(state_to_json(state), 10, 2)
        expected = _reference_first_day(dict(state.days), day)
        first_day = slide_window(state, day, WINDOW_DAYS, baseline, 100)
        assert first_day == expected
        if counted and day >= first_day:
            count_day(state, day)
        if state.last_day is not None:
            assert state.days
            assert state.last_day == next(reversed(state.days))
