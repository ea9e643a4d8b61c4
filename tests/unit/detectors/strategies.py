"""Event builders, Hypothesis strategies of valid event sequences, a seeded traffic generator and a harness
that drives the engine while recording each detector's raw findings (river's ``checks/`` idea)."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from config.detection import DetectionSettings
from detectors.base import Detector
from detectors.context import CustomerContext
from detectors.engine import RiskEngine
from detectors.findings import Finding
from detectors.observation import Observation
from detectors.registry import REGISTERED_NAMES, build_detectors
from detectors.state import CustomerState
from schemas.events import AnyInputEvent, ContactChange, CustomerProfile, Transaction
from schemas.outputs import Alert, CustomerRisk, ReviewDue

Event = AnyInputEvent

DETECTION = DetectionSettings()
T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
DETECTED_AT = datetime(2030, 1, 1, tzinfo=UTC)
CUSTOMER = "cust-1"
_ids = itertools.count()


def at(seconds: float = 0, *, days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, seconds=seconds)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def tx(
    amount: Any = "100",
    when: datetime | None = None,
    *,
    event_id: str | None = None,
    customer_id: str = CUSTOMER,
    currency: str = "CNY",
    direction: str = "debit",
    channel: str = "card",
    counterparty_id: str | None = None,
    counterparty_country: str | None = None,
    merchant_category: str | None = None,
) -> Transaction:
    return Transaction(
        event_id=event_id or _id("tx"),
        customer_id=customer_id,
        timestamp=when or T0,
        account_id="acct-1",
        amount=amount,
        currency=currency,
        direction=direction,
        channel=channel,
        counterparty_id=counterparty_id,
        counterparty_country=counterparty_country,
        merchant_category=merchant_category,
    )


def contact(
    field_name: str = "phone",
    new_value: str | None = "+86 138 0000 0000",
    when: datetime | None = None,
    *,
    event_id: str | None = None,
    customer_id: str = CUSTOMER,
    channel: str | None = "app",
) -> ContactChange:
    return ContactChange(
        event_id=event_id or _id("cc"),
        customer_id=customer_id,
        timestamp=when or T0,
        field=field_name,
        new_value=new_value,
        channel=channel,
    )


def profile(
    when: datetime | None = None,
    *,
    event_id: str | None = None,
    customer_id: str = CUSTOMER,
    **fields: Any,
) -> CustomerProfile:
    data: dict[str, Any] = {"segment": "individual", "industry": "education", **fields}
    return CustomerProfile(
        event_id=event_id or _id("cp"), customer_id=customer_id, timestamp=when or T0, **data
    )


# A profile that scores low, one that scores high (and a PEP), for tier-dependent tests.
LOW_RISK = {
    "industry": "utilities",
    "credit_score": 880,
    "overdue_count_12m": 0,
    "annual_income": "900000",
    "total_assets": "1000000",
    "total_liabilities": "0",
}
HIGH_RISK = {
    "industry": "gambling",
    "credit_score": 320,
    "overdue_count_12m": 5,
    "annual_income": "1000",
    "total_assets": "1000",
    "total_liabilities": "5000",
}
MEDIUM_RISK = {"industry": "widgets"}  # unknown industry, nothing else known: scores medium
TIER_PROFILES = {"low": LOW_RISK, "medium": MEDIUM_RISK, "high": HIGH_RISK}


def tier_profile(tier: str, when: datetime | None = None, **extra: Any) -> CustomerProfile:
    """A profile that puts the customer into ``tier`` (checked in test_scorecard)."""
    return profile(when or T0 - timedelta(days=30), **{**TIER_PROFILES[tier], **extra})


# ------------------------------------------------------------------------------------------- running
@dataclass
class Run:
    state: CustomerState
    alerts: list[Alert] = field(default_factory=list)
    risks: list[CustomerRisk] = field(default_factory=list)
    reviews: list[ReviewDue] = field(default_factory=list)
    duplicates: int = 0


def feed(engine: RiskEngine, events: Iterable[Event], run: Run | None = None) -> Run:
    """Process events of one customer in order; collect alerts and tier changes."""
    events = list(events)
    if run is None:
        cid = events[0].customer_id if events else CUSTOMER
        run = Run(engine.new_state(cid))
    for event in events:
        out = engine.process(run.state, event, DETECTED_AT)
        run.alerts.extend(out.alerts)
        run.risks.extend(out.risks)
        run.reviews.extend(out.reviews)
        run.duplicates += out.duplicate
    return run


def alert_key(a: Alert) -> str:
    """An alert as JSON without its wall-clock label."""
    return a.model_copy(update={"detected_at": DETECTED_AT}).model_dump_json()


def roundtrip_state(engine: RiskEngine, state: CustomerState) -> CustomerState:
    return engine.state_from_json(json.loads(json.dumps(engine.state_to_json(state))))


def by_detector(alerts: Sequence[Alert], name: str) -> list[Alert]:
    return [a for a in alerts if a.detector == name]


def context_fingerprint(ctx: CustomerContext) -> tuple[Any, ...]:
    """Everything a detector could change in the context (the baseline's statistics cache aside, which
    reading fills in): cheaper than a JSON dump on every call."""
    return (
        ctx.customer_id,
        ctx.tier,
        ctx.segment,
        ctx.home_country,
        ctx.score,
        tuple(ctx.factors.items()),
        ctx.has_profile,
        ctx.profile_ts,
        ctx.max_counterparties,
        ctx.debit_baseline.max_events,
        tuple(ctx.debit_baseline.amounts),
        tuple(ctx.debit_baseline.event_ids),
        tuple((k, tuple(v)) for k, v in ctx.counterparties.items()),
    )


class Delegating(Detector[Any]):
    """A detector that hands every call to ``inner``: the base of the test wrappers that watch one detector
    (``Recorder``) or break it in one way (``test_checks.py``)."""

    def __init__(self, inner: Detector[Any]) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[misc]
        self.kinds = inner.kinds  # type: ignore[misc]
        self.cooldown_seconds = inner.cooldown_seconds

    def new_state(self) -> Any:
        return self.inner.new_state()

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        return self.inner.update(state, obs, ctx)

    def state_to_json(self, state: Any) -> Any:
        return self.inner.state_to_json(state)

    def state_view(self, state: Any) -> Any:
        return self.inner.state_view(state)

    def state_from_json(self, data: Any) -> Any:
        return self.inner.state_from_json(data)

    def state_bytes(self, state: Any) -> bytes | None:
        return self.inner.state_bytes(state)

    def state_from_bytes(self, data: memoryview) -> Any:
        return self.inner.state_from_bytes(data)


class Recorder(Delegating):
    """Wraps one detector inside the engine: records its raw findings and checks, on every call, that it
    leaves the observation and the customer context untouched."""

    def __init__(self, inner: Detector[Any], *, swallow: bool = False) -> None:
        """``swallow``: record the findings but hand none to the engine (to inspect malformed ones)."""
        super().__init__(inner)
        self.swallow = swallow
        self.findings: list[tuple[str, Finding]] = []
        self.mutations: list[str] = []

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        obs_before = repr(obs)
        ctx_before = context_fingerprint(ctx)
        found = self.inner.update(state, obs, ctx)
        if repr(obs) != obs_before:
            self.mutations.append(f"observation {obs.event_id}")
        if context_fingerprint(ctx) != ctx_before:
            self.mutations.append(f"context at {obs.event_id}")
        self.findings.extend((obs.event_id, f) for f in found)
        return [] if self.swallow else found


def engine_recording(name: str, settings: DetectionSettings = DETECTION) -> tuple[RiskEngine, Recorder]:
    """An engine with every registered detector, ``name`` behind a ``Recorder`` (injected, so it is the
    object the engine calls)."""
    detectors = build_detectors(settings)
    i = next(i for i, d in enumerate(detectors) if d.name == name)
    recorder = Recorder(detectors[i])
    detectors[i] = recorder
    return RiskEngine(settings, detectors=detectors), recorder


DETECTOR_NAMES = list(REGISTERED_NAMES)


# ------------------------------------------------------------------------------------ hypothesis
CURRENCIES = sorted(DETECTION.fx_rates_to_base)
INTERESTING_AMOUNTS = [
    "0.01",
    "1",
    "35.5",
    "100",
    "250",
    "999.99",
    "2000",
    "4999",
    "9999.99",
    "20000",
    "39999.99",
    "40000",
    "45000",
    "49999.99",
    "50000",
    "50000.01",
    "120000",
    "199999.99",
    "200000",
    "500000",
    "2000000",
    "9000000",
]
amounts = st.one_of(
    st.sampled_from(INTERESTING_AMOUNTS).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10_000_000), places=2),
)
# Steps between successive events: same second, seconds, minutes, an hour, hours, days.
steps = st.one_of(
    st.sampled_from([0, 1, 20, 60, 300, 3600, 6 * 3600, 86400, 3 * 86400]),
    st.integers(min_value=0, max_value=2 * 86400),
)
lateness = st.one_of(st.just(0), st.integers(min_value=0, max_value=DETECTION.allowed_lateness_seconds))


@st.composite
def transactions(draw: st.DrawFn, event_id: str, when: datetime, customer_id: str = CUSTOMER) -> Transaction:
    return Transaction(
        event_id=event_id,
        customer_id=customer_id,
        timestamp=when,
        account_id="acct-1",
        amount=draw(amounts),
        currency=draw(st.sampled_from(["CNY", "CNY", "CNY", *CURRENCIES])),
        direction=draw(st.sampled_from(["debit", "debit", "credit"])),
        channel=draw(st.sampled_from(["card", "transfer", "cash", "online", "atm"])),
        counterparty_id=draw(st.sampled_from([None, "payee-1", "payee-2", "payee-3", "shop-9"])),
        counterparty_country=draw(st.sampled_from([None, "CN", "CN", "US", "HK"])),
    )


@st.composite
def contact_changes(
    draw: st.DrawFn, event_id: str, when: datetime, customer_id: str = CUSTOMER
) -> ContactChange:
    return ContactChange(
        event_id=event_id,
        customer_id=customer_id,
        timestamp=when,
        field=draw(st.sampled_from(["phone", "email", "address", "device"])),
        new_value=draw(
            st.sampled_from([None, "+86 139 1111 2222", "Mallory@Evil.example", "dev-77", "1 Rd"])
        ),
        channel=draw(st.sampled_from([None, "app", "web", "branch"])),
    )


@st.composite
def profiles(draw: st.DrawFn, event_id: str, when: datetime, customer_id: str = CUSTOMER) -> CustomerProfile:
    money = st.none() | st.decimals(min_value=0, max_value=Decimal(10**8), places=2)
    segment = draw(st.sampled_from(["individual", "corporate"]))
    return CustomerProfile(
        event_id=event_id,
        customer_id=customer_id,
        timestamp=when,
        segment=segment,
        industry=draw(st.sampled_from(["gambling", "retail", "education", "widgets", "Real_Estate"])),
        credit_score=draw(st.none() | st.integers(300, 900)),
        overdue_count_12m=draw(st.none() | st.integers(0, 12)),
        annual_income=draw(money),
        total_assets=draw(money),
        total_liabilities=draw(money),
        business_size=draw(st.none() | st.sampled_from(["micro", "small", "medium", "large"])),
        politically_exposed=draw(st.none() | st.booleans()),
        home_country=draw(st.sampled_from(["CN", "HK"])),
    )


@st.composite
def event_sequences(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 40, customer_id: str = CUSTOMER
) -> list[Event]:
    """Valid events of one customer in arrival order: event time moves forward with jitter back in time no
    larger than the allowed lateness; ids are unique."""
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    clock = 0
    events: list[Event] = []
    for i in range(n):
        clock += draw(steps)
        when = T0 + timedelta(seconds=max(0, clock - draw(lateness)))
        kind = draw(st.sampled_from(["tx"] * 6 + ["cc", "cc", "cp"]))
        maker = {"tx": transactions, "cc": contact_changes, "cp": profiles}[kind]
        events.append(draw(maker(f"{kind}-{i}", when, customer_id)))
    return events


# ---------------------------------------------------------------------------------------- traffic
def varied_traffic(n: int, seed: int = 7, customer_id: str = CUSTOMER) -> list[Event]:
    """Seeded, realistic-ish traffic of one customer: daily card spending, rent to a known payee, salary,
    bursts, cash near the reporting threshold, contact changes, a large transfer now and then, profiles."""
    rnd = random.Random(seed)
    out: list[Event] = []
    clock = 0.0
    for i in range(n):
        clock += rnd.expovariate(1 / 900) if rnd.random() < 0.9 else rnd.uniform(0, 5)
        when = T0 + timedelta(seconds=max(0.0, clock - rnd.uniform(0, 300)))
        eid = f"ev-{seed}-{i}"
        r = rnd.random()
        if r < 0.01:
            out.append(
                profile(
                    when,
                    event_id=eid,
                    customer_id=customer_id,
                    **rnd.choice([LOW_RISK, HIGH_RISK, {"industry": "retail"}]),
                )
            )
        elif r < 0.04:
            out.append(
                contact(
                    rnd.choice(["phone", "email", "address", "device"]),
                    f"value-{rnd.randint(0, 9)}",
                    when,
                    event_id=eid,
                    customer_id=customer_id,
                )
            )
        elif r < 0.06:
            out.append(
                tx(
                    Decimal(rnd.randint(40000, 49999)),
                    when,
                    event_id=eid,
                    customer_id=customer_id,
                    channel=rnd.choice(["cash", "atm"]),
                    direction=rnd.choice(["debit", "credit"]),
                )
            )
        elif r < 0.07:
            out.append(
                tx(
                    Decimal(rnd.choice([60000, 250000, 700000, 3000000])),
                    when,
                    event_id=eid,
                    customer_id=customer_id,
                    channel="transfer",
                    counterparty_id=f"new-{i}",
                    counterparty_country=rnd.choice(["CN", "US"]),
                )
            )
        elif r < 0.12:
            out.append(
                tx(
                    "4500",
                    when,
                    event_id=eid,
                    customer_id=customer_id,
                    channel="transfer",
                    counterparty_id="landlord",
                )
            )
        elif r < 0.16:
            out.append(
                tx(
                    Decimal(rnd.randint(8000, 30000)),
                    when,
                    event_id=eid,
                    customer_id=customer_id,
                    direction="credit",
                    channel="transfer",
                    counterparty_id="employer",
                )
            )
        else:
            amount = Decimal(str(round(rnd.lognormvariate(4.5, 1.0), 2))) + Decimal("0.01")
            out.append(
                tx(
                    amount,
                    when,
                    event_id=eid,
                    customer_id=customer_id,
                    currency=rnd.choice(["CNY"] * 8 + ["USD", "HKD"]),
                    channel=rnd.choice(["card", "card", "online", "transfer"]),
                    counterparty_id=f"shop-{rnd.randint(0, 400)}",
                )
            )
    return out


def dense_traffic(n: int, seed: int = 3, customer_id: str = CUSTOMER) -> list[Event]:
    """A worst case for state size: an event every 30 seconds (3.5 days per 10k), every kind, every channel, new payees."""
    rnd = random.Random(seed)
    out: list[Event] = []
    for i in range(n):
        when = T0 + timedelta(seconds=30 * i)
        if i % 7 == 0:
            out.append(
                contact(
                    rnd.choice(["phone", "email", "address", "device"]),
                    f"v{i}",
                    when,
                    event_id=f"dense-cc-{seed}-{i:06d}",
                    customer_id=customer_id,
                )
            )
            continue
        out.append(
            tx(
                Decimal(rnd.choice([30, 100, 45000, 600000])),
                when,
                event_id=f"dense-tx-{seed}-{i:06d}",
                customer_id=customer_id,
                channel=rnd.choice(["card", "cash", "atm", "transfer", "online"]),
                direction=rnd.choice(["debit", "credit"]),
                counterparty_id=f"cp-{i}",
                counterparty_country=rnd.choice(["CN", "US"]),
            )
        )
    return out
