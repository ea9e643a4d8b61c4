"""What the workbench knows, in memory: the newest alerts, every alert's latest disposition, each customer's
latest risk and tier moves, and the KPIs computed from them. Fed by ``feed.AlertFeed`` (the committed output
topics) and by the workbench's own dispositions (applied at once, so an officer sees their decision before
it comes back from Kafka). No I/O here, so it is unit-tested without Kafka."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Doc = dict[str, Any]
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under_1h", 3600.0),
    ("1h_to_4h", 4 * 3600.0),
    ("4h_to_24h", 24 * 3600.0),
    ("over_24h", float("inf")),
)
DISPOSITIONS = ("confirmed", "false_positive", "escalated")


def _parse(ts: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(ts))
    except ValueError:
        return None


class Inbox:
    def __init__(self, max_alerts: int = 5000, history_per_customer: int = 20) -> None:
        self.max_alerts = max_alerts
        self.history_per_customer = history_per_customer
        self.lock = threading.Lock()
        self.alerts: OrderedDict[str, Doc] = OrderedDict()  # arrival order, oldest first
        self.dispositions: dict[str, Doc] = {}
        self.risk: dict[str, Doc] = {}
        self.tier_moves: dict[str, deque[Doc]] = {}
        self.decided: Counter[tuple[str, str]] = Counter()  # (officer, disposition) -> count
        self._seen_decisions: set[tuple[str, str, str]] = set()
        self.listeners: list[Callable[[str, Doc], None]] = []
        self.on_first_disposition: list[Callable[[float], None]] = []

    # ------------------------------------------------------------------------------------ applying
    def add_alert(self, alert: Doc) -> None:
        alert_id = str(alert.get("alert_id"))
        with self.lock:
            if alert_id in self.alerts:
                return
            self.alerts[alert_id] = alert
            while len(self.alerts) > self.max_alerts:
                self.alerts.popitem(last=False)
        self._notify("alert", self.view(alert))

    def add_disposition(self, disposition: Doc) -> None:
        alert_id = str(disposition.get("alert_id"))
        key = (alert_id, str(disposition.get("officer_id")), str(disposition.get("decided_at")))
        with self.lock:
            if key in self._seen_decisions:
                return
            self._seen_decisions.add(key)
            first = alert_id not in self.dispositions
            current = self.dispositions.get(alert_id)
            if current is None or str(current.get("decided_at")) <= str(disposition.get("decided_at")):
                self.dispositions[alert_id] = disposition
            self.decided[(str(disposition.get("officer_id")), str(disposition.get("disposition")))] += 1
            alert = self.alerts.get(alert_id)
        if first and alert is not None:
            detected, decided = _parse(alert.get("detected_at")), _parse(disposition.get("decided_at"))
            if detected is not None and decided is not None:
                for observe in self.on_first_disposition:
                    observe(max(0.0, (decided - detected).total_seconds()))
        self._notify("disposition", disposition)

    def add_risk(self, risk: Doc) -> None:
        customer = str(risk.get("customer_id"))
        with self.lock:
            self.risk[customer] = risk
            previous = risk.get("previous_tier")
            if previous is not None and previous != risk.get("tier"):
                moves = self.tier_moves.setdefault(customer, deque(maxlen=self.history_per_customer))
                moves.append(risk)

    def forget_customer(self, customer: str) -> None:
        """A tombstone on customer-risk: the customer was erased."""
        with self.lock:
            self.risk.pop(customer, None)
            self.tier_moves.pop(customer, None)
            for alert_id in [a for a, doc in self.alerts.items() if doc.get("customer_id") == customer]:
                self.alerts.pop(alert_id, None)
                self.dispositions.pop(alert_id, None)

    def _notify(self, kind: str, doc: Doc) -> None:
        for listener in list(self.listeners):
            listener(kind, doc)

    # ------------------------------------------------------------------------------------- reading
    def view(self, alert: Doc) -> Doc:
        """An alert as the pages show it: with its status and latest disposition."""
        disposition = self.dispositions.get(str(alert.get("alert_id")))
        status = disposition["disposition"] if disposition else "open"
        return {**alert, "status": status, "disposition": disposition}

    def newest(
        self,
        *,
        detector: str = "",
        severity: str = "",
        tier: str = "",
        status: str = "",
        customer: str = "",
        limit: int = 200,
    ) -> list[Doc]:
        out: list[Doc] = []
        with self.lock:
            for alert in reversed(self.alerts.values()):
                row = self.view(alert)
                if (
                    (detector and row.get("detector") != detector)
                    or (severity and row.get("severity") != severity)
                    or (tier and row.get("risk_tier") != tier)
                    or (status and row["status"] != status)
                    or (customer and row.get("customer_id") != customer)
                ):
                    continue
                out.append(row)
                if len(out) >= limit:
                    break
        return out

    def alert(self, alert_id: str) -> Doc | None:
        with self.lock:
            alert = self.alerts.get(alert_id)
            return None if alert is None else self.view(alert)

    def customer(self, customer: str) -> tuple[Doc | None, list[Doc]]:
        with self.lock:
            return self.risk.get(customer), list(reversed(self.tier_moves.get(customer, ())))

    def kpis(self, now: datetime | None = None) -> Doc:
        """Open alerts by age, the oldest, dispositions per officer and disposition, precision per
        detector (confirmed / (confirmed + false positive), as officers judged it)."""
        now = now or datetime.now(UTC)
        open_by_age: Counter[str] = Counter({name: 0 for name, _ in AGE_BUCKETS})
        oldest = 0.0
        judged: dict[str, Counter[str]] = {}
        with self.lock:
            for alert_id, alert in self.alerts.items():
                disposition = self.dispositions.get(alert_id)
                if disposition is not None:
                    judged.setdefault(str(alert.get("detector")), Counter())[disposition["disposition"]] += 1
                    continue
                detected = _parse(alert.get("detected_at"))
                age = max(0.0, (now - detected).total_seconds()) if detected else 0.0
                oldest = max(oldest, age)
                open_by_age[next(name for name, limit in AGE_BUCKETS if age < limit)] += 1
            decided = dict(self.decided)
        precision = {
            d: c["confirmed"] / (c["confirmed"] + c["false_positive"])
            for d, c in judged.items()
            if c["confirmed"] + c["false_positive"]
        }
        return {
            "open_by_age": dict(open_by_age),
            "open": sum(open_by_age.values()),
            "oldest_open_seconds": oldest,
            "decided": decided,
            "judged": {d: dict(c) for d, c in judged.items()},
            "precision": precision,
        }
