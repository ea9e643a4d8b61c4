"""``riskwatch send EVENTS.jsonl``: one's own events into the input topics, as an upstream system would.

Each valid line goes to the topic of its ``type``, keyed by ``customer_id``, on the partition Kafka's default
partitioner (murmur2) gives, so the worker's co-partitioning check accepts it. Lines that the worker would
dead-letter anyway (not JSON, no known type, a field the contract rejects) are reported with their line number
and reason and not sent: a file is checked before it pollutes a topic. Record timestamps increase strictly in
file order, so the worker sees the events in the order ``riskwatch replay`` reads them (the event's own
``timestamp`` stays its event time; an old event time as record time would also fall under topic retention).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from config.settings import Settings, TopicSettings
from schemas.events import EventError, parse_event_json
from streams.errors import EXIT_FAILURE, ConfigFault, TopicsFault
from streams.partitioning import kafka_partition

# event type -> settings.topics attribute of the topic it belongs on
TYPE_TO_TOPIC_ROLE: dict[str, str] = {t: role for role, t in TopicSettings.INPUT_TYPES.items()}
MAX_BAD_LINES_SHOWN = 20
FLUSH_TIMEOUT_SECONDS = 60.0
PROGRESS_INTERVAL_SECONDS = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", help="JSON-lines file of input events ('-' for standard input)")
    parser.add_argument(
        "--dry-run", action="store_true", help="check every line and report, but send nothing"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")


@dataclass
class SendReport:
    lines: int = 0
    blank: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    bad: list[tuple[int, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())


def check_line(line: bytes, topics: TopicSettings) -> tuple[str, str] | str:
    """(topic, customer_id) of a line that may be sent, or the reason it may not."""
    try:
        event = parse_event_json(line)
    except EventError as exc:
        return exc.reason
    role = TYPE_TO_TOPIC_ROLE.get(event.type)
    if role is None:
        return f"type: {event.type!r} is not an input topic's event type"
    return str(getattr(topics, role)), event.customer_id


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Exit codes of README *When something is wrong*: a fault that stops the run (no file, no broker, no
    topic) raises its ``streams.errors`` class; a run that left lines unsent exits 1, having named them."""
    if args.events != "-" and not Path(args.events).is_file():
        raise ConfigFault(
            f"{args.events} is not a readable file", "check the path, or give - to read standard input"
        )
    progress = None if args.quiet or not sys.stderr.isatty() else sys.stderr
    report = send_file(args.events, settings, dry_run=args.dry_run, progress=progress)
    if not args.quiet:
        print(format_report(report, dry_run=args.dry_run), file=sys.stderr)
    return EXIT_FAILURE if report.bad or report.failed else 0


def _partition_counts(settings: Settings, topics: list[str]) -> dict[str, int]:
    """Waits for the broker as the worker does (``kafka.broker_wait_seconds``, retries logged), so a
    wrong address is named within seconds and a broker still starting is waited for."""
    from streams.broker import wait_for_broker

    metadata = wait_for_broker(
        settings.kafka.client_config(),
        wait_seconds=settings.kafka.broker_wait_seconds,
        doing="sending events",
    )
    missing = [t for t in topics if t not in metadata.topics]
    if missing:
        raise TopicsFault(
            f"topic(s) {', '.join(missing)} do not exist on {settings.kafka.bootstrap_servers}",
            "create them with `riskwatch stack topics` or fix the topics.* names",
        )
    return {t: len(metadata.topics[t].partitions) for t in topics}


def _open(path: str) -> IO[bytes]:
    return sys.stdin.buffer if path == "-" else Path(path).open("rb")


