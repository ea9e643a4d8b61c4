"""Where a transactional changelog partition's committed data ends, for faust's table recovery.

faust 0.15.3 recovers a table partition until it has applied the record just before the end offset it is
given. Under exactly_once the last records of a changelog partition are transaction markers (and, after a
crash or a fencing, aborted records), which a read_committed consumer never sees; faust then waits for two
idle 5 s polls before it looks for that case, 10-15 s per rebalance. Given the offset just past the last
committed *data* record instead, recovery ends as soon as that record is applied.
"""

from __future__ import annotations

import logging
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

log = logging.getLogger("riskwatch.worker")

TAIL_WINDOW = 256  # offsets read back from the end first; widened when they hold no committed data
TIMEOUT_SECONDS = 30.0

Key = tuple[str, int]


def committed_data_ends(
    client_config: dict[str, str], group: str, stable_ends: dict[Key, int]
) -> dict[Key, int]:
    """Per (topic, partition) with its last stable offset: one past its last committed data record, 0 when
    it has none. Falls back to the last stable offset (faust's own, slower path) if the tail cannot be read."""
    out = {key: 0 for key, end in stable_ends.items() if end <= 0}
    todo = {key: end for key, end in stable_ends.items() if end > 0}
    if not todo:
        return out
    consumer = Consumer(
        {
            **client_config,
            "group.id": f"{group}-recovery-probe",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        window = TAIL_WINDOW
        while todo:
            lows = {
                key: consumer.get_watermark_offsets(TopicPartition(*key), timeout=TIMEOUT_SECONDS)[0]
                for key in todo
            }
            starts = {key: max(lows[key], end - window) for key, end in todo.items()}
            consumer.assign([TopicPartition(t, p, starts[(t, p)]) for t, p in todo])
            last = dict.fromkeys(todo, -1)
            reading = set(todo)
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while reading:
                if time.monotonic() > deadline:
                    log.warning("changelog tail of %s not read in time; recovery may wait", sorted(reading))
                    out.update({key: todo[key] for key in todo if key not in out})
                    return out
                for msg in consumer.consume(1000, 0.5):
                    key = (msg.topic() or "", msg.partition() or 0)
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            reading.discard(key)
                            continue
                        raise RuntimeError(f"reading the changelog tail failed: {err}")
                    offset = msg.offset()
                    if offset is None or key not in todo:
                        continue
                    if offset < todo[key]:
                        last[key] = max(last[key], offset)
                    if offset + 1 >= todo[key]:
                        reading.discard(key)
            retry = {}
            for key, end in todo.items():
                if last[key] >= 0:
                    out[key] = last[key] + 1
                elif starts[key] <= lows[key]:
                    out[key] = 0  # nothing but aborted records and markers
                else:
                    retry[key] = end
            todo = retry
            window *= 16
        return out
    finally:
        consumer.close()
