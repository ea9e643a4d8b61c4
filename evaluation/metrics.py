"""Recall by strength, precision and false alerts per 10,000 transactions, overall and per segment.

How an alert is judged (a risk officer's view, whichever detector raised it):
* **true** when its trigger events overlap a pattern labelled ``suspicious`` of the same customer;
* **weak** when they overlap only patterns labelled not suspicious (a deliberately weak case: alerting
  on it is neither a hit nor a false alarm, and it is reported apart);
* **false** otherwise.
A pattern counts as **found** by the detector named in its ``expected_detector`` when an alert of that
detector has a trigger event among the pattern's ``event_ids``.

With a go-live (``alerts_from``: a bank loads its history first, and riskwatch alerts from then on, README
*Where the contract is silent*), only what happens from go-live is scored: alerts whose event time is
before it and the transactions before it are counted apart, and a labelled pattern whose events all come
before it (nothing could alert on it) is reported by id and left out of recall, never dropped unsaid.

Customer segments come from the events themselves, so they mean the same for every labelled history:
segment from the customer's profile (label's ``segment`` first), spread from the robust spread of the
log debit amounts, activity from transactions per day over the customer's observed span, history from
the number of debits before the pattern (label's ``history_debits`` first) or before the alert.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from evaluation.labels import PatternLabel

#: a history of at most this many debits is "short" (amount baselines are thin)
SHORT_HISTORY_DEBITS = 30
#: robust sigma (1.4826 x MAD) of log debit amounts at or above which spending is "wide" (e ~ 2.7x per sigma)
WIDE_SPREAD_LOG_SIGMA = 1.0
#: fewer transactions per day than this, over the customer's observed span, is "low activity"
LOW_ACTIVITY_PER_DAY = 1.0
#: a customer needs this many debits before a spread is measured
MIN_DEBITS_FOR_SPREAD = 5
DIMENSIONS = ("segment", "history", "spread", "activity")


@dataclass(slots=True)
class _Customer:
    segment: str = "individual"
    debit_logs: list[float] = field(default_factory=list)
    transactions: int = 0
    first_ts: float | None = None
    last_ts: float | None = None


@dataclass(frozen=True, slots=True)
class Report:
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def strength_buckets(values: list[float]) -> list[tuple[float, float]]:
    """Buckets for a curve: one per value for small counts (changes, deposits, hours), else a 1-2-5 ladder
    of [lo, hi) buckets."""
    if not values:
        return []
    distinct = sorted(set(values))
    if len(distinct) <= 12 and distinct[-1] <= 24 and all(v == int(v) for v in distinct):
        return [(v, v) for v in distinct]
    lo, hi = min(values), max(values)
    if lo <= 0:
        return [(lo, math.inf)]
    series: list[float] = []
    decade = 10.0 ** math.floor(math.log10(lo))
    while not series or series[-1] <= hi:
        series += [decade, 2 * decade, 5 * decade]
        decade *= 10
    first = max(i for i, edge in enumerate(series) if edge <= lo)
    last = next(i for i, edge in enumerate(series) if edge > hi)
    edges = series[first : last + 1]
    return list(itertools.pairwise(edges))


def _in(value: float, bucket: tuple[float, float]) -> bool:
    lo, hi = bucket
    return value == lo if lo == hi else lo <= value < hi


class Evaluator:
    """Feed events in stream order (``add_event``) and alerts (``add_alert``); then ``report(labels)``."""

    def __init__(
        self, fx_rates: Mapping[str, Decimal] | None = None, *, alerts_from: datetime | None = None
    ) -> None:
        self._fx = dict(fx_rates or {})
        self._customers: dict[str, _Customer] = defaultdict(_Customer)
        #: transaction event id -> (customer id, debits of the customer before it, at or after go-live)
        self._tx: dict[str, tuple[str, int, bool]] = {}
        #: (customer, detector, triggers, event time as epoch seconds or None)
        self._alerts: list[tuple[str, str, tuple[str, ...], float | None]] = []
        self._alerts_from = None if alerts_from is None else alerts_from.timestamp()
        #: event id -> epoch seconds, kept only with a go-live (to place alerts and labels against it)
        self._event_ts: dict[str, float] = {}

    def add_event(self, event: Mapping[str, Any]) -> None:
        """A decoded input event; anything that is not a usable transaction or profile is ignored."""
        cid, kind, event_id = event.get("customer_id"), event.get("type"), event.get("event_id")
        if not isinstance(cid, str) or not isinstance(event_id, str):
            return
        c = self._customers[cid]
        if kind == "customer_profile":
            if isinstance(event.get("segment"), str):
                c.segment = event["segment"]
            return
        ts = _epoch(event.get("timestamp"))
        if self._alerts_from is not None and ts is not None:
            self._event_ts.setdefault(event_id, ts)
        if kind != "transaction" or event_id in self._tx:  # a redelivery counts once
            return
        live = self._alerts_from is None or ts is None or ts >= self._alerts_from
        self._tx[event_id] = (cid, len(c.debit_logs), live)
        c.transactions += 1
        if ts is not None:
            c.first_ts = ts if c.first_ts is None else min(c.first_ts, ts)
            c.last_ts = ts if c.last_ts is None else max(c.last_ts, ts)
        if event.get("direction") == "debit":
            amount = self._amount(event)
            if amount is not None and amount > 0:
                c.debit_logs.append(math.log(amount))

    def add_alert(self, alert: Mapping[str, Any]) -> None:
        """An alert as on the alerts topic; ``event_time`` places it against a go-live (without it, its
        latest trigger's time does)."""
        triggers = tuple(str(i) for i in alert.get("trigger_event_ids") or ())
        self._alerts.append(
            (
                str(alert.get("customer_id")),
                str(alert.get("detector")),
                triggers,
                _epoch(alert.get("event_time")),
            )
        )

    def _before_go_live(self, event_ids: Iterable[str], at: float | None = None) -> bool:
        """Whether something ending at ``at`` (else at the latest of its known events) precedes go-live."""
        if self._alerts_from is None:
            return False
        if at is None:
            times = [self._event_ts[i] for i in event_ids if i in self._event_ts]
            if not times:
                return False
            at = max(times)
        return at < self._alerts_from

    def _amount(self, event: Mapping[str, Any]) -> float | None:
        try:
            amount = Decimal(str(event.get("amount")))
        except InvalidOperation:
            return None
        rate = self._fx.get(str(event.get("currency")), Decimal(1)) if self._fx else Decimal(1)
        return float(amount * rate)

    # ------------------------------------------------------------------------------------ traits
    def _traits(self, cid: str) -> dict[str, str]:
        c = self._customers.get(cid) or _Customer()
        traits = {"segment": c.segment}
        if len(c.debit_logs) >= MIN_DEBITS_FOR_SPREAD:
            traits["spread"] = "wide" if _robust_sigma(c.debit_logs) >= WIDE_SPREAD_LOG_SIGMA else "narrow"
        if c.first_ts is not None and c.last_ts is not None:
            days = max(1.0, (c.last_ts - c.first_ts) / 86400)
            traits["activity"] = "low" if c.transactions / days < LOW_ACTIVITY_PER_DAY else "normal"
        return traits

    def _label_traits(self, lb: PatternLabel) -> dict[str, str]:
        traits = self._traits(lb.customer_id)
        if lb.segment:
            traits["segment"] = lb.segment
        history = lb.history_debits
        if history is None:
            known = [self._tx[i][1] for i in lb.event_ids if i in self._tx]
            history = min(known) if known else None
        if history is not None:
            traits["history"] = "short" if history <= SHORT_HISTORY_DEBITS else "long"
        return traits

    def _alert_traits(self, cid: str, triggers: tuple[str, ...]) -> dict[str, str]:
        traits = self._traits(cid)
        last = self._tx.get(triggers[-1]) if triggers else None
        if last is not None:
            traits["history"] = "short" if last[1] <= SHORT_HISTORY_DEBITS else "long"
        return traits

    # ------------------------------------------------------------------------------------ report
    def report(self, labels: Iterable[PatternLabel]) -> Report:
        before: list[PatternLabel] = []
        live: list[PatternLabel] = []
        for lb in labels:
            (before if self._before_go_live(lb.event_ids) else live).append(lb)
        labels = live
        by_customer: dict[str, list[PatternLabel]] = defaultdict(list)
        for lb in labels:
            by_customer[lb.customer_id].append(lb)
        found: set[str] = set()
        judged: list[tuple[str, str, dict[str, str]]] = []  # (detector, outcome, traits)
        alerts_before = 0
        for cid, detector, triggers, at in self._alerts:
            if self._before_go_live(triggers, at):
                alerts_before += 1
                continue
            ids = set(triggers)
            hit = [lb for lb in by_customer.get(cid, ()) if ids.intersection(lb.event_ids)]
            for lb in hit:
                if lb.expected_detector == detector:
                    found.add(lb.pattern_id)
            outcome = "true" if any(lb.suspicious for lb in hit) else "weak" if hit else "false"
            judged.append((detector, outcome, self._alert_traits(cid, triggers)))
        label_traits = {lb.pattern_id: self._label_traits(lb) for lb in labels}
        tx_traits = self._transaction_traits()

        detectors = sorted({d for d, _, _ in judged} | {lb.expected_detector for lb in labels})
        n_live = sum(1 for _, _, live in self._tx.values() if live)
        data: dict[str, Any] = {
            "alerts_from": None
            if self._alerts_from is None
            else datetime.fromtimestamp(self._alerts_from, UTC).isoformat(),
            "transactions_before_go_live": len(self._tx) - n_live,
            "alerts_before_go_live": alerts_before,
            "patterns_before_go_live": sorted(lb.pattern_id for lb in before),
            "transactions": n_live,
            "customers": len(self._customers),
            "alerts": len(judged),
            "patterns": len(labels),
            "overall": _summary(judged, labels, found, n_live),
            "detectors": {},
            "segments": {},
        }
        for d in detectors:
            mine = [lb for lb in labels if lb.expected_detector == d]
            row = _summary([j for j in judged if j[0] == d], mine, found, n_live)
            row["curves"] = _curves(mine, found)
            data["detectors"][d] = row
        for dim in DIMENSIONS:
            values = sorted({dict(key)[dim] for key in tx_traits if dim in dict(key)})
            for value in values:
                in_bucket = [j for j in judged if j[2].get(dim) == value]
                mine = [lb for lb in labels if label_traits[lb.pattern_id].get(dim) == value]
                n_tx = sum(_count(tx_traits, dim, value))
                row = _summary(in_bucket, mine, found, n_tx)
                row["per_detector"] = {
                    d: _summary(
                        [j for j in in_bucket if j[0] == d],
                        [lb for lb in mine if lb.expected_detector == d],
                        found,
                        n_tx,
                    )
                    for d in detectors
                }
                data["segments"][f"{dim}={value}"] = row
        return Report(data)

    def _transaction_traits(self) -> dict[tuple[tuple[str, str], ...], int]:
        """Transactions counted per combination of traits (history per transaction, the rest per customer)."""
        counts: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        cache: dict[str, dict[str, str]] = {}
        for cid, before, live in self._tx.values():
            if not live:
                continue
            traits = cache.get(cid)
            if traits is None:
                traits = cache[cid] = self._traits(cid)
            key = (
                *sorted(traits.items()),
                ("history", "short" if before <= SHORT_HISTORY_DEBITS else "long"),
            )
            counts[key] += 1
        return counts


def _count(tx_traits: dict[tuple[tuple[str, str], ...], int], dim: str, value: str) -> list[int]:
    return [n for key, n in tx_traits.items() if dict(key).get(dim) == value]


def _summary(
    judged: list[tuple[str, str, dict[str, str]]],
    labels: list[PatternLabel],
    found: set[str],
    transactions: int,
) -> dict[str, Any]:
    true = sum(1 for _, o, _ in judged if o == "true")
    false = sum(1 for _, o, _ in judged if o == "false")
    weak = sum(1 for _, o, _ in judged if o == "weak")
    suspicious = [lb for lb in labels if lb.suspicious]
    hits = sum(1 for lb in suspicious if lb.pattern_id in found)
    return {
        "alerts": len(judged),
        "true_alerts": true,
        "false_alerts": false,
        "weak_alerts": weak,
        "precision": _ratio(true, true + false),
        "false_per_10k": None if not transactions else false / transactions * 10000,
        "transactions": transactions,
        "patterns": len(labels),
        "suspicious_patterns": len(suspicious),
        "found_suspicious": hits,
        "recall_suspicious": _ratio(hits, len(suspicious)),
        "found_all": sum(1 for lb in labels if lb.pattern_id in found),
    }


def _curves(labels: list[PatternLabel], found: set[str]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[PatternLabel]] = defaultdict(list)
    for lb in labels:
        if lb.strength is not None:
            groups[(lb.kind, lb.strength_unit or "")].append(lb)
    rows = []
    for (kind, unit), group in sorted(groups.items()):
        for bucket in strength_buckets([lb.strength for lb in group if lb.strength is not None]):
            inside = [lb for lb in group if lb.strength is not None and _in(lb.strength, bucket)]
            if not inside:
                continue
            hits = sum(1 for lb in inside if lb.pattern_id in found)
            rows.append(
                {
                    "kind": kind,
                    "unit": unit,
                    "low": bucket[0],
                    "high": bucket[1],
                    "patterns": len(inside),
                    "suspicious": sum(1 for lb in inside if lb.suspicious),
                    "found": hits,
                    "recall": hits / len(inside),
                }
            )
    return rows


def _robust_sigma(logs: list[float]) -> float:
    xs = sorted(logs)
    med = _median(xs)
    return 1.4826 * _median(sorted(abs(x - med) for x in xs))


def _median(xs: list[float]) -> float:
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo is not None else None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
