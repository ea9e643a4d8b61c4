"""``riskwatch demo`` end to end, as the README runs it: against the stack that is already up (which it must
leave running), on fresh topics and a fresh consumer group, stopping by itself once the traffic is done."""

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

from config.settings import Settings
from streams.stack import command, kafka_server, redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 6
DEADLINE_SECONDS = 90.0
ALERT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (LOW|MEDIUM|HIGH|CRITICAL)\s+"
    r"(amount_spike|velocity_spike|contact_change_burst|account_takeover|structuring|large_value|tier_limit)"
    r"\s+\S+\s+\S"
)


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
    compacted = {"cleanup.policy": "compact"}
    topics = {
        "TRANSACTIONS": topic_factory(PARTITIONS, prefix="rw-demo-tx"),
        "CONTACT_CHANGES": topic_factory(PARTITIONS, prefix="rw-demo-cc"),
        "CUSTOMER_PROFILES": topic_factory(PARTITIONS, compacted, prefix="rw-demo-cp"),
        "ALERTS": topic_factory(PARTITIONS, prefix="rw-demo-alerts"),
        "CUSTOMER_RISK": topic_factory(PARTITIONS, compacted, prefix="rw-demo-risk"),
        "DEAD_LETTER": topic_factory(PARTITIONS, prefix="rw-demo-dlq"),
    }
    env = {
        **os.environ,
        **{f"RISKWATCH_TOPICS__{role}": name for role, name in topics.items()},
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
        "demo",
        "--customers",
        "40",
        "--days",
        "20",
        "--rate",
        "2000",
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
