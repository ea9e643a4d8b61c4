"""What one Kafka transaction costs when transactions follow each other back to back, as the worker's do.

Run by hand (never by pytest) against `riskwatch stack up` (own ports exported):

    /tmp/rwvenv/bin/python bench/txn_backoff.py                      # default vs retry.backoff.ms=5
    /tmp/rwvenv/bin/python bench/txn_backoff.py --backoffs 100,20,5,1 --iterations 300

Each iteration is the worker's batch minus the detection: begin, produce 30 small records over 6
partitions, send_offsets_to_transaction, commit_transaction, and the next begins at once. The broker writes
the previous transaction's markers after answering the commit; a transaction that starts meanwhile gets
CONCURRENT_TRANSACTIONS and librdkafka retries it after retry.backoff.ms (100 ms by default). Prints
p50/p99 of each step per backoff, and how long a read_committed reader waits to see the records
(``--visible``: then the next transaction begins only after the reader has seen this one).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import hardware, kafka_conf, quiet
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return 1000.0 * values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def run(conf: dict, backoff_ms: int | None, iterations: int, visible: bool, logdir: Path) -> dict:
    admin = AdminClient(conf)
    out_topic, in_topic = f"txnb-out-{uuid.uuid4().hex[:6]}", f"txnb-in-{uuid.uuid4().hex[:6]}"
    for f in admin.create_topics([NewTopic(out_topic, 6, 1), NewTopic(in_topic, 6, 1)]).values():
        f.result(30)
    extra = {} if backoff_ms is None else {"retry.backoff.ms": backoff_ms}
    producer = Producer(
        quiet(
            {**conf, "transactional.id": f"txnb-{uuid.uuid4().hex[:6]}", "linger.ms": 5, **extra},
            "txnb",
            logdir,
        )
    )
    group = Consumer(quiet({**conf, "group.id": f"txnb-{uuid.uuid4().hex[:6]}"}, "txnb", logdir))
    reader = Consumer(
        quiet(
            {
                **conf,
                "group.id": f"txnb-r-{uuid.uuid4().hex[:6]}",
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 5,
                "enable.auto.commit": False,
            },
            "txnb",
            logdir,
        )
    )
    reader.assign([TopicPartition(out_topic, p, 0) for p in range(6)])
    producer.init_transactions(30)
    steps: dict[str, list[float]] = {"produce": [], "send_offsets": [], "commit": [], "visible": []}
    try:
        for it in range(iterations + 10):
            t0 = time.perf_counter()
            producer.begin_transaction()
            for k in range(30):
                producer.produce(out_topic, key=f"c{k}".encode(), value=b"x" * 200, partition=k % 6)
            t1 = time.perf_counter()
            producer.send_offsets_to_transaction(
                [TopicPartition(in_topic, p, it) for p in range(6)], group.consumer_group_metadata(), 30
            )
            t2 = time.perf_counter()
            producer.commit_transaction(30)
            t3 = time.perf_counter()
            got = 0
            while visible and got < 30:
                got += sum(1 for m in reader.consume(30 - got, 1.0) if m.error() is None)
            t4 = time.perf_counter()
            if it >= 10:  # warm-up: metadata, coordinator lookups
                steps["produce"].append(t1 - t0)
                steps["send_offsets"].append(t2 - t1)
                steps["commit"].append(t3 - t2)
                if visible:
                    steps["visible"].append(t4 - t3)
    finally:
        reader.close()
        group.close()
        admin.delete_topics([out_topic, in_topic])
    return {k: (pct(v, 50), pct(v, 99)) for k, v in steps.items() if v}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backoffs", default="default,5", help="retry.backoff.ms values; 'default' = unset")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--visible", action="store_true", help="also wait for a read_committed reader")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/rwbench/txn"))
    args = ap.parse_args()
    conf = kafka_conf()
    print(hardware())
    print(f"{'retry.backoff.ms':<18}{'step':<14}{'p50 ms':>8}{'p99 ms':>8}")
    for b in args.backoffs.split(","):
        res = run(conf, None if b == "default" else int(b), args.iterations, args.visible, args.workdir)
        for step, (p50, p99) in res.items():
            print(f"{b:<18}{step:<14}{p50:>8.1f}{p99:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
