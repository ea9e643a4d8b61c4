"""``sustained_shift``'s per-customer state, its JSON form, and how days leave its window.

The window is days, not a fixed span of seconds: a run of elevated debits is judged among the debits
since its first day, so the state counts debits per UTC day and forgets a day whole once it is out.
The counts are rows of numbers in one list (a dict of a month of days was 2 KB of objects per customer
to build from each changelog record; a list, not an ``array('i')``: compiled, its items are native
reads and writes on every debit, where an array's are boxed), and the state packs as columns
(``state_bytes``)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import orjson

from detectors.columns import pack_part, shuffled_ints, unpack_part, unshuffled
from detectors.context import CustomerContext, DebitBaseline
from detectors.excess_cusum import CUSUM_FIELDS, learn, new_cusum
from detectors.window import EventWindow

DAY = 86400
#: the layout of ``state_bytes``: the day rows (``days``, shuffled: ``detectors.columns``), then
#: the JSON of the history and CUSUM numbers (rounded decimals: shorter as text than as doubles) and of
#: the elevated debits (nearly always none)
BYTES_LAYOUT = 2  # 1: a version of main for an hour, never released (narrowed columns)
_SHAPE = struct.Struct("<I")  # the length of the first column


def _no_days() -> list[int]:
    return []


@dataclass(slots=True)
class ShiftState:
    #: (ts, event_id, [level, payee, amount]) of the window's elevated debits at new merchants
    elevated: EventWindow
    #: rows of (UTC day, debits that day) for days inside the window, in the order the days were first
    #: counted (so the last row is the newest day but for a late day not yet seen, counted last)
    days: list[int] = field(default_factory=_no_days)
    #: [debits seen, of them card/online debits at a new merchant, of those at or above each level], all
    #: halved past ``history_halving_debits``
    history: list[float] = field(default_factory=list)
    #: the CUSUM of new-merchant payments' excess (``detectors.excess_cusum``): five numbers
    cusum: list[float] = field(default_factory=new_cusum)
    #: (ts, event_id, [-1, payee, amount]) of the window's payments far above the customer's own spread
    #: (``detectors.far_payments``), or None while there is none (most customers, most of the time)
    far: EventWindow | None = None
    #: far payments seen since the history counters started, halved with them
    far_seen: float = 0.0

    def __init__(  # written out: compiled (see ``detectors.observation``); one per customer decoded
        self,
        elevated: EventWindow,
        days: list[int] | None = None,
        history: list[float] | None = None,
        cusum: list[float] | None = None,
        far: EventWindow | None = None,
        far_seen: float = 0.0,
    ) -> None:
        self.elevated = elevated
        self.days = _no_days() if days is None else days
        self.history = [] if history is None else history
        self.cusum = new_cusum() if cusum is None else cusum
        self.far = far
        self.far_seen = far_seen


def new_shift_state(max_elevated: int, levels: int) -> ShiftState:
    return ShiftState(EventWindow(max_elevated), _no_days(), [0.0] * (2 + levels), new_cusum())


def window_debits(state: ShiftState, first_day: int = -(2**31)) -> int:
    """The debits counted on the window's days from ``first_day`` on."""
    days = state.days
    n = 0
    for i in range(0, len(days), 2):
        if days[i] >= first_day:
            n += days[i + 1]
    return n


def slide_window(state: ShiftState, day: int, window_days: int, baseline: DebitBaseline, halving: int) -> int:
    """The window's first day once ``day`` is seen. Days that left the window are forgotten (the history
    counters keep what matters); elevated debits that left it unreported were the customer's own and are
    learned as their new-merchant habit."""
    days = state.days
    if not days:
        return day - window_days + 1
    # The newest day is the last row (a late event on a day not yet seen is the odd exception), the
    # oldest the first, and days leave the window whole.
    first_day = max(day, days[len(days) - 2]) - window_days + 1
    if days[0] < first_day:
        kept: list[int] = []
        for i in range(0, len(days), 2):
            if days[i] >= first_day:
                kept.extend(days[i : i + 2])
        state.days = kept
        log_median = baseline.log_median()
        for ts, _, p in state.elevated:
            if ts >= first_day * DAY:
                break
            learn(state.cusum, math.log(float(p[2])) - log_median, halving)
        state.elevated.evict_before(first_day * DAY)
        if state.far is not None:
            state.far.evict_before(first_day * DAY)
            if not len(state.far):
                state.far = None
    return first_day


def count_day(state: ShiftState, day: int) -> None:
    """One more debit on ``day``: nearly always the last row's, so searched from it."""
    days = state.days
    i = len(days) - 2
    while i >= 0:
        if days[i] == day:
            days[i + 1] += 1
            return
        i -= 2
    days.extend((day, 1))


