"""What every test against the real broker and Redis of ``riskwatch stack up`` shares: fixtures and
helpers for tests/integration and tests/chaos.

Fixtures are factories (as in quix-streams' test suite): each test gets its own fresh topics and consumer
group, so tests never see each other's messages and can run in any order against a long-lived stack. A
conftest brings the fixtures into scope by importing them; tests import the helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from config.settings import Settings, load_settings
from localdev.stack import command as stack_command
from localdev.stack import kafka_server, process
from offline.replay import replay_file
from scenarios.generator import ScenarioConfig, generate

REACHABLE_TIMEOUT_SECONDS = 15.0
TOPIC_TIMEOUT_SECONDS = 30.0
PARTITIONS = 6
WAIT_SECONDS = 120.0
IGNORED_FIELDS = ("detected_at",)

TopicFactory = Callable[..., str]


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def kafka_conf(settings: Settings) -> dict[str, str]:
    """The librdkafka config of the stack, after checking the broker answers a metadata request."""
    conf = settings.kafka.client_config()
    admin = AdminClient({**conf, "reconnect.backoff.max.ms": 500, "log_level": 2})
    deadline = time.monotonic() + REACHABLE_TIMEOUT_SECONDS
    while True:
        try:
            if admin.list_topics(timeout=2.0).brokers:
                return conf
        except KafkaException:
            pass
        if time.monotonic() >= deadline:
            pytest.fail(
                f"Kafka at {conf['bootstrap.servers']} did not answer within "
                f"{REACHABLE_TIMEOUT_SECONDS:.0f}s; run `riskwatch stack up` first",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def admin_client(kafka_conf: dict[str, str]) -> AdminClient:
    return AdminClient(dict(kafka_conf))


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(
        settings.redis.url.get_secret_value(), socket_timeout=5.0, socket_connect_timeout=5.0
    )
    problem = ""
    try:
        client.ping()
    except redis.RedisError as exc:
        problem = str(exc)
    if problem:
        client.close()
        pytest.fail(f"Redis did not answer PING ({problem}); run `riskwatch stack up` first", pytrace=False)
    yield client
    client.close()


def _wait_for_topic(admin: AdminClient, name: str, partitions: int, *, present: bool) -> None:
    """Creation and deletion return before metadata agrees; wait for leaders (or absence) explicitly."""
    deadline = time.monotonic() + TOPIC_TIMEOUT_SECONDS
    while True:
        topics = admin.list_topics(timeout=5.0).topics
        topic = topics.get(name)
        if present:
            done = (
                topic is not None
                and topic.error is None
                and len(topic.partitions) == partitions
                and all(p.leader >= 0 for p in topic.partitions.values())
            )
        else:
            done = topic is None
        if done:
            return
        if time.monotonic() >= deadline:
            state = "ready" if present else "deleted"
            raise TimeoutError(f"topic {name} not {state} within {TOPIC_TIMEOUT_SECONDS:.0f}s")
        time.sleep(0.05)


@contextlib.contextmanager
def topic_factory_on(admin: AdminClient) -> Iterator[TopicFactory]:
    """``factory(partitions=3, config={...}) -> name``: fresh topics on ``admin``'s cluster, deleted after."""
    created: list[str] = []

    def factory(partitions: int = 3, config: dict[str, str] | None = None, prefix: str = "rw-test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})]
        )
        futures[name].result(timeout=TOPIC_TIMEOUT_SECONDS)
        created.append(name)
        _wait_for_topic(admin, name, partitions, present=True)
        return name

    yield factory
    if created:
        for future in admin.delete_topics(created, operation_timeout=TOPIC_TIMEOUT_SECONDS).values():
            future.result(timeout=TOPIC_TIMEOUT_SECONDS)


@pytest.fixture
def topic_factory(admin_client: AdminClient) -> Iterator[TopicFactory]:
    """A fresh topic per call on the stack's broker, deleted after the test."""
    with topic_factory_on(admin_client) as factory:
        yield factory


