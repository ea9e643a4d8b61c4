"""``sustained_shift``'s per-customer state, its JSON form, and how days leave its window.

The window is days, not a fixed span of seconds: a run of elevated debits is judged among the debits
since its first day, so the state counts debits per UTC day and forgets a day whole once it is out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from detectors.context import CustomerContext, DebitBaseline
from detectors.excess_cusum import CUSUM_FIELDS, learn, new_cusum
from detectors.window import EventWindow

DAY = 86400


@dataclass(slots=True)
class ShiftState:
    #: (ts, event_id, [level, payee, amount]) of the window's elevated debits at new merchants
    elevated: EventWindow
    days: dict[int, int] = field(default_factory=dict)  # UTC day -> debits, for days inside the window
    #: [debits seen, of them card/online debits at a new merchant, of those at or above each level], all
    #: halved past ``history_halving_debits``
    history: list[float] = field(default_factory=list)
    #: the CUSUM of new-merchant payments' excess (``detectors.excess_cusum``): five numbers
    cusum: list[float] = field(default_factory=new_cusum)
    #: the day last added to ``days`` (its last key), or None when not known (a decoded state, or the day
    #: left the window): asked on every debit, where ``next(reversed(days))`` makes an iterator each time
    #: (not part of the state)
    last_day: int | None = field(default=None, repr=False, compare=False)


def new_shift_state(max_elevated: int, levels: int) -> ShiftState:
    return ShiftState(EventWindow(max_elevated), {}, [0.0] * (2 + levels), new_cusum())


def slide_window(state: ShiftState, day: int, window_days: int, baseline: DebitBaseline, halving: int) -> int:
    """The window's first day once ``day`` is seen. Days that left the window are forgotten (the history
    counters keep what matters); elevated debits that left it unreported were the customer's own and are
    learned as their new-merchant habit."""
    days = state.days
    if not days:
        return day - window_days + 1
    # Day keys are inserted in time order (a late event on a day not yet seen is the odd exception): the
    # last is the newest, the first the oldest, and days leave the window whole.
    last = state.last_day
    if last is None:
        last = state.last_day = next(reversed(days))
    first_day = max(day, last) - window_days + 1
    if _first_key(days) < first_day:
        for d in [d for d in days if d < first_day]:
            del days[d]
        if last < first_day:
            state.last_day = None
        log_median = baseline.log_median()
        for ts, _, p in state.elevated:
            if ts >= first_day * DAY:
                break
            learn(state.cusum, math.log(float(p[2])) - log_median, halving)
        state.elevated.evict_before(first_day * DAY)
    return first_day


def _first_key(days: dict[int, int]) -> int:
    """The first key of a dictionary that has one (a loop, which compiles to a plain walk)."""
    for d in days:
        return d
    raise ValueError("no day")


def count_day(state: ShiftState, day: int) -> None:
    """One more debit on ``day``."""
    days = state.days
    count = days.get(day)
    if count is None:
        days[day] = 1
        state.last_day = day
    else:
        days[day] = count + 1


def is_new_payee(state: ShiftState, payee: str | None, ctx: CustomerContext) -> bool:
    """Never paid before, not counting the window's own elevated debits to it (repeated drains to one
    new payee do not make it a habit of the customer's)."""
    paid = None if payee is None else ctx.counterparties.get(payee)
    if paid is None:
        return True
    drained = 0
    for _, _, p in state.elevated:  # a loop: a generator costs an object and a call per item
        if p[1] == payee:
            drained += 1
    return paid[0] - drained < 1


def forget_reported(state: ShiftState, entries: list[tuple[float, str, Any]], max_elevated: int) -> None:
    """Reported debits leave the window and the history counters, and the CUSUM starts over: they never
    count as the customer's ordinary history."""
    history = state.history
    state.elevated = EventWindow(max_elevated)
    state.cusum[0] = 0.0
    for _, _, p in entries:
        for i in range(1, 3 + p[0]):
            history[i] = max(0.0, history[i] - 1)


def state_to_json(state: ShiftState) -> Any:
    return {
        "elevated": state.elevated.to_json(),
        "days": [[d, c] for d, c in state.days.items()],
        "history": list(state.history),
        "cusum": list(state.cusum),
    }


def state_view(state: ShiftState) -> Any:
    return {
        "elevated": state.elevated.view(),
        "days": list(state.days.items()),
        "history": state.history,
        "cusum": state.cusum,
    }


def state_from_json(data: Any, max_elevated: int, levels: int) -> ShiftState:
    # States written before the new-merchant model held elevated debits of another kind: they start over.
    elevated = [e for e in data["elevated"] if isinstance(e[2], list) and len(e[2]) == 3]
    return ShiftState(
        EventWindow.from_json(elevated, max_elevated),
        {int(d): int(c) for d, c in data["days"]},
        [*(float(x) for x in data.get("history", ())), *[0.0] * (2 + levels)][: 2 + levels],
        # states written before the excess CUSUM start it afresh
        [float(x) for x in data["cusum"]] if len(data.get("cusum", ())) == CUSUM_FIELDS else new_cusum(),
    )
