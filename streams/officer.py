"""``riskwatch override | review-complete | forget``: an officer's decision written as one input event.

Each command validates the event with the contract's model, then produces it keyed by customer id with
Kafka's murmur2 partitioner (the workers dead-letter a customer found on another partition) and the event
time as the record timestamp (the workers order by it). The worker does the rest, exactly once.
"""

from __future__ import annotations

import argparse
import sys
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

DELIVERY_TIMEOUT_SECONDS = 15.0


class OfficerError(Exception):
    """One line for the officer: what is wrong and how to fix it."""


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
        raise OfficerError("no login name found: pass --officer ID") from None


def _event_time(args: argparse.Namespace) -> datetime:
    if args.at is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(args.at)
    except ValueError:
        raise OfficerError(
            f"--at {args.at!r} is not an RFC 3339 timestamp (e.g. 2025-03-01T09:00:00Z)"
        ) from None
    if value.tzinfo is None:
        raise OfficerError(f"--at {args.at!r} needs an offset or Z")
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
            f"--until {text!r} is neither a date (2025-06-30) nor an RFC 3339 timestamp"
        ) from None
    if value.tzinfo is None:
        raise OfficerError(f"--until {text!r} needs an offset or Z (or give a date)")
    return value


def build_event(args: argparse.Namespace, settings: Settings) -> tuple[str, Any]:
    """(topic, validated event) for the command in ``args``."""
    topics = settings.topics
    common = {
        "event_id": f"{args.command}-{uuid.uuid4()}",
        "customer_id": args.customer,
        "timestamp": _event_time(args),
        "officer_id": _officer(args),
        "reason": args.reason,
    }
    try:
        if args.command == "override":
            tz = ZoneInfo(settings.detection.large_value.reporting_timezone)
            tier = None if args.tier == "none" else args.tier
            return topics.risk_overrides, RiskOverride(**common, tier=tier, expires_at=_until(args.until, tz))
        if args.command == "review-complete":
            if args.tier is not None and args.outcome != "tier_changed":
                raise OfficerError("--tier goes with --outcome tier_changed only")
            return topics.review_completed, ReviewCompleted(**common, outcome=args.outcome, tier=args.tier)
        return topics.erasure_requests, ErasureRequest(**common)
    except ValidationError as exc:
        raise OfficerError(describe_validation_error(exc)) from None


def produce(settings: Settings, topic: str, event: Any) -> None:
    from confluent_kafka import KafkaException, Producer

    from streams.kafka_clients import quiet_client_config

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
    errors: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    try:
        producer.produce(
            topic,
            key=event.customer_id.encode(),
            value=event.model_dump_json().encode(),
            timestamp=int(event.timestamp.timestamp() * 1000),
            on_delivery=delivered,
        )
    except KafkaException as exc:
        raise OfficerError(f"cannot write to {topic}: {exc}") from None
    left = producer.flush(DELIVERY_TIMEOUT_SECONDS + 5)
    if errors or left:
        why = errors[0] if errors else "no answer"
        raise OfficerError(
            f"the event was not written to {topic} at {settings.kafka.bootstrap_servers} ({why}); "
            "check kafka.bootstrap_servers and that the topic exists (`riskwatch stack topics`)"
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        topic, event = build_event(args, settings)
        produce(settings, topic, event)
    except OfficerError as exc:
        print(f"riskwatch {args.command}: {exc}", file=sys.stderr)
        return 2
    print(f"{event.type} {event.event_id} for {event.customer_id} written to {topic}")
    return 0
