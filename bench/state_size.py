"""Customer state at scale: changelog bytes, resident memory and cost per event at 10k / 100k / 1M customers.

Run by hand (never by pytest); no broker needed:

    .venv/bin/python bench/state_size.py                                  # 10k, 100k, 1M customers
    .venv/bin/python bench/state_size.py --sizes 10000,100000 --budget-mib 500
    .venv/bin/python bench/state_size.py --max-decoded 9000     # a count per partition (faust) instead
    .venv/bin/python bench/state_size.py --codec --reuse-sample           # the codec, part by part
    .venv/bin/python bench/state_size.py --codec --synthetic 10000 --workdir tmp/sparse  # ... on sparse states

1. ``riskwatch generate`` writes --sample customers' traffic (--history-days of history, then --days); the
   events before the last --measure-days are run through the worker's ``Processor`` to build each sample
   customer's state as the generator's traffic leaves it, and their changelog records are taken.
2. For each size, a fresh interpreter holds that many customers the way a worker holds a restored
   partition: customer ``k`` is sample customer ``k % sample`` under its own id (its record re-encoded, so
   every customer has bytes of its own), spread over --partitions ``PartitionState``s, as many decoded as
   the worker's state memory budget holds (--budget-mib; or --max-decoded per partition, a count). Reported: the resident memory (RSS) they add, per customer ("RSS B/cust",
   all held encoded), and again once the decoded cache is full of customers drawn at random ("warm
   B/cust", "decoded" of them), as uniform traffic leaves a worker that has run a while.
3. Then --events events of the sample's last --measure-days (each clone continues its own sample
   customer's traffic in order, clones drawn at random) go through ``Processor.handle`` with the changelog
   records of every changed customer taken once per --batch events (``take_dirty``), as the worker's
   batch does without Kafka. Reported: the cost per event (wall and CPU), how many events found their
   customer decoded ("hit share"), and the RSS per customer after them. The store's estimates of a record's
   and a decoded customer's memory are printed beside the resident memory measured (their calibration);
   --breakdown splits the CPU per event into decode, encode, eviction, the batch's collection and the rest.

With --codec, only the sample's states (step 1) are used: decoding and encoding them is timed (CPU time
per customer, best of --codec-rounds passes, the collector off) as a whole and part by part (the zstd
frame, each part of the JSON section parsed and built into objects, the id and money columns), and
each part of a decoded customer is sized (the bytes of its objects, ``sys.getsizeof`` over what it
refers to).

The box is shared (see ``loadavg``): the figures are noisy, compare runs taken together.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
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


def build_synthetic_sample(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The states the worker bench's sparse traffic leaves (``bench/worker_profile.py``'s generator: a
    profile, then --synthetic-events per customer on average, of --synthetic customers), as the sample:
    the decode a worker does on a miss at 100k customers and beyond."""
    from worker_profile import synthetic

    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from detectors.state_codec import StateCodec
    from streams.processor import MemoryStateStore, Processor

    n = args.synthetic
    msgs = synthetic(n, n * (args.synthetic_events + 1), 0.03, 14.0, args.seed, "size")
    engine = RiskEngine(load_settings().detection)
    codec = StateCodec(engine)
    store = MemoryStateStore()
    processor = Processor(engine, store)
    for offset, (_, value, _) in enumerate(msgs):
        processor.handle(value, source="sample", offset=offset)
    customers = sorted(store.states)
    records = [codec.encode(store.states[c]) for c in customers]
    with _records_path(workdir).open("wb") as out:
        for c, record in zip(customers, records, strict=True):
            out.write(struct.pack("<III", len(c.encode()), len(record), 0))
            out.write(c.encode() + record)
    sizes = [len(r) for r in records]
    return {
        "customers": len(customers),
        "history_events": len(msgs),
        "later_events": 0,
        "record_mean": statistics.mean(sizes),
        "record_p50": statistics.median(sizes),
        "record_p90": sorted(sizes)[int(0.9 * len(sizes))],
        "record_max": max(sizes),
        "json_mean": 0.0,
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
    from streams.worker.state_store import PartitionState, evict_to_budget

    engine = RiskEngine(load_settings().detection)
    codec = StateCodec(engine)
    sample = read_sample(workdir)
    # the sample's states once: a clone is the state under its own id, encoded (bytes of its own)
    states = [codec.decode(record) for _, record, _ in sample]
    # the worker's bound (a memory budget over all partitions), or a count per partition (--max-decoded)
    parts = [PartitionState(engine, args.max_decoded or None) for _ in range(args.partitions)]
    budget = None if args.max_decoded else args.budget_mib << 20

    def evict() -> None:
        if budget is not None:
            evict_to_budget(parts, budget)

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
    # traffic leaves it (at most --max-decoded per partition, or what the budget holds)
    rng = random.Random(args.seed)
    most = customers if budget is not None else min(customers, args.max_decoded * args.partitions)
    for warm, k in enumerate(rng.sample(range(customers), most), start=1):
        parts[k % args.partitions].get(clone_id(k))
        if (
            budget is not None
            and warm % 1000 == 0
            and sum(p.record_bytes + p.decoded_bytes for p in parts) >= budget
        ):
            break
    evict()
    decoded_warm = sum(len(p.states) for p in parts)
    estimated = {"record": sum(p.record_bytes for p in parts) / customers}
    estimated["decoded"] = sum(p.decoded_bytes for p in parts) / max(1, decoded_warm)
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
    spent = _Spent(parts) if args.breakdown else None
    if not args.automatic_collector:
        gc.disable()  # as the worker runs a batch (streams/worker/batch.py, collector_paused)
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
            t_dirty = time.thread_time()
            for part in parts:
                part.take_dirty()
            evict()
            t_gc = time.thread_time()
            gc.collect(1)
            gc.freeze()
            if spent is not None:
                spent.take_dirty += t_gc - t_dirty
                spent.collector += time.thread_time() - t_gc
    for part in parts:
        part.take_dirty()
    evict()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    gc.enable()
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
        "decoded_warm": decoded_warm,
        "estimated_bytes": estimated,
        "measured_bytes": {
            "record": (rss1 - rss0) * 1024 / customers,
            "decoded": (rss_warm - rss1) * 1024 / max(1, decoded_warm),
        },
        "load_s": load_s,
        "events": len(todo),
        "alerts": alerts,
        "decoded_hit_share": decoded_hits / len(todo),
        "us_per_event_wall": wall / len(todo) * 1e6,
        "us_per_event_cpu": cpu / len(todo) * 1e6,
        "breakdown_us_per_event": None if spent is None else spent.per_event(len(todo), cpu),
    }


