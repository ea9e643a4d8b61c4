"""``riskwatch demo`` end to end, as the README runs it: against the stack that is already up (which it must
leave running), on fresh topics and a fresh consumer group, stopping by itself once the traffic is done.
The README's sample output is this run's first alerts: set RISKWATCH_UPDATE_README=1 to rewrite it."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from kafka_harness import all_topics

from config.settings import Settings
from localdev.stack import command, kafka_server, redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 6
DEADLINE_SECONDS = 90.0
ALERT_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4})  (LOW|MEDIUM|HIGH|CRITICAL)\s+([a-z_]+)\s+(\S+)\s"
)
README = Path(__file__).resolve().parents[2] / "README.md"
SAMPLE_START, SAMPLE_END = "<!-- demo-sample:start -->\n", "<!-- demo-sample:end -->\n"
SAMPLE_ALERTS = 8


def _rows(text: str) -> list[list[str]]:
    """The printed rows: a first line and its indented continuation lines."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("    ") and rows:
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _sample(text: str) -> str:
    """The header and the first alerts by event time (then detector, customer): what the README shows."""
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("EVENT TIME"))
    alerts = [row for row in _rows(text) if ALERT_LINE.match(row[0])]
    alerts.sort(key=lambda row: ALERT_LINE.match(row[0]).groups())  # type: ignore[union-attr]
    body = "\n".join(line for row in alerts[:SAMPLE_ALERTS] for line in row)
    return f"```\n$ bash scripts/demo\n...\n{header}\n{body}\n...\n```\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stack_pids(settings: Settings) -> tuple[int | None, int | None]:
    root = command.stack_root(settings)
    return (
        kafka_server.running_pid(kafka_server.layout(root)),
        redis_server.running_pid(redis_server.layout(root, settings.stack)),
    )


def test_demo_runs_against_the_running_stack_and_leaves_it_up(
    settings: Settings,
    admin_client: AdminClient,
    redis_client: redis.Redis,
    topic_factory: Callable[..., str],
    group_id: str,
    tmp_path: Path,
) -> None:
    topics = all_topics(topic_factory)
    env = {
        **os.environ,
        **topics.env(),
        "RISKWATCH_KAFKA__CONSUMER_GROUP": group_id,
        "RISKWATCH_WORKER__METRICS_PORT": str(_free_port()),
        "NO_COLOR": "1",
    }
    pids_before = _stack_pids(settings)
    out, err = tmp_path / "demo.out", tmp_path / "demo.err"
    argv = [
        sys.executable,
        "-m",
        "streams.cli",
        "demo",  # the README's traffic (scripts/demo: the defaults), faster
        "--rate",
        "5000",
    ]
    started = time.monotonic()
    try:
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.run(
                [*argv, "--exit-when-done"], env=env, stdout=stdout, stderr=stderr, timeout=DEADLINE_SECONDS
            )
        elapsed = time.monotonic() - started
        text = out.read_text(errors="replace")
        detail = f"--- stdout\n{text[-3000:]}\n--- stderr\n{err.read_text(errors='replace')[-3000:]}"
        assert proc.returncode == 0, detail
        assert elapsed < DEADLINE_SECONDS, detail
        alerts = [line for line in text.splitlines() if ALERT_LINE.match(line)]
        assert alerts, f"no alert line printed\n{detail}"
        lines = text.splitlines()
        header = lines.index(next(line for line in lines if line.startswith("EVENT TIME")))
        assert all(len(line) <= 120 for line in lines[header:]), detail
        assert "%3|" not in text + err.read_text(), "librdkafka log lines leaked into the output"
        history = next(i for i, line in enumerate(lines) if line.startswith("history before "))
        first_screen = [m.group(3) for line in lines[header : header + 40] if (m := ALERT_LINE.match(line))]
        assert len(set(first_screen)) >= 3, f"first screen shows only {set(first_screen)}\n{detail}"
        assert history < header + 2, "the history line comes before the live rows"

        sample = _sample(text)
        readme = README.read_text()
        start, end = readme.index(SAMPLE_START) + len(SAMPLE_START), readme.index(SAMPLE_END)
        if os.environ.get("RISKWATCH_UPDATE_README") == "1":
            README.write_text(readme[:start] + sample + readme[end:])
        else:
            assert readme[start:end] == sample, (
                "the README's demo sample is stale; rerun this test with RISKWATCH_UPDATE_README=1\n" + sample
            )
        assert "--- summary" in text, detail
        assert "stack down" not in text, f"the demo stopped a stack it did not start\n{detail}"

        # the stack is still up: the same processes (when it runs from pid files), answering as before
        assert _stack_pids(settings) == pids_before
        assert admin_client.list_topics(timeout=10).brokers
        assert redis_client.ping()
    finally:
        with contextlib.suppress(KafkaException):  # best-effort clean-up of the worker's state changelog
            for future in admin_client.delete_topics(
                [f"{group_id}-customer-state-changelog"], operation_timeout=30
            ).values():
                future.result(30)


def test_demo_rejects_bad_arguments_without_a_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "demo", "--rate", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RISKWATCH_KAFKA__CONSUMER_GROUP": f"rw-test-{uuid.uuid4().hex[:8]}"},
    )
    assert proc.returncode == 2
    assert "--rate must be positive" in proc.stderr
    assert "Traceback" not in proc.stderr
