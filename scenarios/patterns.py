"""Injected fraud/AML patterns, each defined in domain terms relative to the customer's own behaviour.

Every injector draws its strength from a range that includes weak cases and says, in its docstring, from
which strength on a risk officer would call the pattern suspicious (the label's ``suspicious``). Nothing
here knows a detector's threshold: the customer's median and largest debit, their usual rate, the time
since a contact change, the law's reporting lines and the bank's tier limits are what strength is
measured against.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from scenarios.domain import CASH_REPORTING_LINE_CNY, reporting_line, tier_limits
from scenarios.events import DAY, HOUR, Ev, EventFactory, local_day_start
from scenarios.normal import contact_value
from scenarios.population import Customer

#: waking hours over which a customer's daily transactions are spread, for an hourly rate
WAKING_HOURS_PER_DAY = 16
#: the customer's usual rate is measured over at most this many days before the pattern
RATE_LOOKBACK_DAYS = 28


@dataclass(slots=True)
class PatternContext:
    rng: random.Random
    customer: Customer
    t: int  # when the pattern starts (epoch seconds)
    factory: EventFactory
    history: list[Ev]  # the customer's events before ``t``, in time order

    def debits(self) -> list[float]:
        return [e.cny for e in self.history if e.cny and e.event["direction"] == "debit"]

    def median_debit(self) -> float:
        return _quantile(self.debits(), 0.5)

    def largest_debit(self) -> float:
        return max(self.debits(), default=0.0)

    def daily_rate(self) -> float:
        """Transactions per day over the last four weeks (or since the customer's first event)."""
        since = self.t - RATE_LOOKBACK_DAYS * DAY
        txs = [e for e in self.history if e.cny and e.ts >= since]
        first = self.history[0].ts if self.history else self.t
        days = max(1.0, min(RATE_LOOKBACK_DAYS, (self.t - first) / DAY))
        return max(len(txs), 1) / days

    def log_uniform(self, lo: float, hi: float) -> float:
        return math.exp(self.rng.uniform(math.log(lo), math.log(hi)))

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

    def contact(self, ts: int, field_name: str, channel: str | None = None) -> Ev:
        channel = channel or self.rng.choice(("app", "web", "call_center"))
        value = contact_value(self.rng, field_name)
        return self.factory.contact(ts, self.customer.customer_id, field_name, value, channel)

    def new_payee(self) -> str:
        return f"X{self.rng.getrandbits(40):010x}"


@dataclass(slots=True)
class Pattern:
    events: list[Ev]
    expected_detector: str
    strength: float
    strength_unit: str
    suspicious: bool
    detail: str


def amount_spike(p: PatternContext) -> Pattern:
    """A compromised account cashed out in one go: one transfer or online payment to a never-paid payee of
    ``strength`` times the customer's median debit (2x to 100x). Suspicious from 10x the median when it is
    also above the largest debit the customer ever made; a debit of 2-5x the median, or one the
    customer's own history already has the like of, is what people do."""
    s = p.log_uniform(2.0, 100.0)
    amount = round(s * p.median_debit(), 2)
    channel = p.rng.choice(("transfer", "transfer", "online"))
    ev = p.tx(p.t, amount, "debit", channel, p.new_payee(), "CN")
    suspicious = s >= 10 and amount > p.largest_debit()
    return Pattern(
        [ev],
        "amount_spike",
        s,
        "x_median",
        suspicious,
        f"{channel} of {amount:.2f} CNY = {s:.1f}x the median",
    )


def account_takeover(p: PatternContext) -> Pattern:
    """A change of phone, e-mail or device, then a transfer to a never-paid payee (sometimes a second
    tranche). Two sweeps: the amount (1.5x to 60x the median debit, 20 minutes to 6 hours after the
    change; unit ``x_median``) and the delay (15 minutes to a week, amount well above anything the
    customer paid before; unit ``hours_since_change``). Suspicious when the transfer comes within 24 hours
    of the change and is at least 5x the median and above the customer's largest earlier debit; after
    several days, or at an amount the customer pays anyway, it is not."""
    rng = p.rng
    fields = rng.sample(("phone", "email", "device"), 1 if rng.random() < 0.7 else 2)
    events = []
    t = p.t
    for f in fields:
        events.append(p.contact(t, f, rng.choice(("app", "web"))))
        t += rng.randint(2, 30) * 60
    median, largest = p.median_debit(), p.largest_debit()
    if rng.random() < 0.5:
        s = p.log_uniform(1.5, 60.0)
        hours = rng.uniform(0.33, 6.0)
        amount = s * median
        strength, unit = s, "x_median"
    else:
        hours = p.log_uniform(0.25, 168.0)
        amount = max(p.log_uniform(8.0, 40.0) * median, largest * rng.uniform(1.5, 3.0))
        strength, unit = hours, "hours_since_change"
    t_pay = p.t + round(hours * HOUR)
    payee = p.new_payee()
    events.append(p.tx(t_pay, round(amount, 2), "debit", rng.choice(("transfer", "online")), payee, "CN"))
    if rng.random() < 0.3:
        second = round(amount * rng.uniform(0.5, 1.0), 2)
        events.append(p.tx(t_pay + rng.randint(5, 60) * 60, second, "debit", "transfer", payee, "CN"))
    suspicious = hours <= 24 and amount >= 5 * median and amount > largest
    detail = (
        f"change of {', '.join(fields)}, {hours:.1f}h later {amount:.2f} CNY ({amount / median:.1f}x median)"
    )
    return Pattern(events, "account_takeover", strength, unit, suspicious, detail)


def velocity_spike(p: PatternContext) -> Pattern:
    """A burst of transactions: card testing (tiny amounts at new merchants) or a gift-card cash-out within
    an hour (individuals), a hijacked online-banking session paying out to many accounts (corporates), or,
    for a customer who pays a few times a week, a stolen card used all day. Strength is the burst against
    the customer's own rate: ``x_hourly_rate`` (3 to 45 transactions within 10-60 minutes, against their
    transactions per waking hour) or ``x_daily_rate`` (3 to 25 within 3-10 hours, against their
    transactions per day). Suspicious from 8 transactions that are at least 20x the hourly (10x the daily)
    rate; a handful of purchases in an evening is a shopping spree."""
    rng, c = p.rng, p.customer
    daily = p.daily_rate()
    day_scale = rng.random() < (0.7 if c.activity == "low" else 0.15)
    if day_scale:
        n = round(p.log_uniform(3, 25))
        span = rng.randint(3, 10) * HOUR
        strength, unit = n / daily, "x_daily_rate"
        suspicious = n >= 8 and strength >= 10
    else:
        n = round(p.log_uniform(3, 45))
        span = rng.randint(10, 60) * 60
        strength, unit = n / (daily / WAKING_HOURS_PER_DAY), "x_hourly_rate"
        suspicious = n >= 8 and strength >= 20
    median = p.median_debit()
    what = "online-banking payout" if c.corporate else rng.choice(("card testing", "gift-card cash-out"))
    events = []
    for ts in sorted(p.t + rng.randrange(span) for _ in range(n)):
        if what == "card testing":
            events.append(
                p.tx(ts, round(rng.uniform(1, 30), 2), "debit", "card", p.new_payee(), "CN", "5999")
            )
        elif what == "gift-card cash-out":
            amount = round(rng.uniform(100, 600), -1)
            events.append(p.tx(ts, amount, "debit", "online", p.new_payee(), "CN", "5815"))
        else:
            events.append(
                p.tx(ts, round(median * rng.uniform(0.3, 1.5), 2), "debit", "online", p.new_payee())
            )
    detail = f"{what}: {n} transactions within {span / 3600:.1f}h, usual rate {daily:.2f}/day"
    return Pattern(events, "velocity_spike", strength, unit, suspicious, detail)


def contact_change_burst(p: PatternContext) -> Pattern:
    """Someone taking over the customer's contact details: 2 to 5 changes (phone, e-mail, address, device;
    a fifth changes the phone again) spread over half an hour to five days. Strength is the number of
    changes. Suspicious from 3 changes within 48 hours; two changes, or changes days apart, are what a
    customer with a new phone or a new flat does."""
    rng = p.rng
    n = rng.choice((2, 3, 4, 5))
    span_h = p.log_uniform(0.5, 120.0)
    fields = rng.sample(("phone", "email", "address", "device"), min(n, 4)) + ["phone"] * (n - 4)
    offsets = [
        0,
        round(span_h * HOUR),
        *sorted(rng.randrange(max(1, round(span_h * HOUR))) for _ in range(n - 2)),
    ]
    events = [p.contact(p.t + off, f) for off, f in zip(sorted(offsets), fields, strict=True)]
    suspicious = n >= 3 and span_h <= 48
    detail = f"{n} changes ({', '.join(fields)}) within {span_h:.1f}h"
    return Pattern(events, "contact_change_burst", float(n), "changes", suspicious, detail)


def structuring(p: PatternContext) -> Pattern:
    """Cash deposits each just under the 50,000 CNY reporting line (85% to 99.6% of it), 2 to 6 of them
    over half a day to a week. Strength is the number of deposits. Suspicious from 3 deposits within five
    days; a single or a pair of large deposits is something a business or a saver does."""
    rng = p.rng
    n = rng.randint(2, 6)
    span = rng.uniform(12, 168) * HOUR
    times = sorted(p.t + (0 if i == 0 else rng.randrange(round(span))) for i in range(n))
    times = [local_day_start(ts) + rng.randint(9, 16) * HOUR + rng.randrange(HOUR) for ts in times]
    line = CASH_REPORTING_LINE_CNY
    events = [
        p.tx(ts, round(line * rng.uniform(0.85, 0.996), -1), "credit", "cash", None, None)
        for ts in sorted(times)
    ]
    actual_h = (max(times) - min(times)) / HOUR
    suspicious = n >= 3 and actual_h <= 120
    total = sum(e.cny for e in events)
    detail = f"{n} cash deposits just under {line:.0f} within {actual_h:.0f}h, together {total:.0f} CNY"
    return Pattern(events, "structuring", float(n), "deposits", suspicious, detail)


def large_value(p: PatternContext) -> Pattern:
    """A transaction or a same-day total at 0.6 to 2.5 times a PBoC 2016 reporting line (cash, a company's
    transfers, an individual's domestic or cross-border transfers; single or split over the day).
    Strength is the multiple of the line; from 1.0 it must be reported (the label's ``suspicious``)."""
    rng, c = p.rng, p.customer
    variant = rng.choice(("cash", "transfer", "cross_border", "split_transfer", "split_cash"))
    if c.corporate and variant == "cross_border":
        variant = "transfer"
    direction = rng.choice(("credit", "debit"))
    s = 1.0 if rng.random() < 0.15 else rng.uniform(0.6, 2.5)
    t = local_day_start(p.t) + 9 * HOUR + rng.randrange(2 * HOUR)
    cash = variant in ("cash", "split_cash")
    cross = variant == "cross_border"
    _, line = reporting_line("cash" if cash else "transfer", c.segment, cross)
    total = round(s * line, 2)
    parts = rng.randint(2, 3) if variant.startswith("split") else 1
    amounts = [round(total / parts, 2)] * (parts - 1)
    amounts.append(round(total - sum(amounts), 2))
    events = []
    payee = p.new_payee()
    currency, country = rng.choice((("USD", "US"), ("HKD", "HK"))) if cross else ("CNY", "CN")
    for i, amount in enumerate(amounts):
        ts = t + i * rng.randint(1, 3) * HOUR
        if cash:
            events.append(p.tx(ts, amount, direction, "cash", None, None))
        else:
            events.append(p.tx(ts, amount, direction, "transfer", payee, country, None, currency))
    detail = f"{variant} {direction}: {parts} transaction(s), {total:.2f} CNY = {s:.2f}x the line {line:.0f}"
    return Pattern(events, "large_value", s, "x_reporting_line", s >= 1.0, detail)


def tier_limit(p: PatternContext) -> Pattern:
    """Debits against the bank's limits for the customer's tier: one debit of 0.7 to 2 times the
    per-transaction limit, or a day's debits (each under the per-transaction limit) of 0.7 to 1.8 times
    the daily limit. Strength is the multiple of the limit; over 1.0 the limit is breached."""
    rng, c = p.rng, p.customer
    per_tx, daily = tier_limits(c.tier, c.segment)
    t = local_day_start(p.t) + 9 * HOUR + rng.randrange(3 * HOUR)
    payee = p.new_payee()
    if rng.random() < 0.5:
        s = rng.uniform(0.7, 2.0)
        events = [p.tx(t, round(s * per_tx, 2), "debit", "transfer", payee, "CN")]
        detail = f"one debit of {s:.2f}x the {c.tier}-tier per-transaction limit {per_tx:.0f}"
    else:
        s = rng.uniform(0.7, 1.8)
        total = s * daily
        parts = math.ceil(total / (per_tx * rng.uniform(0.6, 0.9)))
        events = [
            p.tx(t + i * rng.randint(20, 60) * 60, round(total / parts, 2), "debit", "transfer", payee, "CN")
            for i in range(parts)
        ]
        detail = f"{parts} debits totalling {s:.2f}x the {c.tier}-tier daily limit {daily:.0f}"
    return Pattern(events, "tier_limit", s, "x_limit", s > 1.0, detail)


def sustained_shift(p: PatternContext) -> Pattern:
    """A compromised card drained in steps: 3 to 12 debits at new merchants over 2 to 14 days, each about
    ``strength`` times the customer's median debit (1.2x to 8x), while the customer's own spending goes
    on. Suspicious from 4 such debits at 2x the median or more that are each above the customer's usual
    upper range (their 90th-percentile debit); a few purchases a bit dearer than usual are ordinary."""
    rng = p.rng
    n = rng.randint(3, 12)
    days = rng.uniform(2, 14)
    s = p.log_uniform(1.2, 8.0)
    median = p.median_debit()
    times = sorted(p.t + (0 if i == 0 else rng.randrange(round(days * DAY))) for i in range(n))
    times = [local_day_start(ts) + rng.randint(9, 21) * HOUR + rng.randrange(HOUR) for ts in times]
    amounts = [round(s * median * rng.uniform(0.85, 1.15), 2) for _ in range(n)]
    events = [
        p.tx(
            ts,
            a,
            "debit",
            rng.choice(("card", "online")),
            p.new_payee(),
            "CN",
            rng.choice(("5999", "5311", "5732")),
        )
        for ts, a in zip(sorted(times), amounts, strict=True)
    ]
    usual_top = _quantile(p.debits(), 0.9)
    suspicious = n >= 4 and s >= 2 and min(amounts) > usual_top
    detail = f"{n} debits of ~{s:.1f}x the median over {days:.1f} days (90th percentile {usual_top:.2f})"
    return Pattern(events, "sustained_shift", s, "x_median", suspicious, detail)


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    xs = sorted(values)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


INJECTORS: dict[str, Callable[[PatternContext], Pattern]] = {
    "amount_spike": amount_spike,
    "velocity_spike": velocity_spike,
    "contact_change_burst": contact_change_burst,
    "account_takeover": account_takeover,
    "structuring": structuring,
    "large_value": large_value,
    "tier_limit": tier_limit,
    "sustained_shift": sustained_shift,
}
KINDS: tuple[str, ...] = tuple(INJECTORS)
#: patterns measured against the customer's own debits need this many of them first (a short history)
NEEDS_HISTORY = frozenset({"amount_spike", "account_takeover", "velocity_spike", "sustained_shift"})
MIN_HISTORY_DEBITS = 10
#: how long each pattern may run, so it ends inside the period
DURATION_DAYS = {"account_takeover": 8, "contact_change_burst": 6, "structuring": 8, "sustained_shift": 15}
