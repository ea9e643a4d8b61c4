"""Customers: individual and corporate segments, profiles that give a mix of scorecard tiers, and the
behavioural parameters ``normal.py`` draws their ordinary traffic from.

The portfolio is deliberately mixed where detection is hard: small-ticket card customers whose spending is
narrow (a commuter's coffee and groceries) or wide (groceries to electronics), low-activity customers who
pay a few times a week, customers who opened their account during the period (short histories), and
large-ticket corporates."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scenarios.domain import INDUSTRIES, tier_limits

HIGH_INDUSTRIES = INDUSTRIES["high"]
MEDIUM_INDUSTRIES = INDUSTRIES["medium"]
LOW_INDUSTRIES = INDUSTRIES["low"]
#: share of individuals who pay only a few times a week
LOW_ACTIVITY_SHARE = 0.2
#: share of individuals whose everyday spending is narrow (one kind of purchase at similar prices)
NARROW_SPREAD_SHARE = 0.35
#: share of customers who open their account during the period
NEW_CUSTOMER_SHARE = 0.25
CASH_HEAVY_INDUSTRIES = frozenset({"retail", "hospitality", "agriculture", "precious_metals", "automotive"})

#: (tier archetype, share) per segment; the scorecard decides the real tier.
TIER_MIX = {
    "individual": (("low", 0.64), ("medium", 0.26), ("high", 0.10)),
    "corporate": (("low", 0.58), ("medium", 0.30), ("high", 0.12)),
}
SIZE_MIX = (("micro", 0.30), ("small", 0.35), ("medium", 0.25), ("large", 0.10))
SIZE_SCALE = {"micro": 1.0, "small": 4.0, "medium": 15.0, "large": 50.0}
SIZE_EMPLOYEES = {"micro": (2, 9), "small": (10, 49), "medium": (50, 299), "large": (300, 1500)}

TierOf = Callable[[dict[str, Any]], str]


@dataclass(slots=True)
class Monthly:
    """A payment on the same day every month to or from the same counterparty."""

    day: int
    amount: float
    counterparty: str
    channel: str = "transfer"
    jitter: float = 0.0  # relative amount noise (0 = exactly the same every month)


@dataclass(slots=True)
class Customer:
    customer_id: str
    account_id: str
    segment: str
    industry: str
    archetype: str
    profile: dict[str, Any]
    tier: str = "medium"
    #: day of the period the account opens (0 = before the period); nothing happens before it
    joined_day: int = 0
    spread: str = "wide"  # narrow | wide: how much the everyday purchase amounts vary
    activity: str = "normal"  # normal | low
    # --- individuals
    daily_rate: float = 2.0  # card/online purchases per day
    narrow_median: float = 0.0  # narrow spenders: the median of their everyday purchases
    spend_scale: float = 1.0
    online_share: float = 0.3
    merchants: list[str] = field(default_factory=list)
    salary: Monthly | None = None
    monthly_debits: list[Monthly] = field(default_factory=list)
    atm_per_week: float = 0.0
    cash_deposits_per_week: float = 0.0
    cash_deposit_scale: float = 10000.0
    foreign_share: float = 0.0
    wallet_topups_per_week: float = 0.0
    p2p_payees: list[str] = field(default_factory=list)
    # --- corporates
    size: str | None = None
    scale: float = 1.0
    suppliers: list[tuple[str, float]] = field(default_factory=list)
    inflows_per_day: float = 0.0
    inflow_median: float = 0.0
    supplier_payments_per_day: float = 0.0

    @property
    def corporate(self) -> bool:
        return self.segment == "corporate"


def _pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    r = rng.random()
    acc = 0.0
    for name, share in mix:
        acc += share
        if r < acc:
            return name
    return mix[-1][0]


def _individual_profile(rng: random.Random, archetype: str) -> dict[str, Any]:
    if archetype == "low":
        industry = rng.choice(LOW_INDUSTRIES + MEDIUM_INDUSTRIES)
        credit, overdue = rng.randint(690, 860), 0 if rng.random() < 0.9 else 1
        income, la = rng.lognormvariate(math.log(180000), 0.6), rng.uniform(0.05, 0.5)
    elif archetype == "medium":
        industry = rng.choice(MEDIUM_INDUSTRIES + LOW_INDUSTRIES)
        credit, overdue = rng.randint(500, 640), rng.randint(1, 2)
        income, la = rng.lognormvariate(math.log(80000), 0.4), rng.uniform(0.65, 0.95)
    else:
        industry = rng.choice(HIGH_INDUSTRIES)
        credit, overdue = rng.randint(330, 470), rng.randint(3, 6)
        income, la = rng.lognormvariate(math.log(50000), 0.5), rng.uniform(0.9, 1.6)
    assets = rng.lognormvariate(math.log(income * 3), 0.5)
    profile = {
        "segment": "individual",
        "industry": industry,
        "credit_score": credit,
        "overdue_count_12m": overdue,
        "annual_income": f"{income:.2f}",
        "total_assets": f"{assets:.2f}",
        "total_liabilities": f"{assets * la:.2f}",
        "politically_exposed": False,
        "home_country": "CN",
    }
    if archetype == "high" and rng.random() < 0.15:
        # A politically exposed person with an otherwise clean record: high by policy, not by score.
        profile.update(
            industry=rng.choice(("government", "real_estate")),
            credit_score=rng.randint(700, 820),
            overdue_count_12m=0,
            politically_exposed=True,
        )
    return profile


def _corporate_profile(rng: random.Random, archetype: str, size: str) -> dict[str, Any]:
    turnover = 2_000_000 * SIZE_SCALE[size] * rng.lognormvariate(0, 0.4)
    if archetype == "low":
        industry = rng.choice(LOW_INDUSTRIES + MEDIUM_INDUSTRIES)
        credit, overdue, la = rng.randint(680, 860), 0, rng.uniform(0.2, 0.55)
        turnover = max(turnover, 9_000_000.0)
    elif archetype == "medium":
        industry = rng.choice(MEDIUM_INDUSTRIES)
        credit, overdue, la = rng.randint(520, 650), rng.randint(1, 2), rng.uniform(0.6, 0.85)
        turnover = min(turnover, 6_000_000.0)
    else:
        industry = rng.choice(HIGH_INDUSTRIES)
        credit, overdue, la = rng.randint(330, 480), rng.randint(3, 5), rng.uniform(0.85, 1.3)
        turnover = min(turnover, 4_000_000.0)
    assets = turnover * rng.uniform(0.6, 1.5)
    return {
        "segment": "corporate",
        "industry": industry,
        "credit_score": credit,
        "overdue_count_12m": overdue,
        "annual_income": f"{turnover:.2f}",
        "total_assets": f"{assets:.2f}",
        "total_liabilities": f"{assets * la:.2f}",
        "business_size": size,
        "politically_exposed": False,
        "home_country": "CN",
    }


def make_population(
    rng: random.Random, n: int, corporate_share: float, days: int, tier_of: TierOf | None
) -> list[Customer]:
    customers = []
    for i in range(n):
        segment = "corporate" if rng.random() < corporate_share else "individual"
        archetype = _pick(rng, TIER_MIX[segment])
        cid = f"{'B' if segment == 'corporate' else 'P'}{i + 1:06d}"
        if segment == "individual":
            profile = _individual_profile(rng, archetype)
            size = None
        else:
            size = _pick(rng, SIZE_MIX)
            if archetype == "high" and size in ("medium", "large"):
                size = "small"
            profile = _corporate_profile(rng, archetype, size)
        c = Customer(
            customer_id=cid,
            account_id=f"62220{i + 1:010d}",
            segment=segment,
            industry=profile["industry"],
            archetype=archetype,
            profile=profile,
            size=size,
        )
        c.tier = tier_of(profile) if tier_of is not None else archetype
        if days > 20 and rng.random() < NEW_CUSTOMER_SHARE:
            c.joined_day = rng.randrange(days - 14)
        if segment == "individual":
            _individual_behaviour(rng, c)
        else:
            _corporate_behaviour(rng, c)
        customers.append(c)
    return customers


def _individual_behaviour(rng: random.Random, c: Customer) -> None:
    income = float(c.profile["annual_income"])
    if rng.random() < LOW_ACTIVITY_SHARE:
        c.activity = "low"
        c.daily_rate = rng.uniform(0.08, 0.4)
    else:
        c.daily_rate = min(6.0, rng.lognormvariate(math.log(2.0), 0.45))
    c.spend_scale = min(3.0, max(0.4, (income / 150000) ** 0.35 * rng.lognormvariate(0, 0.2)))
    if rng.random() < NARROW_SPREAD_SHARE:
        c.spread = "narrow"
        c.narrow_median = rng.lognormvariate(math.log(90), 0.6) * c.spend_scale
    c.online_share = rng.uniform(0.15, 0.5)
    c.merchants = [f"M{rng.randrange(1, 60000):05d}" for _ in range(rng.randint(8, 25))]
    c.foreign_share = 0.03 if rng.random() < 0.25 else 0.0
    n = c.customer_id
    if rng.random() < 0.78:
        c.salary = Monthly(
            rng.choice((5, 10, 15, 25)),
            income / 12 * rng.uniform(0.85, 1.0),
            f"EMP{rng.randrange(1, 5000):05d}",
        )
    if rng.random() < 0.35:
        rent = min(15000.0, max(1200.0, income / 12 * rng.uniform(0.15, 0.35)))
        c.monthly_debits.append(Monthly(rng.randint(1, 28), round(rent, -1), f"LL{n}"))
    if rng.random() < 0.85:
        c.monthly_debits.append(
            Monthly(rng.randint(1, 28), rng.uniform(80, 400), "UTIL-POWER", "online", 0.3)
        )
        c.monthly_debits.append(
            Monthly(rng.randint(1, 28), rng.uniform(50, 200), "UTIL-TELECOM", "online", 0.05)
        )
    if rng.random() < 0.3:
        loan = min(12000.0, max(800.0, income / 12 * rng.uniform(0.1, 0.3)))
        c.monthly_debits.append(Monthly(rng.randint(1, 28), round(loan, 2), f"LOAN{n}"))
    if rng.random() < 0.2:
        c.monthly_debits.append(Monthly(rng.randint(1, 28), round(rng.uniform(500, 3000), -2), f"FAM{n}"))
    if rng.random() < (0.2 if c.activity == "low" else 0.8):
        c.wallet_topups_per_week = rng.uniform(0.5, 3.0)
        c.p2p_payees = [f"WALLET-{n}"] + [
            f"P2P{rng.randrange(1, 10**6):06d}" for _ in range(rng.randint(1, 6))
        ]
    if rng.random() < 0.5:
        c.atm_per_week = rng.uniform(0.3, 1.5) * (0.3 if c.activity == "low" else 1.0)
    if c.industry in CASH_HEAVY_INDUSTRIES and rng.random() < 0.35:
        c.cash_deposits_per_week = rng.uniform(0.5, 2.0)
        c.cash_deposit_scale = rng.uniform(5000, 20000)


def _corporate_behaviour(rng: random.Random, c: Customer) -> None:
    size = c.size or "small"
    scale = SIZE_SCALE[size] * rng.lognormvariate(0, 0.3)
    # The bank sets limits to fit the business: a company's ordinary day stays well under its limit.
    per_tx_limit, daily_limit = tier_limits(c.tier, "corporate")
    cap = daily_limit * 0.25 / 30000.0
    c.scale = min(scale, cap)
    # receipts add up to the turnover in the profile (about 260 working days), supplier payments to half of it
    per_day = float(c.profile["annual_income"]) / 260
    c.inflows_per_day = rng.uniform(2, 8)
    c.inflow_median = per_day / c.inflows_per_day / 1.38  # lognormal(0, 0.8) has mean 1.38 x its median
    c.supplier_payments_per_day = rng.uniform(1, 3.5)
    c.suppliers = [
        (
            f"SUP{rng.randrange(1, 90000):05d}",
            per_day * 0.5 / c.supplier_payments_per_day * rng.lognormvariate(-0.18, 0.6),
        )
        for _ in range(rng.randint(4, 15))
    ]
    c.daily_rate = rng.uniform(0.5, 2.0)  # smaller operating expenses
    lo, hi = SIZE_EMPLOYEES[size]
    employees = min(rng.randint(lo, hi), max(2, round(c.scale * rng.uniform(3, 8))))
    payroll = min(employees * rng.uniform(5000, 9000), per_tx_limit * 0.4)
    c.monthly_debits.append(Monthly(25, payroll, f"PAYROLL{c.customer_id}", "transfer", 0.03))
    c.monthly_debits.append(Monthly(15, 10000 * c.scale * rng.uniform(0.5, 1.5), "TAX-SAT", "transfer", 0.3))
    c.monthly_debits.append(Monthly(rng.randint(1, 28), 20000 * c.scale**0.5, f"LEASE{c.customer_id}"))
    if c.industry in CASH_HEAVY_INDUSTRIES:
        c.cash_deposits_per_week = rng.uniform(2, 5)
        c.cash_deposit_scale = min(30000.0, 6000 * c.scale**0.5)
