"""Latency of ``riskwatch serve`` lookups at a fixed request rate, measured with a load tool (run by hand).

Seeds a read model under its own key prefix through the projector's store (so the projection write rate
is measured too), starts ``riskwatch serve`` with a bearer token, then for each lookup runs ``hey`` at a
fixed rate (``-c`` workers x ``-q`` requests/s each) and ``wrk`` closed-loop for the ceiling, and prints
the hardware, the latency percentiles and the server's CPU. Needs the stack's Redis (``riskwatch stack
up``) and Debian's ``hey`` and ``wrk`` (``apt-get install -y hey wrk``).

    python bench/api_bench.py --customers 100000 --rate 1000 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import orjson
from _common import REPO, CpuWatch, hardware

from config.settings import load_settings
from readmodel.connection import sync_client
from readmodel.keys import Keys
from readmodel.records import Record
from readmodel.store import RedisStore

TOKEN = "bench-token"  # noqa: S105 - a throwaway token for the local server
ALERTS_PER_RICH_CUSTOMER = 20


def risk(cid: str, i: int) -> bytes:
    score = round((i * 7919) % 10000 / 100.0, 2)
    tier = "high" if score >= 70 else "medium" if score >= 40 else "low"
    return orjson.dumps(
        {
            "customer_id": cid,
            "schema_version": 1,
            "tier": tier,
            "score": score,
            "previous_tier": None,
            "factors": {
                "credit_record": score * 0.35,
                "financial_condition": score * 0.25,
                "industry_risk": score * 0.2,
                "business_size": score * 0.1,
                "politically_exposed": 0.0,
                "behaviour.structuring": 12.5,
            },
            "updated_at": "2026-01-01T00:00:00+08:00",
            "next_review_due": (date(2026, 1, 1) + timedelta(days=i % 730)).isoformat(),
            "reason": f"Scorecard {score:.1f}/100; largest factor credit record.",
        }
    )


def alert(cid: str, n: int) -> bytes:
    return orjson.dumps(
        {
            "alert_id": f"{cid}-{n:04d}",
            "schema_version": 1,
            "customer_id": cid,
            "detector": "large_value",
            "severity": "medium",
            "score": 0.31,
            "risk_tier": "high",
            "event_time": f"2026-01-{1 + n % 28:02d}T10:{n % 60:02d}:00+08:00",
            "detected_at": "2026-01-28T10:00:00+00:00",
            "trigger_event_ids": [f"e-{cid}-{n}-{k}" for k in range(4)],
            "reason": "Same-day total of individual transfer debits on 2026-01-02, 612000.00 over 3 transactions, "
            "is at or above the large-value reporting threshold of 500000.",
            "evidence": {
                "report_kind": "individual_transfer",
                "direction": "debit",
                "amount_base": "612000.00",
                "threshold_base": "500000",
                "transaction_count": 3,
                "aggregate": True,
            },
        }
    )


def seed(store: RedisStore, customers: int, rich: int) -> tuple[int, float]:
    """Project synthetic records through the real store; (records, seconds)."""
    batch: list[Record] = []
    offsets: dict[tuple[str, int], int | None] = {}
    count, started = 0, time.perf_counter()

    def flush() -> None:
        expected = {(r.topic, r.partition): offsets.get((r.topic, r.partition)) for r in batch}
        done = store.apply(batch, expected)
        offsets.update(done.offsets)
        batch.clear()

    for i in range(customers):
        cid = f"C{i:07d}"
        batch.append(Record("customer_risk", "bench-risk", 0, i, 1, cid.encode(), risk(cid, i)))
        if i < rich:
            for n in range(ALERTS_PER_RICH_CUSTOMER):
                off = i * ALERTS_PER_RICH_CUSTOMER + n
                batch.append(Record("alerts", "bench-alerts", 0, off, 1, cid.encode(), alert(cid, n)))
        if len(batch) >= 2000:
            count += len(batch)
            flush()
    count += len(batch)
    if batch:
        flush()
    return count, time.perf_counter() - started


def server_pids(pid: int) -> dict[str, int]:
    """The server and its forked worker processes (``--server-workers``)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return {"server": pid, **{f"server-{c}": int(c) for c in children}}