def is_new_payee(state: ShiftState, payee: str | None, ctx: CustomerContext) -> bool:
    """Never paid before, not counting the window's own elevated debits to it (repeated drains to one
    new payee do not make it a habit of the customer's)."""
    paid = None if payee is None else ctx.counterparties.get(payee)
    if paid is None:
        return True
    elevated = state.elevated
    if paid[0] - len(elevated) >= 1:
        return False  # paid more often than the window holds drains: no need to count them
    drained = 0
    for _, _, p in elevated:  # a loop: a generator costs an object and a call per item
        if p[1] == payee:
            drained += 1
    return paid[0] - drained < 1


def forget_reported(state: ShiftState, entries: list[tuple[float, str, Any]], max_elevated: int) -> None:
    """Reported debits leave the windows and the history counters, and the CUSUM starts over: they never
    count as the customer's ordinary history. A report takes the far payments pending with it (whichever
    test reported, they belong to the same episode)."""
    history = state.history
    state.elevated = EventWindow(max_elevated)
    state.cusum[0] = 0.0
    if state.far is not None:
        state.far_seen = max(0.0, state.far_seen - len(state.far))
        state.far = None
    for _, _, p in entries:
        if p[0] < 0:
            continue  # a far payment: counted above
        for i in range(1, 3 + p[0]):
            history[i] = max(0.0, history[i] - 1)


def state_to_json(state: ShiftState) -> Any:
    days = state.days
    return {
        "elevated": state.elevated.to_json(),
        "days": [[days[i], days[i + 1]] for i in range(0, len(days), 2)],
        "history": list(state.history),
        "cusum": list(state.cusum),
        **_far_json(state, copy=True),
    }


def state_view(state: ShiftState) -> Any:
    days = state.days
    return {
        "elevated": state.elevated.view(),
        "days": [(days[i], days[i + 1]) for i in range(0, len(days), 2)],
        "history": state.history,
        "cusum": state.cusum,
        **_far_json(state, copy=False),
    }


def _far_json(state: ShiftState, *, copy: bool) -> dict[str, Any]:
    """The far payments' part of the JSON forms, only when there is one (older readers ignore it)."""
    if state.far is None and not state.far_seen:
        return {}
    far = [] if state.far is None else state.far.to_json() if copy else state.far.view()
    return {"far": far, "far_seen": state.far_seen}


def state_from_json(data: Any, max_elevated: int, levels: int) -> ShiftState:
    # States written before the new-merchant model held elevated debits of another kind: they start over.
    elevated = [e for e in data["elevated"] if isinstance(e[2], list) and len(e[2]) == 3]
    days = _no_days()
    for d, c in data["days"]:
        days.extend((int(d), int(c)))
    return ShiftState(
        EventWindow.from_json(elevated, max_elevated),
        days,
        _history([float(x) for x in data.get("history", ())], levels),
        # states written before the excess CUSUM start it afresh
        [float(x) for x in data["cusum"]] if len(data.get("cusum", ())) == CUSUM_FIELDS else new_cusum(),
        # and before the far payments' test, with none pending
        EventWindow.from_json(data["far"], max_elevated) if data.get("far") else None,
        float(data.get("far_seen", 0.0)),
    )


def _history(held: list[float], levels: int) -> list[float]:
    """The history counters for ``levels`` levels from those held (for as many levels, or others)."""
    return [*held, *[0.0] * (2 + levels)][: 2 + levels]


def state_bytes(state: ShiftState) -> bytes:
    parts: list[Any] = [state.history, state.cusum, state.elevated.view()]
    if state.far is not None or state.far_seen:  # only then: a record without them reads as before
        parts += [state.far_seen, [] if state.far is None else state.far.view()]
    rest = orjson.dumps(parts)
    return pack_part(BYTES_LAYOUT, _SHAPE, (), (shuffled_ints(state.days), rest))


def state_from_bytes(data: memoryview, max_elevated: int, levels: int) -> ShiftState:
    _, (day_rows, rest) = unpack_part(data, BYTES_LAYOUT, _SHAPE, 2)
    days: list[int] = unshuffled("i", day_rows).tolist()
    parts = orjson.loads(rest)
    if len(parts) not in (3, 5):
        raise ValueError("sustained_shift's state part is malformed")
    history, cusum, elevated = parts[:3]
    far_seen, far = parts[3:] if len(parts) == 5 else (0.0, None)
    if len(days) % 2 or len(cusum) != CUSUM_FIELDS:
        raise ValueError("sustained_shift's state part is malformed")
    return ShiftState(
        EventWindow.from_json(elevated, max_elevated) if elevated else EventWindow(max_elevated),
        days,
        _history([float(x) for x in history], levels),
        [float(x) for x in cusum],
        EventWindow.from_json(far, max_elevated) if far else None,
        float(far_seen),
    )
