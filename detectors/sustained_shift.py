"""``sustained_shift``: over days, several debits at new merchants moderately but persistently above the
customer's baseline."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

from config.detection import SustainedShiftSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext, DebitBaseline, median_of_sorted
from detectors.excess_cusum import CUSUM_FIELDS, decision_interval, learn, new_cusum, standardised, step
from detectors.findings import Finding, severity_by_ratio
from detectors.observation import Observation, TxObservation
from detectors.window import EventWindow

DAY = 86400
SQRT2 = math.sqrt(2.0)


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


class SustainedShift(Detector[ShiftState]):
    """A card or account drained in steps: no single debit is extreme, but more debits at merchants the
    customer never paid, each well above their usual amounts, than their own history makes likely.

    A debit counts when it is a card or online payment (a trip abroad has its own habits and is left out)
    to a payee the customer has not paid before, at ``level_ratios_to_median[0]`` times their median debit
    or more. Its chance for this customer is their own share of such new-merchant debits times the share
    of their debits at least that high (from their baseline without the window's elevated debits, shrunk
    towards a log-normal tail with their robust spread, itself pooled with a wide prior spread while the
    history is short). Each level and each run of elevated debits ending now that starts on a day and spans
    ``min_elevated_days`` days (at most ``max_elevated_per_day`` a day: a spree is one evening) is tested
    among the window's debits with a beta-binomial: the customer's rate is known only as well as the debits
    behind it, so a short or bursty history asks for more. The smallest tail times the tests tried must be
    under the false-alert budget. Counting forgets how dear the debits were, so a CUSUM of every new-merchant
    payment's log excess over the median, in the customer's own spread of such payments
    (``detectors.excess_cusum``), also alerts once it crosses the decision interval that its
    ``cusum_false_alerts_per_customer_month`` and the customer's rate of new-merchant payments set, with at
    least ``cusum_min_debits`` elevated debits on ``cusum_min_days`` days behind it.

    >>> from decimal import Decimal
    >>> from config.detection import SustainedShiftSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> for i in range(30):
    ...     ctx.debit_baseline.add(40.0 + i % 7, f"d{i}")
    ...     ctx.remember_counterparty(f"m{i % 5}", 40.0)
    >>> shift = SustainedShift(SustainedShiftSettings())
    >>> state = shift.new_state()
    >>> def debit(i, amount, payee):
    ...     obs = TxObservation(f"t{i}", i * 43200.0, "", Decimal(amount), float(amount), True, "card", payee, False)
    ...     return shift.update(state, obs, ctx)
    >>> [f.evidence["elevated_debits"] for i in range(12) for f in debit(i, *((200, f"n{i}") if i % 3 == 0 else (42, "m1")))]
    [4]
    """

    name = "sustained_shift"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: SustainedShiftSettings) -> None:
        self.s = settings
        self.cooldown_seconds = settings.cooldown_seconds
        self._min_amount = (
            float(settings.min_amount_base.individual),
            float(settings.min_amount_base.corporate),
        )
        self._window_days = max(1, settings.window_seconds // DAY)
        self._log_levels = [math.log(r) for r in settings.level_ratios_to_median]
        self._channels = frozenset(settings.channels)
        self._budgets = per_tier(settings.false_alert_budget_per_check.for_tier)
        self._cusum_budgets = per_tier(settings.cusum_false_alerts_per_customer_month.for_tier)
        # read per debit: plain attributes (a pydantic one costs several times as much to read)
        self._min_history_events = settings.min_history_events
        self._halving = settings.history_halving_debits
        self._prior_log_sd = settings.cusum_prior_log_sd
        self._prior_weight = settings.cusum_prior_weight_payments
        self._reference = settings.cusum_reference_sds
        self._max_step = settings.cusum_max_step_sds
        self._window_seconds = settings.window_seconds

    def new_state(self) -> ShiftState:
        return ShiftState(
            EventWindow(self.s.max_elevated_events), {}, [0.0] * (2 + len(self._log_levels)), new_cusum()
        )

    def update(self, state: ShiftState, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation) or not obs.debit:
            return NO_FINDINGS
        s, baseline, days = self.s, ctx.debit_baseline, state.days
        day = int(obs.ts // DAY)
        # Day keys are inserted in time order (a late event on a day not yet seen is the odd exception): the
        # last is the newest, the first the oldest, and days leave the window whole.
        newest = max(day, next(reversed(days))) if days else day
        first_day = newest - self._window_days + 1
        if days and next(iter(days)) < first_day:
            self._settle(state, first_day, baseline)
        if day < first_day:
            return NO_FINDINGS  # too late to belong to the window
        if len(baseline) < self._min_history_events:
            return NO_FINDINGS  # counted neither way: the customer's habits are not known yet
        days[day] = days.get(day, 0) + 1
        history = state.history
        history[0] += 1
        if obs.cross_border or obs.channel not in self._channels or not self._new_payee(state, obs, ctx):
            return NO_FINDINGS
        history[1] += 1
        if history[0] > self._halving:
            history[:] = [h / 2 for h in history]
        log_median = baseline.log_median()  # robust: a few pending drains hardly move it
        excess = math.log(obs.amount_f) - log_median
        elevated = (
            obs.amount_f >= self._min_amount[ctx.segment == "corporate"] and excess >= self._log_levels[0]
        )
        cusum = state.cusum
        y = standardised(cusum, excess, self._prior_log_sd, self._prior_weight)
        if not elevated:  # elevated ones are learned once they leave the window unreported
            learn(cusum, excess, self._halving)
        step(cusum, y, obs.ts, self._reference, self._max_step, self._window_seconds)
        if not elevated:
            return NO_FINDINGS
        # The share of high debits from the baseline without the window's elevated debits: a drain must not
        # raise its own bar.
        pending = {eid for _, eid, _ in state.elevated}
        levels = [i for i, lv in enumerate(self._log_levels) if excess >= lv]
        for i in levels:
            history[2 + i] += 1
        state.elevated.add(obs.ts, obs.event_id, [levels[-1], obs.counterparty_id, str(obs.amount)])
        budget = self._budgets[ctx.tier]
        best = None
        if len(state.elevated) >= s.min_elevated_debits:  # fewer: no run to test, and no baseline to sort
            ids, amounts = baseline.event_ids, baseline.amounts
            logs = sorted(math.log(a) for e, a in zip(ids, amounts, strict=True) if e not in pending)
            best = self._scan(state, logs, log_median, budget)
        if best is not None and best[0] <= budget:
            tail, k, n, expected, level, entries = best
            surprise = math.log(max(tail, 1e-300)) / math.log(budget)
            ratio = s.level_ratios_to_median[level]
            reason = (
                f"{len(entries)} card or online payments to merchants never paid before over "
                f"{(entries[-1][0] - entries[0][0]) / DAY:.1f} days, each {ratio:g}x or more of this "
                f"customer's median of {math.exp(log_median):.2f}, among {n} debits; {expected:.2f} "
                "expected from their history."
            )
            evidence: dict[str, Any] = {
                "elevated_debits": k,
                "window_debits": n,
                "level_ratio_to_median": ratio,
                "expected_elevated": round(expected, 3),
                "tail_probability": float(f"{tail:.3g}"),
                "false_alert_budget_per_check": budget,
            }
        else:
            found = self._cusum_run(state, ctx)
            if found is None:
                return NO_FINDINGS
            surprise, entries, h = found
            multiples = [float(p[2]) / math.exp(log_median) for _, _, p in entries]
            reason = (
                f"{len(entries)} card or online payments to merchants never paid before over "
                f"{(entries[-1][0] - entries[0][0]) / DAY:.1f} days at {min(multiples):.1f}x to "
                f"{max(multiples):.1f}x this customer's median of {math.exp(log_median):.2f}: together far "
                "above what they usually pay a new merchant."
            )
            evidence = {
                "elevated_debits": len(entries),
                "cusum_sds": round(cusum[0], 3),
                "decision_interval_sds": round(h, 3),
            }
        state.elevated = EventWindow(s.max_elevated_events)  # reported: they never count as ordinary history
        cusum[0] = 0.0
        for _, _, p in entries:
            for i in range(1, 3 + p[0]):
                history[i] = max(0.0, history[i] - 1)
        evidence.update(
            baseline_median_base=round(math.exp(log_median), 2),
            amounts_base=[str(p[2]) for _, _, p in entries],
            window_seconds=s.window_seconds,
        )
        return [
            Finding(
                detector=self.name,
                severity=severity_by_ratio(surprise, (2.0, 4.0)),
                score=round(min(1.0, 1.0 - 1.0 / surprise), 6),
                trigger_event_ids=tuple(eid for _, eid, _ in entries),
                reason=reason,
                evidence=evidence,
                dedup_key="shift",
                anomalous_amount=True,
                unlearn_event_ids=tuple(eid for _, eid, _ in entries),
            )
        ]

    def _cusum_run(
        self, state: ShiftState, ctx: CustomerContext
    ) -> tuple[float, list[tuple[float, str, Any]], float] | None:
        """The elevated debits of the CUSUM's excursion when it is past its decision interval: h such that
        an ordinary customer paying new merchants at their own rate crosses it once in
        ``1 / cusum_false_alerts_per_customer_month`` months."""
        s, cusum, history = self.s, state.cusum, state.history
        per_month = max(
            1.0, sum(state.days.values()) * 30.0 / self._window_days * history[1] / max(history[0], 1.0)
        )
        h = decision_interval(s.cusum_reference_sds, per_month / self._cusum_budgets[ctx.tier])
        if cusum[0] < h:
            return None
        entries = [e for e in state.elevated if e[0] >= cusum[1]]
        if len(entries) < s.cusum_min_debits or len({int(e[0] // DAY) for e in entries}) < s.cusum_min_days:
            return None
        return 1.0 + (cusum[0] - h) / max(h, 1.0), entries, h

    def _new_payee(self, state: ShiftState, obs: TxObservation, ctx: CustomerContext) -> bool:
        """Never paid before, not counting the window's own elevated debits to it (repeated drains to one
        new payee do not make it a habit of the customer's)."""
        paid = None if obs.counterparty_id is None else ctx.counterparties.get(obs.counterparty_id)
        if paid is None:
            return True
        drained = sum(1 for _, _, p in state.elevated if p[1] == obs.counterparty_id)
        return paid[0] - drained < 1

    def _scan(
        self, state: ShiftState, logs: list[float], log_median: float, budget: float
    ) -> tuple[float, int, int, float, int, list[tuple[float, str, Any]]] | None:
        """The most surprising (level, run of elevated debits ending now): the binomial tail of the run's
        count (at most ``max_elevated_per_day`` a day) among all debits since its first day, at the
        customer's own chance of a new-merchant debit that high, times the tests tried (a Bonferroni
        bound, so scanning does not spend the budget)."""
        s = self.s
        entries = list(state.elevated)
        history = state.history
        mid = median_of_sorted(logs)
        # A spread seen in a few debits is pulled towards a wide one: a short history has not shown its tails.
        own = 1.4826 * median_of_sorted(sorted(abs(x - mid) for x in logs))
        nu = s.prior_log_sigma_weight_debits
        sigma = max(
            math.sqrt((len(logs) * own**2 + nu * s.prior_log_sigma**2) / (len(logs) + nu)), s.min_log_sigma
        )
        best = None
        tests: list[tuple[int, int, float, float, int, list[tuple[float, str, Any]]]] = []
        w, wn = s.prior_weight_debits, s.prior_new_payee_weight_debits
        for level, log_ratio in enumerate(self._log_levels):
            run_all = [e for e in entries if e[2][0] >= level]
            if len(run_all) < s.min_elevated_debits:
                break
            bar = log_median + log_ratio
            above = len(logs) - bisect.bisect_left(logs, bar)
            prior = 0.5 * math.erfc(log_ratio / sigma / SQRT2)
            share_high = (above + w * prior) / (len(logs) + w)
            for j in range(len(run_all)):
                if j and int(run_all[j][0] // DAY) == int(run_all[j - 1][0] // DAY):
                    continue  # a run starts on a day: one test per day, not per debit
                run = run_all[j:]
                per_day: dict[int, int] = {}
                for ts, _, _ in run:
                    d = int(ts // DAY)
                    per_day[d] = min(s.max_elevated_per_day, per_day.get(d, 0) + 1)
                k = sum(per_day.values())
                if k < s.min_elevated_debits or len(per_day) < s.min_elevated_days:
                    break  # later starts hold fewer elevated debits and days still
                first = int(run[0][0] // DAY)
                n = sum(c for d, c in state.days.items() if d >= first)
                share_new = (max(0.0, history[1] - len(run)) + s.prior_new_payee_share * wn) / (
                    max(0.0, history[0] - len(run)) + wn
                )
                # The product of the two shares holds where new merchants and high amounts are independent;
                # a customer whose new merchants are where they splurge has a higher rate of their own
                # (counted, shrunk towards the product): the larger of the two is the bar.
                product = share_new * share_high
                own = max(0.0, history[2 + level] - len(run))
                rate = min(1.0, max(product, (own + w * product) / (max(0.0, history[0] - n) + w)))
                # The rate is known only as well as the debits behind it (and ordinary spending is bursty):
                # the count is judged by a beta-binomial with that many debits of evidence, not a binomial.
                evidence = max(0.0, history[0] - n) + w
                tests.append((k, n, rate, evidence, level, run))
        # Only a tail that can alert matters: one whose first term, times the tests tried, is already over
        # the budget is not summed (``beta_binomial_tail_within``).
        tried = len(tests)
        for k, n, rate, evidence, level, run in tests:
            tail = beta_binomial_tail_within(k, n, rate * evidence, (1.0 - rate) * evidence, tried, budget)
            if tail is not None and (best is None or tail < best[0]):
                best = (tail, k, n, n * rate, level, run)
        if best is None:
            return None
        return (min(1.0, best[0] * tried), *best[1:])

    def _settle(self, state: ShiftState, first_day: int, baseline: DebitBaseline) -> None:
        """Days that left the window are forgotten (the history counters keep what matters); elevated debits
        that left it unreported were the customer's own and are learned as their new-merchant habit."""
        for d in [d for d in state.days if d < first_day]:
            del state.days[d]
        log_median = baseline.log_median()
        for ts, _, p in state.elevated:
            if ts >= first_day * DAY:
                break
            learn(state.cusum, math.log(float(p[2])) - log_median, self.s.history_halving_debits)
        state.elevated.evict_before(first_day * DAY)

    def state_to_json(self, state: ShiftState) -> Any:
        return {
            "elevated": state.elevated.to_json(),
            "days": [[d, c] for d, c in state.days.items()],
            "history": list(state.history),
            "cusum": list(state.cusum),
        }

    def state_view(self, state: ShiftState) -> Any:
        return {
            "elevated": state.elevated.view(),
            "days": list(state.days.items()),
            "history": state.history,
            "cusum": state.cusum,
        }

    def state_from_json(self, data: Any) -> ShiftState:
        # States written before the new-merchant model held elevated debits of another kind: they start over.
        elevated = [e for e in data["elevated"] if isinstance(e[2], list) and len(e[2]) == 3]
        return ShiftState(
            EventWindow.from_json(elevated, self.s.max_elevated_events),
            {int(d): int(c) for d, c in data["days"]},
            [*(float(x) for x in data.get("history", ())), *[0.0] * (2 + len(self._log_levels))][
                : 2 + len(self._log_levels)
            ],
            # states written before the excess CUSUM start it afresh
            [float(x) for x in data["cusum"]] if len(data.get("cusum", ())) == CUSUM_FIELDS else new_cusum(),
        )


def beta_binomial_tail(k: int, n: int, a: float, b: float) -> float:
    """P(X >= k) for X ~ BetaBinomial(n, a, b): a binomial whose rate is itself uncertain, Beta(a, b)."""
    tail = beta_binomial_tail_within(k, n, a, b, 1, math.inf)
    return 1.0 if tail is None else tail  # never None: no tail is over an infinite budget


def beta_binomial_tail_within(k: int, n: int, a: float, b: float, tried: int, budget: float) -> float | None:
    """``beta_binomial_tail``, or None when its tail times ``tried`` is surely over ``budget`` (< 1).

    Most tests are far from alerting, and the sum costs four ``lgamma`` per term. The tail is the rounded
    sum of non-negative terms starting from the first, so in floating point it is at least that first term
    (x = k), and a product with ``tried`` keeps the order: first * tried > budget implies
    min(1, tail) * tried > budget, and that test can neither alert nor be the smallest tail of a scan that
    alerts. The value returned otherwise is computed exactly as before, term by term."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    base = math.lgamma(n + 1) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) - math.lgamma(n + a + b)
    total = math.exp(
        base - math.lgamma(k + 1) - math.lgamma(n - k + 1) + math.lgamma(k + a) + math.lgamma(n - k + b)
    )
    if budget < 1.0 and total * tried > budget:
        return None
    for x in range(k + 1, n + 1):
        total += math.exp(
            base - math.lgamma(x + 1) - math.lgamma(n - x + 1) + math.lgamma(x + a) + math.lgamma(n - x + b)
        )
    return min(1.0, total)
