"""The stream worker against the real broker: the same alerts as ``riskwatch replay``, exactly once,
through a crash, a scale-out and bad input.

Every test gets fresh topics and a fresh consumer group, runs real ``riskwatch worker`` processes, and
waits on conditions (committed offsets, messages on topics) with deadlines; nothing sleeps to hide a race.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from config.settings import Settings
from scenarios.generator import ScenarioConfig, generate
from streams.partitioning import kafka_partition
from streams.replay import replay_file

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 6
WAIT_SECONDS = 120.0
IGNORED_FIELDS = ("detected_at",)


# ------------------------------------------------------------------------------------------- helpers
class Topics(dict[str, str]):
    """Contract topic role -> this test's fresh topic name."""

    def env(self) -> dict[str, str]:
        return {f"RISKWATCH_TOPICS__{role.upper()}": name for role, name in self.items()}


@pytest.fixture
def topics(topic_factory: Callable[..., str]) -> Topics:
    compacted = {"cleanup.policy": "compact"}
    return Topics(
        transactions=topic_factory(PARTITIONS, prefix="rw-tx"),
        contact_changes=topic_factory(PARTITIONS, prefix="rw-cc"),
        customer_profiles=topic_factory(PARTITIONS, compacted, prefix="rw-cp"),
        alerts=topic_factory(PARTITIONS, prefix="rw-alerts"),
        customer_risk=topic_factory(PARTITIONS, compacted, prefix="rw-risk"),
        dead_letter=topic_factory(PARTITIONS, prefix="rw-dlq"),
    )


class WorkerProcess:
    def __init__(
        self, instance_id: str, group: str, topics: Topics, log_dir: Path, extra_env: dict[str, str]
    ):
        self.instance_id = instance_id
        self.log_path = log_dir / f"worker-{instance_id}-{uuid.uuid4().hex[:6]}.log"
        self.metrics_port = _free_port()
        env = {
            **os.environ,
            **topics.env(),
            "RISKWATCH_WORKER__METRICS_PORT": str(self.metrics_port),
            "RISKWATCH_KAFKA__CONSUMER_GROUP": group,
            **extra_env,
        }
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker", "--instance-id", instance_id],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return str(r.read().decode())

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            self.assert_running()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=2) as r:
                    return bool(r.status == 200)
            except OSError:
                return False

        wait_for(ready, timeout, f"worker {self.instance_id} ready", self)

    def assert_running(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"worker {self.instance_id} exited with {self.proc.returncode}:\n{self.tail()}"
            )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self._log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *workers: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for w in workers:
            w.assert_running()  # a worker that died will not make the condition true: fail now
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {w.instance_id}\n{w.tail()}" for w in workers)
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")
        time.sleep(0.1)


@pytest.fixture(params=["confluent", "faust"])
def runtime(request: pytest.FixtureRequest) -> str:
    """Every worker test runs once per stream runtime (``worker.runtime``)."""
    return str(request.param)


