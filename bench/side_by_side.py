"""The bare loop, one riskwatch worker and a Quix Streams application, side by side in one run.

Run by hand (never by pytest), with the stack of `riskwatch stack up` on your own ports exported, and Quix
Streams in its own virtual environment (it pins an older confluent-kafka and pydantic than riskwatch):

    python3.11 -m venv bench/.venv-quix && bench/.venv-quix/bin/pip install -r bench/quix-requirements.txt
    .venv/bin/python bench/side_by_side.py                           # both densities, ~10 min
    .venv/bin/python bench/side_by_side.py --density dense --repeats 2 --reuse
    .venv/bin/python bench/side_by_side.py --report /tmp/rwbench-side/side-by-side-X.json
    .venv/bin/python bench/side_by_side.py --compare BASELINE.json NEWER.json

On the same preloaded input topics (6 partitions) of each traffic density, one after the other:
  1. the bare confluent-kafka consume -> produce loop of bench/worker_bench.py, plain and transactional;
  2. one `riskwatch worker` (every detector on) from offset 0 to the end, then (sparse traffic) the
     latency of bench/worker_bench.py at --latency-rate events/s offered;
  3. bench/quix_app.py: riskwatch's own ``Processor`` in a Quix Streams application, its customer state
     in Quix's key-scoped store, exactly-once, from offset 0 to the end.
Densities: ``sparse`` is worker_bench's synthetic preload (100k customers, ~10 events each); ``dense`` is
the scenario generator's traffic (1,500 customers, ~280 transactions each), cached as JSONL in --workdir,
on which ``riskwatch replay`` is timed too (in this process, one core). Preloaded topics are kept and
named in --workdir/manifest-DENSITY.json; --reuse runs on them again (same input, later code) unless a
latency phase added to them (it runs last for that reason); a fresh preload is the same seeded input.
Each runner's rate is events committed per second between 10% and 90% of the input (a fresh consumer
group each time, so fresh state); CPU per event is the runner's process CPU (all threads) over that run.
Results: one table on stdout, JSON in --workdir/side-by-side-UTCSTAMP.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import worker_bench as wb
from _common import (
    REPO,
    BenchTopics,
    ChildProc,
    CommittedProgress,
    CpuWatch,
    EventClock,
    _produce,
    delete_topics,
    hardware,
    high_watermarks,
    kafka_conf,
    kafka_pid,
    loadavg,
    log,
    make_bench_topics,
    make_producer,
    partial_rate,
    preload,
    proc_status_kib,
    quiet,
    rate_between,
    save_json,
    wait_committed,
)
from confluent_kafka.admin import AdminClient

QUIX_PYTHON = REPO / "bench" / ".venv-quix" / "bin" / "python"
QUIX_SETUP = (
    "set it up with: python3.11 -m venv bench/.venv-quix && "
    "bench/.venv-quix/bin/pip install -r bench/quix-requirements.txt"
)
DENSE = {"customers": 1500, "days": 75, "history_days": 30, "pattern_share": 0.6, "seed": 20250303}
INPUT_TOPIC_OF = {
    "transaction": "transactions",
    "contact_change": "contact_changes",
    "customer_profile": "customer_profiles",
}


# ------------------------------------------------------------------------------------------- input
def git_commit() -> dict[str, str]:
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True).stdout.strip()

    return {
        "commit": git("rev-parse", "--short=10", "HEAD"),
        "subject": git("log", "-1", "--format=%s")[:100],
        "dirty": "yes" if git("status", "--porcelain", "--untracked-files=no") else "no",
    }


def build_kind() -> str:
    """Whether the detection core imported here is the mypyc-compiled build (an extension module)."""
    import detectors.engine as engine_module

    name = Path(engine_module.__file__ or "?").name
    return f"{'compiled' if not name.endswith('.py') else 'pure Python'} ({name})"


def dense_file(workdir: Path) -> Path:
    """The scenario generator's traffic at the dense setting, generated once and cached."""
    d = DENSE
    path = workdir / f"dense-c{d['customers']}-d{d['days']}-h{d['history_days']}-s{d['seed']}.jsonl"
    if path.is_file() and path.stat().st_size > 0:
        return path
    from scenarios.generator import ScenarioConfig, generate

    t = time.perf_counter()
    scenario = generate(ScenarioConfig(**d))  # type: ignore[arg-type]
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for line in scenario.json_lines():
            f.write(line + "\n")
    tmp.rename(path)
    log(f"generated {len(scenario.events):,} events in {time.perf_counter() - t:.0f}s -> {path}")
    return path


