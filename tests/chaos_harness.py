"""What the chaos tests (tests/chaos) share: steady traffic while faults are injected, the outcome check
(read_committed alerts equal ``riskwatch replay``'s, each id once, every bad input dead-lettered) and the
figures each run records (printed at the end of the session)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from kafka_harness import (
    READ_TO_END,
    READ_TO_END_POLL_SECONDS,
    Topics,
    WorkerProcess,
    read_all,
    strip,
    wait_for,
)

from config.settings import load_settings
from detectors.engine import RiskEngine
from detectors.state_codec import StateCodec
from streams.worker.state_store import changelog_topic

RAW_PREFIX = 200  # dead letters are compared on the start of their raw input (long raw is truncated)


@dataclass
class Figures:
    """One chaos run, as the report gives it."""

    test: str
    faults: int = 0
    events: int = 0
    bad_inputs: int = 0
    expected_alerts: int = 0
    alerts: int = 0  # distinct alert ids on the topic
    lost: int = 0  # replay's alerts missing from the topic
    duplicated: int = 0  # copies beyond the first of an alert id
    differing: int = 0  # ids on the topic that replay does not give, or with other content
    dead_letters: int = 0
    recovery_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        rec = self.recovery_seconds
        recovery = (
            f"recovery s: n={len(rec)} mean={sum(rec) / len(rec):.1f} max={max(rec):.1f}" if rec else ""
        )
        extra = " ".join(f"{k}={v}" for k, v in self.extra.items())
        return (
            f"{self.test}: faults={self.faults} events={self.events} bad={self.bad_inputs} "
            f"alerts={self.alerts}/{self.expected_alerts} lost={self.lost} duplicated={self.duplicated} "
            f"differing={self.differing} dead_letters={self.dead_letters} {recovery} "
            f"took={self.seconds:.0f}s {extra}"
        ).strip()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Feeder(threading.Thread):
    """Produces lines in order at a steady rate in the background, as upstream systems do while workers
    crash, rebalance or lose the broker. Record timestamps increase in line order, and a line is on the
    broker before a line of another topic is produced (as upstream systems append events as they happen);
    an idempotent producer rides out a broker restart (its retries deliver each line once, in order). The
    rate is sized so the
    traffic outlasts the faults on a slow machine; ``finish(hurry=True)`` once the faults are over produces
    what is left at once, as a backlog, instead of waiting out the pace."""

    def __init__(
        self, conf: dict[str, str], topics: Topics, lines: list[bytes], rate_per_second: float, start_ms: int
    ) -> None:
        super().__init__(daemon=True)
        self.conf, self.topics, self.lines = conf, topics, lines
        self.rate, self.start_ms = rate_per_second, start_ms
        self.produced = 0
        self.error: BaseException | None = None
        self._hurry = threading.Event()
        self.started = time.monotonic()  # reset when the thread starts producing
        self.unpaced_seconds = 0.0  # the pace ``finish(hurry=True)`` did not wait out (a figure of the run)

    def run(self) -> None:
        try:
            producer = Producer(
                {
                    **self.conf,
                    "partitioner": "murmur2_random",
                    "enable.idempotence": True,
                    "linger.ms": 5,
                    "message.timeout.ms": 120000,
                }
            )
            role = {
                "transaction": "transactions",
                "contact_change": "contact_changes",
                "customer_profile": "customer_profiles",
            }
            started = self.started = time.monotonic()
            previous_topic = None
            for i, line in enumerate(self.lines):
                try:
                    event = json.loads(line)
                    topic = self.topics[role[event["type"]]]
                    key = str(event["customer_id"]).encode()
                except (ValueError, KeyError, TypeError):
                    topic, key = self.topics["transactions"], b"malformed"
                if topic != previous_topic:
                    # one topic's batch could become readable before an earlier line of another topic still
                    # in the producer's buffer (unpaced, or paced but behind on a loaded box, lines go out
                    # back to back): deliver those first, so lines are appended in order across topics
                    self._deliver(producer, 120)
                previous_topic = topic
                while True:
                    try:
                        producer.produce(topic, key=key, value=line, timestamp=self.start_ms + i)
                        break
                    except BufferError:
                        producer.poll(0.1)
                producer.poll(0)
                self.produced = i + 1
                ahead = started + (i + 1) / self.rate - time.monotonic()
                if ahead > 0 and not self._hurry.is_set():
                    self._hurry.wait(ahead)  # pacing the offered load, not waiting on a condition
            self._deliver(producer, 120)
        except BaseException as exc:
            self.error = exc

    @staticmethod
    def _deliver(producer: Producer, timeout: float) -> None:
        left = producer.flush(timeout)
        if left:
            raise AssertionError(f"{left} lines were not delivered")

    def finish(self, timeout: float = 180.0, *, hurry: bool = False) -> None:
        """Wait for every line to be delivered; ``hurry``: the faults are over, stop pacing."""
        if hurry:
            paced_end = self.started + len(self.lines) / self.rate
            self.unpaced_seconds = round(max(0.0, paced_end - time.monotonic()), 1)
            self._hurry.set()
        self.join(timeout)
        if self.is_alive():
            raise AssertionError(f"the feeder did not finish within {timeout:.0f}s")
        if self.error is not None:
            raise AssertionError(f"the feeder failed: {self.error!r}")


def _difference(want: dict[str, Any] | None, got: dict[str, Any]) -> str:
    """What differs between replay's alert and the stream's, field by field (evidence key by key)."""
    if want is None:
        return f"  {got['detector']} {got['alert_id']}: not in replay (triggers {got['trigger_event_ids']})"
    fields = {k: (want.get(k), got.get(k)) for k in want.keys() | got.keys() if want.get(k) != got.get(k)}
    evidence = fields.pop("evidence", None)
    if evidence is not None:
        old, new = evidence[0] or {}, evidence[1] or {}
        fields.update(
            {
                f"evidence.{k}": (old.get(k), new.get(k))
                for k in old.keys() | new.keys()
                if old.get(k) != new.get(k)
            }
        )
    shown = ", ".join(
        f"{k}: replay {a!r} / stream {b!r}" for k, a, b in ((k, *v) for k, v in sorted(fields.items()))
    )
    return f"  {got['detector']} {got['alert_id']}: {shown}"


def check_outcome(
    conf: dict[str, str],
    topics: Topics,
    expected_alerts: dict[str, dict[str, Any]],
    expected_letters: list[dict[str, Any]],
    figures: Figures,
    group: str | None = None,
) -> None:
    """After a fault run (all input committed): the read_committed alerts equal replay's, each alert id
    once, and every bad input is in the dead letters once. With the workers' ``group``, a lost alert is
    explained: where its trigger events are and what the customer's committed state said of them."""
    alerts = read_all(conf, topics["alerts"], expected=len(expected_alerts), timeout=30)
    ids = [a["alert_id"] for a in alerts]
    by_id = strip(alerts)
    figures.expected_alerts = len(expected_alerts)
    figures.alerts = len(by_id)
    figures.duplicated = len(ids) - len(set(ids))
    figures.lost = len(expected_alerts.keys() - by_id.keys())
    figures.differing = sum(1 for k, v in by_id.items() if expected_alerts.get(k) != v)
    letters = read_all(conf, topics["dead_letter"], expected=len(expected_letters), timeout=30)
    figures.dead_letters = len(letters)
    positions = Counter((d["source"], d["partition"], d["offset"]) for d in letters)
    twice = [p for p, n in positions.items() if n > 1]
    seen_raw = Counter(str(d["raw"])[:RAW_PREFIX] for d in letters)
    want_raw = Counter(str(d["raw"])[:RAW_PREFIX] for d in expected_letters)
    missing = list((want_raw - seen_raw).elements())
    extra = list((seen_raw - want_raw).elements())

    problems = []
    if figures.lost:
        lost = sorted(expected_alerts.keys() - by_id.keys())
        problems.append(f"{figures.lost} alerts lost: {[expected_alerts[i]['detector'] for i in lost][:10]}")
        if group is not None:
            problems += explain_lost(conf, topics, group, [expected_alerts[i] for i in lost[:3]])
    if figures.duplicated:
        problems.append(f"{figures.duplicated} duplicated alert copies")
    if figures.differing:
        problems.append(f"{figures.differing} alerts replay does not give (or with other content)")
        problems += [
            _difference(expected_alerts.get(k), v) for k, v in by_id.items() if expected_alerts.get(k) != v
        ][:3]
    if twice:
        problems.append(f"dead-lettered twice: {twice[:5]}")
    if missing:
        problems.append(f"{len(missing)} bad inputs not dead-lettered: {[m[:60] for m in missing[:5]]}")
    if extra:
        problems.append(f"{len(extra)} dead letters replay does not give: {[m[:60] for m in extra[:5]]}")
    assert not problems, f"{figures.line()}\n" + "\n".join(problems)


