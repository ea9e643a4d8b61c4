"""``riskwatch demo``: the whole pipeline on one machine, watched from the outside.

Brings the local stack up (or uses the one already running), starts one ``riskwatch worker`` as a child
process, produces the labelled generator's traffic at a steady rate as upstream systems would, and prints
every alert (and tier change, and dead letter) read from the output topics by a separate read_committed
consumer, as a downstream user would see them. Stops on Ctrl-C/SIGTERM, after ``--duration`` seconds of
traffic, or with ``--exit-when-done`` once the worker has processed all of it; then stops the worker and
brings the stack down only if this command started it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

from config.settings import Settings
from localdev.stack.errors import StackError
from streams import display
from streams.errors import ConfigFault

WORKER_INSTANCE_ID = "demo-worker"
WORKER_READY_TIMEOUT_SECONDS = 90.0
WORKER_STOP_TIMEOUT_SECONDS = 30.0
DRAIN_TIMEOUT_SECONDS = 120.0
PROGRESS_INTERVAL_SECONDS = 5.0
SEVERITY_CELL = slice(26, 34)  # where display.ALERT puts the severity, for colouring it
EXTERNAL_PROBE_SECONDS = 3.0
#: days of ordinary traffic before the first live day for customers who were already there
DEMO_HISTORY_DAYS = 14

COLOURS = {"low": "36", "medium": "33", "high": "31", "critical": "1;37;41"}
DIM = "2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rate", type=float, default=200.0, help="events per second to produce (default 200)"
    )
    parser.add_argument("--customers", type=int, default=300, help="customers in the traffic (default 300)")
    parser.add_argument("--days", type=int, default=30, help="days of traffic (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--malformed",
        type=int,
        default=3,
        help="malformed messages mixed in, to show dead letters (default 3)",
    )
    parser.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this many seconds of traffic"
    )
    parser.add_argument(
        "--exit-when-done",
        action="store_true",
        help="stop once all traffic is produced and processed (default: keep watching until Ctrl-C)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    problems = [
        msg
        for bad, msg in (
            (args.rate <= 0, "--rate must be positive"),
            (args.customers < 1 or args.days < 1, "--customers and --days must be at least 1"),
            (args.malformed < 0, "--malformed must not be negative"),
            (args.duration is not None and args.duration <= 0, "--duration must be positive"),
        )
        if bad
    ]
    if problems:
        raise ConfigFault(f"demo: {'; '.join(problems)}", "see `riskwatch demo --help`")
    return Demo(args, settings).run()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Demo:
    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.config_file: str | None = args.sub_config or getattr(args, "config", None)
        self.t0 = time.monotonic()
        self.stop_requested = threading.Event()
        self.stop_reason = ""
        self.interruptible = True  # during setup a signal raises KeyboardInterrupt; later it sets the flag
        self.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.stack_started: list[str] = []
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_log_path: Path | None = None
        self.metrics_port = 0
        self._worker_log: IO[bytes] | None = None
        self.producer: Any = None  # localdev.traffic.PacedProducer, imported lazily with confluent_kafka
        self.reader: Any = None
        self.total_lines = 0
        self.traffic_started: float | None = None
        self.first_alert_after: float | None = None
        self.alerts: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()
        self.initial_tiers: Counter[str] = Counter()
        self.tier_changes = 0
        self.score_updates = 0
        self.dead_letters = 0
        self.header_printed = False
        # events before the first injected pattern are "history": produced at full speed, their alerts
        # counted in one line instead of printed, so the first screen shows the patterns, not the warm-up
        self.history_until: datetime | None = None
        self.history_lines = 0
        self.history_alerts: Counter[str] = Counter()
        self.history_tier_changes = 0
        self.history_dead_letters = 0
        self.history_reported = False
        self.event_times: list[str] = []
        self.patterns: Counter[str] = Counter()
        self.eof: dict[tuple[str, int], int] = {}

    # ------------------------------------------------------------------------------------ top level
    def run(self) -> int:
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        rc = 0
        try:
            rc = self._run()
        except StackError as exc:
            _stderr(f"riskwatch demo: {exc}")
            if exc.details:
                _stderr(exc.details)
            rc = 1
        except KeyboardInterrupt:
            _stderr("riskwatch demo: interrupted")
            rc = 130
        finally:
            self.interruptible = False
            try:
                self._shutdown()
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)
        if self.traffic_started is not None:
            self._summary()
        return rc

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.interruptible or self.stop_requested.is_set():
            raise KeyboardInterrupt
        self.stop_reason = f"{signal.Signals(signum).name}"
        self.stop_requested.set()
        _stderr(f"{signal.Signals(signum).name}: stopping (again to force) ...")

    def _run(self) -> int:
        from confluent_kafka import KafkaException

        settings = self.settings
        self._ensure_stack()
        from streams.kafka_clients import quiet_client_config

        conf = quiet_client_config(settings.kafka.client_config(), "riskwatch-demo")
        try:
            lines = self._traffic(conf)
            self.reader = self._open_reader(conf)
            self._start_worker()
            self._wait_worker_ready()
        except KafkaException as exc:
            raise StackError(f"Kafka at {settings.kafka.bootstrap_servers}: {exc}") from exc
        from localdev.traffic import PacedProducer

        self.interruptible = False
        self.producer = PacedProducer(conf, settings.topics, lines, self.args.rate, self.history_lines)
        live = len(lines) - self.history_lines
        if self.history_until is not None:
            _stderr(
                f"history: {self.history_lines:,} events before {self.history_until:%Y-%m-%d} (event time) "
                "at full speed, to build the customers' baselines; their alerts are counted, not printed"
            )
        _stderr(
            f"live: {live:,} events at {self.args.rate:g}/s (~{live / self.args.rate:.0f}s); alerts appear below"
            + ("" if self.args.exit_when_done or self.args.duration else "; Ctrl-C to stop")
        )
        self.traffic_started = time.monotonic()
        self.producer.start()
        return self._watch(conf)

    # -------------------------------------------------------------------------------------- the stack
    def _ensure_stack(self) -> None:
        """Use the stack that is running (ours by pid file, or any that answers); else start it."""
        from localdev.stack import command, kafka_server, redis_server, topics

        settings = self.settings
        root = command.stack_root(settings)
        kafka = kafka_server.layout(root)
        redis = redis_server.layout(root, settings.stack)
        kafka_running = kafka_server.running_pid(kafka) is not None
        redis_running = redis_server.running_pid(redis) is not None
        if not (kafka_running or redis_running) and self._external_stack_answers():
            created = topics.ensure_topics(settings)
            extra = f"; created topics {', '.join(created)}" if created else ""
            print(
                f"using the running Kafka at {settings.kafka.bootstrap_servers} and its Redis{extra}",
                flush=True,
            )
            return
        command.up(settings)  # idempotent: waits for readiness and creates missing topics either way
        self.stack_started = [n for n, up in (("kafka", kafka_running), ("redis", redis_running)) if not up]

    def _external_stack_answers(self) -> bool:
        """Kafka and Redis reachable though not started by this stack's pid files (compose, CI, ...)."""
        import redis as redis_lib

        from localdev.stack import topics

        try:
            topics.wait_for_kafka(self.settings.kafka.client_config(), timeout=EXTERNAL_PROBE_SECONDS)
        except StackError:
            return False
        client = redis_lib.Redis.from_url(
            self.settings.redis.url.get_secret_value(), socket_timeout=2.0, socket_connect_timeout=2.0
        )
        try:
            return bool(client.ping())
        except redis_lib.RedisError:
            return False
        finally:
            client.close()

    def _stop_stack(self) -> None:
        from localdev.stack import command, kafka_server, redis_server

        root = command.stack_root(self.settings)
        if "kafka" in self.stack_started:
            print(f"kafka: {kafka_server.stop(kafka_server.layout(root))}", flush=True)
        if "redis" in self.stack_started:
            print(f"redis: {redis_server.stop(redis_server.layout(root, self.settings.stack))}", flush=True)
        if self.stack_started:
            print("stack down (this demo started it)", flush=True)
        self.stack_started = []

    # ------------------------------------------------------------------------------------ the traffic
    def _traffic(self, conf: dict[str, Any]) -> list[bytes]:
        """The scenario's lines: profiles first (a compacted table that exists before the traffic), then
        the rest in emission order with the malformed lines mixed in."""
        from detectors.scorecard import Scorecard
        from localdev.traffic import encode
        from scenarios.generator import ScenarioConfig, generate

        args = self.args
        detection = self.settings.detection
        tier_of = Scorecard(detection.scorecard).tier_of_fields

        # customers who were there before get the generator's history (played at full speed below), so
        # patterns measured against a customer's own debits can come from the first live day on
        config = ScenarioConfig(
            customers=args.customers,
            days=args.days,
            seed=args.seed,
            malformed=args.malformed,
            history_days=DEMO_HISTORY_DAYS,
        )
        scenario = generate(config, tier_of, fx_rates=detection.fx_rates_to_base)
        self.patterns = Counter(label.kind for label in scenario.injected())
        tag = self._run_tag(conf)
        if tag:
            print(
                f"note: consumer group {self.settings.kafka.consumer_group} has processed earlier traffic; "
                f"this run's customer and event ids are prefixed with {tag!r} so their state starts fresh",
                flush=True,
            )
        events = [
            dict(e, customer_id=tag + e["customer_id"], event_id=tag + e["event_id"]) for e in scenario.events
        ]
        profiles = [encode(e) for e in events if e["type"] == "customer_profile"]
        rest: list[bytes] = []
        bad = sorted(scenario.malformed)
        j = 0
        for i, event in enumerate(events):
            while j < len(bad) and bad[j][0] <= i:
                rest.append(bad[j][1].encode())
                j += 1
            if event["type"] != "customer_profile":
                rest.append(encode(event))
        rest.extend(line.encode() for _, line in bad[j:])
        self.total_lines = len(profiles) + len(rest)
        self._plan_history(scenario.injected(), profiles, rest)
        print(
            f"traffic: {args.customers} customers, {args.days} days, seed {args.seed}: {self.total_lines:,} "
            f"messages, {len(scenario.injected())} injected patterns ("
            + ", ".join(f"{k} {n}" for k, n in sorted(self.patterns.items()))
            + ")",
            flush=True,
        )
        return profiles + rest

    def _plan_history(self, labels: list[Any], profiles: list[bytes], rest: list[bytes]) -> None:
        """History ends at the start of the day (event time) of the first injected pattern."""
        times: list[str] = []
        last = ""
        for line in [*profiles, *rest]:
            with contextlib.suppress(ValueError, AttributeError):
                last = str(json.loads(line).get("timestamp") or last)
            times.append(last)
        self.event_times = times
        if not labels:
            return
        first = datetime.fromisoformat(min(label.start for label in labels))
        self.history_until = first.replace(hour=0, minute=0, second=0, microsecond=0)
        n = len(profiles)
        for i in range(len(profiles), len(times)):
            try:
                if datetime.fromisoformat(times[i]) >= self.history_until:
                    break
            except ValueError:
                pass
            n = i + 1
        self.history_lines = n

    def _in_history(self) -> bool:
        """Everything read before the history line is history's output: live traffic starts only after
        the worker has committed the history and the reader has read all it wrote."""
        return self.history_until is not None and not self.history_reported

    def _run_tag(self, conf: dict[str, Any]) -> str:
        """A fresh id prefix when the worker's group already committed input offsets (an earlier demo):
        the same seed would otherwise repeat event ids the restored state has seen, and raise nothing."""
        from confluent_kafka import Consumer, TopicPartition
        from confluent_kafka.admin import AdminClient

        topics = self.settings.topics.input_topics()
        metadata = AdminClient(dict(conf)).list_topics(timeout=10)
        tps = [
            TopicPartition(t, p)
            for t in topics
            if t in metadata.topics
            for p in metadata.topics[t].partitions
        ]
        if not tps:
            return ""
        probe = Consumer(
            {**conf, "group.id": self.settings.kafka.consumer_group, "enable.auto.commit": False}
        )
        try:
            committed = _committed_when_coordinator_ready(probe, tps)
        finally:
            probe.close()
        return f"{secrets.token_hex(2)}-" if any(tp.offset >= 0 for tp in committed) else ""

    # ------------------------------------------------------------------------------------- the worker
    def _start_worker(self) -> None:
        from localdev.stack import command, ports

        settings = self.settings
        port = settings.worker.metrics_port
        if port == 0:
            port = ports_free_port()
        elif ports.port_in_use(settings.worker.metrics_host, port):
            raise StackError(
                f"the worker's metrics port {port} is already in use (another worker?); "
                "choose another with RISKWATCH_WORKER__METRICS_PORT"
            )
        self.metrics_port = port
        log_dir = command.stack_root(settings)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.worker_log_path = log_dir / f"{WORKER_INSTANCE_ID}.log"
        self._worker_log = self.worker_log_path.open("wb")
        argv = [sys.executable, "-m", "streams.cli"]
        if self.config_file:
            argv += ["--config", str(self.config_file)]
        argv += ["worker", "--instance-id", WORKER_INSTANCE_ID, "--metrics-port", str(port)]
        # its own process group: the terminal's Ctrl-C reaches only the demo, which stops it in order
        self.worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            argv, stdin=subprocess.DEVNULL, stdout=self._worker_log, stderr=subprocess.STDOUT, process_group=0
        )
        print(
            f"started worker {WORKER_INSTANCE_ID} (pid {self.worker.pid}, group {settings.kafka.consumer_group}, "
            f"metrics on :{port}); log: {self.worker_log_path}",
            flush=True,
        )

    def _worker_url(self, path: str) -> str:
        host = self.settings.worker.metrics_host
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.metrics_port}{path}"  # noqa: S104

    def _wait_worker_ready(self) -> None:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_SECONDS
        started = time.monotonic()
        while True:
            self._check_worker()
            try:
                with urllib.request.urlopen(self._worker_url("/readyz"), timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() >= deadline:
                raise StackError(
                    f"the worker was not ready within {WORKER_READY_TIMEOUT_SECONDS:.0f}s; see {self.worker_log_path}",
                    self._worker_tail(),
                )
            time.sleep(0.2)
        print(f"worker ready ({time.monotonic() - started:.1f}s)", flush=True)

    def _check_worker(self) -> None:
        code = self.worker.poll() if self.worker is not None else None
        if code is not None:
            raise StackError(
                f"the worker exited with code {code}; see {self.worker_log_path}", self._worker_tail()
            )

    def _worker_tail(self, lines: int = 15) -> str:
        from localdev.stack import process

        if self._worker_log is not None:
            self._worker_log.flush()
        return process.log_tail(self.worker_log_path, lines) if self.worker_log_path else ""

    def _stop_worker(self) -> None:
        worker = self.worker
        if worker is None:
            return
        self.worker = None
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                code = worker.wait(WORKER_STOP_TIMEOUT_SECONDS)
                print(f"worker stopped (exit {code})", flush=True)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
                print(
                    f"worker killed: no exit within {WORKER_STOP_TIMEOUT_SECONDS:.0f}s of SIGTERM", flush=True
                )
        if self._worker_log is not None:
            self._worker_log.close()

    # ----------------------------------------------------------------------------- reading the outputs
    def _open_reader(self, conf: dict[str, Any]) -> Any:
        """A consumer of alerts, customer-risk and dead-letter in a fresh group, from their current ends
        (so an earlier run's messages are not shown again), reading only committed transactions."""
        from confluent_kafka import Consumer, TopicPartition

        t = self.settings.topics
        outputs = [t.alerts, t.customer_risk, t.dead_letter]
        reader = Consumer(
            {
                **conf,
                "group.id": f"riskwatch-demo-{uuid.uuid4().hex[:8]}",
                "client.id": "riskwatch-demo-reader",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
            }
        )
        metadata = reader.list_topics(timeout=10)
        start: dict[tuple[str, int], int] = {}
        for topic in outputs:
            if topic not in metadata.topics:
                raise StackError(f"topic {topic} does not exist; run `riskwatch stack topics`")
            for p in metadata.topics[topic].partitions:
                _, high = reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                start[(topic, p)] = max(high, 0)

        def on_assign(consumer: Any, partitions: list[Any]) -> None:
            for tp in partitions:
                tp.offset = start.get((tp.topic, tp.partition), tp.offset)
            consumer.assign(partitions)

        reader.subscribe(outputs, on_assign=on_assign)
        return reader

    def _handle(self, msg: Any) -> None:
        from confluent_kafka import KafkaError

        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                self.eof[(msg.topic(), msg.partition())] = msg.offset()
            else:
                _stderr(f"reader: {err}")
            return
        self.eof.pop((msg.topic(), msg.partition()), None)
        try:
            value = json.loads(msg.value())
        except ValueError:
            return
        t = self.settings.topics
        if msg.topic() == t.alerts:
            self._print_alert(value)
        elif msg.topic() == t.customer_risk:
            self._print_risk(value)
        elif msg.topic() == t.dead_letter:
            self.dead_letters += 1
            if self._in_history():
                self.history_dead_letters += 1
                return
            where = f"{value.get('source')}[{value.get('partition')}]@{value.get('offset')}"
            received = _wall(value.get("received_at"))
            row = {
                "event_time": "-",  # a dead letter has no event time it can be trusted for
                "severity": "dead",
                "detector": "dead letter",
                "customer_id": value.get("key") or "-",
                "risk_tier": "-",
                "alert_id": "",
                "reason": f"received {received} (wall clock) from {where}: {value.get('error')}",
            }
            self._row(row, DIM)

    def _print_alert(self, alert: dict[str, Any]) -> None:
        if self.first_alert_after is None:
            self.first_alert_after = time.monotonic() - self.t0
        severity = str(alert.get("severity", "?"))
        self.alerts[str(alert.get("detector"))] += 1
        self.severities[severity] += 1
        if self._in_history():
            self.history_alerts[str(alert.get("detector"))] += 1
            return
        self._row(alert, COLOURS.get(severity))

    def _print_risk(self, risk: dict[str, Any]) -> None:
        previous = risk.get("previous_tier")
        if previous is None:
            self.initial_tiers[str(risk.get("tier"))] += 1
            return  # every customer's first tier, from its profile: counted, not printed
        if previous == risk.get("tier"):
            self.score_updates += 1  # the score moved within the tier: counted, not printed
            return
        self.tier_changes += 1
        if self._in_history():
            self.history_tier_changes += 1
            return
        row = {
            "event_time": risk.get("updated_at"),
            "severity": "tier",
            "detector": "tier change",
            "customer_id": risk.get("customer_id"),
            "risk_tier": risk.get("tier"),
            "alert_id": "",
            "reason": f"{previous} -> {risk.get('tier')} (score {float(risk.get('score', 0)):.0f}/100): "
            f"{risk.get('reason')}",
        }
        self._row(row, "1")

    def _row(self, message: dict[str, Any], colour: str | None) -> None:
        """One output message in display.ALERT's columns, the header first, history's count before the
        first live row."""
        out: list[str] = []
        if not self.header_printed:
            self.header_printed = True
            out.append(display.ALERT.header())
        lines = display.ALERT.lines(message)
        if self.colour and colour:
            first = lines[0]
            cell = first[SEVERITY_CELL]
            lines[0] = (
                f"{first[: SEVERITY_CELL.start]}\x1b[{colour}m{cell}\x1b[0m{first[SEVERITY_CELL.stop :]}"
            )
        out.extend(lines)
        print("\n".join(out), flush=True)

    def _history_line(self) -> str:
        n = sum(self.history_alerts.values())
        by = ", ".join(f"{d} {k}" for d, k in self.history_alerts.most_common())
        until = f"{self.history_until:%Y-%m-%d}" if self.history_until else "-"
        return (
            f"history before {until} (event time) processed: {n} alerts"
            + (f" ({by})" if by else "")
            + f", {self.history_tier_changes} tier changes, {self.history_dead_letters} dead letters; "
            "`riskwatch tail alerts --from-beginning` lists them"
        )

    # -------------------------------------------------------------------------------------- watching
    def _watch(self, conf: dict[str, Any]) -> int:
        args = self.args
        producer = self.producer
        traffic_started = self.traffic_started or time.monotonic()
        next_progress = time.monotonic() + PROGRESS_INTERVAL_SECONDS
        traffic_done = False
        drain_deadline: float | None = None
        targets: dict[tuple[str, int], int] | None = None
        next_commit_check = 0.0
        committed_probe: Any = None
        history_probe: Any = self._committed_probe(conf) if self.history_lines else None
        history_targets: dict[tuple[str, int], int] | None = None
        try:
            while not self.stop_requested.is_set():
                for msg in self.reader.consume(500, 0.2):
                    self._handle(msg)
                now = time.monotonic()
                if history_probe is not None and producer.history_done.is_set():
                    # live traffic starts once the worker has processed the history and everything it
                    # wrote for it has been read, so the history line is complete and comes first
                    if history_targets is None and now >= next_commit_check:
                        next_commit_check = now + 0.2
                        if producer.error or self._worker_caught_up(history_probe):
                            history_targets = self._output_ends()
                    if history_targets is not None and self._read_to(history_targets):
                        print(_fit(self._history_line()), flush=True)
                        self.history_reported = True
                        history_probe.close()
                        history_probe = None
                        producer.go_live.set()
                if self.worker is not None and self.worker.poll() is not None:
                    _stderr(f"riskwatch demo: the worker exited with code {self.worker.returncode}")
                    _stderr(self._worker_tail())
                    return 1
                if now >= next_progress:
                    next_progress = now + PROGRESS_INTERVAL_SECONDS
                    self._progress()
                if args.duration is not None and now - traffic_started >= args.duration:
                    self.stop_reason = f"--duration {args.duration:g}s reached"
                    break
                if not traffic_done and producer.finished.is_set():
                    traffic_done = True
                    if producer.error:
                        _stderr(f"riskwatch demo: {producer.error}")
                        return 1
                    _stderr(
                        f"traffic done: {producer.produced:,} events in {now - traffic_started:.1f}s"
                        + ("; waiting for the worker to process them" if args.exit_when_done else "")
                        + ("" if args.exit_when_done or args.duration else "; still watching, Ctrl-C to stop")
                    )
                    if args.exit_when_done:
                        drain_deadline = now + DRAIN_TIMEOUT_SECONDS
                        committed_probe = self._committed_probe(conf)
                if drain_deadline is None:
                    continue
                if now >= drain_deadline:
                    _stderr(
                        f"riskwatch demo: the worker did not process all traffic within "
                        f"{DRAIN_TIMEOUT_SECONDS:.0f}s; see {self.worker_log_path}"
                    )
                    return 1
                if targets is None and now >= next_commit_check:
                    next_commit_check = now + 0.5
                    if self._worker_caught_up(committed_probe):
                        targets = self._output_ends()
                if targets is not None and self._read_to(targets):
                    self.stop_reason = "all traffic processed"
                    break
        finally:
            for probe in (committed_probe, history_probe):
                if probe is not None:
                    probe.close()
        return 0

    def _progress(self) -> None:
        elapsed = time.monotonic() - (self.traffic_started or self.t0)
        p = self.producer
        done = min(p.produced, len(self.event_times))
        at = display.when(self.event_times[done - 1])[:16] if done else "-"
        _stderr(
            f"-- {datetime.now():%H:%M:%S} wall, {elapsed:.0f}s in: produced {p.produced:,}/{self.total_lines:,} "
            f"({100 * p.produced / max(self.total_lines, 1):.0f}%, event time {at}); alerts "
            f"{sum(self.alerts.values())}, tier changes {self.tier_changes}, dead letters {self.dead_letters}"
        )

    def _committed_probe(self, conf: dict[str, Any]) -> Any:
        from confluent_kafka import Consumer

        return Consumer({**conf, "group.id": self.settings.kafka.consumer_group, "enable.auto.commit": False})

    def _worker_caught_up(self, probe: Any) -> bool:
        """The worker's group committed offsets at or past every message this demo produced."""
        from confluent_kafka import KafkaException, TopicPartition

        ends = self.producer.end_offsets
        try:
            committed = probe.committed([TopicPartition(t, p) for t, p in ends], timeout=5)
        except KafkaException:
            return False
        return all(tp.offset >= ends[(tp.topic, tp.partition)] for tp in committed)

    def _output_ends(self) -> dict[tuple[str, int], int]:
        from confluent_kafka import TopicPartition

        ends: dict[tuple[str, int], int] = {}
        for tp in self.reader.assignment():
            _, high = self.reader.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=5)
            ends[(tp.topic, tp.partition)] = high
        return ends

    def _read_to(self, targets: dict[tuple[str, int], int]) -> bool:
        """The reader has reached (or been told it is at the end of) every output partition."""
        if not targets:
            return False
        positions = {
            (tp.topic, tp.partition): tp.offset for tp in self.reader.position(list(self._tps(targets)))
        }
        return all(max(positions.get(k, -1), self.eof.get(k, -1)) >= end for k, end in targets.items())

    @staticmethod
    def _tps(keys: dict[tuple[str, int], int]) -> list[Any]:
        from confluent_kafka import TopicPartition

        return [TopicPartition(t, p) for t, p in keys]

    # -------------------------------------------------------------------------------------- stopping
    def _shutdown(self) -> None:
        """Producer, worker, reader, then the stack (if ours): each step runs even if one before failed."""
        if self.stop_reason:
            _stderr(f"stopping: {self.stop_reason}")
        try:
            if self.producer is not None:
                self.producer.stop()
                self.producer.join(60)
        finally:
            try:
                self._stop_worker()
            finally:
                if self.reader is not None:
                    with contextlib.suppress(Exception):
                        self.reader.close()
                    self.reader = None
                self._stop_stack()

    def _summary(self) -> None:
        p = self.producer
        produced = ", ".join(f"{topic} {n:,}" for topic, n in sorted(p.by_topic.items())) if p else ""
        total_alerts = sum(self.alerts.values())
        lines = [
            "--- summary",
            f"events produced: {p.produced if p else 0:,} of {self.total_lines:,} ({produced})",
            f"alerts: {total_alerts}"
            + (
                f", {sum(self.history_alerts.values())} of them in history (not printed)"
                if self.history_alerts
                else ""
            )
            + (
                " (" + ", ".join(f"{d} {n}" for d, n in sorted(self.alerts.items())) + ")"
                if total_alerts
                else ""
            ),
            "  by severity: " + ", ".join(f"{s} {self.severities[s]}" for s in COLOURS if self.severities[s]),
            f"injected patterns: {sum(self.patterns.values())} ("
            + ", ".join(f"{k} {n}" for k, n in sorted(self.patterns.items()))
            + ")",
            f"tier changes: {self.tier_changes} (initial tiers: "
            + (", ".join(f"{t} {self.initial_tiers[t]}" for t in ("low", "medium", "high")) + ")")
            + f"; score updates within a tier: {self.score_updates}",
            f"dead letters: {self.dead_letters}",
        ]
        if self.first_alert_after is not None:
            lines.append(f"first alert {self.first_alert_after:.1f}s after the command started")
        if self.worker_log_path is not None:
            lines.append(f"worker log: {self.worker_log_path}")
        print("\n".join(_fit(line) for line in lines), flush=True)


