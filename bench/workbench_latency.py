"""Produced event -> its alert on the workbench's open inbox page, in headless Chromium.

Against the stack on your ports (env as for the tests): fresh topics, one `riskwatch worker`, one `riskwatch
serve`, Debian's chromium through chromedriver. Produces --alerts events that each raise one large_value
alert (a 60,000 CNY cash credit of a new customer), --interval-ms apart, and reads back from the page when
each alert arrived (window.rwSeen, set by the page's script as it inserts the row: the browser's clock, the
same machine's as the producer's). Prints p50/p95/p99/max. Run by hand: python bench/workbench_latency.py
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from _common import hardware
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from config.settings import TopicSettings, load_settings

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=120)
    parser.add_argument("--interval-ms", type=float, default=100.0)
    args = parser.parse_args()
    settings = load_settings()
    conf = settings.kafka.client_config()
    tag = uuid.uuid4().hex[:6]
    roles = [r for r in TopicSettings.model_fields if r not in ("partitions", "replication_factor")]
    topics = {r: f"rw-wbbench-{tag}-{r}" for r in roles}
    admin = AdminClient(conf)
    for f in admin.create_topics(
        [
            NewTopic(t, 6, 1, config={"cleanup.policy": "compact"} if r in TopicSettings.COMPACTED else {})
            for r, t in topics.items()
        ]
    ).values():
        f.result(30)
    env = {
        **os.environ,
        **{f"RISKWATCH_TOPICS__{r.upper()}": t for r, t in topics.items()},
        "RISKWATCH_KAFKA__CONSUMER_GROUP": f"rw-wbbench-{tag}",
    }
    work = Path(tempfile.mkdtemp(prefix="rw-wbbench-"))
    metrics_port, web_port = free_port(), free_port()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streams.cli",
                "worker",
                "--instance-id",
                "wbbench",
                "--metrics-port",
                str(metrics_port),
            ],
            env=env,
            stdout=(work / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "serve", "--port", str(web_port)],
            env=env,
            stdout=(work / "serve.log").open("wb"),
            stderr=subprocess.STDOUT,
        ),
    ]
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:

        def ready(url: str) -> bool:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310
                    return bool(r.status == 200)
            except OSError:
                return False

        wait(lambda: ready(f"http://127.0.0.1:{metrics_port}/readyz"), 90, "the worker")
        wait(lambda: ready(f"http://127.0.0.1:{web_port}/"), 60, "serve")
        driver.get(f"http://127.0.0.1:{web_port}/")
        wait(lambda: driver.execute_script("return document.body.dataset.live") == "1", 20, "SSE")
        producer = Producer({**conf, "partitioner": "murmur2_random", "linger.ms": 0})
        produced: dict[str, float] = {}
        for i in range(args.alerts):
            customer = f"WBB{tag}{i:05d}"
            event = {
                "type": "transaction",
                "event_id": f"wbb-{tag}-{i}",
                "customer_id": customer,
                "timestamp": "2025-03-03T10:00:00+08:00",
                "account_id": "A1",
                "amount": "60000.00",
                "currency": "CNY",
                "direction": "credit",
                "channel": "cash",
            }
            produced[customer] = time.time() * 1000
            producer.produce(topics["transactions"], key=customer.encode(), value=json.dumps(event).encode())
            producer.poll(0)
            time.sleep(args.interval_ms / 1000)
        producer.flush(30)
        script = "return Array.from(document.querySelectorAll('article')).map(a => [a.dataset.customer, window.rwSeen[a.dataset.alertId]])"
        wait(
            lambda: sum(1 for c, s in driver.execute_script(script) if c in produced and s) >= args.alerts,
            60,
            "every alert",
        )
        latencies = sorted(
            (seen - produced[customer])
            for customer, seen in driver.execute_script(script)
            if customer in produced and seen
        )
        q = statistics.quantiles(latencies, n=100)
        print(hardware())
        print(
            f"{len(latencies)} alerts, one every {args.interval_ms:g} ms: produced -> on the page "
            f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, max {latencies[-1]:.0f} ms"
        )
    finally:
        driver.quit()
        for p in procs:
            p.terminate()
            p.wait(30)
        for f in admin.delete_topics(
            [*topics.values(), f"rw-wbbench-{tag}-customer-state-changelog"]
        ).values():
            try:
                f.result(30)
            except Exception as exc:  # best effort clean-up
                print(f"cleanup: {exc}", file=sys.stderr)


if __name__ == "__main__":
    main()
