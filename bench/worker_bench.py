"""The riskwatch worker against the real broker of `riskwatch stack up`: throughput, memory, latency.

Run by hand (never by pytest), with the stack's variables exported (own ports!):

    export RISKWATCH_STACK__KAFKA_PORT=59092 RISKWATCH_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:59092 \
           RISKWATCH_WORKER__METRICS_PORT=59464 ...
    /tmp/rwvenv/bin/python bench/worker_bench.py                         # full: 1M events, 100k customers
    /tmp/rwvenv/bin/python bench/worker_bench.py --events 100000 --customers 10000 \
        --latency-seconds 10 --bare-repeats 1                             # quick

Phases, in one run, over fresh topics (6 partitions) and fresh consumer groups:
  1. preload: a fast seeded synthetic producer (profiles first, then transactions and contact changes in
     event-time order; keyed by customer_id, murmur2_random).
  2. ceiling: a bare confluent-kafka consume(2000) -> produce -> commit loop over the same input topics,
     plain (async commit) and transactional (one transaction per batch, as the worker does).
  3. idle worker on empty topics: baseline RSS.
  4. one `riskwatch worker` subprocess from offset 0: time until the group's committed offsets reach the
     end of every input partition; RSS at the end -> bytes per customer; CPU seconds per event.
  5. latency: the worker caught up, a paced producer offers R events/s for N s; a known share are cash
     deposits >= 50,000 CNY (a `large_value` alert each); a read_committed consumer on the alerts topic
     matches alerts by their completing trigger event id. Then the worker is restarted with a batch
     linger (--linger-ms; state restored from the changelog: the restore time is reported) and latency measured again.
Results: a table on stdout, JSON in --workdir/worker-results.json, topic names in --workdir/manifest.json
(bench/faust_overhead.py reuses the preloaded topics from it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib
from collections.abc import Callable

import latency_parts
from _common import (
    BenchTopics,
    ChildProc,
    CommittedProgress,
    CpuWatch,
    EventClock,
    bare_loop,
    cid,
    create_topics,
    delete_topics,
    hardware,
    high_watermarks,
    kafka_conf,
    kafka_pid,
    loadavg,
    log,
    make_bench_topics,
    preload,
    proc_cpu_seconds,
    proc_status_kib,
    quiet,
    rate_between,
    save_json,
    tx_json,
    wait_committed,
)
from confluent_kafka import Consumer, Producer, TopicPartition

from config.settings import WorkerSettings


# ------------------------------------------------------------------------------------ worker process
class WorkerProc(ChildProc):
    """``riskwatch worker`` on the benchmark's topics and consumer group, metrics on ``port``."""

    name = "worker"

    def __init__(
        self,
        topics: BenchTopics,
        group: str,
        instance: str,
        port: int,
        logdir: Path,
        extra_env: dict[str, str],
        trace: bool = False,
    ) -> None:
        self.port = port
        self.env = extra_env
        tag = uuid.uuid4().hex[:4]
        # bench/batch_trace.py: the same worker, each batch's timeline written to this file
        self.trace: Path | None = logdir / f"trace-{instance}-{tag}.jsonl" if trace else None
        command = (
            [sys.executable, str(Path(__file__).resolve().parent / "batch_trace.py"), str(self.trace)]
            if self.trace
            else [sys.executable, "-m", "streams.cli"]
        )
        env = {
            **os.environ,
            **topics.env(),
            "RISKWATCH_KAFKA__CONSUMER_GROUP": group,
            "RISKWATCH_WORKER__METRICS_PORT": str(port),
            **extra_env,
        }
        super().__init__(
            [*command, "worker", "--instance-id", instance], env, logdir / f"worker-{instance}-{tag}.log"
        )

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while not self.ready():
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready after {timeout}s:\n{self.tail()}")
            time.sleep(0.05)
        return time.monotonic() - self.started

    def metrics(self) -> dict[str, float]:
        """Flat name{labels} -> value of the worker's /metrics."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                with contextlib.suppress(ValueError):
                    out[k] = float(v)
        return out

    def rss_mib(self) -> float:
        return proc_status_kib(self.pid, "VmRSS") / 1024.0

    def hwm_mib(self) -> float:
        return proc_status_kib(self.pid, "VmHWM") / 1024.0

    def cpu_s(self) -> float:
        return proc_cpu_seconds(self.pid)


class BareLoopProc(ChildProc):
    """``bench/bare_txn_loop.py``: the worker-shaped bare transactional loop, the latency floor."""

    name = "bare loop"

    def __init__(
        self, conf: dict, topics: BenchTopics, out: str, group: str, logdir: Path, extra_args: list[str]
    ) -> None:
        tag = uuid.uuid4().hex[:4]
        self.trace: Path | None = logdir / f"trace-bare-{tag}.jsonl"
        self.env = {"bare loop": " ".join(extra_args) or "defaults"}
        cmd = [
            sys.executable,
            str(Path(__file__).resolve().parent / "bare_txn_loop.py"),
            "--bootstrap",
            conf["bootstrap.servers"],
            "--inputs",
            ",".join(topics.inputs()),
            "--out",
            out,
            "--group",
            group,
            "--trace",
            str(self.trace),
            *extra_args,
        ]
        super().__init__(cmd, dict(os.environ), logdir / f"bare-{tag}.log")

    def metrics(self) -> dict[str, float]:
        return {}


def metric_delta(after: dict, before: dict, name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def batch_stats(after: dict, before: dict) -> dict:
    n = metric_delta(after, before, "riskwatch_batch_duration_seconds_count")
    dur = metric_delta(after, before, "riskwatch_batch_duration_seconds_sum")
    size = metric_delta(after, before, "riskwatch_batch_size_messages_sum")
    state = metric_delta(after, before, "riskwatch_state_changelog_bytes_total")
    commit = metric_delta(after, before, "riskwatch_transaction_commit_seconds_sum")
    return {
        "batches": n,
        "mean_batch_size": size / n if n else 0.0,
        "mean_batch_ms": 1000 * dur / n if n else 0.0,
        # of it, the offsets sent to the transaction and its commit (the rest: processing)
        "mean_commit_ms": 1000 * commit / n if n else 0.0,
        "state_bytes_written": state,
        "state_bytes_per_event": state / size if size else 0.0,
    }


# ----------------------------------------------------------------------------------------- latency
KEPT_UP_DRAIN_SECONDS = 1.0
BACKLOG_SAMPLE_SECONDS = 0.25


def percentile(sorted_vals: list[float], q: float) -> float:
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, round(q / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def run_latency(
    conf: dict,
    topics: BenchTopics,
    worker: WorkerProc | BareLoopProc,
    progress: CommittedProgress,
    *,
    customers: int,
    rate: float,
    seconds: float,
    trigger_share: float,
    seed: int,
    logdir: Path,
    grace: float = 120.0,
    label: str = "",
    event_clock: Callable[[], float] | None = None,
    output_topic: str | None = None,
) -> dict:
    """``rate`` events/s offered for ``seconds``, a share of them alert triggers; their latency from produced
    to the alert consumed, and how much of the offer the worker kept up with. Event times from
    ``event_clock`` (None: the wall clock). ``worker`` may be the bare loop, its ``output_topic`` carrying
    the input records themselves instead of alerts."""
    run_id = f"L{uuid.uuid4().hex[:6]}"
    event_time = event_clock or time.time
    rng = random.Random(seed)
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    detected: dict[str, float] = {}
    stop = threading.Event()

    out_topic = output_topic or topics.alerts
    marker = f'"{run_id}-x'.encode()
    alerts_hw = high_watermarks(conf, [out_topic], topics.partitions)
    reader = Consumer(
        quiet(
            {
                **conf,
                "group.id": f"bench-lat-{run_id}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 5,
                "fetch.min.bytes": 1,
            },
            "latency",
            logdir,
        )
    )
    reader.assign([TopicPartition(out_topic, p, alerts_hw[(out_topic, p)]) for p in range(topics.partitions)])
    other_alerts = [0]

    def read() -> None:
        # poll(), not consume(n, timeout): consume() returns only when n messages arrived or the timeout
        # passed, which added up to its timeout (50 ms) to every measured latency in earlier runs
        while not stop.is_set():
            m = reader.poll(0.05)
            if m is None:
                continue
            now = time.time()
            if m.error() is not None:
                continue
            if output_topic is not None:
                v = m.value() or b""
                if marker in v:
                    received.setdefault(json.loads(v)["event_id"], now)
                continue
            a = json.loads(m.value())
            ids = a.get("trigger_event_ids") or []
            if a.get("detector") == "large_value" and ids and ids[-1].startswith(run_id):
                received.setdefault(ids[-1], now)
                with contextlib.suppress(KeyError, ValueError):
                    detected.setdefault(ids[-1], datetime.fromisoformat(a["detected_at"]).timestamp())
            else:
                other_alerts[0] += 1

    th = threading.Thread(target=read, daemon=True)
    th.start()
    time.sleep(1.0)  # reader assigned and fetching before the first event

    producer = Producer(
        quiet(
            {
                **conf,
                "partitioner": "murmur2_random",
                "linger.ms": 1,
                "enable.idempotence": True,
                "queue.buffering.max.messages": 2_000_000,
            },
            "latency",
            logdir,
        )
    )
    m_before = worker.metrics()
    in_hw_before = sum(high_watermarks(conf, topics.inputs(), topics.partitions).values())
    cpu = CpuWatch({"worker": worker.pid, "broker": kafka_pid(), "bench": os.getpid()}, threads_of="worker")
    total = int(rate * seconds)
    # (seconds since the first event, events produced, events committed) while producing: the backlog
    backlog: list[tuple[float, int, int]] = []
    produced = [0]
    producing = threading.Event()
    producing.set()

    def watch_backlog() -> None:
        while producing.is_set():
            c = progress.total()
            if c is not None:
                backlog.append((time.monotonic() - t0, produced[0], c - in_hw_before))
            time.sleep(BACKLOG_SAMPLE_SECONDS)

    t0 = time.monotonic()
    t0_wall = time.time()
    watcher = threading.Thread(target=watch_backlog, daemon=True)
    watcher.start()
    i = 0
    n_trig = 0
    trig_every = max(1, round(1 / trigger_share)) if trigger_share > 0 else 0
    while i < total:
        due = min(total, int((time.monotonic() - t0) * rate) + 1)
        while i < due:
            c = rng.randrange(customers)
            ts = event_time()
            if trig_every and i % trig_every == trig_every // 2:
                eid = f"{run_id}-x{i}"
                v = tx_json(
                    rng, c, eid, ts, channel="cash", direction="credit", amount=rng.uniform(50_000, 60_000)
                )
                sent[eid] = time.time()
                n_trig += 1
            else:
                v = tx_json(rng, c, f"{run_id}-n{i}", ts)
            while True:
                try:
                    producer.produce(topics.transactions, key=cid(c).encode(), value=v.encode())
                    break
                except BufferError:
                    producer.poll(0.001)
            i += 1
        produced[0] = i
        producer.poll(0)
        time.sleep(0.001)
    produce_secs = time.monotonic() - t0
    producer.flush(60)
    producing.clear()
    watcher.join(15)
    offered = total / produce_secs
    target_total = in_hw_before + total
    try:
        wait_committed(progress, target_total, worker, timeout=grace, interval=0.1)
        caught_up_after = time.monotonic() - t0 - produce_secs
    except RuntimeError:
        caught_up_after = float("nan")
    # kept up: everything committed within KEPT_UP_DRAIN_SECONDS of the last event (a p99 over a backlog
    # that grows all run long says only how long the run was)
    kept_up = caught_up_after <= KEPT_UP_DRAIN_SECONDS
    # the rate the worker sustained: the offered events over the time until it had committed them all
    sustained = total / (produce_secs + caught_up_after) if caught_up_after == caught_up_after else 0.0
    # the second half of the run, past the start-up transient: committed / produced events per second
    half = [b for b in backlog if b[0] >= produce_secs / 2]
    second_half_share = (
        (half[-1][2] - half[0][2]) / (half[-1][1] - half[0][1])
        if len(half) >= 2 and half[-1][1] > half[0][1]
        else float("nan")
    )
    deadline = time.monotonic() + 10
    while len(received) < n_trig and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    th.join(5)
    reader.close()
    cpu_stats = cpu.stop()
    m_after = worker.metrics()
    trace = worker.trace
    parts = (
        latency_parts.decompose(latency_parts.read_trace(trace, t0_wall - 1.0), sent, received, detected)
        if trace
        else None
    )
    lat = sorted(1000.0 * (received[e] - sent[e]) for e in received if e in sent)
    # split at the worker's detected_at (its wall clock when it processed the trigger event)
    to_detect = sorted(1000.0 * (detected[e] - sent[e]) for e in detected if e in sent)
    after_detect = sorted(1000.0 * (received[e] - detected[e]) for e in detected if e in received)
    res = {
        "label": label,
        "worker_env": worker.env,
        "offered_rate": rate,
        "achieved_offer_rate": offered,
        "seconds": produce_secs,
        "events": total,
        "triggers": n_trig,
        "matched": len(lat),
        "missing": n_trig - len(lat),
        "kept_up": kept_up,
        "drain_after_produce_end_s": caught_up_after,
        "sustained_rate": sustained,
        "kept_up_share": sustained / offered if offered else float("nan"),
        "second_half_commit_share": second_half_share,
        "max_backlog_events": max((b[1] - b[2] for b in backlog), default=0),
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
        "max_ms": lat[-1] if lat else float("nan"),
        "mean_ms": statistics.fmean(lat) if lat else float("nan"),
        "produced_to_detected_ms": {q: percentile(to_detect, q) for q in (50, 95, 99)},
        "detected_to_consumed_ms": {q: percentile(after_detect, q) for q in (50, 95, 99)},
        "other_alerts": other_alerts[0],
        "batches": batch_stats(m_after, m_before),
        "cpu": cpu_stats,
        "worker_cpu_us_per_event": 1e6 * cpu_stats.get("worker_cpu_s", 0) / max(1, total),
        # where the CPU of an offered event went: the worker's Python thread and librdkafka's threads, the
        # broker (inputs, outputs, changelog, transactions) and this bench (producing, reading alerts)
        "cpu_us_per_event": cpu_per_event(cpu_stats, total),
        "loadavg": loadavg(),
        "decomposition": parts,
    }
    log(
        f"latency {label} @ {rate:,.0f}/s: p50={res['p50_ms']:.1f} p95={res['p95_ms']:.1f} "
        f"p99={res['p99_ms']:.1f} max={res['max_ms']:.1f} ms (to detected_at p50/p99 "
        f"{res['produced_to_detected_ms'][50]:.0f}/{res['produced_to_detected_ms'][99]:.0f}, after "
        f"{res['detected_to_consumed_ms'][50]:.0f}/{res['detected_to_consumed_ms'][99]:.0f}), matched {len(lat)}/{n_trig}; "
        f"offered {offered:,.0f}/s, sustained {sustained:,.0f}/s ({100 * res['kept_up_share']:.0f}%), "
        f"drained {caught_up_after:.1f} s after the last event, max backlog {res['max_backlog_events']:,}; "
        f"mean batch {res['batches']['mean_batch_size']:.0f} ev / {res['batches']['mean_batch_ms']:.1f} ms "
        f"(commit {res['batches']['mean_commit_ms']:.1f} ms); CPU us/event "
        + ", ".join(f"{k} {v:.0f}" for k, v in res["cpu_us_per_event"].items())
        + f"; load {res['loadavg']}"
    )
    if parts is not None:
        log(latency_parts.line(parts))
    return res


def cpu_per_event(cpu: dict[str, float], events: int) -> dict[str, float]:
    """CPU microseconds per event of each watched process (and the worker's kinds of thread)."""
    names = {
        "worker": "worker_cpu_s",
        "worker python": "worker_main_thread_cpu_s",
        "worker librdkafka": "worker_rdkafka_thread_cpu_s",
        "broker": "broker_cpu_s",
        "bench": "bench_cpu_s",
    }
    return {k: 1e6 * cpu[v] / max(1, events) for k, v in names.items() if v in cpu}


# ------------------------------------------------------------------------- phases, reused elsewhere
def run_bare(
    conf: dict, topics: BenchTopics, total: int, repeats: int, logdir: Path
) -> dict[str, list[dict]]:
    """The ceiling over the preloaded inputs: ``repeats`` x (plain, transactional) bare loops."""
    bare: dict[str, list[dict]] = {"plain": [], "transactional": []}
    for r in range(repeats):
        for kind in ("plain", "transactional"):
            out = f"{topics.transactions}-bare-out"
            create_topics(conf, {out: False}, topics.partitions)
            cw = CpuWatch({"broker": kafka_pid(), "bench": os.getpid()})
            res = bare_loop(
                conf, topics.inputs(), out, total, transactional=kind == "transactional", logdir=logdir
            )
            res["cpu"] = cw.stop()
            res["loadavg"] = loadavg()
            bare[kind].append(res)
            log(
                f"bare loop {kind} #{r + 1}: {res['events']:,} ev in {res['seconds']:.2f}s = "
                f"{res['events_per_second']:,.0f} ev/s, {res['cpu_us_per_event']:.1f} us CPU/ev, "
                f"others using {res['cpu']['others_cores']:.2f} cores, load {res['loadavg']}"
            )
    delete_topics(conf, [f"{topics.transactions}-bare-out"])
    return bare


def catch_up(
    worker: WorkerProc, progress: CommittedProgress, total: int, customers: int, idle_rss: float | None
) -> dict:
    """One worker (just spawned, fresh group) from offset 0 until its committed offsets reach ``total``:
    rates, CPU per event, RSS."""
    peak = {"rss": 0.0}

    def sample(now: float, c: int) -> None:
        peak["rss"] = max(peak["rss"], worker.rss_mib())

    cw = CpuWatch({"worker": worker.pid, "broker": kafka_pid(), "bench": os.getpid()}, threads_of="worker")
    t_spawn = worker.started
    ready_s = worker.wait_ready(120)
    samples = wait_committed(progress, total, worker, timeout=3600, on_sample=sample)
    t_done = samples[-1][0]
    first = next((s for s in samples if s[1] > 0), samples[-1])
    cpu = cw.stop()
    time.sleep(2)
    m = worker.metrics()
    end_rss = worker.rss_mib()
    in_state = m.get("riskwatch_customers_in_state", float("nan"))
    wres = {
        "events": total,
        "ready_after_spawn_s": ready_s,
        "spawn_to_all_committed_s": t_done - t_spawn,
        "first_commit_to_all_committed_s": t_done - first[0],
        "rate_from_spawn": total / (t_done - t_spawn),
        "rate_first_commit_to_end": (total - first[1]) / max(1e-9, t_done - first[0]),
        "rate_10_to_90pct": rate_between(samples, 0.1, 0.9),
        "rss_end_mib": end_rss,
        "rss_peak_sampled_mib": max(peak["rss"], end_rss),
        "vmhwm_mib": worker.hwm_mib(),
        "customers_in_state": in_state,
        "bytes_per_customer_total": end_rss * 2**20 / customers,
        "bytes_per_customer_above_idle": (
            float("nan") if idle_rss is None else (end_rss - idle_rss) * 2**20 / customers
        ),
        "cpu": cpu,
        "worker_cpu_us_per_event": 1e6 * cpu["worker_cpu_s"] / total,
        "broker_cpu_us_per_event": 1e6 * cpu["broker_cpu_s"] / total,
        "cpu_us_per_event": cpu_per_event(cpu, total),
        "batches": batch_stats(m, {}),
        "alerts": sum(v for k, v in m.items() if k.startswith("riskwatch_alerts_total")),
        "dead_letters": sum(v for k, v in m.items() if k.startswith("riskwatch_dead_letters_total")),
        "loadavg": loadavg(),
        "samples": [(round(t - t_spawn, 2), c) for t, c in samples],
    }
    log(
        f"worker: {total:,} events committed {wres['spawn_to_all_committed_s']:.1f}s after spawn; "
        f"10-90% {wres['rate_10_to_90pct']:,.0f} ev/s; RSS {end_rss:.0f} MiB "
        f"({wres['bytes_per_customer_total']:,.0f} B/customer total); "
        f"{wres['worker_cpu_us_per_event']:.0f} us worker CPU/event; others {cpu['others_cores']:.2f} cores"
    )
    return wres


# -------------------------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=1_000_000, help="total preloaded events incl. profiles")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--contact-share", type=float, default=0.03)
    ap.add_argument("--days", type=float, default=14.0, help="event-time span of the preload")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bare-repeats", type=int, default=3)
    ap.add_argument("--rates", default="10000,1000", help="offered rates for the latency phase")
    ap.add_argument("--latency-seconds", type=float, default=30.0)
    ap.add_argument("--trigger-share", type=float, default=0.02)
    ap.add_argument(
        "--wall-clock-event-times",
        action="store_true",
        help="latency events timed by the wall clock, not on from the preload (see _common.EventClock)",
    )
    ap.add_argument(
        "--linger-ms", default="5", help="batch lingers (ms) for restarted-worker latency runs; '' = none"
    )
    ap.add_argument(
        "--variant-env",
        default="",
        help="more restarted-worker latency runs: ';'-separated sets of ','-separated RISKWATCH_...=VALUE",
    )
    ap.add_argument(
        "--restarted-only",
        action="store_true",
        help="latency only in restarted workers (all variants then start from a restored state alike)",
    )
    ap.add_argument(
        "--batch-max-events",
        type=int,
        default=None,
        help="RISKWATCH_WORKER__BATCH_MAX_EVENTS (default: settings)",
    )
    ap.add_argument(
        "--metrics-port", type=int, default=int(os.environ.get("RISKWATCH_WORKER__METRICS_PORT", "59464"))
    )
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/rwbench"))
    ap.add_argument("--reuse", action="store_true", help="reuse preloaded topics of --workdir/manifest.json")
    ap.add_argument("--skip-bare", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument(
        "--trace",
        action="store_true",
        help="run the worker under bench/batch_trace.py: each latency run split into its parts",
    )
    ap.add_argument(
        "--bare-latency",
        default=None,
        help="latency of the worker-shaped bare transactional loop (bench/bare_txn_loop.py) at --rates: "
        "';'-separated sets of its arguments, e.g. ';--spin-us 60' (none: skip)",
    )
    ap.add_argument("--skip-worker", action="store_true", help="no worker phases (with --bare-latency)")
    ap.add_argument("--delete-topics", action="store_true", help="delete this run's topics at the end")
    ap.add_argument(
        "--report-only", action="store_true", help="print the table of --workdir/worker-results.json"
    )
    args = ap.parse_args()
    if args.report_only:
        print_report(json.loads((args.workdir / "worker-results.json").read_text()))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    logdir = args.workdir / "logs"
    logdir.mkdir(exist_ok=True)
    conf = quiet(kafka_conf(), "bench", logdir)
    plain_conf = {k: v for k, v in conf.items() if k != "logger"}
    print(hardware())
    print(f"bootstrap={plain_conf['bootstrap.servers']}  broker pid={kafka_pid()}")
    results: dict = {"hardware": hardware(), "args": {k: str(v) for k, v in vars(args).items()}}
    manifest_path = args.workdir / "manifest.json"

    # ---------------------------------------------------------------- 1. topics + preload
    if args.reuse:
        man = json.loads(manifest_path.read_text())
        topics = BenchTopics(**man["topics"])
        pre = man["preload"]
        log(f"reusing topics {topics.inputs()} ({pre['events']:,} events)")
    else:
        prefix = f"bench-{uuid.uuid4().hex[:6]}"
        topics = make_bench_topics(conf, prefix, args.partitions)
        log(f"preloading {args.events:,} events for {args.customers:,} customers into {prefix}-*")
        st = preload(
            conf,
            topics,
            customers=args.customers,
            events=args.events,
            contact_share=args.contact_share,
            days=args.days,
            seed=args.seed,
            run_id=prefix,
        )
        pre = st.__dict__
        log(
            f"preloaded {st.events:,} events ({st.bytes / 2**20:.0f} MiB) in {st.seconds:.1f}s "
            f"= {st.events / st.seconds:,.0f} ev/s (tx {st.transactions:,}, contact {st.contact_changes:,}, "
            f"profiles {st.profiles:,})"
        )
        save_json(manifest_path, {"topics": topics.__dict__, "preload": pre})
    results["preload"] = pre
    hw = high_watermarks(conf, topics.inputs(), topics.partitions)
    total = sum(hw.values())
    customers = pre["customers"]
    results["input_total"] = total

    # ---------------------------------------------------------------- 2. the ceiling
    bare: dict[str, list[dict]] = {"plain": [], "transactional": []}
    if not args.skip_bare:
        bare = run_bare(conf, topics, total, args.bare_repeats, logdir)
    results["bare"] = bare
    rates = [float(r) for r in args.rates.split(",") if r]
    event_clock = (
        None
        if args.wall_clock_event_times
        else EventClock(customers=customers, events=pre["events"], days=float(args.days))
    )

    def floor() -> None:
        if args.bare_latency is not None:
            results["bare_latency"] = bare_latency(
                conf, plain_conf, topics, hw, args, rates, event_clock, customers, logdir
            )
            save_json(args.workdir / "worker-results.json", results)

    if args.skip_worker:
        floor()
        if args.delete_topics:
            delete_topics(conf, [*topics.inputs(), topics.alerts, topics.customer_risk, topics.dead_letter])
        return 0

    # ---------------------------------------------------------------- 3. idle worker baseline
    empty = make_bench_topics(conf, f"bench-empty-{uuid.uuid4().hex[:6]}", topics.partitions)
    idle_group = f"bench-idle-{uuid.uuid4().hex[:6]}"
    idle = WorkerProc(empty, idle_group, "idle", args.metrics_port, logdir, {})
    try:
        idle.wait_ready(120)
        time.sleep(3)
        idle_rss = idle.rss_mib()
    finally:
        idle.stop()
    delete_topics(
        conf,
        [
            empty.transactions,
            empty.contact_changes,
            empty.customer_profiles,
            empty.alerts,
            empty.customer_risk,
            empty.dead_letter,
            f"{idle_group}-customer-state-changelog",
        ],
    )
    log(f"idle worker RSS {idle_rss:.1f} MiB")
    results["idle_worker_rss_mib"] = idle_rss

    # ---------------------------------------------------------------- 4. catch-up throughput
    group = f"bench-rw-{uuid.uuid4().hex[:6]}"
    base_env = {}
    if args.batch_max_events:
        base_env["RISKWATCH_WORKER__BATCH_MAX_EVENTS"] = str(args.batch_max_events)
    progress = CommittedProgress(plain_conf, group, list(hw))
    worker = WorkerProc(topics, group, "bench-w1", args.metrics_port, logdir, dict(base_env), args.trace)
    try:
        wres = catch_up(worker, progress, total, customers, idle_rss)
        results["worker"] = wres
        save_json(args.workdir / "worker-results.json", results)

        # ------------------------------------------------------------ 5. latency
        lat_runs: list[dict] = []
        if not args.skip_latency:

            def latency_runs(seed: int, label: str) -> None:
                for rate in rates:
                    lat_runs.append(
                        run_latency(
                            conf,
                            topics,
                            worker,
                            progress,
                            customers=customers,
                            rate=rate,
                            seconds=args.latency_seconds,
                            trigger_share=args.trigger_share,
                            seed=seed + int(rate),
                            logdir=logdir,
                            label=label,
                            event_clock=event_clock,
                        )
                    )
                    save_json(args.workdir / "worker-results.json", {**results, "latency": lat_runs})

            if not args.restarted_only:
                latency_runs(args.seed, f"batch_linger_ms=default({WorkerSettings().batch_linger_ms})")
            variants = [{"RISKWATCH_WORKER__BATCH_LINGER_MS": w} for w in args.linger_ms.split(",") if w] + [
                dict(kv.split("=", 1) for kv in v.split(",") if kv) for v in args.variant_env.split(";") if v
            ]
            for k, variant in enumerate(variants, 1):
                worker.stop()
                env = {**base_env, **variant}
                worker = WorkerProc(topics, group, "bench-w1", args.metrics_port, logdir, env, args.trace)
                ready_s = worker.wait_ready(600)
                restore = re.findall(
                    r"restored (\d+) state records for partitions \[[^\]]*\] in ([\d.]+)s", worker.tail(200)
                )
                results.setdefault("restarts", []).append(
                    {
                        "ready_after_spawn_s": ready_s,
                        "restore_log": restore,
                        "rss_after_restore_mib": worker.rss_mib(),
                    }
                )
                label = ",".join(
                    f"{key.removeprefix('RISKWATCH_WORKER__').lower()}={v}" for key, v in variant.items()
                )
                log(f"restarted worker with {label}: ready after {ready_s:.1f}s, restore {restore}")
                latency_runs(args.seed + 7 * k, label)
        results["latency"] = lat_runs
        results["worker_rss_end_of_run_mib"] = worker.rss_mib()
    finally:
        rc = worker.stop()
        progress.close()
        results["worker_exit_code"] = rc
        save_json(args.workdir / "worker-results.json", results)
    # after the worker: its catch-up from offset 0 need not go through the floor's latency events too
    floor()
    if args.delete_topics:
        delete_topics(
            conf,
            [
                topics.transactions,
                topics.contact_changes,
                topics.customer_profiles,
                topics.alerts,
                topics.customer_risk,
                topics.dead_letter,
                f"{group}-customer-state-changelog",
            ],
        )
    print_report(results)
    return 0


def bare_latency(
    conf: dict,
    plain_conf: dict,
    topics: BenchTopics,
    hw: dict[tuple[str, int], int],
    args: argparse.Namespace,
    rates: list[float],
    event_clock: Callable[[], float] | None,
    customers: int,
    logdir: Path,
) -> list[dict]:
    """The floor: each variant of the bare transactional loop starts at the inputs' ends (its group's
    offsets committed there first), then the latency runs at ``rates`` as the worker's, its output read
    by a read_committed consumer."""
    runs: list[dict] = []
    out = f"{topics.transactions}-bare-lat"
    create_topics(conf, {out: False, f"{out}-state": False}, topics.partitions)
    try:
        for k, variant in enumerate(args.bare_latency.split(";")):
            group = f"bench-barelat-{uuid.uuid4().hex[:6]}"
            # the loop starts at the inputs' ends: nothing of the preload or earlier runs to go through
            ends = high_watermarks(conf, topics.inputs(), topics.partitions)
            start = Consumer({**plain_conf, "group.id": group, "enable.auto.commit": False})
            start.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in ends.items()], asynchronous=False)
            start.close()
            progress = CommittedProgress(plain_conf, group, list(hw))
            proc = BareLoopProc(conf, topics, out, group, logdir, variant.split())
            try:
                wait_committed(progress, sum(ends.values()), proc, timeout=600)
                deadline = time.monotonic() + 60
                while "assigned" not in proc.tail(5) and time.monotonic() < deadline:
                    proc.check()
                    time.sleep(0.2)
                for rate in rates:
                    runs.append(
                        run_latency(
                            conf,
                            topics,
                            proc,
                            progress,
                            customers=customers,
                            rate=rate,
                            seconds=args.latency_seconds,
                            trigger_share=args.trigger_share,
                            seed=args.seed + 11 * k + int(rate),
                            logdir=logdir,
                            label=f"bare transactional loop ({proc.env['bare loop']})",
                            event_clock=event_clock,
                            output_topic=out,
                        )
                    )
            finally:
                proc.stop()
                progress.close()
    finally:
        delete_topics(conf, [out, f"{out}-state"])
    return runs


