"""Throughput of ``riskwatch replay`` (``offline.replay.replay_file``) over a generated scenario.

Run by hand, never by pytest:

    /tmp/rwvenv/bin/python bench/replay_bench.py                       # ~250k events, median of 3
    /tmp/rwvenv/bin/python bench/replay_bench.py --customers 200 --repeat 1   # quick
    /tmp/rwvenv/bin/python bench/replay_bench.py --profile              # + cProfile top 15

The scenario is generated once and cached as JSONL under ``--workdir`` (keyed by customers/days/seed).
Every timed run is a fresh ``replay_file`` call (fresh engine and state), in this process. Peak RSS is
reported twice: ``ru_maxrss`` of this process (includes the generator when the cache was cold), and VmHWM
of a fresh child process that runs one replay on the warm cache (the figure to quote).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import hardware

from config.settings import load_settings
from offline.replay import replay_file


def scenario_file(workdir: Path, customers: int, days: int, seed: int) -> Path:
    path = workdir / f"scenario-c{customers}-d{days}-s{seed}.jsonl"
    if path.is_file() and path.stat().st_size > 0:
        return path
    from scenarios.generator import ScenarioConfig, generate

    t = time.perf_counter()
    scenario = generate(ScenarioConfig(customers=customers, days=days, seed=seed))
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for line in scenario.json_lines():
            f.write(line)
            f.write("\n")
    tmp.rename(path)
    print(
        f"generated {len(scenario.events):,} events in {time.perf_counter() - t:.1f}s -> {path}",
        file=sys.stderr,
    )
    return path


def peak_rss_mib() -> float:
    """Peak RSS of this process: ru_maxrss (Linux: KiB). Note Linux carries a parent's ru_maxrss over
    fork+exec, so the child measurement below uses VmHWM (reset by exec) instead."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def vm_hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def run_once(path: Path, workdir: Path) -> dict:
    settings = load_settings()
    return replay_file(
        path,
        settings,
        alerts_out=workdir / "bench-alerts.jsonl",
        dead_letter_out=workdir / "bench-dlq.jsonl",
        risk_out=workdir / "bench-risk.jsonl",
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1200)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/rwbench"))
    ap.add_argument("--profile", action="store_true", help="one extra run under cProfile, print top 15")
    ap.add_argument("--profile-sort", default="tottime", choices=["tottime", "cumulative"])
    ap.add_argument("--profile-top", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="print one JSON line of the results at the end")
    ap.add_argument("--_rss-only", dest="rss_only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    path = scenario_file(args.workdir, args.customers, args.days, args.seed)
    if args.rss_only:  # child: one replay on a warm cache, report ru_maxrss
        run_once(path, args.workdir)
        print(json.dumps({"peak_rss_mib": vm_hwm_mib()}))
        return 0

    print(hardware())
    print(f"input: {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    runs = []
    for i in range(args.repeat):
        s = run_once(path, args.workdir)
        runs.append(s)
        print(
            f"  run {i + 1}: {s['lines']:,} lines in {s['seconds']:.2f}s = {s['events_per_second']:,.0f} ev/s "
            f"({1e6 * s['seconds'] / max(1, s['lines']):.1f} us/event), alerts={s['alerts']:,}, "
            f"customers={s['customers']:,}, loadavg={os.getloadavg()[0]:.2f}",
            flush=True,
        )
    # peak RSS of a single replay on a warm cache, in a fresh process
    child = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--customers",
            str(args.customers),
            "--days",
            str(args.days),
            "--seed",
            str(args.seed),
            "--workdir",
            str(args.workdir),
            "--_rss-only",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    child_rss = json.loads(child.stdout.strip().splitlines()[-1])["peak_rss_mib"]

    eps = statistics.median(r["events_per_second"] for r in runs)
    secs = statistics.median(r["seconds"] for r in runs)
    lines = runs[0]["lines"]
    print()
    print(f"{'metric':<56}{'value':>16}")
    print("-" * 72)
    print(f"{'events (lines)':<56}{lines:>16,}")
    print(f"{'customers':<56}{runs[0]['customers']:>16,}")
    print(f"{'alerts':<56}{runs[0]['alerts']:>16,}")
    print(f"{'events/s (median of ' + str(len(runs)) + ')':<56}{eps:>16,.0f}")
    print(
        f"{'  min / max events/s':<56}{min(r['events_per_second'] for r in runs):>8,.0f}/{max(r['events_per_second'] for r in runs):>7,.0f}"
    )
    print(f"{'us per event (median)':<56}{1e6 * secs / max(1, lines):>16.1f}")
    print(f"{'peak RSS (ru_maxrss) this process incl. generator (MiB)':<56}{peak_rss_mib():>16.1f}")
    print(f"{'peak RSS (VmHWM) of 1 replay, fresh proc (MiB)':<56}{child_rss:>16.1f}")
    print(f"{'alerts by detector':<56}{json.dumps(runs[0]['alerts_by_detector'])}")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        s = run_once(path, args.workdir)
        prof.disable()
        out = io.StringIO()
        st = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(args.profile_sort)
        st.print_stats(args.profile_top)
        print(
            f"\ncProfile of one replay ({s['lines']:,} lines, {s['seconds']:.2f}s under the profiler), "
            f"top {args.profile_top} by {args.profile_sort}:"
        )
        print(out.getvalue())
    if args.json:
        print(
            json.dumps(
                {
                    "events": lines,
                    "events_per_second": eps,
                    "us_per_event": 1e6 * secs / max(1, lines),
                    "peak_rss_mib_alone": child_rss,
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
