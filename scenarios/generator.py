"""Mixes population, ordinary traffic and injected patterns into one time-ordered, labelled stream.

Deterministic for a seed: every random draw comes from ``random.Random`` instances seeded from the
configuration (one per customer for ordinary traffic, so injecting patterns does not reshuffle the rest),
and no wall clock is read. A small fraction of events may arrive a little late (within the engine's
allowed lateness) and a few are redelivered with the same ``event_id``, as from an at-least-once upstream.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from config.detection import DetectionSettings
from scenarios.events import DAY, HOUR, Ev, EventFactory, local_day_start, local_midnight
from scenarios.limits import Limits
from scenarios.malformed import malformed_lines
from scenarios.normal import NormalGenerator
from scenarios.patterns import INJECTORS, KINDS, PatternContext
from scenarios.population import Customer, TierOf, make_population

#: Patterns judged against the customer's debit history need this many debits beyond the detectors' minimum.
HISTORY_MARGIN = 5
#: Legitimate contact changes this close to a pattern would change what the pattern means; they are dropped.
CONTACT_QUIET_SECONDS = 3 * DAY


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
    #: share of events emitted up to ``max_lateness_seconds`` after later events
    late_fraction: float = 0.01
    max_lateness_seconds: int = 300
    #: share of events redelivered (same event_id) a little later
    duplicate_fraction: float = 0.003
    #: malformed lines mixed into ``Scenario.json_lines()`` (never into ``events``)
    malformed: int = 0


@dataclass(frozen=True, slots=True)
class Label:
    pattern_id: str
    kind: str
    customer_id: str
    event_ids: list[str]
    expected_detector: str
    detail: str
    start: str

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
    config: ScenarioConfig, settings: DetectionSettings | None = None, tier_of: TierOf | None = None
) -> Scenario:
    """Build the scenario. ``tier_of(profile_fields) -> tier`` should be the engine's scorecard so patterns
    aimed at tier-dependent thresholds use the customer's real tier; without it the intended tier is used."""
    if config.customers < 1 or config.days < 1:
        raise ValueError("customers and days must be at least 1")
    settings = settings or DetectionSettings()
    limits = Limits(settings)
    seed = config.seed
    start = local_midnight(config.start_date)
    factory = EventFactory(f"e{seed}-", dict(settings.fx_rates_to_base))
    customers = make_population(
        random.Random(f"{seed}/population"), config.customers, config.corporate_share, limits, tier_of
    )
    normal = NormalGenerator(factory, limits, start, config.days)

    per_customer: dict[str, list[Ev]] = {}
    changes: dict[str, list[tuple[int, str]]] = {}
    for i, c in enumerate(customers):
        traffic = normal.generate(random.Random(f"{seed}/normal/{c.customer_id}"), c)
        profile = factory.profile(start + (i % 3000), c.customer_id, c.profile)
        per_customer[c.customer_id] = [profile, *sorted(traffic.events, key=lambda e: e.ts)]
        changes[c.customer_id] = traffic.contact_changes

    needs = settings.amount_spike.min_history_events + HISTORY_MARGIN
    plan = _plan(
        config, customers, per_customer, changes, start, {"amount_spike": needs, "account_takeover": needs}
    )
    for c in customers:
        # Near-misses first, so each pattern is measured against everything the engine will have seen.
        rng = random.Random(f"{seed}/near-miss/{c.customer_id}")
        evs = per_customer[c.customer_id]
        until = plan[c.customer_id][1] if c.customer_id in plan else math.inf
        extra = normal.larger_purchases(rng, c, evs, until)
        extra += normal.after_contact_change(rng, c, evs + extra, changes[c.customer_id], until)
        evs.extend(extra)
    labels = _inject(config, limits, factory, customers, per_customer, plan)

    events = _emit(config, per_customer)
    malformed: list[tuple[int, str]] = []
    if config.malformed:
        rng = random.Random(f"{seed}/malformed")
        template = next(e for e in events if e["type"] == "transaction")
        lines = malformed_lines(rng, template, config.malformed)
        malformed = sorted((rng.randrange(len(events) + 1), line) for line in lines)
    return Scenario(config, events, labels, customers, malformed)


def _plan(
    config: ScenarioConfig,
    customers: list[Customer],
    per_customer: dict[str, list[Ev]],
    changes: dict[str, list[tuple[int, str]]],
    start: int,
    needs_history: dict[str, int],
) -> dict[str, tuple[str, int]]:
    """customer_id -> (pattern kind, start time): one pattern for ``pattern_share`` of customers, kinds in turn."""
    rng = random.Random(f"{config.seed}/patterns")
    wanted = round(config.customers * config.pattern_share)
    pool = list(customers)
    rng.shuffle(pool)
    earliest = start + min(14, config.days // 3) * DAY
    latest = max(start + config.days * DAY - 3 * DAY, earliest + DAY)
    plan: dict[str, tuple[str, int]] = {}
    for c in pool:
        if len(plan) >= wanted:
            break
        kind = config.kinds[len(plan) % len(config.kinds)]
        t = earliest + rng.randrange(latest - earliest)
        t = local_day_start(t) + rng.randint(8, 20) * HOUR + rng.randrange(HOUR)  # daytime, local
        evs = per_customer[c.customer_id]
        debits = sum(1 for e in evs if e.ts < t and e.cny and e.event["direction"] == "debit")
        if debits < needs_history.get(kind, 0):
            continue
        # Keep the pattern's meaning: no legitimate contact change of this customer close to it.
        evs[:] = [
            e for e in evs if e.event["type"] != "contact_change" or abs(e.ts - t) >= CONTACT_QUIET_SECONDS
        ]
        changes[c.customer_id] = [
            (ts, f) for ts, f in changes[c.customer_id] if abs(ts - t) >= CONTACT_QUIET_SECONDS
        ]
        plan[c.customer_id] = (kind, t)
    return plan


def _inject(
    config: ScenarioConfig,
    limits: Limits,
    factory: EventFactory,
    customers: list[Customer],
    per_customer: dict[str, list[Ev]],
    plan: dict[str, tuple[str, int]],
) -> list[Label]:
    labels: list[Label] = []
    for c in customers:
        if c.customer_id not in plan:
            continue
        kind, t = plan[c.customer_id]
        evs = per_customer[c.customer_id]
        history = sorted((e for e in evs if e.ts < t), key=lambda e: e.ts)
        ctx = PatternContext(
            random.Random(f"{config.seed}/pattern/{c.customer_id}"), c, t, factory, limits, history
        )
        pattern = INJECTORS[kind](ctx)
        evs.extend(pattern.events)
        labels.append(
            Label(
                pattern_id=f"P{config.seed}-{len(labels) + 1:05d}",
                kind=kind,
                customer_id=c.customer_id,
                event_ids=[e.event_id for e in sorted(pattern.events, key=lambda e: e.ts)],
                expected_detector=kind,
                detail=pattern.detail,
                start=pattern.events[0].event["timestamp"],
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
