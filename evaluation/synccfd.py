"""SynCCFD (the card-fraud simulator of the *Reproducible Machine Learning for Credit Card Fraud Detection*
handbook, PyPI ``synccfd``) as contract events and pattern labels: traffic riskwatch did not write.

What SynCCFD 0.1.0 generates (read from its source): customers with a mean card-payment amount of 5-100
(USD here; standard deviation half the mean) and 0-4 payments a day at terminals near them (card present)
or anywhere (card not present), and four fraud scenarios on top:
1. every payment above 220 is fraud (a plain threshold);
2. compromised terminals: each day two terminals are compromised for 28 days, their payments are fraud
   (amounts unchanged, so nothing per customer shows it);
3. compromised cards (card number stolen): each day three customers are picked and, over the next 14
   days, a third of their payments are inflated five-fold;
4. stolen cards: each day three customers are picked and the next 5 days of their payments are moved
   onto the first day and inflated five-fold.

The conversion: each payment a ``transaction`` debit in USD on channel ``card``, customer ``C<id>``,
terminal ``T<id>`` as counterparty, the event time SynCCFD's (naive, taken as UTC); a payment of 0.00
(SynCCFD draws one now and then) is left out, the contract wanting amounts above zero. No profiles: the
customers get riskwatch's default tier. Each fraud episode becomes one label in riskwatch's format
(``evaluation.labels``): a customer's fraudulent payments of one scenario, split where they are further
apart than the scenario's span.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: scenario -> (label kind, detector expected to find it, span of one episode in days)
SCENARIOS: dict[int, tuple[str, str, float]] = {
    1: ("synccfd_high_amount", "amount_spike", 0.0),
    2: ("synccfd_compromised_terminal", "amount_spike", 28.0),
    3: ("synccfd_compromised_card", "sustained_shift", 14.0),
    4: ("synccfd_stolen_card", "velocity_spike", 5.0),
}


@dataclass(frozen=True, slots=True)
class Payment:
    """One row of SynCCFD's transactions table, as the converter needs it."""

    transaction_id: int
    when: datetime
    customer_id: int
    terminal_id: int
    amount: float
    fraud_scenario: int


def payments(transactions: Any) -> Iterator[Payment]:
    """Rows of SynCCFD's ``transactions`` DataFrame (as ``DatasetGenerator.generate`` returns it)."""
    columns = [
        "TRANSACTION_ID",
        "TX_DATETIME",
        "CUSTOMER_ID",
        "TERMINAL_ID",
        "TX_AMOUNT",
        "TX_FRAUD_SCENARIO",
    ]
    for tid, when, cid, term, amount, scenario in transactions[columns].itertuples(index=False):
        yield Payment(int(tid), when.to_pydatetime(), int(cid), int(term), float(amount), int(scenario))


def customer_id(cid: int) -> str:
    return f"C{cid:05d}"


def event_id(p: Payment) -> str:
    return f"sc-{p.transaction_id}"


def convert(
    rows: Iterable[Payment], currency: str = "USD"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Contract events in time order, and one label per fraud episode."""
    ordered = sorted((p for p in rows if round(p.amount, 2) > 0), key=lambda p: (p.when, p.transaction_id))
    events: list[dict[str, Any]] = []
    debits_before: dict[int, int] = defaultdict(int)
    frauds: dict[tuple[int, int], list[tuple[Payment, int]]] = defaultdict(list)
    for p in ordered:
        events.append(
            {
                "type": "transaction",
                "event_id": event_id(p),
                "customer_id": customer_id(p.customer_id),
                "timestamp": p.when.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
                "account_id": f"card-{p.customer_id}",
                "amount": f"{p.amount:.2f}",
                "currency": currency,
                "direction": "debit",
                "channel": "card",
                "counterparty_id": f"T{p.terminal_id}",
            }
        )
        if p.fraud_scenario:
            frauds[(p.customer_id, p.fraud_scenario)].append((p, debits_before[p.customer_id]))
        debits_before[p.customer_id] += 1
    return events, _labels(frauds)


def _labels(frauds: dict[tuple[int, int], list[tuple[Payment, int]]]) -> list[dict[str, Any]]:
    labels: list[dict[str, Any]] = []
    for (cid, scenario), found in sorted(frauds.items()):
        kind, detector, span_days = SCENARIOS[scenario]
        episodes: list[list[tuple[Payment, int]]] = []
        for p, before in found:
            if episodes and (p.when - episodes[-1][0][0].when).total_seconds() <= span_days * 86400:
                episodes[-1].append((p, before))
            else:
                episodes.append([(p, before)])
        for episode in episodes:
            first, history = episode[0]
            labels.append(
                {
                    "pattern_id": f"synccfd-{scenario}-{cid}-{first.transaction_id}",
                    "kind": kind,
                    "customer_id": customer_id(cid),
                    "event_ids": [event_id(p) for p, _ in episode],
                    "expected_detector": detector,
                    "strength": float(len(episode)),
                    "strength_unit": "fraudulent_payments",
                    "suspicious": True,
                    "segment": "individual",
                    "history_debits": history,
                    "start": first.when.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
                }
            )
    return labels