def _fit(text: str) -> str:
    """A long status line wrapped to the demo's 120 columns, continuation lines indented."""
    return "\n".join(
        textwrap.wrap(text, width=display.WIDTH, subsequent_indent="    ", break_on_hyphens=False)
    )


def _wall(timestamp: object) -> str:
    """A wall-clock timestamp (UTC) as ``HH:MM:SS``."""
    try:
        return datetime.fromisoformat(str(timestamp)).strftime("%H:%M:%S UTC")
    except ValueError:
        return str(timestamp)


def ports_free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


COORDINATOR_WAIT_SECONDS = 30.0


def _committed_when_coordinator_ready(probe: Any, tps: list[Any]) -> list[Any]:
    """``committed()`` on a broker that has just started answers NOT_COORDINATOR (or "load in progress")
    until the group coordinator is up: retry those, within a deadline; anything else is a real error."""
    from confluent_kafka import KafkaError, KafkaException

    waiting = {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError._TIMED_OUT,
    }
    deadline = time.monotonic() + COORDINATOR_WAIT_SECONDS
    while True:
        try:
            return list(probe.committed(tps, timeout=10))
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            retry = isinstance(err, KafkaError) and (err.code() in waiting or err.retriable())
            if not retry or time.monotonic() >= deadline:
                raise
        time.sleep(0.2)
