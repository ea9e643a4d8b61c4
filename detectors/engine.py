"""One event in, alerts and tier changes out: the single entry point that replay and the workers share.

The engine owns what detectors share (deduplication of redelivered events, the customer context, the
cooldown that makes one pattern one alert) so each detector stays a small unit about one pattern.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from pydantic_core import TzInfo

from config.detection import DetectionSettings
from detectors import money
from detectors.base import Detector
from detectors.context import CustomerContext, DebitBaseline
from detectors.findings import Finding
from detectors.observation import ContactObservation, Observation, TxObservation
from detectors.privacy import contact_hash
from detectors.registry import build_detectors
from detectors.riskbook import Book, Moves, RiskBook
from detectors.scorecard import Scorecard
from detectors.state import UNKNOWN_FINGERPRINT, CustomerState, SeenEvents
from schemas.common import SEVERITY_RANK
from schemas.events import (
    AnyInputEvent,
    ContactChange,
    CustomerProfile,
    ErasureRequest,
    EventError,
    ReviewCompleted,
    RiskOverride,
    Transaction,
)
from schemas.outputs import Alert, CustomerRisk, ReviewDue

# 2: debits carry their event ids, counterparties their largest amount. 3: the risk book (behaviour points,
# hysteresis, override, review clock). 4: a content fingerprint per remembered event id ("seen_fp"; ids
# remembered by an older format have an unknown one, and a redelivery of them stays a duplicate). 5:
# velocity_spike remembers its last day-window finding; sustained_shift has a state; the context keeps the
# customer's first transaction time. 6: a counterparty is [id, payments, largest] (5 also kept the last
# amount and time, which nothing read); fingerprints of 4 bytes, the first 4 of format 5's 8 (a third of
# the state's bytes were these random, incompressible bytes); the changelog's binary form is
# ``detectors/state_codec.py``. Older formats are migrated on read.
STATE_FORMAT_VERSION = 6
FINGERPRINT_BYTES = 4
# what formats 4 and 5 stored per id, and what the keyed hash is computed as before it is cut to 4 bytes
_FINGERPRINT_BYTES_V5 = 8
# the ordinal of 1970-01-01, and the microseconds a double holds exactly (2^53: about the year 2255)
_EPOCH_ORDINAL: Final = 719163
_EXACT_MICROSECONDS: Final = 1 << 53
# no zone seen yet: not None, which is a naive time's zone (local time, never a fixed offset)
_NO_ZONE_YET: Final = object()


@dataclass(slots=True)
class Outcome:
    alerts: list[Alert] = field(default_factory=list)
    risks: list[CustomerRisk] = field(default_factory=list)
    reviews: list[ReviewDue] = field(default_factory=list)
    duplicate: bool = False
    # an erasure request: the caller deletes the customer's state everywhere (tombstones)
    erase: bool = False
    # the event's time as epoch seconds, once computed here (a pydantic datetime's ``timestamp()`` is not
    # free): None for a duplicate or an erasure
    event_ts: float | None = None

    def __init__(  # written out: compiled (see ``detectors.observation``)
        self,
        alerts: list[Alert] | None = None,
        risks: list[CustomerRisk] | None = None,
        reviews: list[ReviewDue] | None = None,
        duplicate: bool = False,
        erase: bool = False,
        event_ts: float | None = None,
    ) -> None:
        self.alerts = [] if alerts is None else alerts
        self.risks = [] if risks is None else risks
        self.reviews = [] if reviews is None else reviews
        self.duplicate = duplicate
        self.erase = erase
        self.event_ts = event_ts

    @property
    def risk(self) -> CustomerRisk | None:
        """The last tier change of this event, if any."""
        return self.risks[-1] if self.risks else None


def migrate_state_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (before debits had ids): a state written by an older worker must never crash a newer one."""
    ctx = dict(data["ctx"])
    ctx["debits"] = [[f"v1-{i}", a] for i, a in enumerate(ctx["debits"])]
    ctx["counterparties"] = [[k, c, a, t, a] for k, c, a, t in ctx["counterparties"]]
    return {**data, "v": 2, "ctx": ctx}