@pytest.fixture
def workers(
    settings: Settings, tmp_path: Path, group_id: str, topics: Topics, runtime: str
) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(instance_id: str, **extra_env: str) -> WorkerProcess:
        env = {"RISKWATCH_WORKER__RUNTIME": runtime, **extra_env}
        w = WorkerProcess(instance_id, group_id, topics, tmp_path, env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()
    admin = AdminClient(settings.kafka.client_config())
    # the state changelog, and faust's own internal topics (all named after the app id, i.e. the group)
    leftovers = [t for t in admin.list_topics(timeout=30).topics if t.startswith(f"{group_id}-")]
    for future in admin.delete_topics(
        leftovers or [f"{group_id}-customer-state-changelog"], operation_timeout=30
    ).values():
        with contextlib.suppress(KafkaException):  # best-effort clean-up of a per-test topic
            future.result(30)


def produce(
    conf: dict[str, str], topics: Topics, lines: list[bytes], start_ms: int | None = None
) -> dict[str, int]:
    """Produce raw lines to the topic of their type, keyed by customer_id, as upstream systems do, with
    record timestamps increasing in file order (CreateTime of events produced as they happen)."""
    producer = Producer({**conf, "partitioner": "murmur2_random", "enable.idempotence": True, "linger.ms": 5})
    role = {
        "transaction": "transactions",
        "contact_change": "contact_changes",
        "customer_profile": "customer_profiles",
    }
    counts: dict[str, int] = {}
    if start_ms is None:
        start_ms = int(time.time() * 1000) - len(lines)
    for i, line in enumerate(lines):
        try:
            event = json.loads(line)
            topic = topics[role[event["type"]]]
            key = str(event["customer_id"]).encode()
        except (ValueError, KeyError, TypeError):
            topic, key = topics["transactions"], b"malformed"
        producer.produce(topic, key=key, value=line, timestamp=start_ms + i)
        counts[topic] = counts.get(topic, 0) + 1
        producer.poll(0)
    assert producer.flush(30) == 0, "not every message was delivered"
    return counts


def read_all(
    conf: dict[str, str], topic: str, expected: int | None = None, timeout: float = WAIT_SECONDS
) -> list[dict[str, Any]]:
    """Every committed message of ``topic`` (read_committed), waiting for at least ``expected`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        consumer = Consumer(
            {
                **conf,
                "group.id": f"reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.partition.eof": True,
            }
        )
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        out: list[dict[str, Any]] = []
        eof: set[int] = set()
        while len(eof) < PARTITIONS:
            for msg in consumer.consume(1000, 1.0):
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        eof.add(msg.partition())
                        continue
                    raise AssertionError(str(msg.error()))
                out.append(json.loads(msg.value()))
        consumer.close()
        if expected is None or len(out) >= expected or time.monotonic() > deadline:
            return out
        time.sleep(0.2)


def committed_everything(conf: dict[str, str], group: str, topics: Topics) -> Callable[[], bool]:
    """True once the group's committed offsets reach the end of every input partition."""
    consumer = Consumer(
        {**conf, "group.id": group, "enable.auto.commit": False, "isolation.level": "read_committed"}
    )
    tps = [
        TopicPartition(topics[r], p)
        for r in ("transactions", "contact_changes", "customer_profiles")
        for p in range(PARTITIONS)
    ]

    def check() -> bool:
        try:
            committed = consumer.committed(tps, timeout=10)
        except KafkaException:
            return False  # offsets of a crashed worker's open transaction are unstable until it is fenced
        for tp in committed:
            _, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=10)
            if high > 0 and tp.offset < high:
                return False
        return True

    return check