class _Spent:
    """--breakdown: CPU time per event spent decoding, encoding, evicting (the rest of ``take_dirty``), in
    the batch's collection, and the rest (``Processor.handle`` on a decoded customer). Timing each call adds
    ~1 us per call, so the parts are a little larger than without it."""

    def __init__(self, parts: list[Any]) -> None:
        self.decode = self.encode = self.take_dirty = self.collector = 0.0
        for part in parts:
            part.codec = _TimedCodec(part.codec, self)

    def per_event(self, events: int, cpu: float) -> dict[str, float]:
        evict = self.take_dirty - self.encode
        rest = cpu - self.decode - self.take_dirty - self.collector
        parts = {"decode": self.decode, "encode": self.encode, "evict": evict}
        parts |= {"collector": self.collector, "rest": rest}
        return {name: round(t / events * 1e6, 1) for name, t in parts.items()}


class _TimedCodec:
    def __init__(self, codec: Any, spent: _Spent) -> None:
        self.codec, self.spent = codec, spent

    def decode(self, raw: bytes) -> Any:
        t = time.thread_time()
        state = self.codec.decode(raw)
        self.spent.decode += time.thread_time() - t
        return state

    def encode(self, state: Any) -> bytes:
        t = time.thread_time()
        raw: bytes = self.codec.encode(state)
        self.spent.encode += time.thread_time() - t
        return raw


