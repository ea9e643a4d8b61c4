"""How much of the bare consume->produce ceiling a minimal faust-streaming app reaches (the issue's bar: the
worker is to be a faust app unless faust's per-event machinery can't reach >= 50% of the bare loop).

Run by hand (never by pytest), against `riskwatch stack up` (own ports exported), after
bench/worker_bench.py has preloaded topics (it reads --manifest for their names):

    /tmp/rwvenv/bin/python bench/faust_overhead.py --manifest /tmp/rwbench/full/manifest.json
    /tmp/rwvenv/bin/python bench/faust_overhead.py --events 50000 --customers 5000      # own small preload

The faust app is built in a function (nothing at module scope), runs in a subprocess with a deadline:
`aiokafka://` transport, `store="memory://"`, web server disabled, one agent over the three input topics
that parses each JSON value and forwards it (same key) to an output topic -- the bare loop's work, no
detectors. Progress is the output topic's high watermarks (every forwarded message lands there), polled
from this process. The bare confluent loop runs over the same topics in the same run; the riskwatch
worker's figure is read from worker-results.json next to the manifest (same topics, same machine).
Variants: `events` (async for key, value in stream.items(); await out.send(...)) and `take`
(stream.take(2000, within=0.05) batches, then out.send for each).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


# -------------------------------------------------------------------------------- the faust child
def build_app(
    broker: str, app_id: str, inputs: list[str], out_topic: str, partitions: int, variant: str, datadir: str
):
    import socket

    import faust

    with socket.socket() as sock:  # web server disabled; the setting still wants a valid, free port
        sock.bind(("127.0.0.1", 0))
        web_port = sock.getsockname()[1]
    app = faust.App(
        app_id,
        broker=f"aiokafka://{broker}",
        store="memory://",
        web_enabled=False,
        web_port=web_port,
        datadir=datadir,
        topic_partitions=partitions,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
    )
    src = app.topic(*inputs, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    out = app.topic(
        out_topic,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )
    loads = json.loads

    if variant == "take":

        @app.agent(src)
        async def forward(stream):
            async for batch in stream.take_events(2000, within=0.05):
                for event in batch:
                    loads(event.value)
                    await out.send(key=event.key, value=event.value)
    else:

        @app.agent(src)
        async def forward(stream):
            async for key, value in stream.items():
                loads(value)
                await out.send(key=key, value=value)

    return app


def child(args: argparse.Namespace) -> int:
    import logging

    from faust.worker import Worker

    app = build_app(
        args.broker,
        args.app_id,
        args.inputs.split(","),
        args.out,
        args.partitions,
        args.variant,
        args.datadir,
    )
    logging.basicConfig(level=logging.WARNING)
    worker = Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 0


# ------------------------------------------------------------------------------------ the parent
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", type=Path, help="manifest.json written by worker_bench.py")
    ap.add_argument("--events", type=int, default=200_000, help="own preload when no --manifest")
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--variants", default="events,take")
    ap.add_argument("--deadline", type=float, default=420.0, help="seconds per faust run")
    ap.add_argument("--bare-repeats", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/rwbench/faust"))
    ap.add_argument("--_child", dest="is_child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--broker", help=argparse.SUPPRESS)
    ap.add_argument("--app-id", help=argparse.SUPPRESS)
    ap.add_argument("--inputs", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="events", help=argparse.SUPPRESS)
    ap.add_argument("--datadir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.is_child:
        return child(args)

    from _common import (
        BenchTopics,
        ChildProc,
        CpuWatch,
        bare_loop,
        create_topics,
        delete_topics,
        hardware,
        high_watermarks,
        kafka_conf,
        kafka_pid,
        loadavg,
        make_bench_topics,
        preload,
        proc_status_kib,
        quiet,
        rate_between,
        save_json,
    )

    args.workdir.mkdir(parents=True, exist_ok=True)
    logdir = args.workdir / "logs"
    conf = quiet(kafka_conf(), "faustbench", logdir)
    broker = conf["bootstrap.servers"]
    print(hardware())
    worker_res = None
    if args.manifest:
        man = json.loads(args.manifest.read_text())
        topics = BenchTopics(**man["topics"])
        wr = args.manifest.parent / "worker-results.json"
        if wr.is_file():
            worker_res = json.loads(wr.read_text()).get("worker")
    else:
        topics = make_bench_topics(conf, f"bench-f-{uuid.uuid4().hex[:6]}", args.partitions)
        st = preload(conf, topics, customers=args.customers, events=args.events, seed=3, run_id="f")
        print(f"preloaded {st.events:,} events in {st.seconds:.1f}s")
    parts = topics.partitions
    total = sum(high_watermarks(conf, topics.inputs(), parts).values())
    print(f"input: {total:,} events on {topics.inputs()} ({parts} partitions each)")
    results: dict = {"hardware": hardware(), "total": total, "bare": [], "faust": []}

    # ---------------------------------------------------------------- bare loop, same run
    for r in range(args.bare_repeats):
        out = f"{topics.transactions}-bare2-out"
        create_topics(conf, {out: False}, parts)
        res = bare_loop(conf, topics.inputs(), out, total, parse_json=True, logdir=logdir)
        res["loadavg"] = loadavg()
        results["bare"].append(res)
        delete_topics(conf, [out])
        print(
            f"bare loop (+json.loads) #{r + 1}: {res['events_per_second']:,.0f} ev/s, "
            f"{res['cpu_us_per_event']:.1f} us CPU/ev, load {res['loadavg']}",
            flush=True,
        )

    # ---------------------------------------------------------------- faust
    for variant in [v for v in args.variants.split(",") if v]:
        app_id = f"bench-faust-{variant}-{uuid.uuid4().hex[:6]}"
        out = f"{topics.transactions}-faust-{variant}-out"
        create_topics(conf, {out: False}, parts)
        log_path = logdir / f"{app_id}.log"
        datadir = args.workdir / "data" / app_id
        datadir.parent.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--_child",
            "--broker",
            broker,
            "--app-id",
            app_id,
            "--inputs",
            ",".join(topics.inputs()),
            "--out",
            out,
            "--partitions",
            str(parts),
            "--variant",
            variant,
            "--datadir",
            str(datadir),
        ]
        faust = ChildProc(cmd, dict(os.environ), log_path)
        t_spawn = faust.started
        cw = CpuWatch({"faust": faust.pid, "broker": kafka_pid()})
        samples: list[tuple[float, int]] = []
        peak_rss = 0
        status = "deadline"
        deadline = t_spawn + args.deadline
        while time.monotonic() < deadline:
            if not faust.alive():
                status = f"exited rc={faust.proc.returncode}"
                break
            n = sum(high_watermarks(conf, [out], parts).values())
            samples.append((time.monotonic(), n))
            peak_rss = max(peak_rss, proc_status_kib(faust.pid, "VmRSS"))
            if n >= total:
                status = "complete"
                break
            time.sleep(0.5)
        cpu = cw.stop()
        faust.stop(grace_s=30)
        n_end = samples[-1][1] if samples else 0
        first = next((s for s in samples if s[1] > 0), None)
        res = {
            "variant": variant,
            "status": status,
            "forwarded": n_end,
            "loadavg": loadavg(),
            "spawn_to_first_output_s": (first[0] - t_spawn) if first else None,
            "peak_rss_mib": peak_rss / 1024,
            "cpu": cpu,
            "log": str(log_path),
        }
        if first and n_end > first[1] and samples[-1][0] > first[0]:
            res["events_per_second"] = (n_end - first[1]) / (samples[-1][0] - first[0])
            res["rate_10_to_90pct"] = rate_between(samples, 0.1, 0.9, total)
            res["cpu_us_per_event"] = 1e6 * cpu["faust_cpu_s"] / max(1, n_end)
        else:
            res["events_per_second"] = 0.0
        tail = log_path.read_text(errors="replace").splitlines()
        errors = [
            ln for ln in tail if any(w in ln for w in ("Error", "ERROR", "Traceback", "Exception", "error"))
        ]
        res["error_lines"] = errors[:20]
        results["faust"].append(res)
        print(
            f"faust {variant}: {status}, forwarded {n_end:,}/{total:,}, {res['events_per_second']:,.0f} ev/s "
            f"(first output {res['spawn_to_first_output_s']}s after spawn), "
            f"{res.get('cpu_us_per_event', float('nan')):.1f} us CPU/ev, peak RSS {res['peak_rss_mib']:.0f} MiB, "
            f"others {cpu['others_cores']:.2f} cores, load {res['loadavg']}",
            flush=True,
        )
        if errors:
            print("  faust log errors:\n    " + "\n    ".join(errors[:10]))
        delete_topics(conf, [out])
        save_json(args.workdir / "faust-results.json", results)

    # ---------------------------------------------------------------- table
    bare = (
        statistics.median(r["events_per_second"] for r in results["bare"])
        if results["bare"]
        else float("nan")
    )
    print()
    print(hardware())
    print(
        f"{'consumer (same topics, ' + format(total, ',') + ' events)':<58}{'events/s':>10}{'% of bare':>11}{'CPU us/ev':>11}"
    )
    print("-" * 90)
    print(
        f"{'bare confluent-kafka loop (json.loads + produce, commit)':<58}{bare:>10,.0f}{100.0:>10.0f}%"
        f"{statistics.median(r['cpu_us_per_event'] for r in results['bare']):>11.1f}"
    )
    for r in results["faust"]:
        label = f"faust-streaming 0.15.3 aiokafka, agent '{r['variant']}' ({r['status']})"
        print(
            f"{label:<58}{r['events_per_second']:>10,.0f}{100 * r['events_per_second'] / bare:>10.1f}%"
            f"{r.get('cpu_us_per_event', float('nan')):>11.1f}"
        )
    if worker_res:
        w = worker_res["rate_10_to_90pct"]
        print(
            f"{'riskwatch worker (full detectors, EOS; worker_bench run)':<58}{w:>10,.0f}{100 * w / bare:>10.1f}%"
            f"{worker_res['worker_cpu_us_per_event']:>11.1f}"
        )
    save_json(args.workdir / "faust-results.json", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
