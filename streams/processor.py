"""Decode, detect, encode: the one place raw input bytes become alerts, tier changes or dead letters.

``riskwatch replay`` and the stream worker both call ``Processor.handle``, so a rule behaves the same on a
file of history and on the live topics. State lives behind ``StateStore``; the processor never does I/O.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from detectors.engine import RiskEngine
from detectors.state import CustomerState
from schemas.events import EventError, parse_event_json
from schemas.outputs import Alert, CustomerRisk, DeadLetter, ReviewDue
from streams.redaction import redact_contact_values

# the default of ``worker.dead_letter_max_bytes``; the key and the other text fields get fixed shares
DEAD_LETTER_MAX_BYTES = 262144
DEAD_LETTER_KEY_MAX_CHARS = 1024
DEAD_LETTER_FIELD_MAX_CHARS = 2048

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
    "event_id_conflict",
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
    if error.startswith("event_id: already seen"):
        return "event_id_conflict"
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
    # the accepted event's time (epoch s): the worker's stream time per partition
    event_ts: float | None = None

    def __init__(  # written out: compiled (see ``detectors.observation``); one per event
        self,
        customer_id: str | None = None,
        event_type: str | None = None,
        alerts: list[Alert] | None = None,
        risks: list[CustomerRisk] | None = None,
        reviews: list[ReviewDue] | None = None,
        dead_letter: DeadLetter | None = None,
        duplicate: bool = False,
        erased: bool = False,
        event_ts: float | None = None,
    ) -> None:
        self.customer_id = customer_id
        self.event_type = event_type
        self.alerts = [] if alerts is None else alerts
        self.risks = [] if risks is None else risks
        self.reviews = [] if reviews is None else reviews
        self.dead_letter = dead_letter
        self.duplicate = duplicate
        self.erased = erased
        self.event_ts = event_ts

    @property
    def risk(self) -> CustomerRisk | None:
        return self.risks[-1] if self.risks else None


def utc_now() -> datetime:
    return datetime.now(UTC)


def _json_bytes(text: str) -> int:
    """Bytes ``text`` takes as a JSON string in a serialised model (quotes and escapes included)."""
    return len(json.dumps(text, ensure_ascii=False).encode())


def _fit(text: str, budget_bytes: int) -> str:
    """The longest beginning of ``text`` whose JSON string takes at most ``budget_bytes``."""
    if _json_bytes(text) <= budget_bytes:
        return text
    lo, hi = 0, min(len(text), budget_bytes)  # every character takes at least one byte
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _json_bytes(text[:mid]) <= budget_bytes:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_dead_letter(
    raw: bytes,
    error: str,
    *,
    source: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    received_at: datetime,
    max_bytes: int = DEAD_LETTER_MAX_BYTES,
) -> DeadLetter:
    """A dead letter whose JSON takes at most ``max_bytes``, by construction: the other fields are clipped
    to fixed sizes, and ``raw`` gets what is left, cut to fit and marked ``raw_truncated``. Whatever the
    input, the dead letter can be produced, so one bad message never stops the stream."""
    encoding: Literal["utf-8", "base64"]
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    key_text = (
        None if key is None else _clip(key.decode("utf-8", errors="replace"), DEAD_LETTER_KEY_MAX_CHARS)
    )
    letter = DeadLetter(
        source=_clip(source, DEAD_LETTER_FIELD_MAX_CHARS),
        partition=partition,
        offset=offset,
        key=key_text,
        raw="",
        raw_encoding=encoding,
        raw_bytes=len(raw),
        raw_truncated=True,
        error=_clip(error, DEAD_LETTER_FIELD_MAX_CHARS),
        received_at=received_at,
    )
    # the empty raw takes 2 bytes ("") and the flag "true" one byte fewer than "false"
    budget = max_bytes - len(letter.model_dump_json()) + 2 - 1
    fitted = _fit(text, budget)
    if encoding == "base64" and len(fitted) < len(text):
        fitted = fitted[: len(fitted) // 4 * 4]  # whole base64 quanta: the beginning still decodes
    letter = letter.model_copy(update={"raw": fitted, "raw_truncated": len(fitted) < len(text)})
    size = len(letter.model_dump_json())
    if size > max_bytes:  # cannot happen (the sizes above are exact); fail loudly in tests if it ever does
        raise AssertionError(f"dead letter of {size} bytes over its bound of {max_bytes}")
    return letter


class Processor:
    def __init__(
        self,
        engine: RiskEngine,
        store: StateStore,
        clock: Callable[[], datetime] = utc_now,
        partition_of: Callable[[str], int] | None = None,
        dead_letter_max_bytes: int = DEAD_LETTER_MAX_BYTES,
        redact_contact_values: bool = True,
    ) -> None:
        self.engine = engine
        self.dead_letter_max_bytes = dead_letter_max_bytes
        self.store = store
        self.clock = clock
        # where Kafka's default partitioner puts a customer: checked on each customer's first event here
        self.partition_of = partition_of
        # dead letters carry contact values as keyed hashes (setting dead_letter.redact_contact_values)
        self._redact_key = (
            engine.settings.contact_hash_key.get_secret_value().encode() if redact_contact_values else None
        )

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
            # read from the model's ``__dict__``: a pydantic model's attribute takes Python's slower hook
            # (see ``RiskEngine.observe``)
            fields = event.__dict__
            event_type: str = fields["type"]
            if expected_type is not None and event_type != expected_type:
                raise EventError(f"type: {event_type!r} events do not belong on {source}")
            customer_id: str = fields["customer_id"]
            if key is not None and key != customer_id.encode():
                raise EventError(
                    "key: message key and customer_id differ (the event may be on the wrong partition)"
                )
            state = self.store.get(customer_id)
            if state is None:
                if self.partition_of is not None and partition is not None:
                    expected = self.partition_of(customer_id)
                    if expected != partition:
                        raise EventError(
                            f"key: customer_id belongs on partition {expected} under Kafka's murmur2 "
                            f"partitioner, not {partition}; the producer must partition with murmur2 "
                            "(confluent-kafka: partitioner=murmur2_random)"
                        )
                state = self.engine.new_state(customer_id)
            try:
                outcome = self.engine.process(state, event, self.clock, self.engine.fingerprint(raw))
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
            reason = exc.reason
            if self._redact_key is not None:
                raw, note = redact_contact_values(
                    raw, self._redact_key, contact_source=expected_type == "contact_change"
                )
                reason += note
            dl = make_dead_letter(
                raw,
                reason,
                source=source,
                partition=partition,
                offset=offset,
                key=key,
                received_at=self.clock(),
                max_bytes=self.dead_letter_max_bytes,
            )
            return Result(dead_letter=dl)
        event_ts = event.timestamp.timestamp() if outcome.event_ts is None else outcome.event_ts
        if outcome.duplicate:
            return Result(customer_id=customer_id, event_type=event_type, duplicate=True)
        if outcome.erase:
            self.store.delete(customer_id)
            return Result(customer_id=customer_id, event_type=event_type, erased=True, event_ts=event_ts)
        self.store.put(customer_id, state)
        return Result(
            customer_id=customer_id,
            event_type=event_type,
            alerts=outcome.alerts,
            risks=outcome.risks,
            reviews=outcome.reviews,
            event_ts=event_ts,
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
