"""``riskwatch override | review-complete | forget``: an officer's decision written as one input event.

Each command validates the event with the contract's model, then produces it keyed by customer id with
Kafka's murmur2 partitioner (the workers dead-letter a customer found on another partition) and the event
time as the record timestamp (the workers order by it). The worker does the rest, exactly once.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from config.settings import Settings
from schemas.events import (
    ErasureRequest,
    ReviewCompleted,
    RiskOverride,
    describe_validation_error,
)
from streams.errors import ConfigFault, TopicsFault, Unreachable, from_kafka_error

DELIVERY_TIMEOUT_SECONDS = 15.0


class OfficerError(ConfigFault):
    """A mistake in the officer's command line (exit 2): what is wrong and how to fix it, in one line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Shared by the three commands; which one runs is ``args.command``."""
    parser.add_argument("customer", help="customer id")
    parser.add_argument("--reason", required=True, help="why (free text; never in metrics or logs)")
    parser.add_argument("--officer", default=None, help="officer id (default: the login name)")
    parser.add_argument(
        "--at", default=None, help="event time, RFC 3339 (default: now); mainly for backfills and tests"
    )
    command = parser.prog.split()[-1]
    if command == "override":
        parser.add_argument(
            "--tier",
            required=True,
            choices=["low", "medium", "high", "none"],
            help="'none' lifts an override",
        )
        parser.add_argument(
            "--until",
            required=True,
            help="expiry: a date (the override holds through that day in the reporting time zone) or an "
            "RFC 3339 timestamp",
        )
    elif command == "review-complete":
        parser.add_argument(
            "--outcome", required=True, choices=["no_change", "tier_changed", "exit_relationship"]
        )
        parser.add_argument("--tier", choices=["low", "medium", "high"], help="the tier the review decided")


def _officer(args: argparse.Namespace) -> str:
    if args.officer:
        return str(args.officer)
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers: make the officer say who they are
        raise OfficerError("no login name found", "pass --officer ID") from None


def _event_time(args: argparse.Namespace) -> datetime:
    if args.at is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(args.at)
    except ValueError:
        raise OfficerError(
            f"--at {args.at!r} is not an RFC 3339 timestamp", "write it like 2025-03-01T09:00:00Z"
        ) from None
    if value.tzinfo is None:
        raise OfficerError(f"--at {args.at!r} has no offset", "add one: +08:00, or Z for UTC")
    return value


def _until(text: str, tz: ZoneInfo) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and len(text) == 10:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise OfficerError(
            f"--until {text!r} is neither a date nor an RFC 3339 timestamp",
            "give a date (2025-06-30) or a timestamp with an offset (2025-06-30T18:00:00+08:00)",
        ) from None
    if value.tzinfo is None:
        raise OfficerError(f"--until {text!r} has no offset", "add one (+08:00, or Z for UTC) or give a date")
    return value


def _expired(args: argparse.Namespace, expires_at: datetime, at: datetime) -> OfficerError:
    """An override that ends at or before its own time pins nothing, and the worker would dead-letter it:
    a typo in the year, or a --until meant as a duration, is named here instead."""
    when = f"--at {args.at}" if args.at is not None else f"now ({at.isoformat(timespec='seconds')})"
    return OfficerError(
        f"--until {args.until} ends the override at {expires_at.isoformat()}, not after {when}",
        "give a later --until (the last day the tier should hold); --tier none lifts an override",
    )


def build_event(args: argparse.Namespace, settings: Settings) -> tuple[str, Any]:
    """(topic, validated event) for the command in ``args``."""
    topics = settings.topics
    at = _event_time(args)
    common = {
        "event_id": f"{args.command}-{uuid.uuid4()}",
        "customer_id": args.customer,
        "timestamp": at,
        "officer_id": _officer(args),
        "reason": args.reason,
    }
    try:
        if args.command == "override":
            tz = ZoneInfo(settings.detection.large_value.reporting_timezone)
            tier = None if args.tier == "none" else args.tier
            expires_at = _until(args.until, tz)
            if tier is not None and expires_at <= at:
                raise _expired(args, expires_at, at)
            return topics.risk_overrides, RiskOverride(**common, tier=tier, expires_at=expires_at)
        if args.command == "review-complete":
            if args.tier is not None and args.outcome != "tier_changed":
                raise OfficerError(
                    "--tier goes with --outcome tier_changed only", "leave --tier out or use tier_changed"
                )
            return topics.review_completed, ReviewCompleted(**common, outcome=args.outcome, tier=args.tier)
        return topics.erasure_requests, ErasureRequest(**common)
    except ValidationError as exc:
        raise OfficerError(describe_validation_error(exc), "correct that argument") from None


def produce(settings: Settings, topic: str, event: Any) -> None:
    from confluent_kafka import Producer

    from streams.broker import wait_for_broker
    from streams.kafka_clients import quiet_client_config

    servers = settings.kafka.bootstrap_servers
    # Asked first, as the worker waits for its broker (kafka.broker_wait_seconds, retries logged): a broker
    # that is not there or a topic that does not exist is named then, not after the delivery timeout.
    metadata = wait_for_broker(
        settings.kafka.client_config(),
        wait_seconds=settings.kafka.broker_wait_seconds,
        doing=f"writing to {topic}",
    )
    if topic not in metadata.topics:
        raise TopicsFault(
            f"topic {topic} does not exist on {servers}",
            "create it with `riskwatch stack topics` or fix the topics.* names",
        )
    producer = Producer(
        {
            # librdkafka's own lines through riskwatch's logging, not straight to stderr (the failure is
            # reported by the delivery error below, in one line)
            **quiet_client_config(settings.kafka.client_config(), "riskwatch-officer"),
            "partitioner": "murmur2_random",
            "enable.idempotence": True,
            "message.timeout.ms": int(DELIVERY_TIMEOUT_SECONDS * 1000),
        }
    )
    errors: list[Any] = []  # confluent_kafka.KafkaError

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(err)

    producer.produce(
        topic,
        key=event.customer_id.encode(),
        value=event.model_dump_json().encode(),
        timestamp=int(event.timestamp.timestamp() * 1000),
        on_delivery=delivered,
    )
    left = producer.flush(DELIVERY_TIMEOUT_SECONDS + 5)
    if errors:  # an unreachable broker (exit 3), a missing topic (5), a refused principal (4)
        raise from_kafka_error(errors[0], servers, f"writing to {topic}")
    if left:
        raise Unreachable(
            f"the event was not written to {topic}: Kafka at {servers} did not answer",
            "check kafka.bootstrap_servers (RISKWATCH_KAFKA__BOOTSTRAP_SERVERS) and that the brokers are up",
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """A mistake (exit 2) or a Kafka fault (3, 4, 5) raises its ``streams.errors`` class: ``riskwatch``
    prints its one line and exits with the code README *When something is wrong* lists."""
    topic, event = build_event(args, settings)
    produce(settings, topic, event)
    print(f"{event.type} {event.event_id} for {event.customer_id} written to {topic}")
    return 0