def preload_file(conf: dict, topics: BenchTopics, path: Path) -> dict[str, Any]:
    """Every line to the topic of its type, keyed by customer_id (murmur2), record timestamps increasing
    in file order (as `riskwatch send` does)."""
    p = make_producer(conf)
    lines = path.read_bytes().splitlines()
    ts_ms0 = int(time.time() * 1000) - len(lines) - 1000
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    k = 0
    for line in lines:
        ev = json.loads(line)
        role = INPUT_TOPIC_OF.get(ev.get("type", "")) if isinstance(ev, dict) else None
        if role is None or not isinstance(ev.get("customer_id"), str):
            counts["skipped"] = counts.get("skipped", 0) + 1
            continue
        _produce(p, getattr(topics, role), ev["customer_id"].encode(), line, ts_ms0 + k)
        counts[role] = counts.get(role, 0) + 1
        k += 1
        if k % 10000 == 0:
            p.poll(0)
    if p.flush(120):
        raise RuntimeError("preload: messages not delivered")
    customers = len({json.loads(x).get("customer_id") for x in lines if b'"customer_profile"' in x})
    return {
        "events": k,
        "customers": customers,
        "profiles": counts.get("customer_profiles", 0),
        "transactions": counts.get("transactions", 0),
        "contact_changes": counts.get("contact_changes", 0),
        "skipped_lines": counts.get("skipped", 0),
        "seconds": time.perf_counter() - t0,
        "bytes": sum(len(x) for x in lines),
        "source": str(path),
    }


def topics_for(args: argparse.Namespace, conf: dict, density: str) -> tuple[BenchTopics, dict[str, Any]]:
    manifest = args.workdir / f"manifest-{density}.json"
    if args.reuse and manifest.is_file():
        man = json.loads(manifest.read_text())
        topics = BenchTopics(**man["topics"])
        have = sum(high_watermarks(conf, topics.inputs(), topics.partitions).values())
        if have == man["preload"]["events"]:
            log(f"{density}: reusing {topics.inputs()} ({have:,} events)")
            return topics, man["preload"]
        log(f"{density}: manifest topics hold {have:,} events, not {man['preload']['events']:,}: preloading")
    prefix = f"side-{density}-{uuid.uuid4().hex[:6]}"
    topics = make_bench_topics(conf, prefix, args.partitions)
    if density == "sparse":
        st = preload(
            conf, topics, customers=args.sparse_customers, events=args.sparse_events, seed=1, run_id=prefix
        )
        pre = st.__dict__
    else:
        pre = preload_file(conf, topics, dense_file(args.workdir))
    log(f"{density}: preloaded {pre['events']:,} events into {prefix}-* in {pre['seconds']:.0f}s")
    save_json(manifest, {"topics": topics.__dict__, "preload": pre})
    return topics, pre


def drop_group_topics(conf: dict, group: str) -> None:
    """The changelog topics of a finished run (a worker's or Quix's): they only fill the broker's disk."""
    names = [t for t in AdminClient(conf).list_topics(timeout=10).topics if group in t]
    if names:
        delete_topics(conf, names)