def strip(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    for a in alerts:
        by_id[a["alert_id"]] = {k: v for k, v in a.items() if k not in IGNORED_FIELDS}
    return by_id


@pytest.fixture(scope="module")
def scenario_lines() -> tuple[list[bytes], list[bytes]]:
    """A labelled scenario split into profiles (produced first: a compacted table that exists before the
    traffic) and the rest in emission order."""
    scenario = generate(ScenarioConfig(customers=40, days=35, seed=11, malformed=4))
    lines = [line.encode() for line in scenario.json_lines()]
    profiles = [line for line in lines if b'"type":"customer_profile"' in line]
    rest = [line for line in lines if b'"type":"customer_profile"' not in line]
    return profiles, rest


@pytest.fixture(scope="module")
def expected_alerts(
    scenario_lines: tuple[list[bytes], list[bytes]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    from config.settings import load_settings

    profiles, rest = scenario_lines
    d = tmp_path_factory.mktemp("replay")
    events = d / "events.jsonl"
    events.write_bytes(b"\n".join(profiles + rest) + b"\n")
    replay_file(events, load_settings(), alerts_out=d / "alerts.jsonl", dead_letter_out=d / "dlq.jsonl")
    alerts = [json.loads(line) for line in (d / "alerts.jsonl").read_text().splitlines()]
    assert len(alerts) >= 10, "the scenario should raise a fair number of alerts"
    return strip(alerts)


def wait_for_a_third(
    kafka_conf: dict[str, str], topics: Topics, expected: dict[str, Any], *workers: WorkerProcess
) -> None:
    """Mid-stream: a third of the expected alerts committed, so a crash or a stop lands in the middle."""
    third = max(1, len(expected) // 3)
    wait_for(
        lambda: len(read_all(kafka_conf, topics["alerts"], timeout=0)) >= third,
        WAIT_SECONDS,
        "a third of the alerts",
        *workers,
    )


def feed(kafka_conf: dict[str, str], topics: Topics, lines: tuple[list[bytes], list[bytes]]) -> None:
    """Profiles first (a compacted table that exists before the traffic), then the rest in file order."""
    profiles, rest = lines
    produce(kafka_conf, topics, profiles + rest)


def feed_two_thirds(
    kafka_conf: dict[str, str], topics: Topics, lines: tuple[list[bytes], list[bytes]]
) -> Callable[[], None]:
    """As ``feed``, but only up to two thirds of the traffic now; the returned function produces the rest
    (record timestamps continue). A crash or a stop after a third of the alerts is then mid-stream however
    fast the worker is: the last third has not even been produced yet."""
    profiles, rest = lines
    first = profiles + rest[: 2 * len(rest) // 3]
    later = rest[2 * len(rest) // 3 :]
    start_ms = int(time.time() * 1000) - len(first) - len(later)
    produce(kafka_conf, topics, first, start_ms)

    def feed_the_rest() -> None:
        produce(kafka_conf, topics, later, start_ms + len(first))

    return feed_the_rest


# --------------------------------------------------------------------------------------------- tests
def test_worker_alerts_equal_replay(
    kafka_conf, topics, workers, group_id, scenario_lines, expected_alerts
) -> None:
    feed(kafka_conf, topics, scenario_lines)
    w = workers("w-e2e")
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "all input committed", w)
    alerts = read_all(kafka_conf, topics["alerts"])
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)), "an alert_id appears twice on the alerts topic"
    assert strip(alerts) == expected_alerts
    metrics = w.metrics()
    assert "riskwatch_alerts_total{detector=" in metrics
    assert f"riskwatch_customers_in_state {float(len(scenario_lines[0]))}" in metrics


def test_crash_and_restart_gives_the_same_alerts_once(
    kafka_conf, topics, workers, group_id, scenario_lines, expected_alerts, runtime, request
) -> None:
    if runtime == "faust":
        # Known and open: on faust-streaming 0.15.3 the restarted worker stalls in about one run in four
        # since the last third of the traffic arrives after the restart: it recovers, aiokafka retries a
        # transactional produce to the changelog after NotEnoughReplicasError, and nothing more is
        # committed. The confluent runtime passes every time. See README, "Choosing the runtime".
        request.applymarker(
            pytest.mark.xfail(strict=False, reason="faust 0.15.3 restart after SIGKILL can stall under load")
        )
    small_batches = {"RISKWATCH_WORKER__BATCH_MAX_EVENTS": "10"}
    feed_the_rest = feed_two_thirds(kafka_conf, topics, scenario_lines)
    w = workers("w-crash", **small_batches)
    wait_for_a_third(kafka_conf, topics, expected_alerts, w)
    w.kill()
    before_restart = len(read_all(kafka_conf, topics["alerts"], timeout=0))
    assert before_restart < len(expected_alerts), "the crash came too late to test anything"
    again = workers("w-crash", **small_batches)  # same instance id: it fences its crashed self
    feed_the_rest()
    wait_for(
        committed_everything(kafka_conf, group_id, topics),
        WAIT_SECONDS,
        "all input committed after restart",
        again,
    )
    alerts = read_all(kafka_conf, topics["alerts"])
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)), "a reprocessed event produced a second copy of an alert"
    assert strip(alerts) == expected_alerts


def test_scale_out_and_in_keeps_the_alerts(
    kafka_conf, topics, workers, group_id, scenario_lines, expected_alerts, runtime, request
) -> None:
    """Scale out: a second worker joins while the first is busy and takes half the partitions (state
    handed over through the changelog); scale in: the first leaves mid-stream and the second takes all."""
    if runtime == "faust":
        # Known and open: on faust-streaming 0.15.3 about one run in three either commits
        # offsets past events the survivor never processed (one customer's alerts differ from replay) or
        # stalls in table recovery after the scale-in. The confluent runtime passes every time. See
        # README, "Choosing the runtime", and faust-streaming issues #323, #517 (EOS around rebalances).
        request.applymarker(
            pytest.mark.xfail(
                strict=False, reason="faust 0.15.3 exactly-once across a scale-in is not reliable"
            )
        )
    small_batches = {"RISKWATCH_WORKER__BATCH_MAX_EVENTS": "10"}
    feed_the_rest = feed_two_thirds(kafka_conf, topics, scenario_lines)
    w1 = workers("w-a", **small_batches)
    w1.wait_ready()
    w2 = workers("w-b", **small_batches)

    def assigned(w: WorkerProcess) -> float:
        w.assert_running()
        try:
            text = w.metrics()
        except OSError:
            return 0.0  # its HTTP endpoint is not up yet
        for line in text.splitlines():
            if line.startswith("riskwatch_assigned_partitions "):
                return float(line.split()[1])
        return 0.0

    wait_for(
        lambda: assigned(w1) > 0 and assigned(w2) > 0, WAIT_SECONDS, "both workers own partitions", w1, w2
    )
    wait_for_a_third(kafka_conf, topics, expected_alerts, w1, w2)
    assert w1.terminate() == 0, w1.tail()
    assert len(read_all(kafka_conf, topics["alerts"], timeout=0)) < len(expected_alerts), "stopped too late"
    feed_the_rest()
    wait_for(
        committed_everything(kafka_conf, group_id, topics),
        WAIT_SECONDS,
        "all input committed by the survivor",
        w2,
    )
    alerts = read_all(kafka_conf, topics["alerts"])
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)), [a for a in alerts if ids.count(a["alert_id"]) > 1]
    assert strip(alerts) == expected_alerts