def gauge(w: WorkerProcess, name: str) -> float:
    """One unlabelled sample of the worker's /metrics (0 while its HTTP endpoint is not up yet)."""
    w.assert_running()
    try:
        text = w.metrics()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def batches_committed(w: WorkerProcess) -> float:
    """Batches this worker process has committed (the batch-size histogram is observed after commit)."""
    return gauge(w, "riskwatch_batch_size_messages_count")


def owns_partitions(w: WorkerProcess) -> float:
    return gauge(w, "riskwatch_assigned_partitions")


def wait_for_batches(w: WorkerProcess, count: float, timeout: float, what: str) -> float:
    """Seconds until ``w`` has committed at least ``count`` batches."""
    started = time.monotonic()
    wait_for(lambda: batches_committed(w) >= count, timeout, what, w)
    return time.monotonic() - started


@dataclass(frozen=True)
class Traffic:
    """A scenario for fault runs: profiles (produced first), the rest in emission order, and what
    ``riskwatch replay`` gives for them."""

    profiles: list[bytes]
    rest: list[bytes]
    expected_alerts: dict[str, dict[str, Any]]
    expected_letters: list[dict[str, Any]]

    @property
    def events(self) -> int:
        return len(self.profiles) + len(self.rest)


def _records(conf: dict[str, str], topic: str, committed: bool) -> list[Any]:
    """Every record of ``topic`` (read_committed or not), as confluent-kafka messages."""
    consumer = Consumer(
        {
            **conf,
            "group.id": f"explain-{time.monotonic_ns()}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed" if committed else "read_uncommitted",
            "enable.partition.eof": True,
            **READ_TO_END,
        }
    )
    try:
        partitions = len(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        out, eof, deadline = [], set(), time.monotonic() + 30
        while len(eof) < partitions and time.monotonic() < deadline:
            for msg in consumer.consume(1000, READ_TO_END_POLL_SECONDS):
                err = msg.error()
                if err is None:
                    out.append(msg)
                elif err.code() == KafkaError._PARTITION_EOF:
                    eof.add(msg.partition())
        return out
    finally:
        consumer.close()


def explain_lost(conf: dict[str, str], topics: Topics, group: str, lost: list[dict[str, Any]]) -> list[str]:
    """For each lost alert: its trigger events' input coordinates, whether an aborted or open transaction
    ever carried it, and every state record of its customer on the changelog (committed or not) with what
    that state remembers of the triggers. Tells a stale or early restore from an ordering difference."""
    engine = RiskEngine(load_settings().detection)
    codec = StateCodec(engine)
    changelog = changelog_topic(group)
    inputs = {
        topic: _records(conf, topics[role], committed=True)
        for role in ("transactions", "contact_changes")
        for topic in (topics[role],)
    }
    alerts_any = _records(conf, topics["alerts"], committed=False)
    state_any = _records(conf, changelog, committed=False)
    state_committed = {(m.partition(), m.offset()) for m in _records(conf, changelog, committed=True)}
    lines = []
    for alert in lost:
        customer, triggers = alert["customer_id"], list(alert["trigger_event_ids"])
        lines.append(f"  lost {alert['detector']} {alert['alert_id']} of {customer} at {alert['event_time']}")
        for topic, msgs in inputs.items():
            for m in msgs:
                try:
                    value = json.loads(m.value())
                except ValueError:  # a malformed line of the traffic
                    continue
                if isinstance(value, dict) and value.get("event_id") in triggers:
                    lines.append(
                        f"    trigger {value['event_id']} {value['type']} at {value.get('timestamp')}: "
                        f"{topic}[{m.partition()}]@{m.offset()} record ts {m.timestamp()[1]}"
                    )
        produced = [m for m in alerts_any if json.loads(m.value())["alert_id"] == alert["alert_id"]]
        lines.append(
            f"    alert records on the topic, committed or not: {[(m.partition(), m.offset()) for m in produced]}"
        )
        said = None  # a record is shown when what it says of the alert differs from the one before
        for m in state_any:
            if m.key() is None or m.key().decode() != customer:
                continue
            committed = (m.partition(), m.offset()) in state_committed
            where = "committed" if committed else "NOT committed"
            if m.value() is None:
                lines.append(f"    state {m.partition()}@{m.offset()} {where}: tombstone")
                continue
            state = codec.decode(m.value())
            kept = engine.state_to_json(state)["detectors"].get(alert["detector"])
            seen = [t for t in triggers if t in state.seen]
            cooldowns = {k: v for k, v in state.cooldowns.items() if k.startswith(f"{alert['detector']}|")}
            says = (seen, kept, cooldowns)
            if says != said or not committed:
                lines.append(
                    f"    state {m.partition()}@{m.offset()} {where}: {state.events_processed} events, "
                    f"triggers seen {seen}, cooldowns {cooldowns}, {alert['detector']} {kept}"
                )
            said = says
    return lines
