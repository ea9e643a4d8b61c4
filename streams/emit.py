"""What one processed input message becomes on the output topics, for every runtime.

``emit`` counts the result in the worker metrics and hands each output record (topic, key, JSON value) to
the runtime's ``produce``: alerts and tier changes keyed by customer id, a dead letter keyed by the input
message's key. The confluent-kafka worker and the faust-streaming worker both call it, so they write the
same records to the same topics.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from config.settings import TopicSettings
from streams.processor import Result, reject_category
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")

# (topic, key, value); a value of None is a tombstone
Produce = Callable[[str, bytes | None, bytes | None], None]


def emit(
    result: Result, message_key: bytes | None, topics: TopicSettings, metrics: WorkerMetrics, produce: Produce
) -> bool:
    """Produce the outputs of ``result``; whether it raised any alert."""
    if result.dead_letter is not None:
        dl = result.dead_letter
        category = reject_category(dl.error)
        metrics.events_rejected.labels(category).inc()
        metrics.dead_letters.labels(dl.source).inc()
        log.info("dead letter from %s[%s]@%s: %s", dl.source, dl.partition, dl.offset, category)
        produce(topics.dead_letter, message_key, dl.model_dump_json().encode())
        return False
    if result.duplicate:
        metrics.duplicates.inc()
        return False
    key = result.customer_id.encode() if result.customer_id else None
    if result.erased:
        # compaction then drops the customer's CustomerRisk; the read model deletes its keys on this
        produce(topics.customer_risk, key, None)
        return False
    for alert in result.alerts:
        metrics.alerts.labels(alert.detector, alert.severity).inc()
        produce(topics.alerts, key, alert.model_dump_json().encode())
    for risk in result.risks:
        metrics.count_tier_change(risk.previous_tier, risk.tier)
        produce(topics.customer_risk, key, risk.model_dump_json().encode())
    for review in result.reviews:
        produce(topics.reviews, key, review.model_dump_json().encode())
    return bool(result.alerts)