# ------------------------------------------------------------------------------------------ Quix
class QuixProc(ChildProc):
    """bench/quix_app.py under the Quix virtual environment's Python."""

    name = "quix app"

    def __init__(
        self, topics: BenchTopics, group: str, logdir: Path, commit_interval: float, cache: int | None
    ) -> None:
        from config.settings import load_settings

        settings = load_settings()
        super().__init__(
            [
                str(QUIX_PYTHON),
                str(REPO / "bench" / "quix_app.py"),
                "--broker",
                settings.kafka.bootstrap_servers,
                "--group",
                group,
                "--inputs",
                ",".join(topics.inputs()),
                "--alerts",
                topics.alerts,
                "--risk",
                topics.customer_risk,
                "--dead-letter",
                topics.dead_letter,
                "--reviews",
                str(settings.topics.reviews),
                "--state-dir",
                str(logdir / f"quix-state-{group}"),
                "--commit-interval",
                str(commit_interval),
                "--partitions",
                str(topics.partitions),
                *([] if cache is None else ["--decoded-cache", str(cache)]),
            ],
            {**os.environ, **topics.env()},
            logdir / f"quix-{group}.log",
        )


def quix_env_problem() -> str | None:
    """Why Quix's virtual environment cannot run bench/quix_app.py (None: it can), found before the preload
    rather than after minutes of the other runners: the detection core gains imports (zstandard for the
    state format 6) that the Quix environment made earlier lacks."""
    if not QUIX_PYTHON.is_file():
        return f"{QUIX_PYTHON} not found"
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import quixstreams, streams.processor, detectors.engine"
    )
    done = subprocess.run(
        [str(QUIX_PYTHON), "-W", "ignore", "-c", probe, str(REPO)], capture_output=True, text=True, cwd=REPO
    )
    if done.returncode == 0:
        return None
    last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return f"Quix's virtual environment cannot import riskwatch's detection core ({last})"


def run_quix(
    args: argparse.Namespace, conf: dict, topics: BenchTopics, hw: dict, total: int, logdir: Path
) -> dict[str, Any]:
    group = f"bench-quix-{uuid.uuid4().hex[:6]}"
    plain = {k: v for k, v in conf.items() if k != "logger"}
    progress = CommittedProgress(plain, group, list(hw))
    quix = QuixProc(topics, group, logdir, args.quix_commit_interval, args.quix_decoded_cache)
    peak = {"rss": 0.0}
    seen: list[tuple[float, int]] = []

    def sample(now: float, c: int) -> None:
        seen.append((now, c))
        peak["rss"] = max(peak["rss"], proc_status_kib(quix.pid, "VmRSS") / 1024.0)

    cw = CpuWatch({"quix": quix.pid, "broker": kafka_pid(), "bench": os.getpid()})
    complete = True
    try:
        try:
            samples = wait_committed(progress, total, quix, timeout=args.quix_timeout, on_sample=sample)
        except RuntimeError as exc:
            if "after" not in str(exc):
                raise
            complete = False
            samples = seen or [(quix.started, 0)]
        cpu = cw.stop()
        rss_end = proc_status_kib(quix.pid, "VmRSS") / 1024.0
        done = samples[-1][1]
        first = next((s for s in samples if s[1] > 0), samples[-1])
        res = {
            "events": done,
            "complete": complete,
            "spawn_to_end_s": samples[-1][0] - quix.started,
            "rate_10_to_90pct": rate_between(samples, 0.1, 0.9),
            "rate_first_commit_to_end": (done - first[1]) / max(1e-9, samples[-1][0] - first[0]),
            # a timed-out run: from 10% of the input to where it stopped
            "rate_10pct_to_timeout": partial_rate(samples, total),
            "rss_end_mib": rss_end,
            "rss_peak_sampled_mib": max(peak["rss"], rss_end),
            "cpu": cpu,
            "cpu_us_per_event": 1e6 * cpu["quix_cpu_s"] / max(1, done),
            "broker_cpu_us_per_event": 1e6 * cpu["broker_cpu_s"] / max(1, done),
            "commit_interval_s": args.quix_commit_interval,
            "build": " / ".join(
                x for x in quix.tail(200).splitlines() if x.startswith(("quixstreams", "decoded"))
            ),
            "loadavg": loadavg(),
        }
    finally:
        res_rc = quix.stop()
        progress.close()
        drop_group_topics(conf, group)
    res["exit_code"] = res_rc
    log(
        f"quix: {res['events']:,} events{'' if complete else ' (TIMED OUT: partial)'}; "
        f"{'10-90%' if complete else '10%-timeout'} "
        f"{res['rate_10_to_90pct' if complete else 'rate_10pct_to_timeout']:,.0f} ev/s; "
        f"{res['cpu_us_per_event']:.0f} us CPU/event; RSS "
        f"{res['rss_end_mib']:.0f} MiB; load {res['loadavg']}"
    )
    return res


