"""Injected fraud/AML patterns, one kind each, placed clearly past the bar of the detector meant to catch
them and clearly anomalous against the customer's own history, as real fraud is."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from scenarios.events import DAY, HOUR, Ev, EventFactory, local_day_start
from scenarios.limits import Limits
from scenarios.normal import contact_value
from scenarios.population import Customer
from schemas.outputs import DETECTOR_NAMES

KINDS = DETECTOR_NAMES  # one injected pattern kind per detector


@dataclass(slots=True)
class PatternContext:
    rng: random.Random
    customer: Customer
    t: int  # when the pattern starts (epoch seconds)
    factory: EventFactory
    limits: Limits
    history: list[Ev]  # the customer's events before ``t``, in time order

    def debits(self) -> list[float]:
        return [e.cny for e in self.history if e.cny and e.event["direction"] == "debit"]

    def daily_tx_rate(self, days: int = 28) -> float:
        since = self.t - days * DAY
        recent = [e for e in self.history if e.cny and e.ts >= since]
        if not self.history:
            return 0.0
        span = max(1.0, min(days, (self.t - self.history[0].ts) / DAY))
        return len(recent) / span

    def tx(
        self,
        ts: int,
        amount: float,
        direction: str,
        channel: str,
        counterparty: str | None = None,
        country: str | None = "CN",
        mcc: str | None = None,
        currency: str = "CNY",
    ) -> Ev:
        c = self.customer
        return self.factory.tx(
            ts, c.customer_id, c.account_id, amount, direction, channel, counterparty, country, mcc, currency
        )

    def new_payee(self) -> str:
        return f"X{self.rng.getrandbits(40):010x}"


@dataclass(slots=True)
class Pattern:
    kind: str
    events: list[Ev]
    detail: str


def amount_spike(p: PatternContext) -> Pattern:
    rng, c = p.rng, p.customer
    bar = p.limits.spike_bar(c.tier, p.debits())
    amount = round(bar * rng.uniform(2.0, 5.0), 2)
    channel = rng.choice(("transfer", "transfer", "online", "card"))
    ev = p.tx(p.t, amount, "debit", channel, p.new_payee(), "CN")
    return Pattern(
        "amount_spike", [ev], f"one {channel} debit of {amount:.2f} CNY, {amount / bar:.1f}x the spike bar"
    )


def velocity_spike(p: PatternContext) -> Pattern:
    """Dozens of transactions within an hour: card testing or a stolen card cashed out in gift cards
    (individuals), or a hijacked online-banking session paying out to many accounts (corporates)."""
    rng, c = p.rng, p.customer
    bar = p.limits.velocity_bar(c.tier, p.daily_tx_rate())
    n = max(rng.randint(20, 40), math.ceil(bar * 1.5))
    span = rng.randint(15, 50) * 60
    debits = p.debits()
    median = sorted(debits)[len(debits) // 2] if debits else 1000.0
    what = "online-banking payout" if c.corporate else rng.choice(("card testing", "gift-card cash-out"))
    events = []
    for ts in sorted(p.t + rng.randrange(span) for _ in range(n)):
        if what == "card testing":
            events.append(
                p.tx(ts, round(rng.uniform(1, 30), 2), "debit", "card", p.new_payee(), "CN", "5999")
            )
        elif what == "gift-card cash-out":
            events.append(
                p.tx(ts, round(rng.uniform(100, 600), -1), "debit", "online", p.new_payee(), "CN", "5815")
            )
        else:
            amount = round(median * rng.uniform(0.3, 1.5), 2)
            events.append(p.tx(ts, amount, "debit", "online", p.new_payee(), "CN"))
    return Pattern("velocity_spike", events, f"{what}: {n} transactions within {span // 60} minutes")


def contact_change_burst(p: PatternContext) -> Pattern:
    rng = p.rng
    fields = rng.sample(("phone", "email", "address", "device"), rng.randint(3, 4))
    t = p.t
    events = []
    for f in fields:
        events.append(
            p.factory.contact(
                t, p.customer.customer_id, f, contact_value(rng, f), rng.choice(("app", "web", "call_center"))
            )
        )
        t += rng.randint(5, 90) * 60
    return Pattern(
        "contact_change_burst", events, f"{len(fields)} contact changes ({', '.join(fields)}) within hours"
    )


def account_takeover(p: PatternContext) -> Pattern:
    rng, c = p.rng, p.customer
    fields = rng.sample(("phone", "email", "device"), 1 if rng.random() < 0.7 else 2)
    t = p.t
    events = []
    for f in fields:
        events.append(
            p.factory.contact(t, c.customer_id, f, contact_value(rng, f), rng.choice(("app", "web")))
        )
        t += rng.randint(2, 30) * 60
    debits = p.debits()
    bar = max(p.limits.ato_bar(c.tier, debits), p.limits.spike_bar(c.tier, debits))
    t += rng.randint(20, 360) * 60
    amount = round(bar * rng.uniform(1.5, 4.0), 2)
    payee = p.new_payee()
    events.append(p.tx(t, amount, "debit", rng.choice(("transfer", "online")), payee, "CN"))
    if rng.random() < 0.3:  # a second tranche to the same mule
        events.append(
            p.tx(
                t + rng.randint(5, 60) * 60,
                round(amount * rng.uniform(0.5, 1.0), 2),
                "debit",
                "transfer",
                payee,
                "CN",
            )
        )
    return Pattern(
        "account_takeover",
        events,
        f"change of {', '.join(fields)} then {amount:.2f} CNY to a new payee {(t - p.t) / 3600:.1f}h later",
    )


def structuring(p: PatternContext) -> Pattern:
    rng, lim = p.rng, p.limits
    n = max(rng.randint(3, 5), lim.structuring_min_count(p.customer.tier))
    span = rng.randint(36, 60) * HOUR
    times = sorted(p.t + rng.randrange(span) for _ in range(n))
    lo, hi = lim.structuring_floor * 1.01, lim.cash_threshold * 0.998
    events = [
        p.tx(ts, round(rng.uniform(lo, hi), -1), "credit", rng.choice(("cash", "cash", "atm")), None, None)
        for ts in times
    ]
    total = sum(e.cny for e in events)
    return Pattern(
        "structuring",
        events,
        f"{n} cash deposits just under the threshold within {span // 3600}h, total {total:.0f} CNY",
    )


def large_value(p: PatternContext) -> Pattern:
    rng, c, lim = p.rng, p.customer, p.limits
    variant = rng.choice(("cash", "transfer", "cross_border", "split_transfer", "split_cash"))
    if c.corporate and variant == "cross_border":
        variant = "transfer"
    direction = rng.choice(("credit", "debit"))
    day_start = local_day_start(p.t)
    t = day_start + 9 * HOUR + rng.randrange(2 * HOUR)
    if variant == "cash":
        amount = round(lim.cash_threshold * rng.uniform(1.0, 3.0), -2)
        events = [p.tx(t, amount, direction, "cash", None, None)]
    elif variant == "split_cash":
        thr = lim.cash_threshold
        parts = rng.randint(2, 3)
        each = [round(thr * rng.uniform(1.05, 1.4) / parts, -2) for _ in range(parts)]
        events = [
            p.tx(t + i * rng.randint(1, 3) * HOUR, a, direction, "cash", None, None)
            for i, a in enumerate(each)
        ]
    elif variant in ("transfer", "cross_border"):
        cross = variant == "cross_border"
        thr = lim.transfer_threshold(c.segment, cross)
        amount = round(thr * rng.uniform(1.0, 2.5), 2)
        if rng.random() < 0.2:
            amount = thr  # exactly at the threshold is reportable too
        currency, country = rng.choice((("USD", "US"), ("HKD", "HK"))) if cross else ("CNY", "CN")
        events = [p.tx(t, amount, direction, "transfer", p.new_payee(), country, None, currency)]
    else:
        thr = lim.transfer_threshold(c.segment, False)
        parts = rng.randint(2, 4)
        each = [round(thr * rng.uniform(1.05, 1.3) / parts, 2) for _ in range(parts)]
        payee = p.new_payee()
        events = [
            p.tx(t + i * rng.randint(1, 2) * HOUR, a, direction, "transfer", payee, "CN")
            for i, a in enumerate(each)
        ]
    total = sum(e.cny for e in events)
    return Pattern(
        "large_value", events, f"{variant} {direction}: {len(events)} transaction(s), {total:.2f} CNY"
    )


def tier_limit(p: PatternContext) -> Pattern:
    rng, c, lim = p.rng, p.customer, p.limits
    per_tx, daily = lim.per_tx_limit(c.tier, c.segment), lim.daily_limit(c.tier, c.segment)
    day_start = local_day_start(p.t)
    t = day_start + 9 * HOUR + rng.randrange(3 * HOUR)
    payee = p.new_payee()
    if rng.random() < 0.5:
        amount = round(per_tx * rng.uniform(1.1, 1.8), 2)
        events = [p.tx(t, amount, "debit", "transfer", payee, "CN")]
        detail = f"one debit of {amount:.2f} over the {c.tier}-tier per-transaction limit {per_tx:.0f}"
    else:
        total = daily * rng.uniform(1.15, 1.5)
        parts = math.ceil(total / (per_tx * 0.85))
        events = [
            p.tx(t + i * rng.randint(20, 90) * 60, round(total / parts, 2), "debit", "transfer", payee, "CN")
            for i in range(parts)
        ]
        detail = f"{parts} debits totalling {total:.2f} over the {c.tier}-tier daily limit {daily:.0f}"
    return Pattern("tier_limit", events, detail)


INJECTORS: dict[str, Callable[[PatternContext], Pattern]] = {
    "amount_spike": amount_spike,
    "velocity_spike": velocity_spike,
    "contact_change_burst": contact_change_burst,
    "account_takeover": account_takeover,
    "structuring": structuring,
    "large_value": large_value,
    "tier_limit": tier_limit,
}