@pytest.fixture
def group_id() -> str:
    """A consumer group nobody else uses, so offsets from earlier runs never leak in."""
    return f"rw-test-{uuid.uuid4().hex[:12]}"


class PrivateStack:
    """A second ``riskwatch stack`` on free ports in a temporary state dir, with the opt-in SASL_SSL
    listener: for tests that kill the broker or need the secured listener without touching the shared
    stack the rest of the session uses."""

    def __init__(self, state_dir: Path) -> None:
        kafka_port = free_port()
        self.settings = load_settings(
            stack={
                "kafka_port": kafka_port,
                "controller_port": free_port(),
                "redis_port": free_port(),
                "sasl_ssl_port": free_port(),
                "state_dir": state_dir,
            },
            kafka={"bootstrap_servers": f"127.0.0.1:{kafka_port}"},
        )
        self.kafka = kafka_server.layout(stack_command.stack_root(self.settings))
        self.conf = stack_command.local_kafka_conf(self.settings)

    @property
    def bootstrap(self) -> str:
        return self.conf["bootstrap.servers"]

    def sasl_env(self, password: str | None = None) -> dict[str, str]:
        """Worker settings to reach this stack through SASL_SSL with SCRAM-SHA-512."""
        stack = self.settings.stack
        return {
            "RISKWATCH_KAFKA__BOOTSTRAP_SERVERS": f"{stack.kafka_host}:{stack.sasl_ssl_port}",
            "RISKWATCH_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
            "RISKWATCH_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
            "RISKWATCH_KAFKA__SASL_USERNAME": stack.sasl_username,
            "RISKWATCH_KAFKA__SASL_PASSWORD": password or stack.sasl_password.get_secret_value(),
            "RISKWATCH_KAFKA__SSL_CA_LOCATION": str(self.kafka.tls.ca_cert),
        }

    def sasl_conf(self, password: str | None = None) -> dict[str, str]:
        """The librdkafka config a client of the SASL_SSL listener uses (what ``sasl_env`` gives a worker)."""
        env = self.sasl_env(password)
        return {
            "bootstrap.servers": env["RISKWATCH_KAFKA__BOOTSTRAP_SERVERS"],
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": env["RISKWATCH_KAFKA__SASL_MECHANISM"],
            "sasl.username": env["RISKWATCH_KAFKA__SASL_USERNAME"],
            "sasl.password": env["RISKWATCH_KAFKA__SASL_PASSWORD"],
            "ssl.ca.location": env["RISKWATCH_KAFKA__SSL_CA_LOCATION"],
        }

    def up(self) -> float:
        """``riskwatch stack up`` for this stack; seconds it took."""
        started = time.monotonic()
        assert stack_command.up(self.settings) == 0
        return time.monotonic() - started

    def kill_broker(self) -> None:
        """SIGKILL the broker: no clean shutdown, log recovery on the next start."""
        pid = kafka_server.running_pid(self.kafka)
        assert pid is not None, "this stack's broker is not running"
        os.kill(pid, signal.SIGKILL)
        assert process.wait_for_exit(pid, 30), f"broker pid {pid} survived SIGKILL"

    def down(self) -> None:
        stack_command.run(argparse.Namespace(stack_action="down", purge=True), self.settings)


@pytest.fixture(scope="session")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateStack]:
    stack = PrivateStack(tmp_path_factory.mktemp("private-stack"))
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


# ------------------------------------------------------------------------------------------- helpers
class Topics(dict[str, str]):
    """Contract topic role -> this test's fresh topic name."""

    def env(self) -> dict[str, str]:
        return {f"RISKWATCH_TOPICS__{role.upper()}": name for role, name in self.items()}


