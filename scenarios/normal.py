"""Ordinary behaviour with realistic noise, including near-misses that a sloppy detector would flag.

Individuals: card and online purchases from a mixture of merchant categories (lognormal amounts), monthly
salary credits, the same rent/loan/utility debits to the same payees every month, ATM withdrawals, shopping
sprees of a few purchases within an hour or two, now and then one legitimate contact change (sometimes
submitted twice), and a few larger purchases that stay below what the detectors would flag.
Corporates: incoming customer payments, payments to a fixed set of suppliers, company card spend, monthly
payroll, tax and lease, daily cash takings for cash-heavy trades; quieter at weekends.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from scenarios.events import CST, DAY, HOUR, Ev, EventFactory, local_day_start
from scenarios.limits import Limits
from scenarios.population import Customer

# (merchant category code, median CNY, log sigma, weight)
CATEGORIES = (
    ("5814", 28.0, 0.45, 0.24),  # fast food, coffee
    ("5411", 110.0, 0.65, 0.24),  # groceries
    ("5812", 140.0, 0.6, 0.18),  # restaurants
    ("4121", 32.0, 0.5, 0.12),  # taxis, ride hailing
    ("5541", 280.0, 0.3, 0.06),  # fuel
    ("5651", 380.0, 0.7, 0.08),  # clothing
    ("5912", 75.0, 0.5, 0.05),  # pharmacy
    ("5732", 800.0, 0.8, 0.03),  # electronics
)
_CAT_CUM = []
_acc = 0.0
for _cat in CATEGORIES:
    _acc += _cat[3]
    _CAT_CUM.append(_acc)

# Hour-of-day weights for individuals' purchases (index = hour, local time).
HOUR_WEIGHTS = (
    0,
    0,
    0,
    0,
    0,
    0,
    0.2,
    0.6,
    1.2,
    1.0,
    1.0,
    1.2,
    1.8,
    1.3,
    1.0,
    1.0,
    1.0,
    1.4,
    1.9,
    1.8,
    1.5,
    1.1,
    0.6,
    0.3,
)
_HOUR_CUM = []
_acc = 0.0
for _w in HOUR_WEIGHTS:
    _acc += _w
    _HOUR_CUM.append(_acc)

CONTACT_FIELDS = (("address", 0.35), ("email", 0.25), ("phone", 0.2), ("device", 0.2))
# A company's online-banking phone, e-mail and token device change rarely; its address more often.
CORPORATE_CONTACT_FIELDS = (("address", 0.6), ("email", 0.2), ("phone", 0.1), ("device", 0.1))
FOREIGN = (("USD", "US"), ("HKD", "HK"))


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _hour(rng: random.Random) -> int:
    r = rng.random() * _HOUR_CUM[-1]
    for h, c in enumerate(_HOUR_CUM):
        if r < c:
            return h
    return 23


def contact_value(rng: random.Random, field: str) -> str:
    if field == "phone":
        return f"+86 1{rng.randint(30, 99)}{rng.randrange(10**8):08d}"
    if field == "email":
        return f"user{rng.randrange(10**7)}@{rng.choice(('163.com', 'qq.com', 'example.cn'))}"
    if field == "device":
        return f"device-{rng.getrandbits(64):016x}"
    return f"{rng.randint(1, 999)} {rng.choice(('Nanjing', 'Huaihai', 'Zhongshan', 'Renmin'))} Rd, Shanghai"


@dataclass(slots=True)
class NormalTraffic:
    events: list[Ev] = field(default_factory=list)
    #: times of legitimate contact changes (first submission) and their field
    contact_changes: list[tuple[int, str]] = field(default_factory=list)


class NormalGenerator:
    def __init__(self, factory: EventFactory, limits: Limits, start: int, days: int) -> None:
        self.f = factory
        self.limits = limits
        self.start = start
        self.days = days

    # --------------------------------------------------------------------------------- individuals
    def purchase(self, rng: random.Random, c: Customer, ts: int, scale: float = 1.0) -> Ev:
        r = rng.random() * _CAT_CUM[-1]
        i = next(k for k, cum in enumerate(_CAT_CUM) if r < cum)
        mcc, median, sigma, _ = CATEGORIES[i]
        # Lognormal within the category's price range: a phone costs a few thousand, never a hundred thousand.
        amount = round(median * c.spend_scale * scale * math.exp(sigma * min(rng.gauss(0, 1), 2.0)), 2)
        merchant = rng.choice(c.merchants) if rng.random() < 0.7 else f"M{rng.randrange(1, 60000):05d}"
        channel = "online" if rng.random() < c.online_share else "card"
        if c.foreign_share and rng.random() < c.foreign_share:
            currency, country = rng.choice(FOREIGN)
            return self.f.tx(
                ts, c.customer_id, c.account_id, amount, "debit", channel, merchant, country, mcc, currency
            )
        return self.f.tx(ts, c.customer_id, c.account_id, amount, "debit", channel, merchant, "CN", mcc)

    def generate(self, rng: random.Random, c: Customer) -> NormalTraffic:
        out = NormalTraffic()
        ev = out.events
        f, cid, acct = self.f, c.customer_id, c.account_id
        start_weekday = (self.start // DAY + 4) % 7  # 1970-01-01 was a Thursday (0 = Monday)
        near_threshold_left = 1 if c.cash_deposits_per_week and rng.random() < 0.5 else 0
        for d in range(self.days):
            day0 = self.start + d * DAY
            weekday = (start_weekday + d) % 7
            weekend = weekday >= 5
            dom = _day_of_month(day0)
            if c.corporate:
                self._corporate_day(rng, c, day0, weekend, ev)
            else:
                for _ in range(poisson(rng, c.daily_rate * (1.2 if weekend else 1.0))):
                    ev.append(self.purchase(rng, c, day0 + _hour(rng) * HOUR + rng.randrange(HOUR)))
                if rng.random() < 0.015:  # a shopping spree: a few purchases within an hour or two
                    t = day0 + rng.randint(10, 19) * HOUR + rng.randrange(HOUR)
                    span = rng.randint(30, 120) * 60
                    for _ in range(rng.randint(3, 7)):
                        ev.append(self.purchase(rng, c, t + rng.randrange(span)))
                if c.wallet_topups_per_week and rng.random() < c.wallet_topups_per_week / 7:
                    # Top-ups of the customer's own payment wallet and transfers to friends and family.
                    payee = rng.choice(c.p2p_payees)
                    amount = round(min(20000.0, 400 * c.spend_scale * rng.lognormvariate(0, 0.8)), -1)
                    ev.append(
                        f.tx(
                            day0 + _hour(rng) * HOUR + rng.randrange(HOUR),
                            cid,
                            acct,
                            amount,
                            "debit",
                            rng.choice(("transfer", "online")),
                            payee,
                            "CN",
                        )
                    )
                if c.atm_per_week and rng.random() < c.atm_per_week / 7:
                    amount = min(
                        3000.0, 100.0 * max(2, round(rng.lognormvariate(math.log(8 * c.spend_scale), 0.5)))
                    )
                    ev.append(
                        f.tx(
                            day0 + _hour(rng) * HOUR + rng.randrange(HOUR),
                            cid,
                            acct,
                            amount,
                            "debit",
                            "atm",
                            None,
                            None,
                        )
                    )
                if c.salary is not None and dom == c.salary.day:
                    ev.append(
                        f.tx(
                            day0 + 9 * HOUR + rng.randrange(2 * HOUR),
                            cid,
                            acct,
                            round(c.salary.amount, 2),
                            "credit",
                            "transfer",
                            c.salary.counterparty,
                            "CN",
                        )
                    )
                if c.cash_deposits_per_week and not weekend and rng.random() < c.cash_deposits_per_week / 5:
                    ev.append(self._cash_deposit(rng, c, day0, sigma=0.4, hours=(9, 16)))
            for m in c.monthly_debits:
                if dom == m.day:
                    amount = m.amount * (1 + m.jitter * rng.uniform(-1, 1))
                    ev.append(
                        f.tx(
                            day0 + 9 * HOUR + rng.randrange(3 * HOUR),
                            cid,
                            acct,
                            round(amount, 2),
                            "debit",
                            m.channel,
                            m.counterparty,
                            "CN",
                        )
                    )
            if near_threshold_left and not weekend and rng.random() < 1.5 / self.days:
                # One cash deposit just under the reporting threshold: alone it is not structuring.
                near_threshold_left = 0
                lo, hi = self.limits.structuring_floor + 500, self.limits.cash_threshold - 200
                ev.append(
                    f.tx(
                        day0 + rng.randint(9, 16) * HOUR,
                        cid,
                        acct,
                        round(rng.uniform(lo, hi), -1),
                        "credit",
                        "cash",
                        None,
                        None,
                    )
                )
        self._contact_changes(rng, c, out)
        return out

    def _corporate_day(self, rng: random.Random, c: Customer, day0: int, weekend: bool, ev: list[Ev]) -> None:
        f, cid, acct = self.f, c.customer_id, c.account_id
        activity = 0.15 if weekend else 1.0
        for _ in range(poisson(rng, c.inflows_per_day * activity)):
            t = day0 + rng.randint(9, 17) * HOUR + rng.randrange(HOUR)
            amount = round(c.inflow_median * rng.lognormvariate(0, 0.8), 2)
            if rng.random() < 0.05:
                currency, country = rng.choice(FOREIGN)
                ev.append(
                    f.tx(
                        t,
                        cid,
                        acct,
                        amount,
                        "credit",
                        "transfer",
                        f"BUY{rng.randrange(99999):05d}",
                        country,
                        None,
                        currency,
                    )
                )
            else:
                ev.append(
                    f.tx(t, cid, acct, amount, "credit", "transfer", f"BUY{rng.randrange(99999):05d}", "CN")
                )
        for _ in range(poisson(rng, c.supplier_payments_per_day * activity)):
            supplier, typical = rng.choice(c.suppliers)
            t = day0 + rng.randint(9, 17) * HOUR + rng.randrange(HOUR)
            ev.append(
                f.tx(
                    t,
                    cid,
                    acct,
                    round(typical * rng.lognormvariate(0, 0.15), 2),
                    "debit",
                    "transfer",
                    supplier,
                    "CN",
                )
            )
        for _ in range(poisson(rng, c.daily_rate * activity)):
            # Operating expenses paid from the account: logistics, rent of equipment, fees, small vendors.
            t = day0 + rng.randint(8, 20) * HOUR + rng.randrange(HOUR)
            amount = round(1500 * c.scale**0.6 * rng.lognormvariate(0, 0.9), 2)
            ev.append(
                f.tx(
                    t,
                    cid,
                    acct,
                    amount,
                    "debit",
                    rng.choice(("online", "transfer")),
                    f"OPX{rng.randrange(1, 20000):05d}",
                    "CN",
                )
            )
        if c.cash_deposits_per_week and not weekend and rng.random() < c.cash_deposits_per_week / 5:
            ev.append(self._cash_deposit(rng, c, day0, sigma=0.3, hours=(16, 19)))

    def _cash_deposit(
        self, rng: random.Random, c: Customer, day0: int, *, sigma: float, hours: tuple[int, int]
    ) -> Ev:
        """An ordinary cash deposit, kept well under the reporting threshold (structuring near-misses are
        injected deliberately elsewhere)."""
        amount = min(self.limits.cash_threshold * 0.75, c.cash_deposit_scale * rng.lognormvariate(0, sigma))
        ts = day0 + rng.randint(*hours) * HOUR + rng.randrange(HOUR)
        return self.f.tx(ts, c.customer_id, c.account_id, round(amount, -2), "credit", "cash", None, None)

    def _contact_changes(self, rng: random.Random, c: Customer, out: NormalTraffic) -> None:
        r = rng.random()
        if c.corporate:  # companies change contact details rarely, and mostly through the branch
            r = r * 3
        count = 2 if r < 0.03 else 1 if r < 0.15 else 0
        times: list[int] = []
        for _ in range(
            50 * count
        ):  # bounded: a short scenario may not have room for two changes 10 days apart
            if len(times) == count:
                break
            t = self.start + rng.randrange(self.days * DAY)
            if all(abs(t - o) > 10 * DAY for o in times):
                times.append(t)
        weights = CORPORATE_CONTACT_FIELDS if c.corporate else CONTACT_FIELDS
        for t in sorted(times):
            t = local_day_start(t) + rng.randint(8, 21) * HOUR + rng.randrange(HOUR)
            r = rng.random() * sum(w for _, w in weights)
            field_name = "address"
            for name, w in weights:
                r -= w
                if r < 0:
                    field_name = name
                    break
            value = contact_value(rng, field_name)
            channel = rng.choice(("app", "app", "web", "branch", "call_center"))
            out.events.append(self.f.contact(t, c.customer_id, field_name, value, channel))
            out.contact_changes.append((t, field_name))
            if rng.random() < 0.2:  # the same change submitted again: still one change
                out.events.append(
                    self.f.contact(t + rng.randint(30, 600), c.customer_id, field_name, value, channel)
                )

    # ---------------------------------------------------------------------------------- near-misses
    def larger_purchases(self, rng: random.Random, c: Customer, events: list[Ev], until: float) -> list[Ev]:
        """Legitimate larger purchases (a phone, a sofa) clearly below the customer's amount-spike bar, and an
        online purchase within hours of a contact change clearly below the takeover bar. ``events`` must be the
        customer's events so far, sorted; nothing is placed at or after ``until``."""
        added: list[Ev] = []
        n = poisson(rng, 0.8 * self.days / 30)
        times = sorted(
            self.start + 10 * DAY + rng.randrange(max(1, (self.days - 10) * DAY)) for _ in range(n)
        )
        if c.corporate:
            return added
        for t in times:
            t = local_day_start(t) + rng.randint(10, 20) * HOUR + rng.randrange(HOUR)
            if t >= until:
                break
            debits = _debits_before(events + added, t)
            bar = self.limits.spike_bar(c.tier, debits)
            if not math.isfinite(bar):
                continue
            # What the customer can afford, and clearly below what the detectors would flag.
            affordable = float(c.profile.get("annual_income") or 0) / 12 * rng.uniform(0.5, 2.0)
            amount = round(min(bar * rng.uniform(0.3, 0.55), affordable), 2)
            amount = min(amount, self.limits.per_tx_limit(c.tier, c.segment) * 0.4)
            if amount < 500:
                continue
            mcc = rng.choice(("5732", "5712", "5944", "5311"))
            added.append(
                self.f.tx(
                    t,
                    c.customer_id,
                    c.account_id,
                    amount,
                    "debit",
                    "card",
                    f"M{rng.randrange(1, 60000):05d}",
                    "CN",
                    mcc,
                )
            )
        return added

    def after_contact_change(
        self, rng: random.Random, c: Customer, events: list[Ev], changes: list[tuple[int, str]], until: float
    ) -> list[Ev]:
        added: list[Ev] = []
        for t0, field_name in changes:
            if field_name not in ("phone", "email", "device") or rng.random() > 0.4:
                continue
            t = t0 + rng.randint(2, 20) * HOUR
            if t >= until:
                continue
            debits = _debits_before(events, t)
            bar = min(self.limits.spike_bar(c.tier, debits), self.limits.ato_bar(c.tier, debits))
            amount = round(rng.uniform(0.3, 0.5) * min(bar, self.limits.per_tx_limit(c.tier, c.segment)), 2)
            added.append(
                self.f.tx(
                    t,
                    c.customer_id,
                    c.account_id,
                    amount,
                    "debit",
                    "online",
                    f"M{rng.randrange(1, 60000):05d}",
                    "CN",
                    "5311",
                )
            )
        return added


def _debits_before(events: list[Ev], t: int) -> list[float]:
    ordered = sorted(
        (e for e in events if e.cny and e.ts < t and e.event["direction"] == "debit"), key=lambda e: e.ts
    )
    return [e.cny for e in ordered]


def _day_of_month(ts: int) -> int:
    return datetime.fromtimestamp(ts, CST).day
