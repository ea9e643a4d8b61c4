"""Label what the law and the bank's policy require reporting, wherever it happens in the traffic.

Ordinary traffic reaches a reporting line too (a company's busy day, a car paid in cash, a pattern of
another kind), and an alert on it is right. So after the traffic is built, every (customer, report kind,
direction, reporting day) whose total reaches its PBoC 2016 line, and every breach of the bank's tier
limits, gets a label unless an injected pattern of the same detector already covers it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from scenarios.domain import REPORTING_UTC_OFFSET_HOURS, reporting_line, tier_limits
from scenarios.events import DAY, HOUR, Ev, amount_cny
from scenarios.population import Customer


@dataclass(frozen=True, slots=True)
class Found:
    expected_detector: str
    kind: str
    event_ids: list[str]
    strength: float
    strength_unit: str
    start: int
    detail: str


def _day(ts: int) -> int:
    return (ts + REPORTING_UTC_OFFSET_HOURS * HOUR) // DAY


def reportable(customer: Customer, events: Iterable[Ev], fx: dict[str, Decimal]) -> list[Found]:
    """Large-value days and tier-limit breaches of one customer's transactions (each event once)."""
    groups: dict[tuple[str, str, int], list[tuple[Ev, float]]] = defaultdict(list)
    debit_days: dict[int, list[tuple[Ev, float]]] = defaultdict(list)
    lines: dict[tuple[str, str, int], float] = {}
    for e in sorted(events, key=lambda e: e.ts):
        if e.event["type"] != "transaction":
            continue
        amount = float(amount_cny(e.event, fx))
        country = e.event.get("counterparty_country")
        kind, line = reporting_line(e.event["channel"], customer.segment, country not in (None, "CN"))
        key = (kind, e.event["direction"], _day(e.ts))
        groups[key].append((e, amount))
        lines[key] = line
        if e.event["direction"] == "debit":
            debit_days[_day(e.ts)].append((e, amount))
    found = []
    for key, members in groups.items():
        total = sum(a for _, a in members)
        if total >= lines[key]:
            ids = [e.event_id for e, _ in members]
            found.append(
                Found(
                    "large_value",
                    "reportable",
                    ids,
                    total / lines[key],
                    "x_reporting_line",
                    members[0][0].ts,
                    f"{key[0]} {key[1]}: {len(ids)} transaction(s) together {total:.2f} CNY",
                )
            )
    per_tx, daily = tier_limits(customer.tier, customer.segment)
    for members in debit_days.values():
        running = 0.0
        for i, (e, amount) in enumerate(members):
            running += amount
            if amount > per_tx or running > daily:
                ids = [x.event_id for x, _ in members[: i + 1]] if amount <= per_tx else [e.event_id]
                strength = amount / per_tx if amount > per_tx else running / daily
                found.append(
                    Found(
                        "tier_limit",
                        "limit_breach",
                        ids,
                        strength,
                        "x_limit",
                        e.ts,
                        f"{customer.tier}-tier limit",
                    )
                )
                break
    return found
