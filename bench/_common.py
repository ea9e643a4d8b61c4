"""Helpers shared by the benchmarks in bench/ (run by hand against `riskwatch stack up`; never by pytest)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CST = timezone(timedelta(hours=8))
# the event time of the synthetic preload's first profile
SYNTHETIC_START = datetime(2025, 3, 3, tzinfo=CST).timestamp()


# ------------------------------------------------------------------------------------------ machine
def generate_events(out: Path, customers: int, days: int, history_days: int, seed: int) -> list[bytes]:
    """``riskwatch generate``'s traffic (this venv's command) written to ``out``, as its lines."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "riskwatch"),
            "generate",
            "--customers",
            str(customers),
            "--days",
            str(days),
            "--history-days",
            str(history_days),
            "--seed",
            str(seed),
            "--out",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out.read_bytes().splitlines()


def log(msg: str) -> None:
    """A progress line on stderr, with the wall clock (stdout keeps the tables)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def hardware() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"nproc={os.cpu_count()}  cpu={model}  python={platform.python_version()} "
        f"({platform.python_implementation()})  loadavg={loadavg()}"
    )


def loadavg() -> str:
    a = os.getloadavg()
    return f"{a[0]:.2f}/{a[1]:.2f}/{a[2]:.2f}"


def proc_cpu_seconds(pid: int) -> float:
    """utime+stime of a process (all threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    tck = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tck


def proc_status_kib(pid: int, key: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def system_cpu_busy() -> tuple[float, float]:
    """(busy jiffies, total jiffies) of all CPUs, for the machine's load over an interval."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return float(total - idle), float(total)


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """A process's CPU seconds by kind of thread: ``main`` (the Python interpreter's own thread: parsing,
    detection, encoding), ``rdkafka`` (librdkafka's threads: network, compression) and ``other``."""
    out = {"main": 0.0, "rdkafka": 0.0, "other": 0.0}
    tck = os.sysconf("SC_CLK_TCK")
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        kind = "main" if tid == str(pid) else "rdkafka" if comm.startswith("rdk:") else "other"
        out[kind] += (int(fields[11]) + int(fields[12])) / tck
    return out


class CpuWatch:
    """CPU used over an interval by the machine, by given pids, and so by everyone else; for ``threads_of``
    (a key of ``pids``) also by kind of thread (``thread_cpu_seconds``)."""

    def __init__(self, pids: dict[str, int], threads_of: str | None = None) -> None:
        self.pids = {k: v for k, v in pids.items() if v > 0}
        self.t0 = time.monotonic()
        self.sys0 = system_cpu_busy()
        self.p0 = {k: proc_cpu_seconds(p) for k, p in self.pids.items()}
        self.threads_of = threads_of if threads_of in self.pids else None
        self.th0 = thread_cpu_seconds(self.pids[self.threads_of]) if self.threads_of else {}

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        busy1, _tot1 = system_cpu_busy()
        tck = os.sysconf("SC_CLK_TCK")
        machine_cpu_s = (busy1 - self.sys0[0]) / tck
        out = {"wall_s": wall, "machine_cpu_s": machine_cpu_s}
        ours = 0.0
        for k, p in self.pids.items():
            d = proc_cpu_seconds(p) - self.p0[k]
            out[f"{k}_cpu_s"] = d
            ours += d
        out["others_cpu_s"] = max(0.0, machine_cpu_s - ours)
        out["others_cores"] = out["others_cpu_s"] / wall if wall > 0 else 0.0
        if self.threads_of:
            th1 = thread_cpu_seconds(self.pids[self.threads_of])
            for kind, v in th1.items():
                out[f"{self.threads_of}_{kind}_thread_cpu_s"] = v - self.th0.get(kind, 0.0)
        return out


def kafka_pid() -> int:
    """Pid of the broker of *our* stack (RISKWATCH_STACK__KAFKA_PORT), from its pid file."""
    port = os.environ.get("RISKWATCH_STACK__KAFKA_PORT", "19092")
    path = Path.home() / ".local" / "state" / "riskwatch" / f"stack-{port}" / "kafka" / "kafka.pid"
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return -1


# ------------------------------------------------------------------------------------------- kafka
def kafka_conf() -> dict[str, str]:
    from config.settings import load_settings

    return load_settings().kafka.client_config()


def quiet(conf: dict, name: str, logdir: Path) -> dict:
    """librdkafka logs go to the Python logger, not stderr (stderr of the bench stays readable)."""
    import logging

    logger = logging.getLogger(f"rdkafka.{name}")
    if not logger.handlers:
        logdir.mkdir(parents=True, exist_ok=True)
        h = logging.FileHandler(logdir / "librdkafka.log")
        h.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(h)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return {**conf, "logger": logger}


@dataclass
class BenchTopics:
    transactions: str
    contact_changes: str
    customer_profiles: str
    alerts: str
    customer_risk: str
    dead_letter: str
    partitions: int

    def inputs(self) -> list[str]:
        return [self.transactions, self.contact_changes, self.customer_profiles]

    def env(self) -> dict[str, str]:
        roles = (
            "transactions",
            "contact_changes",
            "customer_profiles",
            "alerts",
            "customer_risk",
            "dead_letter",
        )
        env = {f"RISKWATCH_TOPICS__{r.upper()}": getattr(self, r) for r in roles}
        env["RISKWATCH_TOPICS__PARTITIONS"] = str(self.partitions)
        return env


def create_topics(conf: dict, names: dict[str, bool], partitions: int) -> None:
    """names: topic -> compacted."""
    admin = AdminClient(conf)
    new = [
        NewTopic(
            n,
            num_partitions=partitions,
            replication_factor=1,
            config={"cleanup.policy": "compact"} if compacted else {},
        )
        for n, compacted in names.items()
    ]
    for _name, fut in admin.create_topics(new, operation_timeout=30).items():
        try:
            fut.result(30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    # wait until metadata shows them with leaders
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=10)
        if all(
            n in md.topics and md.topics[n].error is None and len(md.topics[n].partitions) == partitions
            for n in names
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(f"topics {list(names)} did not appear")


def delete_topics(conf: dict, names: list[str]) -> None:
    admin = AdminClient(conf)
    for fut in admin.delete_topics(names, operation_timeout=30).values():
        with contextlib.suppress(KafkaException):
            fut.result(30)


def make_bench_topics(conf: dict, prefix: str, partitions: int) -> BenchTopics:
    t = BenchTopics(
        transactions=f"{prefix}-tx",
        contact_changes=f"{prefix}-cc",
        customer_profiles=f"{prefix}-cp",
        alerts=f"{prefix}-alerts",
        customer_risk=f"{prefix}-risk",
        dead_letter=f"{prefix}-dlq",
        partitions=partitions,
    )
    create_topics(
        conf,
        {
            t.transactions: False,
            t.contact_changes: False,
            t.customer_profiles: True,
            t.alerts: False,
            t.customer_risk: True,
            t.dead_letter: False,
        },
        partitions,
    )
    return t


def high_watermarks(conf: dict, topics: list[str], partitions: int) -> dict[tuple[str, int], int]:
    c = Consumer({**conf, "group.id": f"bench-wm-{uuid.uuid4().hex[:6]}", "enable.auto.commit": False})
    out = {}
    for t in topics:
        for p in range(partitions):
            out[(t, p)] = c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1]
    c.close()
    return out


class CommittedProgress:
    """Sum of a group's committed offsets over the given partitions (offsets of a group that never
    committed count as 0). read_uncommitted: a read_committed consumer asks for stable offsets only
    (KIP-447), and the broker answers UNSTABLE_OFFSET_COMMIT while a transaction holds offsets of the
    group not yet committed; a worker whose transactions hold them most of the time then left the
    samples blank. The offsets returned are the committed ones either way."""

    def __init__(self, conf: dict, group: str, tps: list[tuple[str, int]]) -> None:
        self.consumer = Consumer(
            {**conf, "group.id": group, "enable.auto.commit": False, "isolation.level": "read_uncommitted"}
        )
        self.tps = [TopicPartition(t, p) for t, p in tps]

    def total(self) -> int | None:
        try:
            committed = self.consumer.committed(self.tps, timeout=10)
        except KafkaException:
            return None
        return sum(max(0, tp.offset) for tp in committed)

    def close(self) -> None:
        self.consumer.close()


# -------------------------------------------------------------------------------- synthetic events
CHANNELS = (("card", 0.55), ("transfer", 0.2), ("online", 0.15), ("atm", 0.06), ("cash", 0.04))
INDUSTRIES = (
    "retail",
    "education",
    "healthcare",
    "manufacturing",
    "logistics",
    "trading",
    "real_estate",
    "utilities",
    "hospitality",
    "construction",
    "gambling",
    "money_services",
)
CONTACT_FIELDS = ("phone", "email", "address", "device")


def cid(i: int) -> str:
    return f"C{i:07d}"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, CST).isoformat(timespec="seconds")


def profile_json(rng: random.Random, i: int, event_id: str, ts: float) -> str:
    corporate = rng.random() < 0.15
    seg = "corporate" if corporate else "individual"
    size = f',"business_size":"{rng.choice(("micro", "small", "medium", "large"))}"' if corporate else ""
    income = rng.lognormvariate(12.0 if not corporate else 15.0, 0.8)
    assets = income * rng.uniform(0.5, 5)
    return (
        f'{{"type":"customer_profile","event_id":"{event_id}","customer_id":"{cid(i)}","timestamp":"{iso(ts)}",'
        f'"segment":"{seg}","industry":"{rng.choice(INDUSTRIES)}","credit_score":{rng.randint(450, 880)},'
        f'"overdue_count_12m":{rng.choice((0, 0, 0, 0, 1, 2))},"annual_income":"{income:.2f}",'
        f'"total_assets":"{assets:.2f}","total_liabilities":"{assets * rng.uniform(0, 0.9):.2f}"{size},'
        f'"politically_exposed":{"true" if rng.random() < 0.005 else "false"},"home_country":"CN"}}'
    )


def tx_json(
    rng: random.Random,
    i: int,
    event_id: str,
    ts: float,
    *,
    channel: str | None = None,
    amount: float | None = None,
    direction: str | None = None,
) -> str:
    r = rng.random()
    if channel is None:
        acc = 0.0
        channel = "card"
        for name, w in CHANNELS:
            acc += w
            if r < acc:
                channel = name
                break
    if direction is None:
        direction = "debit" if rng.random() < 0.75 else "credit"
    if amount is None:
        amount = min(rng.lognormvariate(5.3, 1.1), 40000.0)
    cur = "CNY" if rng.random() < 0.97 else "USD"
    if cur == "USD":
        amount = amount / 7.1
    cc = "CN" if rng.random() < 0.96 else rng.choice(("HK", "SG", "US", "JP"))
    mcc = (
        f',"merchant_category":"{rng.choice(("5411", "5812", "5999", "4111", "5732"))}"'
        if channel == "card"
        else ""
    )
    return (
        f'{{"type":"transaction","event_id":"{event_id}","customer_id":"{cid(i)}","timestamp":"{iso(ts)}",'
        f'"account_id":"A{i:07d}","amount":"{amount:.2f}","currency":"{cur}","direction":"{direction}",'
        f'"channel":"{channel}","counterparty_id":"M{rng.randrange(20000):05d}",'
        f'"counterparty_country":"{cc}"{mcc}}}'
    )


def contact_json(rng: random.Random, i: int, event_id: str, ts: float) -> str:
    f = rng.choice(CONTACT_FIELDS)
    return (
        f'{{"type":"contact_change","event_id":"{event_id}","customer_id":"{cid(i)}","timestamp":"{iso(ts)}",'
        f'"field":"{f}","new_value":"v{rng.randrange(10**9)}","channel":"{rng.choice(("app", "web", "branch"))}"}}'
    )


def make_producer(conf: dict, **extra: object) -> Producer:
    return Producer(
        {
            **conf,
            "partitioner": "murmur2_random",
            "linger.ms": 20,
            "batch.size": 1_000_000,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "enable.idempotence": True,
            **extra,
        }
    )


def _produce(p: Producer, topic: str, key: bytes, value: bytes, ts_ms: int) -> None:
    while True:
        try:
            p.produce(topic, key=key, value=value, timestamp=ts_ms)
            return
        except BufferError:
            p.poll(0.01)


class EventClock:
    """Event times for traffic offered after the synthetic preload: on from where it ended, at its pace
    (a customer's events as far apart in event time as in the preload). Wall-clock event times would jump
    a year and a half past the preload and put each customer's events seconds apart: velocity_spike then
    alerts on one event in ten, and the latency run measures alert encoding, not the runtime."""

    def __init__(self, *, customers: int, events: int, days: float = 14.0) -> None:
        span = days * 86400.0
        self.step_s = span / max(1, events - customers)
        self.next_ts = SYNTHETIC_START + 3600.0 + span

    def __call__(self) -> float:
        ts = self.next_ts
        self.next_ts += self.step_s
        return ts


@dataclass
class PreloadStats:
    events: int
    customers: int
    profiles: int
    transactions: int
    contact_changes: int
    seconds: float
    bytes: int
    per_topic: dict[str, int] = field(default_factory=dict)


def preload(
    conf: dict,
    topics: BenchTopics,
    *,
    customers: int,
    events: int,
    seed: int,
    run_id: str,
    contact_share: float = 0.03,
    days: float = 14.0,
) -> PreloadStats:
    """Profiles for every customer first, then transactions and contact changes of random customers in
    event-time order; record timestamps increase in produce order (as the integration tests do)."""
    rng = random.Random(seed)
    p = make_producer(conf)
    start = SYNTHETIC_START
    n_rest = max(0, events - customers)
    span = days * 86400.0
    ts_ms0 = int(time.time() * 1000) - events - 1000
    counts = {"profiles": 0, "transactions": 0, "contact_changes": 0}
    nbytes = 0
    t0 = time.perf_counter()
    k = 0
    for i in range(customers):
        v = profile_json(rng, i, f"{run_id}-p{i}", start + i * 0.01).encode()
        _produce(p, topics.customer_profiles, cid(i).encode(), v, ts_ms0 + k)
        nbytes += len(v)
        k += 1
        if k % 10000 == 0:
            p.poll(0)
    counts["profiles"] = customers
    tx_topic, cc_topic = topics.transactions, topics.contact_changes
    t_start = start + 3600.0
    for j in range(n_rest):
        i = rng.randrange(customers)
        ts = t_start + span * j / max(1, n_rest)
        if rng.random() < contact_share:
            v = contact_json(rng, i, f"{run_id}-c{j}", ts).encode()
            topic = cc_topic
            counts["contact_changes"] += 1
        else:
            v = tx_json(rng, i, f"{run_id}-t{j}", ts).encode()
            topic = tx_topic
            counts["transactions"] += 1
        _produce(p, topic, cid(i).encode(), v, ts_ms0 + k)
        nbytes += len(v)
        k += 1
        if k % 10000 == 0:
            p.poll(0)
    left = p.flush(120)
    if left:
        raise RuntimeError(f"preload: {left} messages not delivered")
    return PreloadStats(
        events=k,
        customers=customers,
        profiles=counts["profiles"],
        transactions=counts["transactions"],
        contact_changes=counts["contact_changes"],
        seconds=time.perf_counter() - t0,
        bytes=nbytes,
    )


# ------------------------------------------------------------------------------ runner processes
class ChildProc:
    """A runner (a riskwatch worker, the Quix or faust app) in its own process, its output in a log file:
    a benchmark must see a runner that died at once, with the end of its log, not wait out a deadline."""

    name = "runner"

    def __init__(self, cmd: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, cwd=str(REPO), stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")

    def tail(self, n: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self, grace_s: float = 60.0) -> int | None:
        """SIGTERM (a graceful stop commits what it has), SIGKILL after ``grace_s``."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self._log.close()
        return self.proc.returncode


Samples = list[tuple[float, int]]


def wait_committed(
    progress: CommittedProgress,
    total: int,
    runner: ChildProc,
    timeout: float,
    on_sample: Callable[[float, int], None] | None = None,
    interval: float = 0.5,
) -> Samples:
    """(monotonic time, events committed) samples until the group has committed ``total``; RuntimeError
    (naming how far it got) after ``timeout`` seconds or when the runner dies."""
    samples: Samples = []
    deadline = time.monotonic() + timeout
    while True:
        runner.check()
        c = progress.total()
        now = time.monotonic()
        if c is not None:
            samples.append((now, c))
            if on_sample:
                on_sample(now, c)
            if c >= total:
                return samples
        if now > deadline:
            raise RuntimeError(f"committed {samples[-1][1] if samples else '?'} of {total} after {timeout}s")
        time.sleep(interval)


def rate_between(samples: Samples, lo: float, hi: float, total: int | None = None) -> float:
    """events/s between the samples where the count first reached lo*total and hi*total (total: the last
    sample's count unless given)."""
    whole = samples[-1][1] if total is None else total
    a = next((s for s in samples if s[1] >= lo * whole), None)
    b = next((s for s in samples if s[1] >= hi * whole), None)
    if a is None or b is None or b[0] <= a[0]:
        return float("nan")
    return (b[1] - a[1]) / (b[0] - a[0])


def partial_rate(samples: Samples, total: int) -> float:
    """events/s from 10% of ``total`` to the last sample: the figure of a run stopped by its deadline."""
    a = next((x for x in samples if x[1] >= 0.1 * total), None)
    b = samples[-1]
    return float("nan") if a is None or b[0] <= a[0] else (b[1] - a[1]) / (b[0] - a[0])


# ----------------------------------------------------------------------------------- the bare loop
def bare_loop(
    conf: dict,
    inputs: list[str],
    out_topic: str,
    total: int,
    *,
    batch: int = 2000,
    transactional: bool = False,
    parse_json: bool = False,
    timeout_s: float = 600.0,
    logdir: Path = Path("/tmp/rwbench"),
) -> dict:
    """The ceiling: consume in batches, produce every value (same key) to ``out_topic``, commit per batch.
    Plain: async offset commit per batch. Transactional: one transaction per batch with the offsets in it
    (what the riskwatch worker does, minus the detectors, the ordering and the state changelog)."""
    import orjson  # noqa: F401  (only when parse_json)

    group = f"bench-bare-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        quiet(
            {
                **conf,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "partition.assignment.strategy": "range",
            },
            "bare",
            logdir,
        )
    )
    pconf = {
        **conf,
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "queue.buffering.max.messages": 1_000_000,
    }
    if transactional:
        # as the worker's producer: back-to-back transactions retry CONCURRENT_TRANSACTIONS after 5 ms, not
        # librdkafka's default 100 ms (bench/txn_backoff.py)
        pconf.update(
            {
                "transactional.id": f"{group}-tx",
                "enable.idempotence": True,
                "retry.backoff.ms": 5,
                "retry.backoff.max.ms": 200,
            }
        )
    producer = Producer(quiet(pconf, "bare", logdir))
    if transactional:
        producer.init_transactions(30)
    consumer.subscribe(inputs)
    n = 0
    t_first = None
    cpu0 = time.process_time()
    deadline = time.monotonic() + timeout_s
    loads = json.loads
    while n < total and time.monotonic() < deadline:
        msgs = consumer.consume(batch, 1.0)
        if not msgs:
            continue
        if t_first is None:
            t_first = time.perf_counter()
        if transactional:
            producer.begin_transaction()
        offsets: dict[tuple[str, int], int] = {}
        for m in msgs:
            if m.error() is not None:
                continue
            v = m.value()
            if parse_json:
                loads(v)
            while True:
                try:
                    producer.produce(out_topic, key=m.key(), value=v)
                    break
                except BufferError:
                    producer.poll(0.01)
            offsets[(m.topic(), m.partition())] = m.offset() + 1
            n += 1
        producer.poll(0)
        tps = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        if transactional:
            producer.send_offsets_to_transaction(tps, consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(30)
        else:
            consumer.commit(offsets=tps, asynchronous=True)
    producer.flush(60)
    t_end = time.perf_counter()
    cpu = time.process_time() - cpu0
    consumer.close()
    secs = t_end - (t_first or t_end)
    return {
        "events": n,
        "seconds": secs,
        "events_per_second": n / secs if secs > 0 else 0.0,
        "process_cpu_s": cpu,
        "cpu_us_per_event": 1e6 * cpu / max(1, n),
        "complete": n >= total,
    }


def save_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            data, indent=2, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o)
        )
    )
