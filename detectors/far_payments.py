"""``sustained_shift``'s third test: card payments far above the customer's own spread, at any merchant.

The count and CUSUM tests judge new-merchant payments against wide priors, because a wide spender's
payments spread widely everywhere: a payment five times their median is about one of their own spreads
above it. A narrow spender's is many, and a card drained in steps of about five times their usual is
then plain, yet the count test waits for four debits and the CUSUM's wide prior spread hides it. So a
payment is far here when it is ``far_min_ratio_to_median`` times the median and ``far_min_spreads`` of
the customer's own upper spread above it: the bar is the customer's spread, not one multiple for
everyone. The spread is the upper quartile's distance from the median (the side that matters, and one
that a few tiny payments do not widen), pooled with ``prior_log_sigma`` while the history is short.
Beyond ``far_max_ratio_to_median`` a payment is a one-off purchase, not a moderate step; to a payee paid
before, it must be ``far_min_ratio_to_largest_paid`` times the most paid to it. Runs of far payments
ending now, each starting on a day, are judged as the count test judges its runs: a beta-binomial at the
customer's own share of far payments, shrunk towards the normal tail at their bar."""

from __future__ import annotations

import math
from typing import Any

from config.detection import SustainedShiftSettings
from detectors.beta_binomial import beta_binomial_tail_within
from detectors.context import CustomerContext
from detectors.observation import TxObservation
from detectors.shift_runs import SQRT2, Entry, Report, capped_run
from detectors.shift_state import DAY, ShiftState, window_debits
from detectors.window import EventWindow

#: the upper quartile of a normal distribution, in standard deviations
UPPER_QUARTILE_SDS = 0.6745


def upper_log_spread(ordered: list[float], log_median: float, s: SustainedShiftSettings) -> float:
    """How far above their median the customer's debits (``ordered``, ascending) usually go, in log
    amount: the upper quartile's distance as a normal spread, pooled with the wide prior spread."""
    n = len(ordered)
    own = max(0.0, math.log(ordered[(3 * (n - 1) + 2) // 4]) - log_median) / UPPER_QUARTILE_SDS if n else 0.0
    nu = s.prior_log_sigma_weight_debits
    return max(math.sqrt((n * own * own + nu * s.prior_log_sigma**2) / (n + nu)), s.min_log_sigma)


def note_far(
    s: SustainedShiftSettings,
    state: ShiftState,
    obs: TxObservation,
    ctx: CustomerContext,
    excess: float,
    log_median: float,
) -> float:
    """The normal tail at this customer's bar if this payment (``excess`` over the median in log amount)
    is far, when it joins the far window and the count of far payments seen; 0.0 if it is not far."""
    paid = None if obs.counterparty_id is None else ctx.counterparties.get(obs.counterparty_id)
    if paid is not None and obs.amount_f < s.far_min_ratio_to_largest_paid * paid[1]:
        return 0.0
    spread = upper_log_spread(ctx.debit_baseline.sorted_without(set()), log_median, s)
    bar = max(math.log(s.far_min_ratio_to_median), s.far_min_spreads * spread)
    if excess < bar:
        return 0.0
    if state.far is None:
        state.far = EventWindow(s.max_elevated_events)
    state.far.add(obs.ts, obs.event_id, [-1, obs.counterparty_id, str(obs.amount)])
    state.far_seen += 1.0
    return max(0.5 * math.erfc(bar / spread / SQRT2), 1e-300)


def far_run_report(
    s: SustainedShiftSettings,
    state: ShiftState,
    far: list[Entry],
    normal_tail: float,
    log_median: float,
    budget: float,
) -> Report | None:
    """The most surprising run of far payments ending now, as a finding tells it, when its tail times
    the tests tried is within ``budget``."""
    history = state.history
    w, per_day_most = s.prior_weight_debits, s.max_elevated_per_day
    entry_days = [int(e[0] // DAY) for e in far]
    tests: list[tuple[int, int, float, float, list[Entry]]] = []
    for j in range(len(far)):
        if j and entry_days[j] == entry_days[j - 1]:
            continue  # a run starts on a day
        k, days = capped_run(entry_days[j:], per_day_most)
        if k < s.far_min_debits or days < s.far_min_days:
            break  # later starts hold fewer far payments and days still
        run = far[j:]
        n = window_debits(state, entry_days[j])
        outside = max(0.0, history[0] - n)
        rate = min(1.0, (max(0.0, state.far_seen - len(run)) + w * normal_tail) / (outside + w))
        tests.append((k, n, rate, outside + w, run))
    best = None
    for k, n, rate, weight, run in tests:
        tail = beta_binomial_tail_within(k, n, rate * weight, (1.0 - rate) * weight, len(tests), budget)
        if tail is not None and (best is None or tail < best[0]):
            best = (tail, k, n, n * rate, run)
    if best is None or best[0] * len(tests) > budget:
        return None
    tail, k, n, expected, run = best
    tail = min(1.0, tail * len(tests))
    median = math.exp(log_median)
    multiples = [float(p[2]) / median for _, _, p in run]
    reason = (
        f"{len(run)} card payments over {(run[-1][0] - run[0][0]) / DAY:.1f} days at "
        f"{min(multiples):.1f}x to {max(multiples):.1f}x this customer's median of {median:.2f}, each far "
        f"above how widely their payments usually spread, among {n} debits; {expected:.2f} expected from "
        "their history."
    )
    evidence: dict[str, Any] = {
        "far_payments": k,
        "window_debits": n,
        "expected_far": round(expected, 3),
        "tail_probability": float(f"{tail:.3g}"),
        "false_alert_budget_per_check": budget,
    }
    return math.log(max(tail, 1e-300)) / math.log(budget), run, reason, evidence
