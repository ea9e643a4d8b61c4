"""Faults that need the real broker: each ends in ONE line and its documented exit code, or (two default
workers on one host) does not happen at all. The broker-free ones are in tests/unit/streams/test_cli_faults.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer
from kafka_harness import Topics, WorkerProcess, committed_everything, wait_for

from streams.errors import EXIT_AUTH, EXIT_FENCED, EXIT_REFUSED, EXIT_TOPICS
from streams.partitioning import kafka_partition

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = {"RISKWATCH_DETECTION__CONTACT_HASH_KEY": "a-test-secret-not-the-public-one"}
PARTITIONS = 6


def produce_everywhere(conf: dict[str, str], topics: Topics, n: int = 120) -> None:
    """Valid transactions for customers on every partition, so every member of a group has work."""
    producer = Producer({**conf, "partitioner": "murmur2_random"})
    for i in range(n):
        customer = f"c-{i}"
        event = {
            "type": "transaction",
            "event_id": f"e-{i}-{time.monotonic_ns()}",
            "customer_id": customer,
            "timestamp": "2026-03-01T10:00:00+08:00",
            "account_id": "a-1",
            "amount": "100",
            "currency": "CNY",
            "direction": "debit",
            "channel": "card",
        }
        producer.produce(topics["transactions"], key=customer.encode(), value=json.dumps(event).encode())
    assert producer.flush(30) == 0
    assert {kafka_partition(f"c-{i}".encode(), PARTITIONS) for i in range(n)} == set(range(PARTITIONS))


def last_line(w: WorkerProcess) -> str:
    text = w.log_path.read_text(errors="replace")
    assert "Traceback" not in text, text
    return text.splitlines()[-1]


def wait_exit(w: WorkerProcess, timeout: float = 90.0) -> int:
    return w.proc.wait(timeout)


@pytest.mark.parametrize("runtime", ["confluent"])
def test_two_workers_with_default_ids_on_one_host_both_run(kafka_conf, topics, workers, group_id) -> None:
    a = workers(None)
    a.wait_ready()
    b = workers(None)
    b.wait_ready()
    produce_everywhere(kafka_conf, topics)
    wait_for(committed_everything(kafka_conf, group_id, topics), 120.0, "all input committed", a, b)
    a.assert_running()
    b.assert_running()
    started = [
        line.split("worker ", 1)[1].split(" started")[0]
        for w in (a, b)
        for line in w.log_path.read_text().splitlines()
        if " started in group " in line
    ]
    assert len(started) == 2
    assert started[0] != started[1]
    assert {s.rsplit("-", 1)[1] for s in started} == {"0", "1"}


@pytest.mark.parametrize("runtime", ["confluent"])
def test_a_fenced_worker_exits_with_one_line_naming_the_other(
    kafka_conf, topics, workers, group_id, tmp_path: Path
) -> None:
    zombie = workers("w-same")
    zombie.wait_ready()
    # the same id on "another host" (its own lock folder): it takes over the transactional id
    usurper = workers("w-same", XDG_STATE_HOME=str(tmp_path / "other-host"))
    usurper.wait_ready()
    produce_everywhere(kafka_conf, topics)
    assert wait_exit(zombie) == EXIT_FENCED
    line = last_line(zombie)
    assert line.startswith("riskwatch: worker w-same was fenced: another worker with instance id w-same"), (
        line
    )
    assert f"transactional id {group_id}-w-same" in line
    usurper.assert_running()


@pytest.mark.parametrize("runtime", ["faust"])
def test_faust_refuses_to_join_a_group_that_has_members(kafka_conf, topics, workers, group_id) -> None:
    first = workers("w-first", RISKWATCH_WORKER__RUNTIME="confluent")
    first.wait_ready()
    second = workers("w-second")
    assert wait_exit(second) == EXIT_REFUSED
    line = last_line(second)
    assert f"consumer group {group_id} already has 1 active member(s) (w-first-consumer at" in line, line
    first.assert_running()


def _worker_once(tmp_path: Path, **env: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if k != "RISKWATCH_WORKER__METRICS_PORT"}
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "worker", "--metrics-port", "0"],
        env={**clean, "XDG_STATE_HOME": str(tmp_path), **SECRET, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return proc.returncode, lines[0]


def test_authentication_failure_is_one_line(kafka_conf, tmp_path: Path) -> None:
    code, line = _worker_once(
        tmp_path,
        RISKWATCH_KAFKA__SECURITY_PROTOCOL="SASL_PLAINTEXT",
        RISKWATCH_KAFKA__SASL_MECHANISM="SCRAM-SHA-512",
        RISKWATCH_KAFKA__SASL_USERNAME="nobody",
        RISKWATCH_KAFKA__SASL_PASSWORD="wrong",
    )
    assert code == EXIT_AUTH
    assert line.startswith(f"riskwatch: Kafka at {kafka_conf['bootstrap.servers']} refused the connection")
    assert "sasl_username/sasl_password" in line


def test_missing_topic_is_one_line(kafka_conf, tmp_path: Path) -> None:
    code, line = _worker_once(tmp_path, RISKWATCH_TOPICS__CONTACT_CHANGES="no-such-topic-rw")
    assert code == EXIT_TOPICS
    assert line.startswith("riskwatch: input topics missing: no-such-topic-rw — create them")
