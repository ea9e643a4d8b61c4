"""Where the worker's CPU goes per batch, offline: the worker's own batch step without Kafka, under cProfile.

Run by hand (never by pytest); no broker needed:

    .venv/bin/python bench/worker_profile.py                  # 200k events, 100k customers
    .venv/bin/python bench/worker_profile.py --events 1000000 --no-profile

It regenerates the synthetic events of bench/worker_bench.py (same generator and seed, so the same mix:
profiles first, then transactions and contact changes of random customers) and runs them through
``streams.worker.batch.BatchStep.run`` -- the very step the worker runs inside each batch's transaction --
in batches of --batch, on the partitions Kafka's partitioner gives: ``Processor.handle`` per record
(through the worker's ``PartitionState``, one per partition), the outputs encoded and handed to the
batch's output, then the changelog records of every customer touched in the batch
(``PartitionState.take_dirty``). The output is a counting sink instead of the Kafka transaction, and the
Kafka clients are left out, so the figures are the worker's pure-Python cost per event. ``--jsonl`` runs
the events of a file instead (side_by_side.py's dense traffic is cached as one). Prints a split
of the time (batch step vs the collector's freeze) and the cProfile top N.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the in-memory record of the tests

from _common import cid, contact_json, hardware, profile_json, tx_json
from fake_records import FakeRecord


def synthetic(customers: int, events: int, contact_share: float, days: float, seed: int, run_id: str):
    """Exactly the sequence of bench/_common.preload (same RNG draws), as (key, value) pairs."""
    from datetime import datetime

    from _common import CST

    rng = random.Random(seed)
    start = datetime(2025, 3, 3, tzinfo=CST).timestamp()
    out = []
    for i in range(customers):
        out.append(
            (
                cid(i).encode(),
                profile_json(rng, i, f"{run_id}-p{i}", start + i * 0.01).encode(),
                "customer_profile",
            )
        )
    n_rest = max(0, events - customers)
    span = days * 86400.0
    t_start = start + 3600.0
    for j in range(n_rest):
        i = rng.randrange(customers)
        ts = t_start + span * j / max(1, n_rest)
        if rng.random() < contact_share:
            out.append(
                (cid(i).encode(), contact_json(rng, i, f"{run_id}-c{j}", ts).encode(), "contact_change")
            )
        else:
            out.append((cid(i).encode(), tx_json(rng, i, f"{run_id}-t{j}", ts).encode(), "transaction"))
    return out


def from_jsonl(path: Path):
    """The input events of a JSONL file as (key, value, type), keyed by customer id as the preload does."""
    out = []
    for line in path.read_bytes().splitlines():
        ev = json.loads(line)
        if ev.get("type") in ("transaction", "contact_change", "customer_profile"):
            out.append((ev["customer_id"].encode(), line, ev["type"]))
    return out


class CountingSink:
    """The batch's output (``streams.worker.batch.BatchOutput``) without Kafka: counts what would be sent."""

    def __init__(self, changelog: str) -> None:
        self.changelog = changelog
        self.changelog_records = self.changelog_bytes = self.output_records = 0
        self.digest = hashlib.sha256()  # of every record in order: two builds' outputs compared

    def produce(self, topic, key, value, partition=-1, headers=None) -> None:
        if topic == self.changelog:
            self.changelog_records += 1
            self.changelog_bytes += len(value or b"")
            self.digest.update(repr((partition, key, value, headers)).encode())
        else:
            self.output_records += 1
            self.digest.update(repr((topic, key)).encode())

    def consumed(self, topic: str, partition: int, offset: int) -> None:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--contact-share", type=float, default=0.03)
    ap.add_argument("--days", type=float, default=14.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--jsonl",
        type=Path,
        help="events of a JSONL file instead (e.g. side_by_side.py's dense traffic), record times in file order",
    )
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    ap.add_argument("--no-profile", action="store_true", help="timing split only")
    ap.add_argument("--memory", action="store_true", help="tracemalloc: bytes of Python objects per customer")
    args = ap.parse_args()

    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from streams.partitioning import kafka_partition
    from streams.processor import utc_now
    from streams.worker.batch import BatchStep, collector_paused, freeze_survivors
    from streams.worker.metrics import WorkerMetrics

    print(hardware())
    t = time.perf_counter()
    if args.jsonl:
        msgs = from_jsonl(args.jsonl)
        print(f"read {len(msgs):,} events of {args.jsonl} in {time.perf_counter() - t:.1f}s")
    else:
        msgs = synthetic(args.customers, args.events, args.contact_share, args.days, args.seed, "prof")
        print(
            f"generated {len(msgs):,} events for {args.customers:,} customers in {time.perf_counter() - t:.1f}s"
        )
    settings = load_settings()
    topic = {
        "transaction": settings.topics.transactions,
        "contact_change": settings.topics.contact_changes,
        "customer_profile": settings.topics.customer_profiles,
    }
    records = [
        FakeRecord(
            topic[etype],
            kafka_partition(key, args.partitions),
            offset,
            int(1000 * time.time()),
            key=key,
            value=value,
        )
        for offset, (key, value, etype) in enumerate(msgs)
    ]
    metrics = WorkerMetrics.create()
    step = BatchStep(settings, RiskEngine(settings.detection), metrics, "changelog", utc_now)
    step.partition_count = args.partitions
    sink = CountingSink(step.changelog)

    timing = {"step": 0.0, "gc": 0.0}

    def run() -> None:
        pc = time.process_time  # CPU time: the box is shared, and wall time counts the neighbours
        for b in range(0, len(records), args.batch):
            t0 = pc()
            with collector_paused():  # as the worker runs a batch
                tally = step.run(records[b : b + args.batch], sink, False, lambda topic, partition: True)
            # the worker's metrics of a committed batch (``loop.Worker._committed``)
            metrics.observe_batch(tally.consumed, tally.event_timestamps, tally.alert_timestamps, time.time())
            t1 = pc()
            freeze_survivors()  # as the worker does after each committed batch
            timing["step"] += t1 - t0
            timing["gc"] += pc() - t1

    if args.memory:
        tracemalloc.start()
    prof = None if args.no_profile else cProfile.Profile()
    wall0 = time.perf_counter()
    if prof:
        prof.enable()
    run()
    if prof:
        prof.disable()
    wall = time.perf_counter() - wall0
    n = len(msgs)
    customers = step.customers()
    print()
    print(
        f"{'per-event cost of the worker batch step' + (' (under cProfile)' if prof else ''):<48}{'us/event':>10}{'share':>8}"
    )
    print("-" * 66)
    tot = sum(timing.values())
    for k, label in (
        ("step", "BatchStep.run + the batch's metrics"),
        ("gc", "freeze_survivors per batch"),
    ):
        print(f"{label:<48}{1e6 * timing[k] / n:>10.1f}{100 * timing[k] / tot:>7.0f}%")
    print(f"{'total':<48}{1e6 * tot / n:>10.1f}   -> {n / tot:,.0f} events/s on one core")
    print(
        f"changelog: {sink.changelog_records:,} records for {n:,} events "
        f"({sink.changelog_records / n:.2f}/event), {sink.changelog_bytes / 2**20:,.0f} MiB, "
        f"{sink.changelog_bytes / max(1, sink.changelog_records):,.0f} B/record; "
        f"output records {sink.output_records:,}; customers {customers:,}; digest {sink.digest.hexdigest()[:16]}"
    )
    if args.memory:
        cur, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"tracemalloc: {cur / 2**20:.0f} MiB live Python objects at the end -> {cur / max(1, customers):,.0f} "
            f"B/customer (includes the {n:,} generated messages: "
            f"{sum(len(v) + len(k) + 66 for k, v, _ in msgs) / 2**20:.0f} MiB of bytes)"
        )
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats(args.sort).print_stats(args.top)
        print(f"\ncProfile, top {args.top} by {args.sort} (wall {wall:.1f}s under the profiler):")
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