def send_file(
    path: str, settings: Settings, *, dry_run: bool = False, progress: IO[str] | None = None
) -> SendReport:
    from streams.kafka_clients import quiet_client_config

    topics = settings.topics
    conf = quiet_client_config(settings.kafka.client_config(), "riskwatch-send")
    report = SendReport()
    started = time.monotonic()
    total_bytes = Path(path).stat().st_size if path != "-" else 0
    producer: Any = None
    partitions: dict[str, int] = {}
    if not dry_run:
        from confluent_kafka import Producer

        roles = sorted(set(TYPE_TO_TOPIC_ROLE.values()))
        partitions = _partition_counts(settings, [str(getattr(topics, r)) for r in roles])
        producer = Producer({**conf, "enable.idempotence": True, "acks": "all", "linger.ms": 5})

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            report.failed.append(f"{msg.topic()}: {err.str()}")
        else:
            report.sent[str(msg.topic())] += 1

    last_ts = 0
    read_bytes = 0
    next_progress = started + PROGRESS_INTERVAL_SECONDS
    with _open(path) as src:
        for number, raw in enumerate(src, start=1):
            report.lines = number
            read_bytes += len(raw)
            line = raw.strip()
            if not line:
                report.blank += 1
                continue
            checked = check_line(line, topics)
            if isinstance(checked, str):
                report.bad.append((number, checked))
                continue
            if producer is None:
                report.sent[checked[0]] += 1
                continue
            topic, customer = checked
            key = customer.encode()
            last_ts = max(int(time.time() * 1000), last_ts + 1)
            while True:
                try:
                    producer.produce(
                        topic,
                        value=line,
                        key=key,
                        partition=kafka_partition(key, partitions[topic]),
                        timestamp=last_ts,
                        on_delivery=on_delivery,
                    )
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
            if progress is not None and time.monotonic() >= next_progress:
                next_progress = time.monotonic() + PROGRESS_INTERVAL_SECONDS
                _progress_bar(progress, read_bytes, total_bytes, number, report, started)
    if producer is not None:
        remaining = producer.flush(FLUSH_TIMEOUT_SECONDS)
        if remaining:
            report.failed.append(f"{remaining} messages not delivered within {FLUSH_TIMEOUT_SECONDS:.0f}s")
    if progress is not None:
        _progress_bar(progress, read_bytes, total_bytes, report.lines, report, started)
        progress.write("\n")
    report.seconds = time.monotonic() - started
    return report


def _progress_bar(
    out: IO[str], done: int, total: int, lines: int, report: SendReport, started: float
) -> None:
    width = 30
    elapsed = max(time.monotonic() - started, 1e-9)
    if total:
        filled = int(width * min(done / total, 1.0))
        bar = f"[{'#' * filled}{'.' * (width - filled)}] {100 * done / total:5.1f}%"
    else:
        bar = ""
    out.write(
        f"\r{bar} line {lines:,}, sent {report.total_sent:,}, bad {len(report.bad):,} "
        f"({lines / elapsed:,.0f} lines/s)"
    )
    out.flush()


def format_report(report: SendReport, *, dry_run: bool = False) -> str:
    out: list[str] = []
    for number, reason in report.bad[:MAX_BAD_LINES_SHOWN]:
        out.append(f"line {number}: {reason} (not sent)")
    if len(report.bad) > MAX_BAD_LINES_SHOWN:
        out.append(f"... and {len(report.bad) - MAX_BAD_LINES_SHOWN} more bad lines")
    for failure in report.failed[:MAX_BAD_LINES_SHOWN]:
        out.append(f"delivery failed: {failure}")
    verb = "would send" if dry_run else "sent"
    per_topic = ", ".join(f"{t} {n:,}" for t, n in sorted(report.sent.items()))
    out.append(
        f"{verb} {report.total_sent:,} of {report.lines:,} lines"
        + (f" ({per_topic})" if per_topic else "")
        + f"; {len(report.bad):,} bad lines not sent"
        + (f"; {report.blank:,} blank lines skipped" if report.blank else "")
        + (f"; {len(report.failed):,} delivery failures" if report.failed else "")
        + f" in {report.seconds:.1f}s"
    )
    return "\n".join(out)
