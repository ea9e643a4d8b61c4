"""Mixes population, ordinary traffic and injected patterns into one time-ordered, labelled stream.

Deterministic for a seed: every random draw comes from ``random.Random`` instances seeded from the
configuration (one per customer for ordinary traffic, so injecting patterns does not reshuffle the rest),
and no wall clock is read. A small fraction of events may arrive a little late and a few are redelivered
with the same ``event_id``, as from an at-least-once upstream.

Patterns land on whoever is drawn: individuals and companies, narrow and wide spenders, low-activity
customers, and, for ``short_history_share`` of the patterns measured against the customer's own debits,
right after their 10th to 30th debit. Nothing of the ordinary traffic is removed or clipped around them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from scenarios.domain import FX_RATES_TO_CNY
from scenarios.events import DAY, HOUR, Ev, EventFactory, local_day_start, local_midnight, rfc3339
from scenarios.malformed import malformed_lines
from scenarios.normal import NormalGenerator
from scenarios.patterns import (
    DURATION_DAYS,
    INJECTORS,
    KINDS,
    MIN_HISTORY_DEBITS,
    NEEDS_HISTORY,
    PatternContext,
)
from scenarios.population import Customer, TierOf, make_population
from scenarios.regulatory import reportable

#: a history of at most this many debits is short; the label's ``history_debits`` tells the exact count
SHORT_HISTORY_DEBITS = 30


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    customers: int = 1000
    days: int = 60
    seed: int = 1
    start_date: str = "2025-03-03"
    corporate_share: float = 0.15
    #: share of customers given one injected pattern; kinds are assigned in turn
    pattern_share: float = 0.35
    kinds: tuple[str, ...] = KINDS
    #: share of patterns measured against the customer's debits that come after only 10-30 of them
    short_history_share: float = 0.4
    #: days of ordinary traffic before ``start_date`` for customers who were already there (the history a
    #: bank replays before it goes live); patterns fall in the period from ``start_date`` only
    history_days: int = 0
    #: share of events emitted up to ``max_lateness_seconds`` after later events
    late_fraction: float = 0.01
    max_lateness_seconds: int = 300
    #: share of events redelivered (same event_id) a little later
    duplicate_fraction: float = 0.003
    #: malformed lines mixed into ``Scenario.json_lines()`` (never into ``events``)
    malformed: int = 0


@dataclass(frozen=True, slots=True)
class Label:
    """One labelled pattern, in the label format ``riskwatch evaluate`` reads (README)."""

    pattern_id: str
    kind: str
    customer_id: str
    event_ids: list[str]
    expected_detector: str
    strength: float
    strength_unit: str
    suspicious: bool
    segment: str
    history_debits: int
    start: str
    spread: str
    activity: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Scenario:
    config: ScenarioConfig
    #: input events in emission order (late ones and redeliveries included), as contract JSON objects
    events: list[dict[str, Any]]
    labels: list[Label]
    customers: list[Customer] = field(repr=False, default_factory=list)
    #: (index into ``events`` before which it goes, line) for the optional malformed lines
    malformed: list[tuple[int, str]] = field(default_factory=list)
    #: legitimate lookalikes (not labelled): event id -> what it was, to read false alerts by
    lookalikes: dict[str, str] = field(default_factory=dict)

    def injected(self) -> list[Label]:
        """The labels of injected patterns (the rest label what law or limits require reporting)."""
        return [lb for lb in self.labels if lb.kind in INJECTORS]

    def json_lines(self) -> Iterator[str]:
        bad = sorted(self.malformed)
        j = 0
        for i, event in enumerate(self.events):
            while j < len(bad) and bad[j][0] <= i:
                yield bad[j][1]
                j += 1
            yield json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        for _, line in bad[j:]:
            yield line


def generate(
    config: ScenarioConfig, tier_of: TierOf | None = None, *, fx_rates: Mapping[str, Decimal] | None = None
) -> Scenario:
    """Build the scenario. ``tier_of(profile_fields) -> tier`` should be the engine's scorecard, so the
    bank's tier limits apply to the tier the engine will give; without it the intended tier is used.
    ``fx_rates`` (to CNY) should be the rates the engine converts with."""
    if tier_of is not None and not callable(tier_of):
        raise TypeError(
            "generate(config, tier_of, fx_rates=...): the generator takes no detection settings any more; "
            "pass the scorecard's tier_of_fields and the FX rates"
        )
    if config.customers < 1 or config.days < 1 or config.history_days < 0:
        raise ValueError("customers and days must be at least 1, history_days at least 0")
    unknown = set(config.kinds) - set(INJECTORS)
    if unknown:
        raise ValueError(f"unknown pattern kinds: {', '.join(sorted(unknown))}")
    fx = dict(fx_rates or FX_RATES_TO_CNY)
    seed = config.seed
    start = local_midnight(config.start_date)
    factory = EventFactory(f"e{seed}-", fx)
    customers = make_population(
        random.Random(f"{seed}/population"), config.customers, config.corporate_share, config.days, tier_of
    )
    normal = NormalGenerator(factory, start, config.days, config.history_days)
    per_customer: dict[str, list[Ev]] = {}
    lookalikes: dict[str, str] = {}
    for i, c in enumerate(customers):
        traffic = normal.generate(random.Random(f"{seed}/normal/{c.customer_id}"), c)
        profile = factory.profile(start - config.history_days * DAY + (i % 3000), c.customer_id, c.profile)
        per_customer[c.customer_id] = [profile, *sorted(traffic.events, key=lambda e: e.ts)]
        lookalikes.update(traffic.lookalikes)

    plan = _plan(config, customers, per_customer, start)
    labels: list[Label] = []
    for c in customers:
        if c.customer_id in plan:
            labels.append(
                _inject(config, factory, c, per_customer[c.customer_id], *plan[c.customer_id], len(labels))
            )
    labels += _regulatory_labels(config, customers, per_customer, labels, fx)

    events = _emit(config, per_customer)
    malformed: list[tuple[int, str]] = []
    if config.malformed:
        rng = random.Random(f"{seed}/malformed")
        template = next(e for e in events if e["type"] == "transaction")
        lines = malformed_lines(rng, template, config.malformed)
        malformed = sorted((rng.randrange(len(events) + 1), line) for line in lines)
    return Scenario(config, events, labels, customers, malformed, lookalikes)


def _debit_times(evs: list[Ev]) -> list[int]:
    return [e.ts for e in evs if e.cny and e.event["direction"] == "debit"]


def _daytime(rng: random.Random, t: int) -> int:
    """``t`` moved forward to a daytime moment (08:00-21:00 local), at most a day later."""
    day = local_day_start(t)
    hour = (t - day) // HOUR
    if 8 <= hour < 21:
        return t
    day = day + DAY if hour >= 21 else day
    return day + rng.randint(8, 20) * HOUR + rng.randrange(HOUR)


def _plan(
    config: ScenarioConfig, customers: list[Customer], per_customer: dict[str, list[Ev]], start: int
) -> dict[str, tuple[str, int]]:
    """customer_id -> (pattern kind, start time): one pattern for ``pattern_share`` of customers, kinds in
    turn; a customer who cannot hold the next kind (too few debits for a baseline) is skipped for it."""
    rng = random.Random(f"{config.seed}/patterns")
    wanted = round(config.customers * config.pattern_share)
    pool = list(customers)
    rng.shuffle(pool)
    end = start + config.days * DAY
    plan: dict[str, tuple[str, int]] = {}
    for c in pool:
        if len(plan) >= wanted:
            break
        kind = config.kinds[len(plan) % len(config.kinds)]
        latest = end - DURATION_DAYS.get(kind, 2) * DAY
        first = start + c.joined_day * DAY
        if kind in NEEDS_HISTORY:
            debits = [ts for ts in _debit_times(per_customer[c.customer_id]) if ts < latest - DAY]
            if len(debits) < MIN_HISTORY_DEBITS:
                continue
            # the k-th debit (a short history) that falls in the period, if the customer has one
            short = [
                k
                for k in range(MIN_HISTORY_DEBITS, min(SHORT_HISTORY_DEBITS, len(debits)) + 1)
                if debits[k - 1] >= start
            ]
            if short and (rng.random() < config.short_history_share or len(debits) <= SHORT_HISTORY_DEBITS):
                t = debits[rng.choice(short) - 1] + rng.randint(1, 12 * HOUR)
            else:
                since = max(start, debits[min(len(debits), SHORT_HISTORY_DEBITS + 1) - 1])
                if since >= latest:
                    continue
                t = since + rng.randrange(max(HOUR, latest - since))
        else:
            earliest = first + DAY
            if earliest >= latest:
                continue
            t = earliest + rng.randrange(latest - earliest)
        plan[c.customer_id] = (kind, _daytime(rng, t))
    return plan


def _inject(
    config: ScenarioConfig, factory: EventFactory, c: Customer, evs: list[Ev], kind: str, t: int, n: int
) -> Label:
    history = sorted((e for e in evs if e.ts < t), key=lambda e: e.ts)
    ctx = PatternContext(random.Random(f"{config.seed}/pattern/{c.customer_id}"), c, t, factory, history)
    pattern = INJECTORS[kind](ctx)
    evs.extend(pattern.events)
    ordered = sorted(pattern.events, key=lambda e: e.ts)
    return Label(
        pattern_id=f"P{config.seed}-{n + 1:05d}",
        kind=kind,
        customer_id=c.customer_id,
        event_ids=[e.event_id for e in ordered],
        expected_detector=pattern.expected_detector,
        strength=round(pattern.strength, 4),
        strength_unit=pattern.strength_unit,
        suspicious=pattern.suspicious,
        segment=c.segment,
        history_debits=len(ctx.debits()),
        start=ordered[0].event["timestamp"],
        spread=c.spread,
        activity=c.activity,
        detail=pattern.detail,
    )


def _regulatory_labels(
    config: ScenarioConfig,
    customers: list[Customer],
    per_customer: dict[str, list[Ev]],
    injected: list[Label],
    fx: dict[str, Decimal],
) -> list[Label]:
    covered: dict[tuple[str, str], set[str]] = {}
    for lb in injected:
        if lb.suspicious:
            covered.setdefault((lb.customer_id, lb.expected_detector), set()).update(lb.event_ids)
    labels: list[Label] = []
    for c in customers:
        evs = per_customer[c.customer_id]
        for found in reportable(c, evs, fx):
            if covered.get((c.customer_id, found.expected_detector), set()).intersection(found.event_ids):
                continue
            history = sum(1 for ts in _debit_times(evs) if ts < found.start)
            labels.append(
                Label(
                    pattern_id=f"R{config.seed}-{len(labels) + 1:05d}",
                    kind=found.kind,
                    customer_id=c.customer_id,
                    event_ids=found.event_ids,
                    expected_detector=found.expected_detector,
                    strength=round(found.strength, 4),
                    strength_unit=found.strength_unit,
                    suspicious=True,
                    segment=c.segment,
                    history_debits=history,
                    start=rfc3339(found.start),
                    spread=c.spread,
                    activity=c.activity,
                    detail=found.detail,
                )
            )
    return labels


def _emit(config: ScenarioConfig, per_customer: dict[str, list[Ev]]) -> list[dict[str, Any]]:
    rng = random.Random(f"{config.seed}/emit")
    keyed: list[tuple[int, int, dict[str, Any]]] = []
    seq = 0
    for evs in per_customer.values():
        for e in evs:
            seq += 1
            emit = e.ts
            if e.event["type"] != "customer_profile":
                if rng.random() < config.late_fraction:
                    emit += rng.randint(30, config.max_lateness_seconds)
                if rng.random() < config.duplicate_fraction:
                    keyed.append((e.ts + rng.randint(1, config.max_lateness_seconds), seq, dict(e.event)))
                    seq += 1
            keyed.append((emit, seq, e.event))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [event for _, _, event in keyed]