# ------------------------------------------------------------------------------------- the worker
def run_worker(
    args: argparse.Namespace,
    conf: dict,
    topics: BenchTopics,
    hw: dict,
    total: int,
    customers: int,
    logdir: Path,
    latency: str | None,
) -> dict[str, Any]:
    """One worker from offset 0 to the end; then, when ``latency`` names the density, the latency run."""
    group = f"bench-rw-{uuid.uuid4().hex[:6]}"
    plain = {k: v for k, v in conf.items() if k != "logger"}
    progress = CommittedProgress(plain, group, list(hw))
    worker = wb.WorkerProc(
        topics, group, "side-w1", args.metrics_port, logdir, {}, bool(latency and args.trace)
    )
    try:
        res = wb.catch_up(worker, progress, total, customers, None)
        res.pop("samples", None)
        if latency:
            res["latency"] = wb.run_latency(
                conf,
                topics,
                worker,
                progress,
                customers=customers,
                rate=args.latency_rate,
                seconds=args.latency_seconds,
                trigger_share=0.02,
                seed=int(args.latency_rate),
                logdir=logdir,
                label="side-by-side",
                # the synthetic (sparse) preload's customers, on from its event times; other traffic's
                # customers are not the synthetic ones, so their event times are the wall clock's
                event_clock=(EventClock(customers=customers, events=total) if latency == "sparse" else None),
            )
    finally:
        res_rc = worker.stop()
        progress.close()
        drop_group_topics(conf, group)
    res["exit_code"] = res_rc
    return res


# ------------------------------------------------------------------------------------------ replay
def run_replay(path: Path, workdir: Path, repeats: int) -> dict[str, Any]:
    import replay_bench

    runs = []
    for _ in range(repeats):
        cpu0 = time.process_time()
        s = replay_bench.run_once(path, workdir)
        cpu = time.process_time() - cpu0
        runs.append(
            {
                "events": s["lines"],
                "seconds": s["seconds"],
                "events_per_second": s["events_per_second"],
                # on a shared box the wall-clock rate is what the scheduler left; CPU is what replay took
                "cpu_s": cpu,
                "cpu_us_per_event": 1e6 * cpu / max(1, s["lines"]),
                "alerts": s["alerts"],
                "loadavg": loadavg(),
            }
        )
        log(
            f"replay: {s['lines']:,} lines = {s['events_per_second']:,.0f} ev/s, "
            f"{1e6 * cpu / max(1, s['lines']):.0f} us CPU/event, load {loadavg()}"
        )
    return {"file": str(path), "runs": runs}


