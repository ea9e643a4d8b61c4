"""The latency floor: a bare transactional consume -> produce loop shaped like the worker's, in its own process.

Run by ``bench/worker_bench.py --bare-latency`` (never by pytest). Consumer and producer are configured as
the worker's (read_committed, the fetch bounds, ``linger.ms``, the transactional retry backoff), and the loop
turns as the worker's does: block for a first record, take what has been fetched meanwhile (up to
``--max-events``), one transaction per batch with the offsets in it. No parsing, no detectors, no ordering,
no state: what is left of the event -> output latency is Kafka's and the box's.

``--spin-us`` burns that much CPU per record inside the batch, standing in for the worker's processing: the
latency a loop with that CPU per event would have, on this box, beside the broker. ``--extra-bytes`` also
writes a record of that size per input to ``OUT-state`` (the changelog's volume).

``--pipelined`` commits each transaction in a thread while the next batch is consumed and processed (its
outputs held back, produced once that commit is done and the next transaction begun): how much of the
latency the commit's wait is, when the loop need not stand still for it. In its timeline the wait for the
previous commit and the held outputs' produce calls are the ``changelog`` part (between ``w`` and ``c``).

It writes the same per-batch timeline as ``bench/batch_trace.py`` (q p s w c o d e n), plus ``ids``: the
latency bench's trigger event ids in the batch (the bench maps each trigger to its batch with them).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

TRIGGER_ID = re.compile(rb'"event_id":"(L[0-9a-f]{6}-x\d+)"')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--inputs", required=True, help="','-separated input topics")
    ap.add_argument("--out", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--trace", type=Path, required=True)
    ap.add_argument("--fetch-min-bytes", type=int, default=16384)
    ap.add_argument("--fetch-wait-max-ms", type=int, default=10)
    ap.add_argument("--linger-ms", type=int, default=5)
    ap.add_argument("--max-events", type=int, default=5000)
    ap.add_argument("--poll-seconds", type=float, default=0.1)
    ap.add_argument("--spin-us", type=float, default=0.0)
    ap.add_argument("--extra-bytes", type=int, default=0)
    ap.add_argument("--pipelined", action="store_true")
    ap.add_argument(
        "--retry-backoff-ms", type=int, default=5, help="as the worker's producer (checkpoint.py)"
    )
    args = ap.parse_args()
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "partition.assignment.strategy": "range",
            "fetch.min.bytes": args.fetch_min_bytes,
            "fetch.wait.max.ms": args.fetch_wait_max_ms,
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "transactional.id": f"{args.group}-tx",
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": args.linger_ms,
            "retry.backoff.ms": args.retry_backoff_ms,
            "retry.backoff.max.ms": 200,
            "queue.buffering.max.messages": 1_000_000,
            "transaction.timeout.ms": 30_000,
        }
    )
    producer.init_transactions(30)
    consumer.subscribe(
        args.inputs.split(","), on_assign=lambda _c, tps: print(f"assigned {len(tps)} partitions", flush=True)
    )
    state_topic = f"{args.out}-state"
    extra = b"s" * args.extra_bytes
    spin = args.spin_us / 1e6
    trace = args.trace.open("a", buffering=1)
    committing: threading.Thread | None = None

    def commit(tps: list[TopicPartition], row: dict[str, Any]) -> None:
        producer.send_offsets_to_transaction(tps, consumer.consumer_group_metadata(), 30)
        row["o"] = time.time()
        producer.commit_transaction(30)
        row["d"] = row["e"] = time.time()
        trace.write(json.dumps(row) + "\n")

    while not stop[0]:
        q = time.time()
        first = consumer.poll(args.poll_seconds)
        if first is None:
            continue
        msgs = [first, *consumer.consume(args.max_events - 1, 0)]
        p = time.time()
        if not args.pipelined:
            producer.begin_transaction()
        offsets: dict[tuple[str, int], int] = {}
        ids: list[str] = []
        held: list[tuple[str, bytes | None, bytes]] = []
        for m in msgs:
            if m.error() is not None:
                continue
            v = m.value() or b""
            if b"-x" in v:
                found = TRIGGER_ID.search(v)
                if found:
                    ids.append(found.group(1).decode())
            if spin:
                until = time.perf_counter() + spin
                while time.perf_counter() < until:
                    pass
            if args.pipelined:
                held.append((args.out, m.key(), v))
                if extra:
                    held.append((state_topic, m.key(), extra))
            else:
                producer.produce(args.out, key=m.key(), value=v)
                if extra:
                    producer.produce(state_topic, key=m.key(), value=extra)
            topic, partition, offset = m.topic(), m.partition(), m.offset()
            if topic is not None and partition is not None and offset is not None:  # always, without an error
                offsets[(topic, partition)] = offset + 1
        w = time.time()
        tps = [TopicPartition(t, pt, o) for (t, pt), o in offsets.items()]
        row = {"q": q, "p": p, "s": p, "w": w, "n": len(msgs), "ids": ids}
        if args.pipelined:
            if committing is not None:
                committing.join()
            producer.begin_transaction()
            for topic, key, value in held:
                producer.produce(topic, key=key, value=value)
            row["c"] = time.time()
            committing = threading.Thread(target=commit, args=(tps, row))
            committing.start()
        else:
            row["c"] = w
            commit(tps, row)
    if committing is not None:
        committing.join()
    consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
