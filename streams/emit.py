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

# a dead letter's record key (the input message's key) is clipped: it only spreads dead letters over
# partitions, and a huge key must not make the dead letter too large to produce
DEAD_LETTER_KEY_MAX_BYTES = 1024


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
        key = None if message_key is None else message_key[:DEAD_LETTER_KEY_MAX_BYTES]
        try:
            produce(topics.dead_letter, key, dl.model_dump_json().encode())
        except Exception as exc:  # one dead letter the producer refuses must not stop the stream
            # (it fits the producer's limit by construction; a dead-letter topic configured with a smaller
            # max.message.bytes, say, could still refuse it). A second failure is not about this message.
            metrics.dead_letters_stripped.labels(dl.source).inc()
            log.error(
                "dead letter from %s[%s]@%s refused by the producer (%s); produced again without its raw "
                "message: raise the dead-letter topic's max.message.bytes or lower "
                "worker.dead_letter_max_bytes",
                dl.source,
                dl.partition,
                dl.offset,
                type(exc).__name__,
            )
            bare = dl.model_copy(
                update={
                    "raw": "",
                    "raw_truncated": True,
                    "error": f"{dl.error} (raw dropped: not producible)",
                }
            )
            produce(topics.dead_letter, key, bare.model_dump_json().encode())
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
