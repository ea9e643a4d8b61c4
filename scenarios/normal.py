"""Ordinary behaviour with realistic noise, including legitimate lookalikes of fraud at realistic rates.

Individuals: card and online purchases (a category mixture for wide spenders, one kind of purchase at
similar prices for narrow ones), monthly salary credits, the same rent/loan/utility debits every month, ATM
withdrawals, wallet top-ups, shopping sprees and a spree on payday, now and then one contact change
(sometimes submitted twice). Lookalikes, none of them placed with reference to any detector: a one-off big
purchase (a car, a rent deposit to a new landlord, furniture, a holiday, tuition), moving house (address,
then often phone or e-mail within days, and a rent deposit), a trip abroad (purchases in foreign currency).
Corporates: incoming customer payments, payments to a fixed set of suppliers, operating expenses, monthly
payroll, tax and lease, cash takings for cash-heavy trades, a one-off equipment purchase from a new
supplier, an office move; quieter at weekends. Amounts are never clipped to stay clear of a threshold.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from scenarios.events import CST, DAY, HOUR, Ev, EventFactory, local_day_start
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
#: where a trip abroad goes: (currency, country)
TRAVEL = (("JPY", "JP"), ("HKD", "HK"), ("USD", "US"), ("EUR", "FR"), ("SGD", "SG"), ("GBP", "GB"))
#: one-off big purchases of individuals: (what, share, merchant category or None for a transfer to a person)
BIG_PURCHASES = (
    ("car", 0.12, "5511"),
    ("rent deposit", 0.23, None),
    ("furniture or appliances", 0.35, "5712"),
    ("holiday booking", 0.18, "4722"),
    ("tuition", 0.12, "8220"),
)
#: rates of lookalikes per customer and year
BIG_PURCHASES_PER_YEAR = 0.6
MOVES_PER_YEAR = 0.15
TRIPS_ABROAD_PER_YEAR = 0.5
EQUIPMENT_PURCHASES_PER_YEAR = 0.5
PAYDAY_SPREE_SHARE = 0.3  # of paydays


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
    #: what each lookalike was, by its event ids (for reading false alerts by; not a label)
    lookalikes: dict[str, str] = field(default_factory=dict)


class NormalGenerator:
    def __init__(self, factory: EventFactory, start: int, days: int, history_days: int = 0) -> None:
        self.f = factory
        self.start = start
        self.days = days
        self.history_days = history_days

    def _first_index(self, c: Customer) -> int:
        """The customer's first day: the day they open the account, or the start of the history before the
        period for customers who were there already."""
        return c.joined_day if c.joined_day > 0 else -self.history_days

    def _per_period(self, per_year: float, c: Customer) -> float:
        return per_year * (self.days - self._first_index(c)) / 365.0

    # --------------------------------------------------------------------------------- individuals
    def purchase(self, rng: random.Random, c: Customer, ts: int, scale: float = 1.0) -> Ev:
        if c.spread == "narrow":
            mcc = rng.choice(("5814", "5411", "4121"))
            amount = c.narrow_median * scale * rng.lognormvariate(0, 0.35)
        else:
            r = rng.random() * _CAT_CUM[-1]
            i = next(k for k, cum in enumerate(_CAT_CUM) if r < cum)
            mcc, median, sigma, _ = CATEGORIES[i]
            amount = median * c.spend_scale * scale * rng.lognormvariate(0, sigma)
        merchant = rng.choice(c.merchants) if rng.random() < 0.7 else f"M{rng.randrange(1, 60000):05d}"
        channel = "online" if rng.random() < c.online_share else "card"
        if c.foreign_share and rng.random() < c.foreign_share:
            currency, country = rng.choice(FOREIGN)
            return self.f.tx(
                ts,
                c.customer_id,
                c.account_id,
                round(amount, 2),
                "debit",
                channel,
                merchant,
                country,
                mcc,
                currency,
            )
        return self.f.tx(
            ts, c.customer_id, c.account_id, round(amount, 2), "debit", channel, merchant, "CN", mcc
        )

    def generate(self, rng: random.Random, c: Customer) -> NormalTraffic:
        out = NormalTraffic()
        ev = out.events
        f, cid, acct = self.f, c.customer_id, c.account_id
        start_weekday = (self.start // DAY + 4) % 7  # 1970-01-01 was a Thursday (0 = Monday)
        one_off_cash_left = 1 if c.cash_deposits_per_week and rng.random() < 0.5 else 0
        for d in range(self._first_index(c), self.days):
            day0 = self.start + d * DAY
            weekday = (start_weekday + d) % 7
            weekend = weekday >= 5
            dom = _day_of_month(day0)
            if c.corporate:
                self._corporate_day(rng, c, day0, weekend, ev)
            else:
                self._individual_day(rng, c, day0, weekend, dom, out)
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
            if one_off_cash_left and not weekend and rng.random() < 1.5 / self.days:
                # One large cash deposit (savings brought in, a sale): on its own it is nothing.
                one_off_cash_left = 0
                amount = round(rng.lognormvariate(math.log(30000), 0.35), -2)
                t = day0 + rng.randint(9, 16) * HOUR
                ev.append(f.tx(t, cid, acct, amount, "credit", "cash", None, None))
                out.lookalikes[ev[-1].event_id] = "one-off large cash deposit"
        self._contact_changes(rng, c, out)
        self._lookalikes(rng, c, out)
        return out

    def _first_day(self, c: Customer) -> int:
        return self.start + self._first_index(c) * DAY

    def _individual_day(
        self, rng: random.Random, c: Customer, day0: int, weekend: bool, dom: int, out: NormalTraffic
    ) -> None:
        f, cid, acct, ev = self.f, c.customer_id, c.account_id, out.events
        for _ in range(poisson(rng, c.daily_rate * (1.2 if weekend else 1.0))):
            ev.append(self.purchase(rng, c, day0 + _hour(rng) * HOUR + rng.randrange(HOUR)))
        if rng.random() < 0.015 * min(1.0, c.daily_rate):  # a few purchases within an hour or two
            t = day0 + rng.randint(10, 19) * HOUR + rng.randrange(HOUR)
            span = rng.randint(30, 120) * 60
            for _ in range(rng.randint(3, 7)):
                ev.append(self.purchase(rng, c, t + rng.randrange(span)))
        if c.wallet_topups_per_week and rng.random() < c.wallet_topups_per_week / 7:
            # Top-ups of the customer's own payment wallet and transfers to friends and family.
            payee = rng.choice(c.p2p_payees)
            if c.spread == "narrow":  # small top-ups, in step with the small purchases
                amount = round(6 * c.narrow_median * rng.lognormvariate(0, 0.5), -1) or 10.0
            else:
                amount = round(400 * c.spend_scale * rng.lognormvariate(0, 0.8), -1) or 10.0
            t = day0 + _hour(rng) * HOUR + rng.randrange(HOUR)
            ev.append(f.tx(t, cid, acct, amount, "debit", rng.choice(("transfer", "online")), payee, "CN"))
        if c.atm_per_week and rng.random() < c.atm_per_week / 7:
            typical = 8 * c.spend_scale if c.spread == "wide" else max(2.0, 3 * c.narrow_median / 100)
            amount = 100.0 * max(2, round(rng.lognormvariate(math.log(typical), 0.5)))
            t = day0 + _hour(rng) * HOUR + rng.randrange(HOUR)
            ev.append(f.tx(t, cid, acct, amount, "debit", "atm", None, None))
        if c.salary is not None and dom == c.salary.day:
            t = day0 + 9 * HOUR + rng.randrange(2 * HOUR)
            ev.append(
                f.tx(
                    t, cid, acct, round(c.salary.amount, 2), "credit", "transfer", c.salary.counterparty, "CN"
                )
            )
            if rng.random() < PAYDAY_SPREE_SHARE:  # payday: an evening of shopping
                t0 = day0 + rng.randint(17, 20) * HOUR + rng.randrange(HOUR)
                span = rng.randint(45, 180) * 60
                spree = [self.purchase(rng, c, t0 + rng.randrange(span), rng.uniform(1.0, 3.0))]
                spree += [self.purchase(rng, c, t0 + rng.randrange(span)) for _ in range(rng.randint(2, 7))]
                ev.extend(spree)
                out.lookalikes.update(
                    dict.fromkeys((e.event_id for e in spree), f"payday spree of {len(spree)}")
                )
        if c.cash_deposits_per_week and not weekend and rng.random() < c.cash_deposits_per_week / 5:
            ev.append(self._cash_deposit(rng, c, day0, sigma=0.4, hours=(9, 16)))

    def _corporate_day(self, rng: random.Random, c: Customer, day0: int, weekend: bool, ev: list[Ev]) -> None:
        f, cid, acct = self.f, c.customer_id, c.account_id
        activity = 0.15 if weekend else 1.0
        for _ in range(poisson(rng, c.inflows_per_day * activity)):
            t = day0 + rng.randint(9, 17) * HOUR + rng.randrange(HOUR)
            amount = round(c.inflow_median * rng.lognormvariate(0, 0.8), 2)
            buyer = f"BUY{rng.randrange(99999):05d}"
            if rng.random() < 0.05:
                currency, country = rng.choice(FOREIGN)
                ev.append(f.tx(t, cid, acct, amount, "credit", "transfer", buyer, country, None, currency))
            else:
                ev.append(f.tx(t, cid, acct, amount, "credit", "transfer", buyer, "CN"))
        for _ in range(poisson(rng, c.supplier_payments_per_day * activity)):
            supplier, typical = rng.choice(c.suppliers)
            t = day0 + rng.randint(9, 17) * HOUR + rng.randrange(HOUR)
            amount = round(typical * rng.lognormvariate(0, 0.15), 2)
            ev.append(f.tx(t, cid, acct, amount, "debit", "transfer", supplier, "CN"))
        for _ in range(poisson(rng, c.daily_rate * activity)):
            # Operating expenses paid from the account: logistics, rent of equipment, fees, small vendors.
            t = day0 + rng.randint(8, 20) * HOUR + rng.randrange(HOUR)
            amount = round(1500 * c.scale**0.6 * rng.lognormvariate(0, 0.9), 2)
            payee = f"OPX{rng.randrange(1, 20000):05d}"
            ev.append(f.tx(t, cid, acct, amount, "debit", rng.choice(("online", "transfer")), payee, "CN"))
        if c.cash_deposits_per_week and not weekend and rng.random() < c.cash_deposits_per_week / 5:
            ev.append(self._cash_deposit(rng, c, day0, sigma=0.3, hours=(16, 19)))

    def _cash_deposit(
        self, rng: random.Random, c: Customer, day0: int, *, sigma: float, hours: tuple[int, int]
    ) -> Ev:
        """An ordinary cash deposit: the day's takings or savings, whatever their size."""
        amount = c.cash_deposit_scale * rng.lognormvariate(0, sigma)
        ts = day0 + rng.randint(*hours) * HOUR + rng.randrange(HOUR)
        return self.f.tx(
            ts, c.customer_id, c.account_id, round(amount, -2) or 100.0, "credit", "cash", None, None
        )

    def _contact_changes(self, rng: random.Random, c: Customer, out: NormalTraffic) -> None:
        r = rng.random()
        if c.corporate:  # companies change contact details rarely, and mostly through the branch
            r = r * 3
        count = 2 if r < 0.03 else 1 if r < 0.15 else 0
        times: list[int] = []
        first, span = self._first_day(c), (self.days - self._first_index(c)) * DAY
        for _ in range(50 * count):  # bounded: a short period may not have room for two changes 10 days apart
            if len(times) == count:
                break
            t = first + rng.randrange(span)
            if all(abs(t - o) > 10 * DAY for o in times):
                times.append(t)
        weights = CORPORATE_CONTACT_FIELDS if c.corporate else CONTACT_FIELDS
        for t in sorted(times):
            t = local_day_start(t) + rng.randint(8, 21) * HOUR + rng.randrange(HOUR)
            self._contact(rng, c, out, t, _weighted(rng, weights))

    def _contact(self, rng: random.Random, c: Customer, out: NormalTraffic, t: int, field_name: str) -> None:
        value = contact_value(rng, field_name)
        channel = rng.choice(("app", "app", "web", "branch", "call_center"))
        out.events.append(self.f.contact(t, c.customer_id, field_name, value, channel))
        if rng.random() < 0.2:  # the same change submitted again: still one change
            out.events.append(
                self.f.contact(t + rng.randint(30, 600), c.customer_id, field_name, value, channel)
            )

    # ---------------------------------------------------------------------------------- lookalikes
    def _lookalikes(self, rng: random.Random, c: Customer, out: NormalTraffic) -> None:
        """Legitimate events that look like fraud, at the rates they happen, wherever they fall."""
        first, span = self._first_day(c), (self.days - self._first_index(c)) * DAY

        def when() -> int:
            t = first + rng.randrange(span)
            return local_day_start(t) + rng.randint(9, 20) * HOUR + rng.randrange(HOUR)

        f, cid, acct = self.f, c.customer_id, c.account_id
        income = float(c.profile.get("annual_income") or 0)
        for _ in range(poisson(rng, self._per_period(MOVES_PER_YEAR * (0.7 if c.corporate else 1.0), c))):
            t = when()
            self._contact(rng, c, out, t, "address")
            first_index = len(out.events) - 1
            moved = ["address"]
            for field_name, p, hours in (("phone", 0.5, 72), ("email", 0.2, 96), ("device", 0.1, 120)):
                if rng.random() < p:
                    self._contact(rng, c, out, t + rng.randint(1, hours * 3600), field_name)
                    moved.append(field_name)
            if not c.corporate and rng.random() < 0.5:  # the new flat's deposit to its landlord
                rent = max(1500.0, income / 12 * rng.uniform(0.15, 0.35))
                amount = round(rent * rng.choice((2, 3)), -1)
                t_dep = min(max(first, t + rng.randint(-5 * DAY, 10 * DAY)), first + span - HOUR)
                ev = f.tx(t_dep, cid, acct, amount, "debit", "transfer", f"LL{rng.getrandbits(32):08x}", "CN")
                out.events.append(ev)
            what = "moving house: " + ", ".join(moved)
            out.lookalikes.update(dict.fromkeys((e.event_id for e in out.events[first_index:]), what))
        if c.corporate:
            for _ in range(poisson(rng, self._per_period(EQUIPMENT_PURCHASES_PER_YEAR, c))):
                typical = max(s for _, s in c.suppliers)
                amount = round(typical * rng.lognormvariate(math.log(6), 0.6), 2)
                ev = f.tx(
                    when(), cid, acct, amount, "debit", "transfer", f"SUP{rng.randrange(90000, 99999)}", "CN"
                )
                out.events.append(ev)
                out.lookalikes[ev.event_id] = "equipment from a new supplier"
            return
        for _ in range(poisson(rng, self._per_period(BIG_PURCHASES_PER_YEAR, c))):
            what, mcc = _big_purchase_kind(rng)
            monthly = max(3000.0, income / 12)
            amount = {
                "car": max(30000.0, income * rng.uniform(0.3, 1.0)),
                "rent deposit": max(1500.0, monthly * rng.uniform(0.15, 0.35)) * rng.choice((2, 3)),
                "furniture or appliances": 3000 * c.spend_scale * rng.lognormvariate(0.5, 0.6),
                "holiday booking": 4000 * c.spend_scale * rng.lognormvariate(0.3, 0.5),
                "tuition": rng.choice((6000.0, 12000.0, 25000.0)),
            }[what]
            if mcc is None:
                payee, channel = f"LL{rng.getrandbits(32):08x}", "transfer"
            else:
                payee, channel = f"M{rng.randrange(60000, 99999)}", rng.choice(("card", "online", "transfer"))
            ev = f.tx(when(), cid, acct, round(amount, 2), "debit", channel, payee, "CN", mcc)
            out.events.append(ev)
            out.lookalikes[ev.event_id] = what
        for _ in range(poisson(rng, self._per_period(TRIPS_ABROAD_PER_YEAR, c))):
            currency, country = rng.choice(TRAVEL)
            t0, nights = when(), rng.randint(3, 10)
            trip = []
            for d in range(nights):
                for _ in range(poisson(rng, max(1.5, c.daily_rate * 1.5))):
                    t = local_day_start(t0 + d * DAY) + rng.randint(8, 22) * HOUR + rng.randrange(HOUR)
                    amount = round(150 * c.spend_scale * rng.lognormvariate(0, 0.8), 2)
                    mcc = rng.choice(("5812", "5814", "5311", "4111", "5999"))
                    merchant = f"F{country}{rng.randrange(10**5):05d}"
                    trip.append(f.tx(t, cid, acct, amount, "debit", "card", merchant, country, mcc, currency))
            hotel = round(600 * c.spend_scale * nights * rng.lognormvariate(0, 0.3), 2)
            trip.append(
                f.tx(
                    t0,
                    cid,
                    acct,
                    hotel,
                    "debit",
                    "card",
                    f"H{country}{rng.randrange(999)}",
                    country,
                    "7011",
                    currency,
                )
            )
            trip = [e for e in trip if e.ts < first + span]
            if not trip:
                continue
            out.events.extend(trip)
            what = f"trip abroad ({country}, {nights} nights)"
            out.lookalikes.update(dict.fromkeys((e.event_id for e in trip), what))


def _weighted(rng: random.Random, weights: tuple[tuple[str, float], ...]) -> str:
    r = rng.random() * sum(w for _, w in weights)
    for name, w in weights:
        r -= w
        if r < 0:
            return name
    return weights[-1][0]


def _big_purchase_kind(rng: random.Random) -> tuple[str, str | None]:
    r = rng.random()
    for what, share, mcc in BIG_PURCHASES:
        r -= share
        if r < 0:
            return what, mcc
    return BIG_PURCHASES[-1][0], BIG_PURCHASES[-1][2]


def _day_of_month(ts: int) -> int:
    return datetime.fromtimestamp(ts, CST).day
