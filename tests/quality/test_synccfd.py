"""SynCCFD, a card-fraud simulator riskwatch did not write (``evaluation.synccfd``), as a regression check.

500 cards over 60 days (about 58,000 payments in USD), seed 1. A compromised-card episode (SynCCFD's
scenario 3: a third of a card's payments inflated five-fold over up to 14 days) is found when an alert's
trigger events include one of its fraudulent payments, whichever detector raised it; customer-day
precision is the share of (customer, day of the alert) pairs on which that customer had a fraudulent
payment of any scenario.

The issue's target is 0.8 of the compromised-card episodes at customer-day precision 0.8; not met: with
``sustained_shift``'s new-merchant model 0.656 (107/163) at 0.916 (seeds 2 and 3: 0.675 at 0.901, 0.671 at
0.923; the binomial model before it 0.650 at 0.978, 0.656 at 0.986, 0.640 at 0.992); with the
beta-binomial and the pooled spread 0.663 (108/163) at 0.913, seeds 2 and 3 0.669 at 0.889 and 0.658
at 0.909, against 0.656/0.919, 0.669/0.901, 0.665/0.925 for the model before on today's main: the same
on average, so the floor is not raised on seed 1's gain); with the excess CUSUM beside the count 0.687
(112/163) at 0.884, seeds 2 and 3 0.687 at 0.874 and 0.665 at 0.899: more found on every seed for
precision still above its target, so the recall floor rises and the precision floor falls to hold that
(the recall assertion fails without the CUSUM). A fifth of the
episodes have 1-3 fraudulent payments, under the 4 the count test asks for. With the far payments' test
(``detectors/far_payments.py``: two or more card payments, each far above the customer's own spread) the
target is met: 0.804 (131/163) at 0.991 (seeds 2 and 3: 0.847 at 0.988, 0.814 at 0.985), and stolen cards
0.655 (0.218 before); both assertions fail on the detector before it. This test holds the target.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from config import load_settings
from detectors.engine import RiskEngine
from evaluation.synccfd import convert, payments
from schemas.events import parse_event
from schemas.outputs import Alert

pytestmark = pytest.mark.slow

MIN_COMPROMISED_CARD_RECALL = 0.8
MIN_CUSTOMER_DAY_PRECISION = 0.95


def test_synccfd_compromised_cards() -> None:
    from synccfd import DatasetGenerator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside the simulator, not ours
        _, _, transactions = DatasetGenerator(
            n_customers=500, n_terminals=2000, nb_days=60, random_state=1
        ).generate()
    events, labels = convert(payments(transactions))
    assert len(events) > 50_000
    settings = load_settings().detection
    engine = RiskEngine(settings)
    states: dict[str, object] = {}
    alerts: list[Alert] = []
    detected_at = datetime(2030, 1, 1, tzinfo=UTC)
    for raw in events:
        event = parse_event(raw)
        state = states.get(event.customer_id) or states.setdefault(
            event.customer_id, engine.new_state(event.customer_id)
        )
        alerts.extend(engine.process(state, event, detected_at).alerts)  # type: ignore[arg-type]

    day_of = {e["event_id"]: (e["customer_id"], e["timestamp"][:10]) for e in events}
    fraud_days = {day_of[i] for lb in labels for i in lb["event_ids"]}
    triggered = {i for a in alerts for i in a.trigger_event_ids}
    found: dict[str, list[bool]] = defaultdict(list)
    for lb in labels:
        found[lb["kind"]].append(any(i in triggered for i in lb["event_ids"]))
    alerted_days = {(a.customer_id, a.event_time.astimezone(UTC).strftime("%Y-%m-%d")) for a in alerts}
    precision = len(alerted_days & fraud_days) / len(alerted_days)
    recall = {kind: sum(hits) / len(hits) for kind, hits in found.items()}
    print(f"\nSynCCFD: {len(events):,} payments, {len(labels)} episodes, {len(alerts)} alerts")
    print("  recall by episode kind:", {k: round(v, 3) for k, v in sorted(recall.items())})
    print(f"  customer-day precision {precision:.3f} over {len(alerted_days)} alerted customer-days")
    assert len(found["synccfd_compromised_card"]) >= 100
    assert recall["synccfd_compromised_card"] >= MIN_COMPROMISED_CARD_RECALL
    assert precision >= MIN_CUSTOMER_DAY_PRECISION
