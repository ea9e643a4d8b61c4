"""Faults that need the real broker: each ends in ONE line and its documented exit code, or (two default
workers on one host) does not happen at all. The broker-free ones are in tests/unit/streams/test_cli_faults.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer
from kafka_harness import Topics, WorkerProcess, committed_everything, free_port, wait_for

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


class Forwarder(threading.Thread):
    """A TCP port that forwards to the broker once started: a broker that comes up after the worker."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        super().__init__(daemon=True)
        self.target = target
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(0.2)
        self.stopped = threading.Event()
        self.sockets: list[socket.socket] = [self.server]

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)

    def close(self) -> None:
        self.stopped.set()
        self.join(5)
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.mark.parametrize("runtime", ["confluent"])
def test_a_worker_started_before_its_broker_waits_for_it(kafka_conf, workers) -> None:
    port = free_port()
    w = workers("w-early", RISKWATCH_KAFKA__BOOTSTRAP_SERVERS=f"127.0.0.1:{port}")
    wait_for(lambda: "does not answer" in w.log_path.read_text(), 30.0, "the first logged retry", w)
    host, broker_port = kafka_conf["bootstrap.servers"].split(",")[0].rsplit(":", 1)
    forwarder = Forwarder(port, (host, int(broker_port)))
    forwarder.start()
    try:
        w.wait_ready(90.0)
        log = w.log_path.read_text()
    finally:
        w.close()  # before the forwarder goes: the worker's bootstrap connection runs through it
        forwarder.close()
    assert 1 <= log.count("does not answer") <= 3, "retries are logged once per kind every 10 s"
    assert "Traceback" not in log