def migrate_state_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Versions 2 to 4 (before the day-scale velocity window, ``sustained_shift`` and the context's first
    transaction time): velocity_spike starts with no day-window finding, sustained_shift from a fresh state. The version
    stays as it was, so that what else an older state lacks (the risk book, fingerprints) is still
    recognised."""
    detectors = dict(data["detectors"])
    velocity = detectors.get("velocity_spike")
    if velocity is not None:
        detectors["velocity_spike"] = {**velocity, "day_alert_ts": None}
    # the first transaction was not recorded: a customer already in state counts as long-standing
    return {**data, "detectors": detectors, "ctx": {**data["ctx"], "first_tx_ts": 0.0}}


def alert_id(detector: str, customer_id: str, trigger_event_ids: tuple[str, ...] | list[str]) -> str:
    """Same detector, same customer, same events: same id, across restarts and replays."""
    material = "\x1f".join((detector, customer_id, *trigger_event_ids))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


class RiskEngine:
    def __init__(self, settings: DetectionSettings, detectors: Sequence[Detector[Any]] | None = None) -> None:
        """``detectors`` defaults to every registered one built from ``settings``; tests inject their own
        (a recorder around one detector, a deliberately broken one). They are fixed for the engine's life."""
        self.settings = settings
        self.detectors: tuple[Detector[Any], ...] = tuple(
            build_detectors(settings) if detectors is None else detectors
        )
        self.scorecard = Scorecard(settings.scorecard)
        self._tz = ZoneInfo(settings.large_value.reporting_timezone)
        self.book = RiskBook(settings, self._tz)
        self._rates = dict(settings.fx_rates_to_base)
        self._unit_rates = frozenset(c for c, r in self._rates.items() if r == 1)
        self._max_amount = settings.max_amount_base
        self._max_places = settings.amount_max_decimal_places
        self._hash_key = settings.contact_hash_key.get_secret_value().encode()
        self._fingerprint_key = hashlib.sha256(b"riskwatch-event-fingerprint\x1f" + self._hash_key).digest()
        # keyed once: each fingerprint copies it, which skips hashing the key block again per event
        self._fingerprint_hasher = hashlib.blake2b(
            key=self._fingerprint_key, digest_size=_FINGERPRINT_BYTES_V5
        )
        self._debit_window = settings.amount_spike.baseline_window_events
        # (name, detector) by observation kind: ``update`` is then called as a method of the detector's
        # class, which the compiled build calls directly instead of through a bound method object
        self._by_kind: dict[str, list[tuple[str, Detector[Any]]]] = {
            kind: [(d.name, d) for d in self.detectors if kind in d.kinds]
            for kind in ("transaction", "contact_change")
        }
        self._day: tuple[float, float, str] = (0.0, 0.0, "")
        self._cooldowns = {d.name: d.cooldown_seconds for d in self.detectors}
        # go-live (``alerts_from``) in epoch seconds: a pattern completed before it builds state only
        self._alerts_from = -math.inf if settings.alerts_from is None else settings.alerts_from.timestamp()
        self._longest_cooldown = max(self._cooldowns.values())
        # the fixed-offset time zone of the last event and its offset in microseconds (see ``epoch_seconds``)
        self._offset_tz: object = _NO_ZONE_YET
        self._offset_us = 0

    # ----------------------------------------------------------------------------------------- state
    def new_state(self, customer_id: str) -> CustomerState:
        s = self.settings
        ctx = CustomerContext(
            customer_id=customer_id,
            tier=s.default_tier,
            max_counterparties=s.known_counterparties_max,
            debit_baseline=DebitBaseline(self._debit_window),
            home_country=s.default_home_country,
        )
        return CustomerState(
            ctx=ctx,
            seen=SeenEvents(s.seen_event_ids_max),
            cooldowns={},
            detectors={d.name: d.new_state() for d in self.detectors},
        )

    def state_to_json(self, state: CustomerState) -> dict[str, Any]:
        return {
            "v": STATE_FORMAT_VERSION,
            "ctx": state.ctx.to_json(),
            "seen": list(state.seen.order),
            "seen_fp": state.seen.fingerprints_blob(),
            "cooldowns": {k: list(v) for k, v in state.cooldowns.items()},
            "detectors": {d.name: d.state_to_json(state.detectors[d.name]) for d in self.detectors},
            "events_processed": state.events_processed,
            "book": state.book.to_json(),
        }

    def state_view(self, state: CustomerState) -> dict[str, Any]:
        """``state_to_json`` from the detectors' ``state_view``s, without defensive copies: for the worker's
        changelog, which serialises it at once. Serialised, it reads back as what ``state_to_json`` gives."""
        return {
            "v": STATE_FORMAT_VERSION,
            "ctx": state.ctx.view(),
            "seen": list(state.seen.order),
            "seen_fp": state.seen.fingerprints_blob(),
            "cooldowns": state.cooldowns,
            "detectors": {d.name: d.state_view(state.detectors[d.name]) for d in self.detectors},
            "events_processed": state.events_processed,
            "book": state.book.to_json(),
        }

    def state_from_json(self, data: dict[str, Any]) -> CustomerState:
        version = data.get("v")
        if version == 1:
            data = migrate_state_v1(data)
            version = 2
        if version in (2, 3, 4):
            data = migrate_state_v4(data)
        elif version not in (5, STATE_FORMAT_VERSION):  # 5 differs only in what ``from_json`` skips
            raise ValueError(f"unsupported customer state format {version!r}")
        s = self.settings
        ctx = CustomerContext.from_json(
            data["ctx"], max_debits=self._debit_window, max_counterparties=s.known_counterparties_max
        )
        seen = SeenEvents(s.seen_event_ids_max)
        blob = base64.b64decode(data.get("seen_fp", ""))
        width = FINGERPRINT_BYTES if version == STATE_FORMAT_VERSION else _FINGERPRINT_BYTES_V5
        fps = [blob[i * width : i * width + FINGERPRINT_BYTES] for i in range(len(data["seen"]))]
        seen.restore(
            data["seen"], [fp if len(fp) == FINGERPRINT_BYTES else UNKNOWN_FINGERPRINT for fp in fps]
        )
        stored = data["detectors"]
        return CustomerState(
            ctx=ctx,
            seen=seen,
            cooldowns={k: [float(v[0]), float(v[1])] for k, v in data["cooldowns"].items()},
            detectors={
                d.name: d.state_from_json(stored[d.name]) if d.name in stored else d.new_state()
                for d in self.detectors
            },
            events_processed=int(data.get("events_processed", 0)),
            # format 2 had no risk book: its published tier and score were the scorecard's
            book=Book.from_json(data["book"]) if "book" in data else Book.from_context(ctx),
        )

    # ------------------------------------------------------------------------------------ processing
    def fingerprint(self, message: bytes) -> bytes:
        """4 bytes of a keyed hash of an event's message: equal for a redelivery (a producer retry, a
        replayed file: the same bytes), different for another event under the same id but for a chance of
        2^-32 (such a reuse then counts as a redelivery instead of a dead letter). Keyed with the contact
        hash key, since the message may hold a contact value. (The raw message, not the parsed event's
        canonical JSON: hashing bytes costs well under a microsecond, re-serialising about 20.) The first 4
        bytes of the 8 that format 5 kept, so its remembered ids keep recognising their redeliveries."""
        hasher = self._fingerprint_hasher.copy()
        hasher.update(message)
        return hasher.digest()[:FINGERPRINT_BYTES]

    def epoch_seconds(self, timestamp: datetime) -> float:
        """``timestamp.timestamp()``, the same float, computed from its fields in integers: the method asks
        the time zone for its offset through a Python call and builds two ``timedelta``s, per event. A stream's
        events share a few fixed offsets, so the offset is looked up again only when the zone changes; a zone
        whose offset varies (a ``ZoneInfo``) takes the method. As ``timestamp()`` does, the result is the whole
        microseconds since the epoch divided by a million, one correctly rounded division, so the float is
        the same."""
        tz = timestamp.tzinfo
        if tz is not self._offset_tz:
            if tz is None or (type(tz) is not TzInfo and type(tz) is not timezone):
                return timestamp.timestamp()
            offset = tz.utcoffset(timestamp)
            if offset is None:
                return timestamp.timestamp()
            self._offset_us = (offset.days * 86400 + offset.seconds) * 1_000_000 + offset.microseconds
            self._offset_tz = tz
        seconds = (
            (timestamp.toordinal() - _EPOCH_ORDINAL) * 86400
            + timestamp.hour * 3600
            + timestamp.minute * 60
            + timestamp.second
        )
        micros = seconds * 1_000_000 + timestamp.microsecond - self._offset_us
        if -_EXACT_MICROSECONDS < micros < _EXACT_MICROSECONDS:
            return micros / 1_000_000
        return timestamp.timestamp()

    def observe(self, event: Transaction | ContactChange, ctx: CustomerContext, ts: float) -> Observation:
        """Normalise an event once for all detectors (``ts``: its epoch seconds); raises ``EventError`` for
        what no detector can use."""
        if isinstance(event, Transaction):
            # the fields read from the model's ``__dict__``, where pydantic keeps them: a pydantic model's
            # class has a ``__getattr__``, so each attribute read takes Python's slower hook (two type
            # lookups and a call, dearer than a dict lookup), and a transaction has ten to read
            fields = event.__dict__
            currency: str = fields["currency"]
            rate = self._rates.get(currency)
            if rate is None:
                raise EventError(f"currency: no conversion rate configured for {currency!r}")
            amount: Decimal = fields["amount"]
            # the decimal places read from the amount's text, which also gives its float: ``float()`` of a
            # ``Decimal`` is ``float()`` of that text, and ``as_tuple()`` builds a tuple of every digit
            text = str(amount)
            if "E" in text or "e" in text or "N" in text or "n" in text:  # exponent notation, NaN, infinity
                exponent = amount.as_tuple().exponent
                places = -exponent if isinstance(exponent, int) else 0
            else:
                point = text.find(".")
                places = 0 if point < 0 else len(text) - point - 1
            if places > self._max_places:
                raise EventError(
                    f"amount: more than {self._max_places} digits after the decimal "
                    "point (detection.amount_max_decimal_places)"
                )
            if currency not in self._unit_rates:
                amount = money.multiply(amount, rate)
                text = str(amount)
            if amount > self._max_amount:
                raise EventError(
                    f"amount: above the ceiling of {self._max_amount} {self.settings.base_currency} once "
                    "converted (detection.max_amount_base)"
                )
            amount_f = float(amount) if "N" in text or "n" in text else float(text)
            if not math.isfinite(amount_f):
                # Finite as a decimal but beyond float range once converted: no statistic can use it.
                raise EventError("amount: too large once converted to the base currency")
            country: str | None = fields["counterparty_country"]
            return TxObservation(
                event_id=fields["event_id"],
                ts=ts,
                day=self._reporting_day(fields["timestamp"], ts),
                amount=amount,
                amount_f=amount_f,
                debit=fields["direction"] == "debit",
                channel=fields["channel"],
                counterparty_id=fields["counterparty_id"],
                cross_border=country is not None and country != ctx.home_country,
                merchant_category=fields["merchant_category"],
            )
        value_hash = (
            None if event.new_value is None else contact_hash(self._hash_key, event.field, event.new_value)
        )
        return ContactObservation(
            event_id=event.event_id, ts=ts, field=event.field, value_hash=value_hash, channel=event.channel
        )

    def _reporting_day(self, timestamp: datetime, ts: float) -> str:
        """The calendar day in the reporting time zone; the last day's bounds are cached, since most events
        of a stream fall on the same day."""
        start, end, day = self._day
        if start <= ts < end:
            return day
        local = timestamp.astimezone(self._tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        next_midnight = midnight + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
        self._day = (midnight.timestamp(), next_midnight.timestamp(), local.date().isoformat())
        return self._day[2]

    def process(
        self,
        state: CustomerState,
        event: AnyInputEvent,
        detected_at: datetime | Callable[[], datetime],
        fingerprint: bytes | None = None,
    ) -> Outcome:
        """Advance one customer's state by one event. ``detected_at`` is the caller's clock (or the clock
        itself, read only when the event alerts: most do not), used only as a label on alerts: no decision
        here depends on it. ``fingerprint``: of the event's message (see
        ``fingerprint``); without it, of the event's canonical JSON."""
        # isinstance with a tuple, the usual events first: the compiled build makes a ``X | Y`` union anew
        # on each call, and a miss on a pydantic class takes ABCMeta's slower check
        if not isinstance(event, (Transaction, ContactChange)) and isinstance(event, ErasureRequest):
            return Outcome(erase=True)
        if fingerprint is None:
            fingerprint = self.fingerprint(event.model_dump_json().encode())
        fields = event.__dict__  # as in ``observe``: a pydantic model's attributes read through a slow hook
        event_id: str = fields["event_id"]
        known = state.seen.fingerprint(event_id)
        if known is not None:
            if known in (fingerprint, UNKNOWN_FINGERPRINT):
                return Outcome(duplicate=True)
            raise EventError(
                "event_id: already seen for this customer with different content (a conflicting reuse of "
                "the id, not a redelivery); the first event with this id stands"
            )
        ctx = state.ctx
        book = state.book
        timestamp: datetime = fields["timestamp"]
        ts = self.epoch_seconds(timestamp)
        # a late event moves the book from where it is: its clock never runs backwards
        now = ts if book.clock is None else max(ts, book.clock)
        obs: Observation | None = None
        if isinstance(event, (Transaction, ContactChange)):
            obs = self.observe(event, ctx, ts)  # may raise EventError before anything is remembered
        elif (
            isinstance(event, RiskOverride) and event.tier is not None and event.expires_at.timestamp() <= ts
        ):
            raise EventError("expires_at: the override expired before it was made (at or before timestamp)")
        state.seen.add(event_id, fingerprint)
        state.events_processed += 1
        moves = self.book.advance(ctx, book, now)
        alerts: list[Alert] = []
        if obs is not None and isinstance(event, (Transaction, ContactChange)):
            alerts = self._detect(state, obs, event, detected_at)
            if alerts:
                # the new tier applies from the next event on: these alerts carry the tier they fired in
                moves.extend(self.book.on_alerts(ctx, book, alerts, now, event.timestamp))
        elif isinstance(event, CustomerProfile):
            moves.extend(self._apply_profile(ctx, book, event, ts, now))
        elif isinstance(event, RiskOverride):
            moves.extend(
                self.book.on_override(
                    ctx,
                    book,
                    event.tier,
                    event.expires_at.timestamp(),
                    event.officer_id,
                    event.reason,
                    now,
                    event.timestamp,
                )
            )
        elif isinstance(event, ReviewCompleted):
            moves.extend(
                self.book.on_review(
                    ctx, book, event.outcome, event.tier, event.officer_id, event.reason, now, event.timestamp
                )
            )
        return Outcome(alerts=alerts, risks=moves.risks, reviews=moves.reviews, event_ts=ts)

    def punctuate(self, state: CustomerState, now: float) -> Outcome:
        """The timed moves (review due, override expiry, downgrade) of a quiet customer up to wall-clock
        ``now``: the same records its next event would have produced."""
        moves = self.book.advance(state.ctx, state.book, now, event=False)
        return Outcome(risks=moves.risks, reviews=moves.reviews)

    def next_deadline(self, state: CustomerState) -> float | None:
        """When ``punctuate`` next has something to do (epoch seconds), or None."""
        return self.book.next_deadline(state.book)

    def _detect(
        self,
        state: CustomerState,
        obs: Observation,
        event: Transaction | ContactChange,
        clock: datetime | Callable[[], datetime],
    ) -> list[Alert]:
        ctx = state.ctx
        findings: list[Finding] = []
        states = state.detectors
        for name, detector in self._by_kind[obs.kind]:
            found = detector.update(states[name], obs, ctx)
            if found:
                findings.extend(found)

        anomalous = False
        alerts: list[Alert] = []
        for f in findings:
            anomalous = anomalous or f.anomalous_amount
            completed_at = obs.ts if f.completed_at is None else f.completed_at
            if completed_at < self._alerts_from:
                # history loaded before go-live: the detectors learn from it as they would have from an
                # alert (an alerted amount stays out of the baseline), but nobody is told and no cooldown
                # starts, so the first pattern after go-live alerts whatever came before
                if f.unlearn_event_ids:
                    ctx.debit_baseline.forget(set(f.unlearn_event_ids))
            elif self._cooled_down(state, f, completed_at):
                late_at = None if completed_at == obs.ts else completed_at
                detected_at = clock if isinstance(clock, datetime) else clock()
                clock = detected_at  # one reading for all the alerts of the event
                alerts.append(self._alert(ctx, f, event, late_at, detected_at))
                if f.unlearn_event_ids:
                    ctx.debit_baseline.forget(set(f.unlearn_event_ids))

        if isinstance(obs, TxObservation) and (ctx.first_tx_ts is None or obs.ts < ctx.first_tx_ts):
            ctx.first_tx_ts = obs.ts
        if isinstance(obs, TxObservation) and obs.debit:
            if not anomalous:
                ctx.debit_baseline.add(obs.amount_f, obs.event_id)
            if obs.counterparty_id is not None:
                ctx.remember_counterparty(obs.counterparty_id, obs.amount_f)
        return alerts

    def _cooled_down(self, state: CustomerState, f: Finding, ts: float) -> bool:
        """One pattern, one alert: a finding repeats a pattern when the same detector and key alerted less
        than ``cooldown_seconds`` of event time ago at the same or a higher severity."""
        cooldown = self._cooldowns[f.detector]
        if cooldown <= 0:
            return True
        key = f"{f.detector}|{f.dedup_key}"
        last = state.cooldowns.get(key)
        rank = SEVERITY_RANK[f.severity]
        if last is not None and abs(ts - last[0]) < cooldown and rank <= last[1]:
            return False
        state.cooldowns[key] = [ts, float(rank)]
        if len(state.cooldowns) > 32:
            self._expire_cooldowns(state, ts)
        return True

    def _expire_cooldowns(self, state: CustomerState, now: float) -> None:
        for k in [k for k, v in state.cooldowns.items() if now - v[0] > self._longest_cooldown]:
            del state.cooldowns[k]

    def _alert(
        self,
        ctx: CustomerContext,
        f: Finding,
        event: Transaction | ContactChange,
        completed_late_at: float | None,
        detected_at: datetime,
    ) -> Alert:
        """``completed_late_at``: the last trigger's time when an earlier event, consumed late, finished the
        pattern (the alert then carries that time, in this event's offset)."""
        event_time = event.timestamp
        if completed_late_at is not None:
            event_time = datetime.fromtimestamp(completed_late_at, tz=event_time.tzinfo)
        return Alert(
            alert_id=alert_id(f.detector, ctx.customer_id, f.trigger_event_ids),
            customer_id=ctx.customer_id,
            detector=f.detector,
            severity=f.severity,
            score=f.score,
            risk_tier=ctx.tier,
            event_time=event_time,
            detected_at=detected_at,
            trigger_event_ids=list(f.trigger_event_ids),
            reason=f.reason,
            evidence=f.evidence,
        )

    def _apply_profile(
        self, ctx: CustomerContext, book: Book, p: CustomerProfile, ts: float, now: float
    ) -> Moves:
        if ctx.profile_ts is not None and ts < ctx.profile_ts:
            return Moves()  # an older profile arriving late never overrides a newer one
        ctx.profile_ts = ts
        ctx.has_profile = True
        ctx.segment = p.segment
        ctx.home_country = p.home_country
        return self.book.on_profile(ctx, book, self.scorecard.score(p), now, p.timestamp)
