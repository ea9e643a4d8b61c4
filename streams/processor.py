"""Decode, detect, encode: the one place raw input bytes become alerts, tier changes or dead letters.

``riskwatch replay`` and the stream worker both call ``Processor.handle``, so a rule behaves the same on a
file of history and on the live topics. State lives behind ``StateStore``; the processor never does I/O.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from detectors.engine import RiskEngine
from detectors.state import CustomerState
from schemas.events import EventError, parse_event_json
from schemas.outputs import Alert, CustomerRisk, DeadLetter, ReviewDue

MAX_RAW_CHARS = 65536

log = logging.getLogger("riskwatch.processor")


class StateStore(Protocol):
    def get(self, customer_id: str) -> CustomerState | None: ...

    def put(self, customer_id: str, state: CustomerState) -> None: ...

    def delete(self, customer_id: str) -> None: ...


class MemoryStateStore:
    """Customer states in a dict: what ``replay`` needs (the worker's store is ``PartitionState``)."""

    def __init__(self) -> None:
        self.states: dict[str, CustomerState] = {}

    def get(self, customer_id: str) -> CustomerState | None:
        return self.states.get(customer_id)

    def put(self, customer_id: str, state: CustomerState) -> None:
        self.states[customer_id] = state

    def delete(self, customer_id: str) -> None:
        self.states.pop(customer_id, None)

    def __len__(self) -> int:
        return len(self.states)


# every value reject_category returns: the worker exports a zero series for each
REJECT_REASONS = (
    "invalid_json",
    "wrong_type",
    "missing_field",
    "invalid_field",
    "unknown_currency",
    "key_mismatch",
    "internal_error",
)


def reject_category(error: str) -> str:
    """A small fixed set of reasons for the ``events_rejected_total`` metric (labels must stay few)."""
    if error.startswith("internal:"):
        return "internal_error"
    if "is not valid JSON" in error:
        return "invalid_json"
    if error.startswith("currency: no conversion rate"):
        return "unknown_currency"
    if error.startswith("key:"):
        return "key_mismatch"
    if error.startswith("type:"):
        return "wrong_type"
    if "Field required" in error or "is missing" in error:
        return "missing_field"
    return "invalid_field"


@dataclass(slots=True)
class Result:
    customer_id: str | None = None
    event_type: str | None = None
    alerts: list[Alert] = field(default_factory=list)
    risks: list[CustomerRisk] = field(default_factory=list)
    reviews: list[ReviewDue] = field(default_factory=list)
    dead_letter: DeadLetter | None = None
    duplicate: bool = False
    # the customer's state was erased: tombstones follow on the changelog and on customer-risk
    erased: bool = False

    @property
    def risk(self) -> CustomerRisk | None:
        return self.risks[-1] if self.risks else None


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_dead_letter(
    raw: bytes,
    error: str,
    *,
    source: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    received_at: datetime,
) -> DeadLetter:
    encoding: Literal["utf-8", "base64"]
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    if len(text) > MAX_RAW_CHARS:
        text = text[:MAX_RAW_CHARS]
        error = f"{error} (raw truncated to {MAX_RAW_CHARS} characters)"
    key_text = None if key is None else key.decode("utf-8", errors="replace")
    return DeadLetter(
        source=source,
        partition=partition,
        offset=offset,
        key=key_text,
        raw=text,
        raw_encoding=encoding,
        error=error,
        received_at=received_at,
    )


class Processor:
    def __init__(
        self,
        engine: RiskEngine,
        store: StateStore,
        clock: Callable[[], datetime] = utc_now,
        partition_of: Callable[[str], int] | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        # where Kafka's default partitioner puts a customer: checked on each customer's first event here
        self.partition_of = partition_of

    def handle(
        self,
        raw: bytes,
        *,
        source: str,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | None = None,
        expected_type: str | None = None,
    ) -> Result:
        """Never raises for bad input: whatever cannot be accepted comes back as a dead letter."""
        try:
            event = parse_event_json(raw)
            if expected_type is not None and event.type != expected_type:
                raise EventError(f"type: {event.type!r} events do not belong on {source}")
            if key is not None and key != event.customer_id.encode():
                raise EventError(
                    "key: message key and customer_id differ (the event may be on the wrong partition)"
                )
            state = self.store.get(event.customer_id)
            if state is None:
                if self.partition_of is not None and partition is not None:
                    expected = self.partition_of(event.customer_id)
                    if expected != partition:
                        raise EventError(
                            f"key: customer_id belongs on partition {expected} under Kafka's murmur2 "
                            f"partitioner, not {partition}; the producer must partition with murmur2 "
                            "(confluent-kafka: partitioner=murmur2_random)"
                        )
                state = self.engine.new_state(event.customer_id)
            try:
                outcome = self.engine.process(state, event, self.clock())
            except EventError:
                raise
            except Exception as exc:  # a bug must not stop the stream: dead-letter the event, log, count
                log.exception(
                    "internal error on event %s of customer %s (%s); sent to the dead-letter output",
                    event.event_id,
                    event.customer_id,
                    type(exc).__name__,
                )
                raise EventError(
                    f"internal: {type(exc).__name__} while processing event {event.event_id}; see the worker log"
                ) from None
        except EventError as exc:
            dl = make_dead_letter(
                raw,
                exc.reason,
                source=source,
                partition=partition,
                offset=offset,
                key=key,
                received_at=self.clock(),
            )
            return Result(dead_letter=dl)
        if outcome.duplicate:
            return Result(customer_id=event.customer_id, event_type=event.type, duplicate=True)
        if outcome.erase:
            self.store.delete(event.customer_id)
            return Result(customer_id=event.customer_id, event_type=event.type, erased=True)
        self.store.put(event.customer_id, state)
        return Result(
            customer_id=event.customer_id,
            event_type=event.type,
            alerts=outcome.alerts,
            risks=outcome.risks,
            reviews=outcome.reviews,
        )

    def punctuate(self, customer_id: str, now: datetime) -> Result | None:
        """A quiet customer's timed moves up to the wall clock ``now`` (see ``RiskEngine.punctuate``)."""
        state = self.store.get(customer_id)
        if state is None:
            return None
        outcome = self.engine.punctuate(state, now.timestamp())
        if not outcome.risks and not outcome.reviews:
            return None
        self.store.put(customer_id, state)
        return Result(customer_id=customer_id, risks=outcome.risks, reviews=outcome.reviews)