# -------------------------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--density", default="sparse,dense", help="sparse, dense or both (comma-separated)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each runner (alternating)")
    ap.add_argument("--sparse-customers", type=int, default=100_000)
    ap.add_argument("--sparse-events", type=int, default=1_000_000)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--latency-rate", type=float, default=10_000.0)
    ap.add_argument("--latency-seconds", type=float, default=20.0)
    ap.add_argument("--latency-density", default="sparse", help="densities with a latency phase")
    ap.add_argument(
        "--trace",
        action="store_true",
        help="the latency phase's worker under bench/batch_trace.py: its latency split into parts",
    )
    ap.add_argument("--quix-timeout", type=float, default=300.0, help="seconds; then a partial figure")
    ap.add_argument("--quix-commit-interval", type=float, default=5.0, help="Quix's default")
    ap.add_argument(
        "--quix-decoded-cache",
        type=int,
        default=None,
        help="quix_app.py --decoded-cache (0: decode each event)",
    )
    ap.add_argument("--replay-repeats", type=int, default=2, help="0 = no replay")
    ap.add_argument("--skip", default="", help="runners to leave out: bare,worker,quix")
    ap.add_argument(
        "--metrics-port", type=int, default=int(os.environ.get("RISKWATCH_WORKER__METRICS_PORT", "59464"))
    )
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/rwbench-side"))
    ap.add_argument("--reuse", action="store_true", help="reuse the preloaded topics of the manifests")
    ap.add_argument("--report", type=Path, help="print the table of a results JSON and exit")
    ap.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"), help="two results JSON")
    args = ap.parse_args()
    if args.report:
        print_report(json.loads(args.report.read_text()))
        return 0
    if args.compare:
        print_compare(*(json.loads(p.read_text()) for p in args.compare))
        return 0
    skip = {s for s in args.skip.split(",") if s}
    if "quix" not in skip:
        problem = quix_env_problem()
        if problem:
            print(f"side_by_side: {problem} — {QUIX_SETUP}, or pass --skip quix", file=sys.stderr)
            return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    logdir = args.workdir / "logs"
    logdir.mkdir(exist_ok=True)
    conf = quiet(kafka_conf(), "side", logdir)
    results: dict[str, Any] = {
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "hardware": hardware(),
        "git": git_commit(),
        "build": build_kind(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "densities": {},
    }
    print(hardware())
    print(f"riskwatch {results['git']['commit']} ({results['git']['subject']}), {results['build']}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = args.workdir / f"side-by-side-{stamp}.json"
    for density in [d for d in args.density.split(",") if d]:
        topics, pre = topics_for(args, conf, density)
        hw = high_watermarks(conf, topics.inputs(), topics.partitions)
        total = sum(hw.values())
        d: dict[str, Any] = {"preload": pre, "topics": topics.__dict__, "bare": [], "worker": [], "quix": []}
        results["densities"][density] = d
        # the latency phase adds its events to the input topics: it runs last, in the last worker run
        for r in range(args.repeats):
            if "bare" not in skip:
                d["bare"].append(wb.run_bare(conf, topics, total, 1, logdir))
                save_json(out_path, results)
            if "quix" not in skip:
                try:
                    d["quix"].append(run_quix(args, conf, topics, hw, total, logdir))
                except RuntimeError as exc:  # e.g. a new riskwatch dependency missing from its venv
                    log(f"quix run failed, the others go on: {exc}")
                    d["quix_error"] = str(exc)[-2000:]
                save_json(out_path, results)
            if "worker" not in skip:
                with_latency = density in args.latency_density.split(",") and r == args.repeats - 1
                latency = density if with_latency else None
                d["worker"].append(
                    run_worker(args, conf, topics, hw, total, pre["customers"], logdir, latency)
                )
                save_json(out_path, results)
        if density == "dense" and args.replay_repeats > 0:
            d["replay"] = run_replay(Path(pre["source"]), args.workdir, args.replay_repeats)
            save_json(out_path, results)
    results["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    save_json(out_path, results)
    print_report(results)
    print(f"\nJSON: {out_path}")
    return 0


# ------------------------------------------------------------------------------------------- report
def _med(xs: list[float]) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def _spread(xs: list[float]) -> str:
    xs = [x for x in xs if x == x]
    if len(xs) < 2:
        return ""
    return f"{min(xs) / 1000:.1f}-{max(xs) / 1000:.1f}k"


def summary(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per runner: median events/s, its spread, CPU us/event, RSS MiB, p50 and p99 ms (worker)."""
    plain = [b["plain"][0]["events_per_second"] for b in d.get("bare", []) if b.get("plain")]
    txn = [b["transactional"][0]["events_per_second"] for b in d.get("bare", []) if b.get("transactional")]
    out: dict[str, dict[str, Any]] = {}
    if plain:
        out["bare, plain commit"] = {
            "eps": _med(plain),
            "spread": _spread(plain),
            "cpu": _med([b["plain"][0]["cpu_us_per_event"] for b in d["bare"]]),
        }
    if txn:
        out["bare, 1 transaction per batch"] = {
            "eps": _med(txn),
            "spread": _spread(txn),
            "cpu": _med([b["transactional"][0]["cpu_us_per_event"] for b in d["bare"]]),
        }
    w = d.get("worker", [])
    if w:
        lat = [x["latency"] for x in w if "latency" in x]
        out["riskwatch worker"] = {
            "eps": _med([x["rate_10_to_90pct"] for x in w]),
            "spread": _spread([x["rate_10_to_90pct"] for x in w]),
            "cpu": _med([x["worker_cpu_us_per_event"] for x in w]),
            "rss": _med([x["rss_end_mib"] for x in w]),
            "p50": lat[0]["p50_ms"] if lat else None,
            "p99": lat[0]["p99_ms"] if lat else None,
            # sustained: everything committed within worker_bench.KEPT_UP_DRAIN_SECONDS of the last event
            "p99_kept_up": lat[0]["kept_up"] if lat else None,
        }
    q = d.get("quix", [])
    if q:
        # a timed-out (partial) run has no 90% point: its rate is 10% of the input -> timeout
        qr = [x["rate_10_to_90pct"] if x["complete"] else x["rate_10pct_to_timeout"] for x in q]
        out["Quix Streams + Processor, EOS"] = {
            "eps": _med(qr),
            "spread": _spread(qr),
            "cpu": _med([x["cpu_us_per_event"] for x in q]),
            "rss": _med([x["rss_end_mib"] for x in q]),
            "partial": not all(x["complete"] for x in q),
        }
    return out


def print_report(r: dict[str, Any]) -> None:
    print()
    print(r["hardware"])
    g = r["git"]
    print(
        f"riskwatch {g['commit']}{' (dirty)' if g['dirty'] == 'yes' else ''} {g['subject']!r}; {r['build']}"
    )
    print(f"run {r['started_utc']} -> {r.get('finished_utc', '?')}")
    head = (
        f"{'density':<8}{'runner':<40}{'events':>10}{'events/s':>10}{'spread':>13}{'% bare':>8}"
        f"{'x Quix':>8}{'CPU us/ev':>10}{'ev/CPU-s':>10}{'RSS MiB':>9}{'p50/p99 ms':>13}"
    )
    print()
    print(head)
    print("-" * len(head))
    cpu_ratio: dict[str, float] = {}
    for density, d in r["densities"].items():
        s = summary(d)
        bare = s.get("bare, plain commit", {}).get("eps", float("nan"))
        quix = s.get("Quix Streams + Processor, EOS", {}).get("eps", float("nan"))
        quix_cpu = s.get("Quix Streams + Processor, EOS", {}).get("cpu", float("nan"))
        events = d["preload"]["events"]
        for name, x in s.items():
            pct = 100 * x["eps"] / bare
            xq = f"{x['eps'] / quix:.1f}x" if name == "riskwatch worker" else ""
            if name == "riskwatch worker" and quix_cpu == quix_cpu:
                cpu_ratio[density] = quix_cpu / x["cpu"]
            rss = f"{x['rss']:.0f}" if "rss" in x else ""
            p99 = ""
            if x.get("p99") is not None:
                p99 = f"{x['p50']:.0f}/{x['p99']:.0f}" + ("" if x["p99_kept_up"] else "!")
            part = " (partial)" if x.get("partial") else ""
            print(
                f"{density:<8}{name + part:<40}{events:>10,}{x['eps']:>10,.0f}{x['spread']:>13}{pct:>7.0f}%"
                f"{xq:>8}{x['cpu']:>10.0f}{1e6 / x['cpu']:>10,.0f}{rss:>9}{p99:>13}"
            )
        rp = d.get("replay")
        if rp:
            eps = [x["events_per_second"] for x in rp["runs"]]
            cpu = _med([x.get("cpu_us_per_event", 1e6 / x["events_per_second"]) for x in rp["runs"]])
            print(
                f"{density:<8}{'riskwatch replay (1 core)':<40}{rp['runs'][0]['events']:>10,}{_med(eps):>10,.0f}"
                f"{_spread(eps):>13}{'':>8}{'':>8}{cpu:>10.0f}{1e6 / cpu:>10,.0f}"
            )
    for density, ratio in cpu_ratio.items():
        print(f"{density}: the worker uses {ratio:.1f}x less CPU per event than the Quix application")
    lat = [w["latency"] for d in r["densities"].values() for w in d.get("worker", []) if "latency" in w]
    for x in lat:
        print(
            f"\nlatency produced -> alert consumed at {x['offered_rate']:,.0f}/s offered "
            f"({x['achieved_offer_rate']:,.0f} achieved, {x['seconds']:.0f} s): p50 {x['p50_ms']:.0f}, "
            f"p95 {x['p95_ms']:.0f}, p99 {x['p99_ms']:.0f}, max {x['max_ms']:.0f} ms; "
            f"{x['matched']}/{x['triggers']} alerts; all committed {x['drain_after_produce_end_s']:.1f} s after "
            f"the last event was produced: sustained {x.get('sustained_rate', float('nan')):,.0f} ev/s = "
            f"{100 * x.get('kept_up_share', float('nan')):.0f}% of the offer"
            f"{'' if x['kept_up'] else ' (NOT kept up)'}, max backlog {x.get('max_backlog_events', '?'):,} events; "
            f"mean batch {x['batches']['mean_batch_size']:.0f} events / {x['batches']['mean_batch_ms']:.1f} ms "
            f"(commit {x['batches'].get('mean_commit_ms', float('nan')):.1f} ms); "
            f"load {x['loadavg']}"
        )
    loads = [
        x.get("loadavg")
        for d in r["densities"].values()
        for k in ("worker", "quix")
        for x in d.get(k, [])
        if x.get("loadavg")
    ]
    print(f"load averages (1/5/15 min) at the end of each worker/Quix run: {', '.join(loads)}")
    print("% bare: of the plain bare loop's events/s; x Quix: the worker's events/s over Quix's;")
    print(
        "p50/p99: at --latency-rate offered; '!': the worker did not keep up with it (see the latency line);"
    )
    print("CPU: the runner's process only;")
    print("ev/CPU-s: events per second of CPU the runner used (what it would do alone on a core).")


def print_compare(a: dict[str, Any], b: dict[str, Any]) -> None:
    head = f"{'density':<8}{'runner':<32}{'before':>12}{'after':>12}{'ratio':>8}"
    print(f"before: {a['git']['commit']} {a['git']['subject']!r} ({a['build']}), {a['started_utc']}")
    print(f"after:  {b['git']['commit']} {b['git']['subject']!r} ({b['build']}), {b['started_utc']}")
    print()
    print(head)
    print("-" * len(head))
    for density in a["densities"]:
        if density not in b["densities"]:
            continue
        sa, sb = summary(a["densities"][density]), summary(b["densities"][density])
        for name in sa:
            if name not in sb:
                continue
            for key, unit in (
                ("eps", "events/s"),
                ("cpu", "CPU us/ev"),
                ("rss", "RSS MiB"),
                ("p99", "p99 ms"),
            ):
                va, vb = sa[name].get(key), sb[name].get(key)
                if va is None or vb is None:
                    continue
                with contextlib.suppress(ZeroDivisionError):
                    print(
                        f"{density:<8}{(name + ' ' + unit)[:32]:<32}{va:>12,.1f}{vb:>12,.1f}{vb / va:>7.2f}x"
                    )
        ra, rb = a["densities"][density].get("replay"), b["densities"][density].get("replay")
        if ra and rb:
            for label, f in (
                ("replay events/s", lambda x: x["events_per_second"]),
                ("replay events/CPU-s", lambda x: 1e6 / x.get("cpu_us_per_event", float("nan"))),
            ):
                va, vb = _med([f(x) for x in ra["runs"]]), _med([f(x) for x in rb["runs"]])
                print(f"{density:<8}{label:<32}{va:>12,.1f}{vb:>12,.1f}{vb / va:>7.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())
