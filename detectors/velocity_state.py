"""``velocity_spike``'s per-customer state, the usual rate it keeps, and its JSON and bytes forms.

The usual rate comes from whole days, so the state counts transactions per UTC day for the last
``baseline_days`` as rows of numbers in one list (a dict of lists was 3.5 KB of objects per customer to
build from each changelog record; a list, not an ``array('i')``: compiled, its items are native reads and
writes on every event), and keeps their sums up as counts change, so that the usual rate, asked on most
busy days' events, is not a sum of a month of days each time."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from detectors.columns import (
    pack_part,
    shuffled_ints,
    time_or_nan,
    time_or_none,
    unpack_part,
    unshuffled,
)
from detectors.flag_window import FlagWindow

DAY_SECONDS = 86400
#: numbers per row of ``VelocityState.daily``
ROW = 3
#: the layout of ``state_bytes``: first_ts, day_alert_ts, payday_ts (NaN for None) and the lengths of
#: the columns, then the window's times, ids and flags, and the daily rows (``daily``, shuffled), as
#: columns (``detectors.columns``)
BYTES_LAYOUT = 2  # 1: a version of main for an hour, never released (narrowed columns)
_SHAPE = struct.Struct("<3d3I")


def _no_days() -> list[int]:
    return []


@dataclass(slots=True)
class VelocityState:
    # (ts, event_id, 1 for a debit to a never-paid counterparty else 0)
    window: FlagWindow
    # rows of (UTC day number, transactions, debits to new counterparties) that day, for the last
    # ``baseline_days``, in the order the days were first seen
    daily: list[int] = field(default_factory=_no_days)
    first_ts: float | None = None
    # event time of the last day-window finding: a busy day is one pattern, however long it stays busy
    day_alert_ts: float | None = None
    # event time of the last incoming credit large for the customer (a salary): an evening of shopping
    # at new places right after payday is ordinary
    payday_ts: float | None = None
    # the sums of ``daily`` over the ``baseline_days`` before ``_sums_day`` (not part of the state: a
    # decoded state sums them again)
    _sums_known: bool = field(default=False, repr=False, compare=False)
    _sums_day: int = field(default=0, repr=False, compare=False)
    _sums_total: int = field(default=0, repr=False, compare=False)
    _sums_new: int = field(default=0, repr=False, compare=False)

    def __init__(  # written out: compiled (see ``detectors.observation``)
        self,
        window: FlagWindow,
        daily: list[int] | None = None,
        first_ts: float | None = None,
        day_alert_ts: float | None = None,
        payday_ts: float | None = None,
    ) -> None:
        self.window = window
        self.daily = _no_days() if daily is None else daily
        self.first_ts = first_ts
        self.day_alert_ts = day_alert_ts
        self.payday_ts = payday_ts
        self._sums_known = False
        self._sums_day = 0
        self._sums_total = 0
        self._sums_new = 0


def _row_of(daily: list[int], day: int) -> int:
    """Where ``day``'s row starts in ``daily``, or -1: nearly always the last row, so searched from it."""
    i = len(daily) - ROW
    while i >= 0:
        if daily[i] == day:
            return i
        i -= ROW
    return -1


def count_day(state: VelocityState, day: int, new: bool, today: int, baseline_days: int) -> None:
    """One more transaction on ``day`` (``new``: a debit to a never-paid counterparty); days older than
    ``baseline_days`` before ``today`` are forgotten."""
    daily = state.daily
    row = _row_of(daily, day)
    if row < 0:
        daily.extend((day, 1, 1 if new else 0))
    else:
        daily[row + 1] += 1
        daily[row + 2] += new
    if state._sums_known and state._sums_day - baseline_days <= day < state._sums_day:
        state._sums_total += 1
        state._sums_new += new
    if len(daily) > (baseline_days + 1) * ROW:
        oldest = today - baseline_days
        kept: list[int] = []
        for i in range(0, len(daily), ROW):
            if daily[i] >= oldest:
                kept.extend(daily[i : i + ROW])
        state.daily = kept


def usual_per_day(
    state: VelocityState,
    first_ts: float | None,
    today: int,
    now: float,
    baseline_days: int,
    min_history_days: int,
    late: bool,
    late_new: bool,
) -> tuple[float, float] | None:
    """(transactions, debits to new counterparties) per day over whole days before today, or None while
    the history is shorter than ``min_history_days``; ``late``: the event is of an earlier day (and
    ``late_new``: a debit to a new counterparty), so already in that day's count."""
    if first_ts is None:
        return None
    history_days = min(float(baseline_days), (now - first_ts) / DAY_SECONDS)
    if history_days < min_history_days:
        return None
    if not state._sums_known or state._sums_day != today:
        oldest = today - baseline_days
        total = new = 0
        daily = state.daily
        for i in range(0, len(daily), ROW):
            if oldest <= daily[i] < today:
                total += daily[i + 1]
                new += daily[i + 2]
        state._sums_known, state._sums_day, state._sums_total, state._sums_new = True, today, total, new
    total, new = state._sums_total, state._sums_new
    full_days = max(1.0, min(float(baseline_days), float(today - int(first_ts // DAY_SECONDS))))
    # a late event of an earlier day is already in its day's count, and must not raise its own bar
    total -= late
    new -= late and late_new
    return total / full_days, new / full_days


def state_to_json(state: VelocityState) -> Any:
    daily = state.daily
    return {
        "window": state.window.to_json(),
        "daily_counts": [daily[i : i + ROW] for i in range(0, len(daily), ROW)],
        "first_ts": state.first_ts,
        "day_alert_ts": state.day_alert_ts,
        "payday_ts": state.payday_ts,
    }


def state_from_json(data: Any, max_window_events: int) -> VelocityState:
    # state written before new counterparties were counted has [day, count] rows and None payloads
    daily: list[int] = []
    for row in data["daily_counts"]:
        daily.extend((int(row[0]), int(row[1]), int(row[2]) if len(row) > 2 else 0))
    return VelocityState(
        window=FlagWindow.from_entries(
            [(float(t), str(e), 1 if p == 1 else 0) for t, e, p in data["window"]],
            max_window_events,
        ),
        daily=daily,
        first_ts=data["first_ts"],
        day_alert_ts=data["day_alert_ts"],
        payday_ts=data.get("payday_ts"),
    )


def state_bytes(state: VelocityState) -> bytes:
    head = (time_or_nan(state.first_ts), time_or_nan(state.day_alert_ts), time_or_nan(state.payday_ts))
    return pack_part(BYTES_LAYOUT, _SHAPE, head, (*state.window.columns(), shuffled_ints(state.daily)))


def state_from_bytes(data: memoryview, max_window_events: int) -> VelocityState:
    head, (times, ids, flags, daily) = unpack_part(data, BYTES_LAYOUT, _SHAPE, 4)
    rows: list[int] = unshuffled("i", daily).tolist()
    if len(rows) % ROW:
        raise ValueError("velocity_spike's daily counts are not whole rows")
    return VelocityState(
        FlagWindow.from_columns(max_window_events, times, ids, flags),
        rows,
        time_or_none(head[0]),
        time_or_none(head[1]),
        time_or_none(head[2]),
    )