def contract_topics(topic_factory: TopicFactory) -> Topics:
    """A fresh set of the contract's topics (inputs co-partitioned, tables compacted)."""
    compacted = {"cleanup.policy": "compact"}
    return Topics(
        transactions=topic_factory(PARTITIONS, prefix="rw-tx"),
        contact_changes=topic_factory(PARTITIONS, prefix="rw-cc"),
        customer_profiles=topic_factory(PARTITIONS, compacted, prefix="rw-cp"),
        alerts=topic_factory(PARTITIONS, prefix="rw-alerts"),
        customer_risk=topic_factory(PARTITIONS, compacted, prefix="rw-risk"),
        dead_letter=topic_factory(PARTITIONS, prefix="rw-dlq"),
        risk_overrides=topic_factory(PARTITIONS, prefix="rw-ovr"),
        review_completed=topic_factory(PARTITIONS, prefix="rw-rvc"),
        erasure_requests=topic_factory(PARTITIONS, prefix="rw-era"),
        reviews=topic_factory(PARTITIONS, prefix="rw-reviews"),
    )


@pytest.fixture
def topics(topic_factory: TopicFactory) -> Topics:
    return contract_topics(topic_factory)


# A killed worker's partitions wait for its session to time out before they move (every crash-and-restart
# test waits for it): the broker's least (group.min.session.timeout.ms, 6 s) instead of the 10 s default,
# heartbeats still every 1.2 s. The faust runtime keeps its 10 s (aiokafka heartbeats every 3 s).
SHORT_SESSION = {"RISKWATCH_WORKER__SESSION_TIMEOUT_MS": "6000"}


class WorkerProcess:
    def __init__(
        self, instance_id: str | None, group: str, topics: Topics, log_dir: Path, extra_env: dict[str, str]
    ):
        """``instance_id=None`` leaves ``--instance-id`` out: the worker picks its default."""
        self.instance_id = instance_id or "default"
        self.log_path = log_dir / f"worker-{self.instance_id}-{uuid.uuid4().hex[:6]}.log"
        self.metrics_port = free_port()
        env = {
            **os.environ,
            **topics.env(),
            **(SHORT_SESSION if extra_env.get("RISKWATCH_WORKER__RUNTIME") != "faust" else {}),
            "RISKWATCH_WORKER__METRICS_PORT": str(self.metrics_port),
            "RISKWATCH_KAFKA__CONSUMER_GROUP": group,
            # instance-id locks (streams/worker/instance.py) in the test's folder, not the user's
            "XDG_STATE_HOME": str(log_dir / "state"),
            **extra_env,
        }
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streams.cli",
                "worker",
                *(["--instance-id", instance_id] if instance_id else []),
            ],
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

    def pause(self) -> None:
        """SIGSTOP: alive but silent (no heartbeats, no commits), as a worker stuck in a long GC or swap."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def peak_rss_mib(self) -> float:
        """The process's peak resident memory so far (VmHWM), while it is alive."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
        raise AssertionError(f"no VmHWM for pid {self.proc.pid}")

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


