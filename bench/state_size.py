"""Customer state at scale: changelog bytes, resident memory and cost per event at 10k / 100k / 1M customers.

Run by hand (never by pytest); no broker needed:

    .venv/bin/python bench/state_size.py                                  # 10k, 100k, 1M customers
    .venv/bin/python bench/state_size.py --sizes 10000,100000 --max-decoded 2000

1. ``riskwatch generate`` writes --sample customers' traffic (--history-days of history, then --days); the
   events before the last --measure-days are run through the worker's ``Processor`` to build each sample
   customer's state as the generator's traffic leaves it, and their changelog records are taken.
2. For each size, a fresh interpreter holds that many customers the way a worker holds a restored
   partition: customer ``k`` is sample customer ``k % sample`` under its own id (its record re-encoded, so
   every customer has bytes of its own), spread over --partitions ``PartitionState``s at most
   --max-decoded decoded each. Reported: the resident memory (RSS) they add, per customer ("RSS B/cust",
   all held encoded), and again once the decoded cache is full of customers drawn at random ("warm
   B/cust", "decoded" of them), as uniform traffic leaves a worker that has run a while.
3. Then --events events of the sample's last --measure-days (each clone continues its own sample
   customer's traffic in order, clones drawn at random) go through ``Processor.handle`` with the changelog
   records of every changed customer taken once per --batch events (``take_dirty``), as the worker's
   batch does without Kafka. Reported: the cost per event (wall and CPU), how many events found their
   customer decoded ("hit share"), and the RSS per customer after them.

The box is shared (see ``loadavg``): the figures are noisy, compare runs taken together.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, generate_events, hardware, proc_status_kib

DAY = 86400.0


def _records_path(workdir: Path) -> Path:
    return workdir / "sample.bin"


def build_sample(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Generate and run the sample's history; write each sample customer's record and later events."""
    import orjson

    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from detectors.state_codec import StateCodec
    from streams.processor import MemoryStateStore, Processor

    events = workdir / "sample.jsonl"
    lines = generate_events(events, args.sample, args.days, args.history_days, args.seed)
    end = max(orjson.loads(line)["timestamp"] for line in lines[-50:])
    from datetime import datetime

    cutoff = datetime.fromisoformat(end).timestamp() - args.measure_days * DAY
    engine = RiskEngine(load_settings().detection)
    codec = StateCodec(engine)
    store = MemoryStateStore()
    processor = Processor(engine, store)
    later: dict[str, list[bytes]] = defaultdict(list)
    history = 0
    for offset, line in enumerate(lines):
        event = orjson.loads(line)
        if datetime.fromisoformat(event["timestamp"]).timestamp() >= cutoff:
            later[event["customer_id"]].append(line)
            continue
        processor.handle(line, source="sample", offset=offset)
        history += 1
    customers = sorted(store.states)
    records = [codec.encode(store.states[c]) for c in customers]
    json_sizes = [len(orjson.dumps(engine.state_to_json(store.states[c]))) for c in customers]
    with _records_path(workdir).open("wb") as out:
        for c, record in zip(customers, records, strict=True):
            tail = b"\n".join(later.get(c, []))
            out.write(struct.pack("<III", len(c.encode()), len(record), len(tail)))
            out.write(c.encode() + record + tail)
    sizes = [len(r) for r in records]
    return {
        "customers": len(customers),
        "history_events": history,
        "later_events": sum(len(v) for v in later.values()),
        "record_mean": statistics.mean(sizes),
        "record_p50": statistics.median(sizes),
        "record_p90": sorted(sizes)[int(0.9 * len(sizes))],
        "record_max": max(sizes),
        "json_mean": statistics.mean(json_sizes),
    }


def read_sample(workdir: Path) -> list[tuple[str, bytes, list[bytes]]]:
    data = _records_path(workdir).read_bytes()
    out, i = [], 0
    while i < len(data):
        n_c, n_r, n_t = struct.unpack_from("<III", data, i)
        i += 12
        c = data[i : i + n_c].decode()
        record = data[i + n_c : i + n_c + n_r]
        tail = data[i + n_c + n_r : i + n_c + n_r + n_t]
        i += n_c + n_r + n_t
        out.append((c, record, tail.split(b"\n") if tail else []))
    return out


def clone_id(k: int) -> str:
    return f"X{k:07d}"