# ----------------------------------------------------------------------------------- --codec: per part
def _deep_size(obj: Any, seen: set[int]) -> int:
    """Bytes of ``obj`` and of everything it refers to not already in ``seen`` (classes, modules and
    interned singletons aside): what holding it decoded costs."""
    import types

    total = 0
    todo = [obj]
    while todo:
        o = todo.pop()
        if id(o) in seen or o is None or isinstance(o, (type, types.ModuleType, bool)):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        todo.extend(gc.get_referents(o))
    return total


def codec_parts(args: argparse.Namespace, workdir: Path) -> None:
    """Where decoding, encoding and a decoded customer's memory go, part by part, over the sample's
    states (their records re-encoded by this version): CPU time per customer with the collector off."""
    import orjson

    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from detectors.riskbook import Book
    from detectors.state_codec import StateCodec

    engine = RiskEngine(load_settings().detection)
    codec = StateCodec(engine)
    states = [codec.decode(record) for _, record, _ in read_sample(workdir)]
    records = [codec.encode(s) for s in states]
    n = len(records)
    rounds = args.codec_rounds

    def timed(fn: Any) -> float:
        """µs per customer, best of ``rounds`` passes over every state."""
        best = math.inf
        for _ in range(rounds):
            t0 = time.process_time()
            fn()
            best = min(best, time.process_time() - t0)
        return best / n * 1e6

    gc.collect()
    gc.disable()
    rows: list[tuple[str, float, float, float]] = []  # part, decode µs, encode µs, bytes held
    decode_all = timed(lambda: [codec.decode(r) for r in records])
    encode_all = timed(lambda: [codec.encode(s) for s in states])
    bodies = [codec.body(s) for s in states]
    decompress = timed(lambda: [codec._decompressor.decompress(r[1:]) for r in records])
    compress = timed(lambda: [codec._compressor.compress(b) for b in bodies])
    rows.append(("zstd (de)compression", decompress, compress, 0.0))

    # the JSON part, split into what opens it and each detector's part
    heads = [orjson.loads(_sections_of(codec, r)[0]) for r in records]
    parts: dict[str, list[Any]] = {
        "profile facts": [h[:9] for h in heads],
        "cooldowns": [h[9] for h in heads],
    }
    packing = [d for d in engine.detectors if d.state_bytes(states[0].detectors[d.name]) is not None]
    for d in engine.detectors:
        if d not in packing:
            parts[f"detector {d.name}"] = [h[10].get(d.name) for h in heads]
    parts["risk book"] = [h[13] for h in heads]
    builders: dict[str, Any] = {
        "cooldowns": lambda v: {k: [float(x[0]), float(x[1])] for k, x in v.items()},
        "risk book": Book.from_json,
        "profile facts": lambda v: codec._context(
            v, states[0].ctx.debit_baseline, states[0].ctx.counterparties
        ),
    }
    for d in engine.detectors:
        builders[f"detector {d.name}"] = lambda v, d=d: (
            d.state_from_json(v) if v is not None else d.new_state()
        )
    # the detectors that pack their state (format 9's last section): the bytes of each, per record
    packed: dict[str, list[memoryview]] = {d.name: [] for d in packing}
    for h, r in zip(heads, records, strict=True):
        at, last = 0, _sections_of(codec, r)[8]
        for name, size in h[11]:
            packed[name].append(last[at : at + size])
            at += size
    viewers: dict[str, Any] = {
        "profile facts": lambda s: [
            s.ctx.customer_id,
            s.ctx.tier,
            s.ctx.segment,
            s.ctx.home_country,
            s.ctx.score,
            s.ctx.factors,
            s.ctx.has_profile,
            s.ctx.profile_ts,
            s.ctx.first_tx_ts,
        ],
        "cooldowns": lambda s: s.cooldowns,
        "risk book": lambda s: s.book.to_json(),
    }
    for d in engine.detectors:
        viewers[f"detector {d.name}"] = lambda s, d=d: d.state_view(s.detectors[d.name])
    held: dict[str, Any] = {
        "profile facts": lambda s: s.ctx,  # the context's own fields (its baseline and payees below)
        "cooldowns": lambda s: s.cooldowns,
        "risk book": lambda s: s.book,
    }
    for d in engine.detectors:
        held[f"detector {d.name}"] = lambda s, d=d: s.detectors[d.name]
    blobs = {name: [orjson.dumps(v) for v in values] for name, values in parts.items()}
    # shared objects (the context's baseline and payees, cached strings) are counted where first met
    sizes: dict[str, float] = {}
    for part_name, get in [
        ("seen ids", lambda s: s.seen),
        ("debit baseline", lambda s: s.ctx.debit_baseline),
        ("payees", lambda s: s.ctx.counterparties),
        *held.items(),
    ]:
        sizes[part_name] = statistics.mean(
            _deep_size(
                get(s),
                {id(s.ctx.debit_baseline), id(s.ctx.counterparties)}
                if part_name == "profile facts"
                else set(),
            )
            for s in states
        )
    sizes["the state object"] = statistics.mean(sys.getsizeof(s) + sys.getsizeof(s.detectors) for s in states)
    whole = statistics.mean(_deep_size(s, set()) for s in states)

    for d in packing:
        name = f"detector {d.name}"
        unpack = timed(lambda d=d: [d.state_from_bytes(x) for x in packed[d.name]])
        pack = timed(lambda d=d: [d.state_bytes(s.detectors[d.name]) for s in states])
        rows.append((f"{name}: from/to bytes", unpack, pack, sizes[name]))
    for name, values in parts.items():
        parse = timed(lambda b=blobs[name]: [orjson.loads(x) for x in b])
        build = timed(lambda v=values, f=builders[name]: [f(x) for x in v])
        dump = timed(lambda f=viewers[name]: [orjson.dumps(f(s)) for s in states])
        rows.append((f"{name}: parse JSON", parse, dump, 0.0))
        rows.append((f"{name}: build objects", build, 0.0, sizes[name]))

    sections = [_sections_of(codec, r) for r in records]
    rows.append(
        (
            "seen ids",
            timed(lambda: [_seen(codec, x) for x in sections]),
            timed(lambda: [(s.seen.text.encode(), s.seen.fingerprints_bytes()) for s in states]),
            sizes["seen ids"],
        )
    )
    rows.append(
        (
            "debit baseline",
            timed(lambda: [_baseline(codec, x) for x in sections]),
            timed(
                lambda: [
                    (
                        s.ctx.debit_baseline.ids_text.encode(),
                        _money(
                            s.ctx.debit_baseline.amounts if s.ctx.debit_baseline.in_cents() is None else (),
                            s.ctx.debit_baseline.in_cents(),
                        ),
                    )
                    for s in states
                ]
            ),
            sizes["debit baseline"],
        )
    )
    rows.append(
        (
            "payees",
            timed(lambda: [_payees(codec, x) for x in sections]),
            timed(lambda: [_payee_cols(s) for s in states]),
            sizes["payees"],
        )
    )
    rows.append(("the state object", 0.0, 0.0, sizes["the state object"]))
    gc.enable()

    print(f"{n} states, CPU µs per customer (best of {rounds} passes), collector off; {hardware()}")
    print(
        f"decode {decode_all:.1f} µs, encode {encode_all:.1f} µs, record {statistics.mean(map(len, records)):.0f} B "
        f"(median {statistics.median(map(len, records)):.0f}), decoded {whole:,.0f} B per customer"
    )
    print(f"{'part':<44} {'decode µs':>9} {'encode µs':>9} {'bytes held':>10}")
    for name, dec, enc, held_b in rows:
        print(f"{name:<44} {dec:>9.1f} {enc:>9.1f} {held_b:>10,.0f}")


