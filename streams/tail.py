"""``riskwatch tail TOPIC``: read a riskwatch topic as a downstream consumer would, in a terminal or a pipe.

``read_committed``, so only what the worker's transactions committed is shown (never an aborted batch's
alerts). No consumer group offsets are committed: tailing changes nothing for anyone else. Human-readable
columns by default (``streams.display``), the messages' own JSON with ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import IO, Any

from config.settings import Settings, TopicSettings
from streams.display import LAYOUTS, WIDTH
from streams.errors import EXIT_INTERRUPTED, ConfigFault, TopicsFault, Unreachable

NOT_TOPICS = frozenset({"partitions", "replication_factor"})
METADATA_TIMEOUT_SECONDS = 10.0


def topic_roles(topics: TopicSettings) -> dict[str, str]:
    """What ``tail`` accepts -> settings.topics attribute: the contract's topic names (``customer-risk``)."""
    return {role.replace("_", "-"): role for role in type(topics).model_fields if role not in NOT_TOPICS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "topic",
        help="alerts, customer-risk, dead-letter, reviews, alert-dispositions, transactions, ... "
        "(the contract's name; the configured topic name is used)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON message per line, as written")
    parser.add_argument(
        "--from-beginning",
        action="store_true",
        help="start at the oldest retained message (default: new ones)",
    )
    parser.add_argument(
        "--exit-at-end",
        action="store_true",
        help="stop once every partition's end (as of start-up) has been read, instead of following",
    )
    parser.add_argument("--max-messages", type=int, metavar="N", help="stop after N messages")
    parser.add_argument("--verbose", action="store_true", help="show the Kafka client's own log lines")


def run(args: argparse.Namespace, settings: Settings) -> int:
    roles = topic_roles(settings.topics)
    role = roles.get(args.topic) or roles.get(args.topic.replace("_", "-"))
    if role is None:
        raise ConfigFault(f"unknown topic {args.topic!r}", f"choose one of {', '.join(sorted(roles))}")
    if args.max_messages is not None and args.max_messages < 1:
        raise ConfigFault(f"--max-messages {args.max_messages}", "give 1 or more")
    try:
        return Tail(args, settings, role).run(sys.stdout)
    except KeyboardInterrupt:  # how a following tail is stopped: the exit code says so, no line needed
        return EXIT_INTERRUPTED


class Tail:
    def __init__(self, args: argparse.Namespace, settings: Settings, role: str) -> None:
        self.args = args
        self.settings = settings
        self.role = role
        self.topic = str(getattr(settings.topics, role))
        self.layout = LAYOUTS.get(role)
        self.ends: dict[int, int] = {}  # partition -> end offset still to reach (--exit-at-end)

    def _consumer(self) -> Any:
        from confluent_kafka import Consumer, KafkaException, TopicPartition

        from streams.broker import wait_for_broker
        from streams.kafka_clients import last_client_error, quiet_client_config

        # as the worker waits (kafka.broker_wait_seconds, retries logged), then one line and exit 3
        wait_for_broker(
            self.settings.kafka.client_config(),
            wait_seconds=self.settings.kafka.broker_wait_seconds,
            doing=f"reading {self.topic}",
        )
        conf = quiet_client_config(
            self.settings.kafka.client_config(), "riskwatch-tail", verbose=self.args.verbose
        )
        consumer = Consumer(
            {
                **conf,
                "group.id": f"riskwatch-tail-{uuid.uuid4().hex[:8]}",  # assign() only: never joins or commits
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        )
        bootstrap = self.settings.kafka.bootstrap_servers
        try:
            metadata = consumer.list_topics(timeout=METADATA_TIMEOUT_SECONDS)
        except KafkaException as exc:
            consumer.close()
            cause = last_client_error() or str(exc)
            raise Unreachable(
                f"Kafka at {bootstrap} did not answer ({cause})",
                "start it with `riskwatch stack up` or set RISKWATCH_KAFKA__BOOTSTRAP_SERVERS",
            ) from None
        if self.topic not in metadata.topics:
            consumer.close()
            raise TopicsFault(
                f"topic {self.topic} does not exist on {bootstrap}",
                "create it with `riskwatch stack topics` or fix the topics.* names",
            )
        tps = []
        for p in sorted(metadata.topics[self.topic].partitions):
            low, high = consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=METADATA_TIMEOUT_SECONDS
            )
            start = low if self.args.from_beginning else high
            if high > start:
                self.ends[p] = high
            tps.append(TopicPartition(self.topic, p, start))
        consumer.assign(tps)
        return consumer

    def run(self, out: IO[str]) -> int:
        from confluent_kafka import KafkaError

        consumer = self._consumer()
        shown = 0
        header_due = not self.args.json
        try:
            if self.args.exit_at_end and not self.ends:
                return 0
            while True:
                for msg in consumer.consume(500, 0.5):
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            self.ends.pop(msg.partition(), None)
                        else:
                            print(f"riskwatch tail: {err.str()}", file=sys.stderr)
                        continue
                    if msg.offset() + 1 >= self.ends.get(msg.partition(), 0):
                        self.ends.pop(msg.partition(), None)
                    if header_due and self.layout is not None:
                        out.write(self.layout.header() + "\n")
                        header_due = False
                    out.write(self.render(msg.key(), msg.value()))
                    shown += 1
                    if self.args.max_messages is not None and shown >= self.args.max_messages:
                        out.flush()
                        return 0
                out.flush()
                if self.args.exit_at_end and not self.ends:
                    return 0
        finally:
            consumer.close()

    def render(self, key: bytes | None, value: bytes | None) -> str:
        if value is None:  # a tombstone of a compacted topic (e.g. an erased customer's customer-risk)
            key_text = None if key is None else key.decode("utf-8", "replace")
            if self.args.json:
                return json.dumps({"key": key_text, "deleted": True}) + "\n"
            return f"(deleted) key {key_text}\n"
        if self.args.json:
            return value.decode("utf-8", "replace").rstrip("\n") + "\n"
        try:
            message = json.loads(value)
        except ValueError:
            message = None
        if self.layout is None or not isinstance(message, dict):
            raw = value.decode("utf-8", "replace")
            return f"{(key or b'-').decode('utf-8', 'replace')}  {raw[: WIDTH - 20]}\n"
        return "\n".join(self.layout.lines(message)) + "\n"
