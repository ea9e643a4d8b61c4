"""The two tests ``sustained_shift`` puts to the window's elevated debits, each giving the run it reports.

The count test: for each level and each run of elevated debits ending now that starts on a day, the
count (at most ``max_elevated_per_day`` a day) among the debits since that day, judged by a
beta-binomial at the customer's own chance of such a debit. The CUSUM's: the elevated debits of its
excursion once it is past the decision interval the customer's rate of new-merchant payments sets."""

from __future__ import annotations

import bisect
import math
from typing import Any

from config.detection import SustainedShiftSettings
from detectors.beta_binomial import beta_binomial_tail_within
from detectors.context import DebitBaseline, median_of_sorted
from detectors.excess_cusum import decision_interval
from detectors.shift_state import DAY, ShiftState, window_debits

SQRT2 = math.sqrt(2.0)

Entry = tuple[float, str, Any]
#: tail times the tests tried, elevated debits counted, debits since the run's first day, expected count,
#: level, the run's elevated debits
CountRun = tuple[float, int, int, float, int, list[Entry]]
#: what a finding is made of: surprise (1 at the budget, higher is rarer), the run, reason, evidence
Report = tuple[float, list[Entry], str, dict[str, Any]]


def pooled_log_sigma(logs: list[float], s: SustainedShiftSettings) -> float:
    """The customer's robust spread of log amounts (sorted ``logs``), pulled towards a wide one while the
    history is short: a few debits have not shown their tails."""
    mid = median_of_sorted(logs)
    own = 1.4826 * median_of_sorted(sorted(abs(x - mid) for x in logs))
    nu = s.prior_log_sigma_weight_debits
    return max(
        math.sqrt((len(logs) * own**2 + nu * s.prior_log_sigma**2) / (len(logs) + nu)), s.min_log_sigma
    )


def capped_run(run_days: list[int], per_day_most: int) -> tuple[int, int]:
    """A run's count, at most ``per_day_most`` a day, and its days (``run_days`` in time order, so a day's
    entries are together): a spree on one evening is one piece of evidence, not seven."""
    k = days = today_count = 0
    previous = -1
    for d in run_days:
        if d != previous:
            days += 1
            previous, today_count = d, 0
        if today_count < per_day_most:
            today_count += 1
            k += 1
    return k, days


def most_surprising_run(
    s: SustainedShiftSettings,
    state: ShiftState,
    log_levels: list[float],
    baseline: DebitBaseline,
    pending: set[str],
    log_median: float,
    budget: float,
) -> CountRun | None:
    """The most surprising (level, run of elevated debits ending now): the binomial tail of the run's
    count (at most ``max_elevated_per_day`` a day) among all debits since its first day, at the
    customer's own chance of a new-merchant debit that high, times the tests tried (a Bonferroni
    bound, so scanning does not spend the budget). The share of high debits is taken from the baseline
    without the window's elevated debits (``pending``): a drain must not raise its own bar."""
    # the baseline's amounts come sorted: their logarithms need no sort of their own but a check
    # (``sort`` of a list already in order is one pass), and no id list is built for ``pending``
    logs = [math.log(a) for a in baseline.sorted_without(pending)]
    logs.sort()
    entries = list(state.elevated)
    entry_days = [int(e[0] // DAY) for e in entries]
    history = state.history
    sigma = pooled_log_sigma(logs, s)
    best = None
    tests: list[tuple[int, int, float, float, int, list[Entry]]] = []
    # plain locals: a pydantic attribute costs several times as much to read, and these are read per entry
    w, wn = s.prior_weight_debits, s.prior_new_payee_weight_debits
    min_debits, min_days, per_day_most = s.min_elevated_debits, s.min_elevated_days, s.max_elevated_per_day
    prior_share = s.prior_new_payee_share
    for level, log_ratio in enumerate(log_levels):
        picked = [i for i, e in enumerate(entries) if e[2][0] >= level]
        if len(picked) < min_debits:
            break
        run_all = [entries[i] for i in picked]
        run_days = [entry_days[i] for i in picked]
        bar = log_median + log_ratio
        above = len(logs) - bisect.bisect_left(logs, bar)
        prior = 0.5 * math.erfc(log_ratio / sigma / SQRT2)
        share_high = (above + w * prior) / (len(logs) + w)
        for j in range(len(run_all)):
            if j and run_days[j] == run_days[j - 1]:
                continue  # a run starts on a day: one test per day, not per debit
            k, days = capped_run(run_days[j:], per_day_most)
            if k < min_debits or days < min_days:
                break  # later starts hold fewer elevated debits and days still
            run = run_all[j:]
            n = window_debits(state, run_days[j])
            share_new = (max(0.0, history[1] - len(run)) + prior_share * wn) / (
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


def count_report(best: CountRun, ratios: tuple[float, ...], log_median: float, budget: float) -> Report:
    """The count test's run, as the finding tells it."""
    tail, k, n, expected, level, entries = best
    ratio = ratios[level]
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
    return math.log(max(tail, 1e-300)) / math.log(budget), entries, reason, evidence


def cusum_report(
    s: SustainedShiftSettings,
    state: ShiftState,
    window_days: int,
    false_alerts_per_month: float,
    log_median: float,
) -> Report | None:
    """The elevated debits of the CUSUM's excursion, as the finding tells them, when it is past its
    decision interval h: an ordinary customer paying new merchants at their own rate crosses it once in
    ``1 / false_alerts_per_month`` months."""
    cusum, history = state.cusum, state.history
    per_month = max(1.0, window_debits(state) * 30.0 / window_days * history[1] / max(history[0], 1.0))
    h = decision_interval(s.cusum_reference_sds, per_month / false_alerts_per_month)
    if cusum[0] < h:
        return None
    entries = [e for e in state.elevated if e[0] >= cusum[1]]
    if len(entries) < s.cusum_min_debits or len({int(e[0] // DAY) for e in entries}) < s.cusum_min_days:
        return None
    multiples = [float(p[2]) / math.exp(log_median) for _, _, p in entries]
    reason = (
        f"{len(entries)} card or online payments to merchants never paid before over "
        f"{(entries[-1][0] - entries[0][0]) / DAY:.1f} days at {min(multiples):.1f}x to "
        f"{max(multiples):.1f}x this customer's median of {math.exp(log_median):.2f}: together far "
        "above what they usually pay a new merchant."
    )
    evidence: dict[str, Any] = {
        "elevated_debits": len(entries),
        "cusum_sds": round(cusum[0], 3),
        "decision_interval_sds": round(h, 3),
    }
    return 1.0 + (cusum[0] - h) / max(h, 1.0), entries, reason, evidence