def server_cores(cpu: dict[str, float]) -> float:
    return sum(v for k, v in cpu.items() if k.startswith("server") and k.endswith("_cpu_s")) / cpu["wall_s"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hey(url: str, rate: int, seconds: int, workers: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "hey",
            "-z",
            f"{seconds}s",
            "-c",
            str(workers),
            "-q",
            str(rate // workers),
            "-H",
            f"Authorization: Bearer {TOKEN}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        figures["rps"] = float(m.group(1))
    for pct in ("50", "90", "99"):
        if m := re.search(rf"\s{pct}% in ([\d.]+) secs", out):
            figures[f"p{pct}_ms"] = float(m.group(1)) * 1000
    codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", out))
    figures["non_200"] = float(sum(int(n) for c, n in codes.items() if c != "200"))
    return figures


def wrk(url_base: str, path_lua: str, seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(path_lua)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "--latency",
            "-s",
            f.name,
            "-H",
            f"Authorization: Bearer {TOKEN}",
            url_base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(f.name)
    figures: dict[str, float] = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        figures["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        if m := re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)", out):
            value, unit = float(m.group(1)), m.group(2)
            figures[f"p{pct}_ms"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        figures["non_2xx"] = float(m.group(1))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--rich", type=int, default=1000, help=f"customers with {ALERTS_PER_RICH_CUSTOMER} alerts"
    )
    parser.add_argument("--rate", type=int, default=1000, help="requests/s offered by hey")
    # hey's workers tick in step: 10 x 100/s arrive as bursts of 10 every 10 ms, which a one-process server
    # queues (the 10th waits for nine lookups); 2 x 500/s is close to the steady 1,000/s meant
    parser.add_argument("--workers", type=int, default=2, help="hey's concurrent workers (default 2)")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--server-workers", type=int, default=1, help="riskwatch serve --workers")
    parser.add_argument("--keep", action="store_true", help="leave the seeded keys in Redis")
    parser.add_argument("--reuse", action="store_true", help="serve what an earlier --keep run seeded")
    args = parser.parse_args()
    for tool in ("hey", "wrk"):
        if shutil.which(tool) is None:
            print(f"api_bench: `{tool}` is missing: apt-get install -y hey wrk", file=sys.stderr)
            return 2

    prefix = "bench-api"
    settings = load_settings(redis={"key_prefix": prefix, "max_connections": 64})
    client = sync_client(settings.redis)
    keys = Keys.for_prefix(prefix)
    store = RedisStore(client, keys, ALERTS_PER_RICH_CUSTOMER, erasure_key=b"bench")
    print(hardware())
    if not args.reuse:
        store.clear()
        client.delete(keys.erased)
        records, seconds = seed(store, args.customers, args.rich)
        print(
            f"projected {records:,} records into Redis in {seconds:.1f}s ({records / seconds:,.0f} records/s, "
            f"batches of 2,000 in one MULTI/EXEC each); Redis used_memory "
            f"{int(client.info('memory')['used_memory']) / 2**20:,.0f} MiB"
        )

    port = free_port()
    env = {**os.environ, "RISKWATCH_REDIS__KEY_PREFIX": prefix, "RISKWATCH_SERVE__API_TOKEN": TOKEN}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streams.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.server_workers),
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1) as r:  # noqa: S310 - our own http URL
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        lookups = {
            "customer (20 alerts)": f"{base}/api/customers/C0000042",
            "customer (no alerts)": f"{base}/api/customers/C0050042",
            "top 50 high": f"{base}/api/customers?tier=high&top=50",
            "reviews due (100)": f"{base}/api/reviews/due?before=2026-03-01&limit=100",
        }
        print(
            f"\nhey: {args.rate} requests/s offered ({args.workers} workers x {args.rate // args.workers}/s), "
            f"{args.seconds}s each, {args.server_workers} uvicorn process(es) (uvloop, httptools), bearer token on"
        )
        for name, url in lookups.items():
            watch = CpuWatch(server_pids(server.pid))
            figures = hey(url, args.rate, args.seconds, args.workers)
            cpu = watch.stop()
            print(
                f"  {name:22s} {figures.get('rps', 0):7.0f} req/s  p50 {figures.get('p50_ms', 0):5.2f} ms  "
                f"p90 {figures.get('p90_ms', 0):5.2f} ms  p99 {figures.get('p99_ms', 0):5.2f} ms  "
                f"non-200 {figures['non_200']:.0f}  server {server_cores(cpu):.2f} cores"
            )
        lua = (
            "math.randomseed(7)\nrequest = function()\n"
            f"  return wrk.format(nil, string.format('/api/customers/C%07d', math.random(0, {args.rich - 1})))\nend\n"
        )
        watch = CpuWatch(server_pids(server.pid))
        ceiling = wrk(base, lua, args.seconds)
        cpu = watch.stop()
        print(
            f"\nwrk closed loop (2 threads, 16 connections), random customers with 20 alerts: "
            f"{ceiling.get('rps', 0):,.0f} req/s, p50 {ceiling.get('p50_ms', 0):.2f} ms, "
            f"p99 {ceiling.get('p99_ms', 0):.2f} ms, server {server_cores(cpu):.2f} cores"
        )
    finally:
        server.terminate()
        server.wait(30)
        if not args.keep:
            store.clear()
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