def free_port() -> int:
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

    def start(instance_id: str | None, **extra_env: str) -> WorkerProcess:
        env = {
            "RISKWATCH_WORKER__RUNTIME": runtime,
            # the faust runtime refuses to start without it (its refusals have tests of their own)
            "RISKWATCH_WORKER__FAUST_EXPERIMENTAL_ACK": "true",
            **extra_env,
        }
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
    record timestamps increasing in file order (CreateTime of events produced as they happen).

    Every line is on the broker before a line of another topic is produced: upstream systems append an
    event as it happens, before the later events of other topics exist. Produced asynchronously in one
    burst, a worker consuming meanwhile could see a customer's later transactions appended before an
    earlier contact change; the worker processes what is appended in record-time order across topics and
    a record appended after later ones were processed as it arrives (see the README, *Event order*), so
    replay's order would then not be the stream's, through the feeder's doing."""
    producer = Producer({**conf, "partitioner": "murmur2_random", "enable.idempotence": True, "linger.ms": 5})
    role = {
        "transaction": "transactions",
        "contact_change": "contact_changes",
        "customer_profile": "customer_profiles",
        "risk_override": "risk_overrides",
        "review_completed": "review_completed",
        "erasure_request": "erasure_requests",
    }
    counts: dict[str, int] = {}
    if start_ms is None:
        start_ms = int(time.time() * 1000) - len(lines)
    previous_topic = None
    for i, line in enumerate(lines):
        try:
            event = json.loads(line)
            topic = topics[role[event["type"]]]
            key = str(event["customer_id"]).encode()
        except (ValueError, KeyError, TypeError):
            topic, key = topics["transactions"], b"malformed"
        if previous_topic is not None and topic != previous_topic:
            assert producer.flush(30) == 0, "not every message was delivered"
        previous_topic = topic
        producer.produce(topic, key=key, value=line, timestamp=start_ms + i)
        counts[topic] = counts.get(topic, 0) + 1
        producer.poll(0)
    assert producer.flush(30) == 0, "not every message was delivered"
    return counts


# For reading a topic to its end and stopping: the broker answers the fetch at the end at once instead of
# holding it for librdkafka's 500 ms long poll, and a consume call (which waits its whole timeout unless it
# fills the batch) returns soon after the end is seen.
READ_TO_END = {"fetch.wait.max.ms": 10}
READ_TO_END_POLL_SECONDS = 0.1


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
                **READ_TO_END,
            }
        )
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        out: list[dict[str, Any]] = []
        eof: set[int] = set()
        while len(eof) < PARTITIONS:
            for msg in consumer.consume(1000, READ_TO_END_POLL_SECONDS):
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
    inputs = ("transactions", "contact_changes", "customer_profiles", "risk_overrides", "review_completed")
    tps = [TopicPartition(topics[r], p) for r in (*inputs, "erasure_requests") for p in range(PARTITIONS)]

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


def split_profiles(lines: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Profiles (produced first: a compacted table that exists before the traffic) and the rest in order."""
    profiles = [line for line in lines if b'"type":"customer_profile"' in line]
    rest = [line for line in lines if b'"type":"customer_profile"' not in line]
    return profiles, rest


def scenario(customers: int, days: int, seed: int, malformed: int = 0) -> tuple[list[bytes], list[bytes]]:
    """The labelled generator's traffic as produced by ``feed``: (profiles, the rest in emission order)."""
    generated = generate(ScenarioConfig(customers=customers, days=days, seed=seed, malformed=malformed))
    return split_profiles([line.encode() for line in generated.json_lines()])


def replay_lines(
    lines: list[bytes], directory: Path, settings: Settings | None = None
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """What ``riskwatch replay`` gives for ``lines`` in this order: (alerts by id, dead letters)."""
    events = directory / "events.jsonl"
    events.write_bytes(b"\n".join(lines) + b"\n")
    alerts_path, dlq_path = directory / "alerts.jsonl", directory / "dlq.jsonl"
    replay_file(events, settings or load_settings(), alerts_out=alerts_path, dead_letter_out=dlq_path)
    alerts = [json.loads(line) for line in alerts_path.read_text().splitlines()]
    letters = [json.loads(line) for line in dlq_path.read_text().splitlines()]
    return strip(alerts), letters


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


def all_topics(topic_factory: Callable[..., str]) -> Topics:
    """A fresh topic for every topic the settings name (the ``topics`` fixture has the six of 1.0), so a
    worker or tool under test touches none of the stack's shared topics."""
    from config.settings import TopicSettings

    roles = [r for r in TopicSettings.model_fields if r not in ("partitions", "replication_factor")]
    compacted = {"cleanup.policy": "compact"}
    return Topics(
        {
            role: topic_factory(
                PARTITIONS, compacted if role in TopicSettings.COMPACTED else None, prefix=f"rw-{role[:8]}"
            )
            for role in roles
        }
    )