def one_size(args: argparse.Namespace, workdir: Path, customers: int) -> dict[str, Any]:
    """Runs in a fresh interpreter: hold ``customers`` customers, then process events; report."""
    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from detectors.state_codec import StateCodec
    from streams.processor import Processor
    from streams.worker.state_store import PartitionState

    engine = RiskEngine(load_settings().detection)
    codec = StateCodec(engine)
    sample = read_sample(workdir)
    # the sample's states once: a clone is the state under its own id, encoded (bytes of its own)
    states = [codec.decode(record) for _, record, _ in sample]
    parts = [PartitionState(engine, args.max_decoded) for _ in range(args.partitions)]
    gc.collect()
    gc.freeze()
    rss0 = proc_status_kib(os.getpid())
    record_bytes = 0
    t0 = time.perf_counter()
    for k in range(customers):
        state = states[k % len(states)]
        cid = state.ctx.customer_id = clone_id(k)
        record = codec.encode(state)
        record_bytes += len(record)
        parts[k % args.partitions].load(cid, record)
    load_s = time.perf_counter() - t0
    del states
    gc.collect()
    gc.freeze()
    rss1 = proc_status_kib(os.getpid())

    # a worker that has run a while: its decoded cache full of customers drawn at random, as uniform
    # traffic leaves it (at most --max-decoded per partition)
    rng = random.Random(args.seed)
    warm = rng.sample(range(customers), min(customers, args.max_decoded * args.partitions))
    for k in warm:
        parts[k % args.partitions].get(clone_id(k))
    gc.collect()
    gc.freeze()
    rss_warm = proc_status_kib(os.getpid())

    # events: each clone continues its sample customer's later traffic, clones drawn at random
    processor_of = [Processor(engine, p) for p in parts]
    cursor: dict[int, int] = {}
    todo: list[tuple[int, bytes]] = []
    while len(todo) < args.events:
        k = rng.randrange(customers)
        later = sample[k % len(sample)][2]
        i = cursor.get(k, 0)
        if i >= len(later):
            continue
        cursor[k] = i + 1
        original = sample[k % len(sample)][0]
        todo.append(
            (
                k,
                later[i].replace(
                    f'"customer_id":"{original}"'.encode(), f'"customer_id":"{clone_id(k)}"'.encode()
                ),
            )
        )
    decoded_hits = 0
    alerts = 0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for n, (k, line) in enumerate(todo, start=1):
        p = k % args.partitions
        if clone_id(k) in parts[p].states:
            decoded_hits += 1
        result = processor_of[p].handle(line, source="bench", partition=p, offset=n)
        if result.dead_letter is not None:
            raise RuntimeError(f"dead letter in the bench: {result.dead_letter.reason}")
        alerts += len(result.alerts)
        if n % args.batch == 0:
            for part in parts:
                part.take_dirty()
            gc.collect(1)
            gc.freeze()
    for part in parts:
        part.take_dirty()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    gc.collect()
    rss2 = proc_status_kib(os.getpid())
    return {
        "customers": customers,
        "record_bytes_mean": record_bytes / customers,
        "rss_kib_before": rss0,
        "rss_kib_held": rss1,
        "rss_bytes_per_customer": (rss1 - rss0) * 1024 / customers,
        "rss_kib_after_events": rss2,
        "rss_bytes_per_customer_after_events": (rss2 - rss0) * 1024 / customers,
        "decoded_after_events": sum(len(p.states) for p in parts),
        "rss_bytes_per_customer_warm": (rss_warm - rss0) * 1024 / customers,
        "decoded_warm": len(warm),
        "load_s": load_s,
        "events": len(todo),
        "alerts": alerts,
        "decoded_hit_share": decoded_hits / len(todo),
        "us_per_event_wall": wall / len(todo) * 1e6,
        "us_per_event_cpu": cpu / len(todo) * 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--sample", type=int, default=1000, help="customers with generated history")
    ap.add_argument("--history-days", type=int, default=30)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--measure-days", type=float, default=5.0, help="the sample's last days, kept for step 3")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=500, help="events per batch (one take_dirty)")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument(
        "--max-decoded", type=int, default=None, help="per partition (default: the worker's setting)"
    )
    ap.add_argument("--workdir", type=Path, default=REPO / "tmp" / "state_size")
    ap.add_argument(
        "--reuse-sample", action="store_true", help="use the sample of an earlier run in --workdir as it is"
    )
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.max_decoded is None:
        from config.settings import load_settings

        args.max_decoded = load_settings().worker.max_decoded_customers_per_partition
    if args.one is not None:
        print(json.dumps(one_size(args, args.workdir, args.one)))
        return
    print(hardware())
    args.workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    summary = args.workdir / "sample.json"
    if not (args.reuse_sample and summary.exists()):
        summary.write_text(json.dumps(build_sample(args, args.workdir)))
    sample = json.loads(summary.read_text())
    print(
        f"sample: {sample['customers']:,} customers, {sample['history_events']:,} events of history "
        f"({time.perf_counter() - t0:.0f}s); changelog record per customer: mean {sample['record_mean']:.0f} B, "
        f"p50 {sample['record_p50']:.0f}, p90 {sample['record_p90']}, max {sample['record_max']} "
        f"(the same states as state_to_json JSON: mean {sample['json_mean']:.0f} B)"
    )
    print(
        f"{'customers':>10} {'record B':>9} {'RSS B/cust':>11} {'decoded':>8} {'warm B/cust':>11} "
        f"{'after events':>13} {'hit share':>9} {'us/event':>9} {'cpu us/ev':>9} {'load s':>7}"
    )
    for size in [int(s) for s in args.sizes.split(",")]:
        cmd = [sys.executable, __file__, "--one", str(size), "--workdir", str(args.workdir)]
        for name in ("seed", "events", "batch", "partitions", "max_decoded"):
            cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{size:>10,} {r['record_bytes_mean']:>9.0f} {r['rss_bytes_per_customer']:>11.0f} "
            f"{r['decoded_warm']:>8,} {r['rss_bytes_per_customer_warm']:>11.0f} "
            f"{r['rss_bytes_per_customer_after_events']:>13.0f} "
            f"{r['decoded_hit_share']:>9.2f} {r['us_per_event_wall']:>9.1f} {r['us_per_event_cpu']:>9.1f} "
            f"{r['load_s']:>7.1f}",
            flush=True,
        )
    print(
        f"(max {args.max_decoded:,} decoded customers per partition, {args.partitions} partitions; {hardware()})"
    )


if __name__ == "__main__":
    main()
