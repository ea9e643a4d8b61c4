"""``velocity_spike``: far more transactions in a sliding window than the customer's usual rate.

Two windows: an hour (against the usual rate spread over the customer's active hours) and a day (against
the usual daily count). The usual rate comes from whole days before the current one, so today's burst does
not raise its own bar. Two bars in each window, each a multiple of the customer's own rate and at least a
minimum count: debits to counterparties the customer has never paid, which is what card testing, a
gift-card cash-out and a hijacked session paying out to mule accounts are made of; and any transactions,
at a much higher minimum, for a card run at merchants the customer knows. A payday evening at the
customer's usual shops, however busy, is their own spending. In the cold start every payee is new, so
only the any-transaction count of the hour applies.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass, field
from typing import Any

from config.detection import VelocitySpikeSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.columns import (
    pack_part,
    shuffled,
    time_or_nan,
    time_or_none,
    unpack_part,
    unshuffled,
)
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score, severity_by_ratio
from detectors.flag_window import FlagWindow
from detectors.observation import Observation, TxObservation

DAY_SECONDS = 86400
#: numbers per row of ``VelocityState.daily``
ROW = 3
#: the layout of ``VelocitySpike.state_bytes``: first_ts, day_alert_ts, payday_ts (NaN for None) and the
#: lengths of the columns, then the window's times, ids and flags, and the daily rows (``daily``,
#: shuffled), as columns (``detectors.columns``)
BYTES_LAYOUT = 2  # 1: a version of main for an hour, never released (narrowed columns)
_SHAPE = struct.Struct("<3d3I")


def _no_days() -> list[int]:
    return []


@dataclass(slots=True)
class VelocityState:
    # (ts, event_id, 1 for a debit to a never-paid counterparty else 0)
    window: FlagWindow
    # rows of (UTC day number, transactions, debits to new counterparties) that day, for the last
    # ``baseline_days``, in the order the days were first seen: numbers in one list, not a dict of
    # lists (a month of days was 3.5 KB of objects per customer to build from each changelog record); a
    # list, not an ``array('i')``: compiled, its items are native reads and writes on every event
    daily: list[int] = field(default_factory=_no_days)
    first_ts: float | None = None
    # event time of the last day-window finding: a busy day is one pattern, however long it stays busy
    day_alert_ts: float | None = None
    # event time of the last incoming credit large for the customer (a salary): an evening of shopping
    # at new places right after payday is ordinary
    payday_ts: float | None = None
    # the sums of ``daily`` over the ``baseline_days`` before ``_sums_day``, kept up as counts
    # change, so that the usual rate, asked on most busy days' events, is not a sum of a month of days
    # each time (not part of the state: a decoded state sums them again)
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


class VelocitySpike(Detector[VelocityState]):
    """A burst of debits to payees the customer has never paid, far above their own rate; as many at
    their usual shop is their own spending.

    >>> from decimal import Decimal
    >>> from config.detection import VelocitySpikeSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> ctx.remember_counterparty("shop", 30.0)
    >>> velocity = VelocitySpike(VelocitySpikeSettings(), allowed_lateness_seconds=0)
    >>> def evening(payees):  # a week of three card payments a day at the shop, then an evening's debits
    ...     state = velocity.new_state()
    ...     for i in range(21):
    ...         tx = TxObservation(f"d{i}", i // 3 * 86400 + 36000.0 + i % 3 * 3600, "", Decimal(30), 30.0, True, "card", "shop", False)
    ...         velocity.update(state, tx, ctx)
    ...     txs = [TxObservation(f"e{i}", 7 * 86400 + 72000.0 + i * 300, "", Decimal(50), 50.0, True, "online", p, False) for i, p in enumerate(payees)]
    ...     return [f.evidence["new_counterparty_count"] for tx in txs for f in velocity.update(state, tx, ctx)]
    >>> evening([f"gift-card-{i}" for i in range(8)]), evening(["shop"] * 8)
    ([8], [])
    """

    name = "velocity_spike"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: VelocitySpikeSettings, allowed_lateness_seconds: int) -> None:
        self.s = settings
        self.lateness = allowed_lateness_seconds
        self.cooldown_seconds = settings.cooldown_seconds
        s = settings
        hour_scale = s.window_seconds / (s.active_hours_per_day * 3600.0)
        day_scale = s.day_window_seconds / DAY_SECONDS
        # per tier, resolved once: (window, any-transaction floor, new-counterparty floor, rate multiple,
        # usual-per-day to usual-per-window) for the hour and the day
        self._tiers: dict[str, tuple[tuple[int, float, float, float, float], ...]] = per_tier(
            lambda t: (
                (s.window_seconds, s.min_window_count.for_tier(t), s.min_new_counterparty_count.for_tier(t),
                 s.rate_multiplier.for_tier(t), hour_scale),
                (s.day_window_seconds, s.min_day_window_count.for_tier(t),
                 s.min_day_new_counterparty_count.for_tier(t), s.day_rate_multiplier.for_tier(t), day_scale),
            )
        )  # fmt: skip
        self._cold = per_tier(s.cold_start_min_window_count.for_tier)
        # the settings read on every event, as plain attributes (a pydantic attribute costs several times
        # as much to read)
        self._hour = s.window_seconds
        self._baseline_days = s.baseline_days
        self._kept_seconds = max(s.window_seconds, s.day_window_seconds) + allowed_lateness_seconds
        self._min_history_days = max(s.min_history_days, 1)
        self._payday_seconds = s.payday_window_seconds
        self._payday_factor = s.payday_floor_factor
        self._payday_ratio = s.payday_credit_min_ratio_to_median

    def new_state(self) -> VelocityState:
        return VelocityState(window=FlagWindow(self.s.max_window_events))

    def update(self, state: VelocityState, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation):
            return NO_FINDINGS
        window, tier, hour_span, baseline_days = state.window, ctx.tier, self._hour, self._baseline_days
        now = window.latest(obs.ts)
        today, day = int(now // DAY_SECONDS), int(obs.ts // DAY_SECONDS)
        first_ts = state.first_ts
        new = obs.debit and obs.counterparty_id is not None and obs.counterparty_id not in ctx.counterparties
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
        state.first_ts = obs.ts if first_ts is None else min(first_ts, obs.ts)
        if not obs.debit and ctx.segment == "individual" and self._large_credit(obs.amount_f, ctx):
            state.payday_ts = obs.ts if state.payday_ts is None else max(state.payday_ts, obs.ts)
        window.add(obs.ts, obs.event_id, 1 if new else 0)
        window.evict_before(now - self._kept_seconds)
        if obs.ts <= now - hour_span:
            return NO_FINDINGS  # a late event outside the current hour: judged when it came is enough
        for span, floor, new_floor, m, scale in self._tiers[tier]:
            count = window.count_after(now - span)  # cheap test first: most are far below both floors
            if count < min(floor, new_floor):
                continue
            hour = span == hour_span
            usual = self._usual_per_day(state, first_ts, today, now, late=day < today, late_new=new)
            if usual is None:  # no usual rate yet, and every payee is new: only a large count in the hour
                cold = self._cold[tier]
                if hour and count >= cold:
                    return [self._finding(state, obs, tier, count, None, None, cold, span)]
                continue
            n_new = window.flagged_between(now - span, now, 1) if new else 0
            payday = state.payday_ts is not None and 0 <= obs.ts - state.payday_ts <= self._payday_seconds
            factor = self._payday_factor if payday else 1.0
            if n_new >= (bar := factor * max(new_floor, m * usual[1] * scale)):
                found = (n_new, usual[1] * scale, bar)
            elif count >= (bar := max(floor, m * usual[0] * scale)):
                found = (count, usual[0] * scale, bar)
                n_new = -1
            else:
                continue
            if not hour:
                if state.day_alert_ts is not None and abs(obs.ts - state.day_alert_ts) < span:
                    continue
                state.day_alert_ts = obs.ts
            return [self._finding(state, obs, tier, count, None if n_new < 0 else n_new, *found[1:], span)]
        return NO_FINDINGS

    def _finding(
        self,
        state: VelocityState,
        obs: TxObservation,
        tier: str,
        count: int,
        n_new: int | None,
        usual: float | None,
        threshold: float,
        window_seconds: int,
    ) -> Finding:
        now = state.window.latest(obs.ts)
        in_window = tuple(state.window.ids_between(now - window_seconds, now))
        judged = count if n_new is None else n_new
        span = (
            f"{window_seconds // 60} minutes" if window_seconds < 7200 else f"{window_seconds / 3600:g} hours"
        )
        what = f"{count} transactions" if n_new is None else f"{n_new} payments to new counterparties"
        among = "" if n_new is None else f" (among {count} transactions)"
        return Finding(
            detector=self.name,
            severity=severity_by_ratio(judged / threshold, (1.5, 2.5)),
            score=past_threshold_score(judged, threshold),
            trigger_event_ids=in_window,
            reason=(
                f"{what} within {span}{among}, against a usual "
                f"{'(not yet known)' if usual is None else f'{usual:.1f}'} per window "
                f"(threshold {threshold:.0f} for a {tier}-risk customer)."
            ),
            evidence={
                "window_count": count,
                "new_counterparty_count": n_new,
                "window_seconds": window_seconds,
                "usual_per_window": None if usual is None else round(usual, 3),
                "threshold_count": round(threshold, 3),
                "rate_multiplier": self._tiers[tier][window_seconds != self.s.window_seconds][3],
            },
            dedup_key="velocity",
            # an hour's burst (often tiny, card-testing debits) must not drag the amount baseline down; a
            # busy day is taken back out of it only if another detector finds its amounts anomalous
            anomalous_amount=True,
            unlearn_event_ids=in_window if window_seconds == self.s.window_seconds else (),
        )

    def _large_credit(self, amount: float, ctx: CustomerContext) -> bool:
        baseline = ctx.debit_baseline
        return len(baseline) >= 1 and amount >= self._payday_ratio * baseline.median()

    def _usual_per_day(
        self,
        state: VelocityState,
        first_ts: float | None,
        today: int,
        now: float,
        *,
        late: bool,
        late_new: bool,
    ) -> tuple[float, float] | None:
        """(transactions, debits to new counterparties) per day over whole days before today."""
        if first_ts is None:
            return None
        baseline_days = self._baseline_days
        history_days = min(float(baseline_days), (now - first_ts) / DAY_SECONDS)
        if history_days < self._min_history_days:
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

    def state_to_json(self, state: VelocityState) -> Any:
        daily = state.daily
        return {
            "window": state.window.to_json(),
            "daily_counts": [daily[i : i + ROW] for i in range(0, len(daily), ROW)],
            "first_ts": state.first_ts,
            "day_alert_ts": state.day_alert_ts,
            "payday_ts": state.payday_ts,
        }

    def state_from_json(self, data: Any) -> VelocityState:
        # state written before new counterparties were counted has [day, count] rows and None payloads
        daily: list[int] = []
        for row in data["daily_counts"]:
            daily.extend((int(row[0]), int(row[1]), int(row[2]) if len(row) > 2 else 0))
        return VelocityState(
            window=FlagWindow.from_entries(
                [(float(t), str(e), 1 if p == 1 else 0) for t, e, p in data["window"]],
                self.s.max_window_events,
            ),
            daily=daily,
            first_ts=data["first_ts"],
            day_alert_ts=data["day_alert_ts"],
            payday_ts=data.get("payday_ts"),
        )

    def state_bytes(self, state: VelocityState) -> bytes | None:
        head = (time_or_nan(state.first_ts), time_or_nan(state.day_alert_ts), time_or_nan(state.payday_ts))
        return pack_part(
            BYTES_LAYOUT, _SHAPE, head, (*state.window.columns(), shuffled(array("i", state.daily)))
        )

    def state_from_bytes(self, data: memoryview) -> VelocityState:
        head, (times, ids, flags, daily) = unpack_part(data, BYTES_LAYOUT, _SHAPE, 4)
        rows: list[int] = unshuffled("i", daily).tolist()
        if len(rows) % ROW:
            raise ValueError("velocity_spike's daily counts are not whole rows")
        return VelocityState(
            FlagWindow.from_columns(self.s.max_window_events, times, ids, flags),
            rows,
            time_or_none(head[0]),
            time_or_none(head[1]),
            time_or_none(head[2]),
        )
