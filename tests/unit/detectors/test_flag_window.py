"""``FlagWindow`` answers as ``EventWindow`` does for the same entries (it replaced it in velocity_spike),
and its columns read back as the same window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detectors.flag_window import FlagWindow
from detectors.window import EventWindow

_ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "evict"]),
        st.integers(min_value=0, max_value=50).map(float) | st.floats(min_value=0, max_value=50),
        st.sampled_from(["a", "b", "c\x00", "\x01d", "é"]),
        st.integers(min_value=0, max_value=1),
    ),
    max_size=40,
)


@given(_ops, st.floats(min_value=0, max_value=50), st.floats(min_value=0, max_value=50))
def test_it_answers_as_an_event_window(ops: list[tuple[str, float, str, int]], lo: float, hi: float) -> None:
    flags, events = FlagWindow(8), EventWindow(8)
    for op, ts, eid, flag in ops:
        if op == "add":
            flags.add(ts, eid, flag)
            events.add(ts, eid, flag)
        else:
            flags.evict_before(ts)
            events.evict_before(ts)
        assert flags.to_json() == events.to_json()
    assert flags.count_after(lo) == events.count_between(lo, max(hi, 100.0))
    between = events.between(lo, hi)
    assert flags.ids_between(lo, hi) == [e for _, e, _ in between]
    assert flags.flagged_between(lo, hi, 1) == sum(p == 1 for _, _, p in between)
    assert flags.latest(lo) == events.latest(lo)
    restored = FlagWindow.from_columns(8, *map(memoryview, flags.columns()))
    assert restored.to_json() == flags.to_json()
    assert FlagWindow.from_entries([(t, e, p) for t, e, p in events.to_json()][::-1], 8).to_json() == (
        flags.to_json()
    )
