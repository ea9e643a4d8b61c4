"""What the generated bank knows from law, policy and the market: never from riskwatch's detector settings.

The reporting lines are the law (PBoC Order [2016] No. 3, large-value transaction reports), the industry
table is the contract's, the FX table is market data, and the tier limits are the generated bank's own
product policy, which a tier-limit breach is defined by. Everything a pattern's strength is measured
against is the customer's own behaviour (``scenarios.patterns``).
"""

from __future__ import annotations

from decimal import Decimal

#: PBoC 2016: cash deposits/withdrawals of 50,000 CNY or more are reported, the same for a day's total
CASH_REPORTING_LINE_CNY = 50_000.0
#: PBoC 2016: transfers of a corporate account of 2,000,000 CNY or more
CORPORATE_TRANSFER_REPORTING_LINE_CNY = 2_000_000.0
#: PBoC 2016: transfers of an individual's account, 500,000 domestic, 200,000 cross-border
INDIVIDUAL_DOMESTIC_REPORTING_LINE_CNY = 500_000.0
INDIVIDUAL_CROSS_BORDER_REPORTING_LINE_CNY = 200_000.0
#: the reporting day is the calendar day in China (UTC+08:00, no daylight saving)
REPORTING_UTC_OFFSET_HOURS = 8
CASH_CHANNELS = frozenset({"cash", "atm"})

#: the contract's default industry-risk table
INDUSTRIES: dict[str, tuple[str, ...]] = {
    "high": ("gambling", "cryptocurrency", "money_services", "precious_metals", "arms", "shell_company"),
    "medium": ("real_estate", "construction", "retail", "hospitality", "logistics", "trading", "automotive"),
    "low": ("utilities", "education", "healthcare", "manufacturing", "government", "agriculture"),
}

#: approximate market rates to CNY; a run passes the rates its engine converts with (``generate(fx_rates=)``)
FX_RATES_TO_CNY: dict[str, Decimal] = {
    "CNY": Decimal(1),
    "USD": Decimal("7.10"),
    "EUR": Decimal("7.70"),
    "GBP": Decimal("9.00"),
    "HKD": Decimal("0.91"),
    "JPY": Decimal("0.047"),
    "SGD": Decimal("5.30"),
}

#: the generated bank's product limits per risk tier (per transaction, per reporting day), in CNY;
#: companies get ten times an individual's. A breach of these is the ``tier_limit`` pattern.
BANK_TIER_LIMITS_CNY: dict[str, tuple[float, float]] = {
    "low": (1_000_000.0, 2_000_000.0),
    "medium": (200_000.0, 500_000.0),
    "high": (50_000.0, 100_000.0),
}
CORPORATE_LIMIT_FACTOR = 10.0


def reporting_line(channel: str, segment: str, cross_border: bool) -> tuple[str, float]:
    """The PBoC 2016 report kind and line a transaction falls under."""
    if channel in CASH_CHANNELS:
        return "cash", CASH_REPORTING_LINE_CNY
    if segment == "corporate":
        return "corporate", CORPORATE_TRANSFER_REPORTING_LINE_CNY
    if cross_border:
        return "individual_cross_border", INDIVIDUAL_CROSS_BORDER_REPORTING_LINE_CNY
    return "individual_domestic", INDIVIDUAL_DOMESTIC_REPORTING_LINE_CNY


def tier_limits(tier: str, segment: str) -> tuple[float, float]:
    """(per transaction, per day) limits of the bank's policy for a tier and segment."""
    per_tx, daily = BANK_TIER_LIMITS_CNY[tier]
    factor = CORPORATE_LIMIT_FACTOR if segment == "corporate" else 1.0
    return per_tx * factor, daily * factor