def print_report(r: dict) -> None:
    print()
    print(hardware())
    pre = r["preload"]
    print(
        f"preload: {pre['events']:,} events, {pre['customers']:,} customers "
        f"({pre['transactions']:,} tx, {pre['contact_changes']:,} contact changes, {pre['profiles']:,} profiles)"
    )
    print()
    bare_p = [x["events_per_second"] for x in r.get("bare", {}).get("plain", [])]
    bare_t = [x["events_per_second"] for x in r.get("bare", {}).get("transactional", [])]
    ceiling = statistics.median(bare_p) if bare_p else float("nan")
    w = r.get("worker", {})
    print(f"{'throughput (events/s)':<52}{'median':>10}{'runs':>26}{'% of bare':>11}")
    print("-" * 99)
    if bare_p:
        print(
            f"{'bare confluent loop, plain commit':<52}{ceiling:>10,.0f}{', '.join(f'{x:,.0f}' for x in bare_p):>26}{100.0:>10.0f}%"
        )
    if bare_t:
        mt = statistics.median(bare_t)
        print(
            f"{'bare confluent loop, 1 transaction per batch':<52}{mt:>10,.0f}{', '.join(f'{x:,.0f}' for x in bare_t):>26}{100 * mt / ceiling:>10.1f}%"
        )
    if w:
        for k, label in (
            ("rate_10_to_90pct", "riskwatch worker, 10%->90% of backlog"),
            ("rate_first_commit_to_end", "riskwatch worker, first commit -> end"),
            ("rate_from_spawn", "riskwatch worker, process spawn -> end"),
        ):
            print(f"{label:<52}{w[k]:>10,.0f}{'1':>26}{100 * w[k] / ceiling:>10.1f}%")
        print()
        print(
            f"worker: {w['events']:,} events in {w['spawn_to_all_committed_s']:.1f}s after spawn "
            f"(ready {w['ready_after_spawn_s']:.1f}s), {w['worker_cpu_us_per_event']:.0f} us worker CPU/event, "
            f"{w['broker_cpu_us_per_event']:.0f} us broker CPU/event, other processes {w['cpu']['others_cores']:.2f} cores"
        )
        b = w["batches"]
        print(
            f"        {b['batches']:.0f} batches, mean {b['mean_batch_size']:.0f} events / {b['mean_batch_ms']:.0f} ms; "
            f"changelog {b['state_bytes_written'] / 2**20:,.0f} MiB = {b['state_bytes_per_event']:,.0f} B/event; "
            f"alerts {w['alerts']:,.0f}, dead letters {w['dead_letters']:,.0f}"
        )
        print(
            f"        RSS idle {r['idle_worker_rss_mib']:.0f} MiB, end {w['rss_end_mib']:.0f} MiB, peak {w['vmhwm_mib']:.0f} MiB; "
            f"customers in state {w['customers_in_state']:,.0f}; "
            f"{w['bytes_per_customer_total']:,.0f} B/customer (total RSS), "
            f"{w['bytes_per_customer_above_idle']:,.0f} B/customer (above idle)"
        )
    for rs in r.get("restarts", []):
        print(
            f"restart: ready {rs['ready_after_spawn_s']:.1f}s after spawn, restore {rs['restore_log']}, "
            f"RSS after restore {rs['rss_after_restore_mib']:.0f} MiB"
        )
    lat = r.get("latency", [])
    if lat:
        print()
        print(
            f"{'latency, event produced -> alert consumed (ms)':<34}{'offered':>9}{'achieved':>10}"
            f"{'sustained':>10}{'kept':>6}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7}{'matched':>13}"
            f"{'drain s':>8}{'batch ev/ms':>13}{'w.CPU':>7}"
        )
        print("-" * 136)
        print(
            "(sustained: offered events over the time until all were committed; kept: its share of the achieved "
            f"offer;\n drain s: seconds after the last event until all were committed; > {KEPT_UP_DRAIN_SECONDS:.0f} s "
            "('!'): the offered rate was not sustained and the percentiles measure a growing backlog)"
        )
        for x in lat:
            b = x["batches"]
            drain = x["drain_after_produce_end_s"]
            print(
                f"{x['label'][:33]:<34}{x['offered_rate']:>9,.0f}{x['achieved_offer_rate']:>10,.0f}"
                f"{x.get('sustained_rate', float('nan')):>10,.0f}{100 * x.get('kept_up_share', float('nan')):>5.0f}%"
                f"{x['p50_ms']:>7.0f}{x['p95_ms']:>7.0f}{x['p99_ms']:>7.0f}{x['max_ms']:>7.0f}"
                f"{x['matched']:>7,}/{x['triggers']:<5,}"
                f"{drain:>7.1f}{'' if x['kept_up'] else '!':<1}"
                f"{b['mean_batch_size']:>7.0f}/{b['mean_batch_ms']:<5.0f}"
                f"{x['cpu'].get('worker_cpu_s', 0) / x['cpu']['wall_s']:>7.2f}"
            )
            # keys are ints in memory, strings after a JSON round trip (--report-only)
            ptd = {str(k): v for k, v in x["produced_to_detected_ms"].items()}
            dtc = {str(k): v for k, v in x["detected_to_consumed_ms"].items()}
            pd = "/".join(f"{ptd[q]:.0f}" for q in ("50", "95", "99"))
            dc = "/".join(f"{dtc[q]:.0f}" for q in ("50", "95", "99"))
            print(
                f"{'':<34}split at detected_at: produced->detected p50/p95/p99 = {pd} ms, "
                f"detected->consumed {dc} ms; others {x['cpu']['others_cores']:.2f} cores, load {x['loadavg']}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