def _sections_of(codec: Any, record: bytes) -> list[Any]:
    return codec.sections(record)


def _seen(codec: Any, sections: list[Any]) -> Any:
    from detectors.state import SeenEvents

    seen = SeenEvents(codec._max_ids)
    seen.restore_text(str(sections[1], "utf-8"), bytes(sections[2]))
    return seen


def _baseline(codec: Any, sections: list[Any]) -> Any:
    from detectors.context import DebitBaseline
    from detectors.state_codec import _money_as_held

    baseline = DebitBaseline(codec._max_debits)
    baseline.restore_text(str(sections[3], "utf-8"), *_money_as_held(sections[4]))
    return baseline


def _money(values: Any, in_cents: Any) -> bytes:
    from detectors.state_codec import _money_column

    return _money_column(values, in_cents)


def _payees(codec: Any, sections: list[Any]) -> Any:
    from detectors.columns import from_column
    from detectors.payees import Payees
    from detectors.state_codec import _money_as_held

    largest, largest_cents = _money_as_held(sections[7])
    return Payees(
        codec._max_counterparties,
        str(sections[5], "utf-8"),
        from_column("d", sections[6]),
        largest,
        largest_cents,
    )


def _payee_cols(state: Any) -> Any:
    from detectors.columns import column
    from detectors.state_codec import _payee_money

    p = state.ctx.counterparties
    return p.text.encode(), column(p.counts), _payee_money(p)


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
        "--max-decoded",
        type=int,
        default=0,
        help="customers kept decoded per partition (the faust runtime's bound) instead of --budget-mib",
    )
    ap.add_argument(
        "--budget-mib",
        type=int,
        default=None,
        help="the state memory budget over all partitions (default: the worker's setting)",
    )
    ap.add_argument("--workdir", type=Path, default=REPO / "tmp" / "state_size")
    ap.add_argument(
        "--reuse-sample", action="store_true", help="use the sample of an earlier run in --workdir as it is"
    )
    ap.add_argument(
        "--codec",
        action="store_true",
        help="only time decoding and encoding the sample's states and size them decoded, part by part",
    )
    ap.add_argument("--codec-rounds", type=int, default=5, help="passes over the sample per figure (best)")
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="also time decode, encode, eviction and the collector per event (CPU, adds ~1 us a call)",
    )
    ap.add_argument(
        "--automatic-collector",
        action="store_true",
        help="keep the cyclic collector's automatic runs on while events run (the worker before 2026-11-30)",
    )
    ap.add_argument(
        "--synthetic",
        type=int,
        help="the sample: this many customers of the worker bench's sparse traffic (for --codec)",
    )
    ap.add_argument("--synthetic-events", type=int, default=9, help="events per customer after its profile")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.budget_mib is None:
        from config.settings import load_settings

        args.budget_mib = load_settings().worker.state_memory_budget_mib
    if args.one is not None:
        print(json.dumps(one_size(args, args.workdir, args.one)))
        return
    print(hardware())
    args.workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    summary = args.workdir / "sample.json"
    if not (args.reuse_sample and summary.exists()):
        build = build_sample if args.synthetic is None else build_synthetic_sample
        summary.write_text(json.dumps(build(args, args.workdir)))
    sample = json.loads(summary.read_text())
    if args.codec:
        codec_parts(args, args.workdir)
        return
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
        for name in ("seed", "events", "batch", "partitions", "max_decoded", "budget_mib"):
            cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        cmd += ["--breakdown"] if args.breakdown else []
        cmd += ["--automatic-collector"] if args.automatic_collector else []
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
        est, got = r["estimated_bytes"], r["measured_bytes"]
        print(
            f"{'':>10} bytes per record / per decoded customer: estimated {est['record']:.0f} / "
            f"{est['decoded']:.0f}, resident {got['record']:.0f} / {got['decoded']:.0f}",
            flush=True,
        )
        if r["breakdown_us_per_event"]:
            print(f"{'':>10} CPU us per event: {r['breakdown_us_per_event']}", flush=True)
    bound = (
        f"max {args.max_decoded:,} decoded customers per partition"
        if args.max_decoded
        else f"state memory budget {args.budget_mib:,} MiB"
    )
    print(f"({bound}, {args.partitions} partitions; {hardware()})")


if __name__ == "__main__":
    main()