def test_bad_input_goes_to_dead_letter_and_is_counted(kafka_conf, topics, workers, group_id) -> None:
    w = workers("w-dlq")
    w.wait_ready()
    good = {
        "type": "transaction",
        "event_id": "ok-1",
        "customer_id": "c-1",
        "timestamp": "2026-03-01T10:00:00+08:00",
        "account_id": "a-1",
        "amount": "60000",
        "currency": "CNY",
        "direction": "credit",
        "channel": "cash",
    }
    producer = Producer({**kafka_conf, "partitioner": "murmur2_random"})
    bad: list[tuple[str, bytes | None, bytes]] = [
        (topics["transactions"], b"c-1", b"{not json"),
        (topics["transactions"], b"c-1", json.dumps({**good, "event_id": "b-1", "amount": "-5"}).encode()),
        (topics["transactions"], b"c-1", json.dumps({**good, "event_id": "b-2", "currency": "XXX"}).encode()),
        (
            topics["transactions"],
            b"c-1",
            json.dumps({**good, "event_id": "b-3", "type": "wire_transfer"}).encode(),
        ),
        (topics["transactions"], b"c-other", json.dumps({**good, "event_id": "b-4"}).encode()),
        (topics["contact_changes"], b"c-1", json.dumps({**good, "event_id": "b-5"}).encode()),
        (topics["transactions"], b"c-1", b"\xff\xfe\x00binary"),
    ]
    for topic, key, value in bad:
        producer.produce(topic, key=key, value=value)
    # partitioned with another hash than Kafka's murmur2 (e.g. confluent-kafka's default CRC32)
    misplaced = (kafka_partition(b"c-9", PARTITIONS) + 1) % PARTITIONS
    producer.produce(
        topics["transactions"],
        key=b"c-9",
        value=json.dumps({**good, "event_id": "b-6", "customer_id": "c-9"}).encode(),
        partition=misplaced,
    )
    producer.produce(topics["transactions"], key=b"c-1", value=json.dumps(good).encode())
    assert producer.flush(30) == 0
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "all input committed", w)
    w.assert_running()
    letters = read_all(kafka_conf, topics["dead_letter"], expected=len(bad) + 1)
    assert len(letters) == len(bad) + 1
    errors = sorted(d["error"] for d in letters)
    assert any(e.startswith("amount:") for e in errors)
    assert any(e.startswith("currency:") for e in errors)
    assert any(e.startswith("key:") for e in errors)
    assert any(e.startswith("type:") for e in errors)
    assert any(d["raw_encoding"] == "base64" for d in letters)
    assert all(
        d["source"] in (topics["transactions"], topics["contact_changes"]) and d["offset"] is not None
        for d in letters
    )
    alerts = read_all(kafka_conf, topics["alerts"], expected=1)
    assert [a["detector"] for a in alerts] == ["large_value"], (
        "the good event after the bad ones was processed"
    )
    metrics = w.metrics()
    rejected = sum(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("riskwatch_events_rejected_total{")
    )
    assert rejected == len(bad) + 1
    assert any("murmur2" in d["error"] and d["partition"] == misplaced for d in letters)
