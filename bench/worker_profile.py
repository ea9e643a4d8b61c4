"""Where the worker's CPU goes per batch, offline: the worker's batch work without Kafka, under cProfile.

Run by hand (never by pytest); no broker needed:

    /tmp/rwvenv/bin/python bench/worker_profile.py                  # 200k events, 100k customers
    /tmp/rwvenv/bin/python bench/worker_profile.py --events 1000000 --no-profile

It regenerates the synthetic events of bench/worker_bench.py (same generator and seed, so the same mix:
profiles first, then transactions and contact changes of random customers) and replays the body of
``streams.worker.loop.Worker._process_batch`` over them in batches of --batch: ``Processor.handle`` per
message (through the worker's ``PartitionState``, one per partition), alerts/risk encoded with
``model_dump_json``, then the changelog records of every customer touched in the batch
(``PartitionState.take_dirty``: state_to_json + json.dumps). Kafka produce/commit and metrics are left out,
so the figures are the worker's pure-Python cost per event. Prints a split of the time (handle vs
changelog encoding) and the cProfile top N.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cid, contact_json, hardware, profile_json, tx_json


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--contact-share", type=float, default=0.03)
    ap.add_argument("--days", type=float, default=14.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    ap.add_argument("--no-profile", action="store_true", help="timing split only")
    ap.add_argument("--memory", action="store_true", help="tracemalloc: bytes of Python objects per customer")
    args = ap.parse_args()

    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from streams.processor import Processor
    from streams.worker.state_store import PartitionState

    print(hardware())
    t = time.perf_counter()
    msgs = synthetic(args.customers, args.events, args.contact_share, args.days, args.seed, "prof")
    print(
        f"generated {len(msgs):,} events for {args.customers:,} customers in {time.perf_counter() - t:.1f}s"
    )
    settings = load_settings()
    engine = RiskEngine(settings.detection)
    parts = {p: PartitionState(engine) for p in range(args.partitions)}
    procs = {p: Processor(engine, s) for p, s in parts.items()}
    topic = {
        "transaction": "transactions",
        "contact_change": "contact-changes",
        "customer_profile": "customer-profiles",
    }

    timing = {"handle": 0.0, "emit": 0.0, "changelog": 0.0, "gc": 0.0}
    changelog_bytes = 0
    changelog_records = 0
    alerts = 0

    def run() -> None:
        nonlocal changelog_bytes, changelog_records, alerts
        pc = time.perf_counter
        for b in range(0, len(msgs), args.batch):
            batch = msgs[b : b + args.batch]
            t0 = pc()
            results = []
            for k, (key, value, etype) in enumerate(batch):
                p = hash(key) % args.partitions
                results.append(
                    procs[p].handle(
                        value, source=topic[etype], partition=p, offset=b + k, key=key, expected_type=etype
                    )
                )
            t1 = pc()
            for r in results:
                for a in r.alerts:
                    a.model_dump_json().encode()
                    alerts += 1
                if r.risk is not None:
                    r.risk.model_dump_json().encode()
            t2 = pc()
            for store in parts.values():
                for _cid, blob in store.take_dirty():
                    changelog_bytes += len(blob)
                    changelog_records += 1
            t3 = pc()
            # as the worker does after each committed batch: young cycles out, survivors frozen
            gc.collect(1)
            gc.freeze()
            t4 = pc()
            timing["handle"] += t1 - t0
            timing["emit"] += t2 - t1
            timing["changelog"] += t3 - t2
            timing["gc"] += t4 - t3

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
    customers = sum(len(s) for s in parts.values())
    print()
    print(
        f"{'per-event cost of the worker batch body' + (' (under cProfile)' if prof else ''):<48}{'us/event':>10}{'share':>8}"
    )
    print("-" * 66)
    tot = sum(timing.values())
    for k, label in (
        ("handle", "Processor.handle (parse + detectors)"),
        ("emit", "alerts/risk model_dump_json"),
        ("changelog", "changelog: take_dirty (state_to_json+dumps)"),
        ("gc", "gc.collect(1) + gc.freeze() per batch"),
    ):
        print(f"{label:<48}{1e6 * timing[k] / n:>10.1f}{100 * timing[k] / tot:>7.0f}%")
    print(f"{'total':<48}{1e6 * tot / n:>10.1f}   -> {n / tot:,.0f} events/s on one core")
    print(
        f"changelog: {changelog_records:,} records for {n:,} events ({changelog_records / n:.2f}/event), "
        f"{changelog_bytes / 2**20:,.0f} MiB, {changelog_bytes / max(1, changelog_records):,.0f} B/record; "
        f"alerts {alerts:,}; customers {customers:,}"
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
