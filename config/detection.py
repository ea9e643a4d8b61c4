"""Thresholds of the detectors and of the scorecard.

Every number a detector compares against lives here with its unit in its name. Values that differ by risk
tier are ``TierValues``: riskier tiers get tighter thresholds.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

Tier = Literal["low", "medium", "high"]

PUBLIC_DEVELOPMENT_HASH_KEY = "riskwatch-development-key-change-me"  # for tests and local runs only


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierValues(_Section):
    """One value per risk tier; validated so the high tier is never looser than the low tier."""

    low: float
    medium: float
    high: float

    def for_tier(self, tier: str) -> float:
        return float(getattr(self, tier))


class TierMoney(_Section):
    """Money per risk tier in the base currency."""

    low: Decimal
    medium: Decimal
    high: Decimal

    def for_tier(self, tier: str) -> Decimal:
        value: Decimal = getattr(self, tier)
        return value


class SegmentMoney(_Section):
    """Money per customer segment in the base currency (a portfolio of card customers and one of
    corporates set these apart)."""

    individual: Decimal
    corporate: Decimal

    def for_segment(self, segment: str) -> Decimal:
        return self.corporate if segment == "corporate" else self.individual


class SegmentTierMoney(_Section):
    """Money per segment and risk tier in the base currency."""

    individual: TierMoney
    corporate: TierMoney

    def get(self, segment: str, tier: str) -> Decimal:
        return (self.corporate if segment == "corporate" else self.individual).for_tier(tier)


#: ISO 18245 merchant categories that move money on rather than buy goods: money transfer 4829, quasi-cash
#: 6010/6011/6012/6050/6051 (currency, crypto), securities 6211, account funding 6538, stored value 6540,
#: lotteries and betting 7800/7801/7802/7995. Issuers treat them as cash (cash-advance pricing; what was
#: bought cannot be charged back), and they are how a compromised card or account is cashed out.
CASH_OUT_MERCHANT_CATEGORIES = (
    "4829", "6010", "6011", "6012", "6050", "6051", "6211", "6538", "6540", "7800", "7801", "7802", "7995",
)  # fmt: skip


def _severity_floors(individual: tuple[int, int, int]) -> SegmentTierMoney:
    """Corporates move ten times the sums as a matter of course."""
    low, medium, high = individual
    return SegmentTierMoney(
        individual=TierMoney(low=Decimal(low), medium=Decimal(medium), high=Decimal(high)),
        corporate=TierMoney(low=Decimal(10 * low), medium=Decimal(10 * medium), high=Decimal(10 * high)),
    )


class AmountSpikeSettings(_Section):
    """One irreversible push payment far above the customer's own robust (median/MAD, log-scale) baseline
    of debits: the cash-out of a compromised account or an authorised push-payment scam.

    The bar is relative to the customer: a multiple of their median, lifted by their spread (robust z) but
    never beyond ``max_required_ratio_to_median``; with a short history the multiple is larger. Money only
    sets the severity (``severity_floor_base``), apart from a small noise floor (``min_amount_base``).
    Merchant purchases (card rails, chargeback rights) and cash ask larger multiples."""

    min_history_events: int = Field(default=10, ge=3)
    # Below this many debits the required multiple is raised (up to ``short_history_ratio_factor`` times
    # at ``min_history_events``, easing linearly): a thin median is less certain.
    full_history_events: int = Field(default=30, ge=3)
    # ... and while the customer has been seen for fewer days than this (monthly payments, rent, a loan,
    # are not yet known once), likewise.
    full_history_days: float = Field(default=35.0, ge=0)
    short_history_ratio_factor: float = Field(default=6.0, ge=1)
    baseline_window_events: int = Field(default=60, ge=5, le=500)
    min_ratio_to_median: TierValues = TierValues(low=10.0, medium=9.0, high=8.0)
    min_robust_z: TierValues = TierValues(low=5.0, medium=4.5, high=4.0)
    # The spread (z) gate never asks more than this multiple of the median: an extreme multiple alerts even
    # for a customer whose spending varies widely.
    max_required_ratio_to_median: TierValues = TierValues(low=16.0, medium=14.0, high=12.0)
    # ... and above the customer's usual upper range: this multiple of the largest debit they are known to
    # make (a customer who withdraws 800 in cash now and then is not spiking at the next 800).
    min_ratio_to_largest: float = Field(default=1.0, ge=0)
    # A debit with a merchant category, or on these channels, is a purchase at a merchant: card rails, with
    # chargeback rights and the scheme's own screening, where one-off big purchases (a car, furniture, a
    # holiday) are ordinary and card fraud shows mostly as bursts and sustained inflation
    # (``velocity_spike``, ``sustained_shift``). Still an outgoing amount far above the customer's own
    # (the contract's definition): it asks this much larger multiples. None leaves merchant purchases
    # out of amount_spike altogether (a portfolio whose card fraud is screened elsewhere).
    merchant_channels: tuple[str, ...] = ("card",)
    merchant_purchase_ratio_factor: float | None = Field(default=5.0, ge=1)
    # ... except a purchase in a category that moves money on (crypto, quasi-cash, money transfer, stored
    # value, betting): a cash-out on card rails, judged as a push payment.
    cash_out_merchant_categories: tuple[str, ...] = CASH_OUT_MERCHANT_CATEGORIES
    # Cash withdrawals are capped by the ATM's and the card's daily limits and are where a customer's own
    # bigger outgoings (a deposit paid in cash, a trip) show; they ask this much larger multiples.
    cash_channels: tuple[str, ...] = ("atm", "cash")
    cash_ratio_factor: float = Field(default=4.0, ge=1)
    # A payee the customer already paid (``recurring_min_occurrences`` times) is a relationship they set up:
    # a larger payment to it (a bigger invoice, a deposit to the landlord) asks this much larger multiples
    # ...
    known_payee_ratio_factor: float = Field(default=4.0, ge=1)
    # ... but only up to this multiple of the largest amount already paid to it: a small test payment
    # first does not make a mule account known for the drain that follows.
    known_payee_max_ratio_to_largest_paid: float = Field(default=10.0, ge=1)
    min_amount_base: SegmentMoney = SegmentMoney(individual=Decimal(100), corporate=Decimal(1000))
    # Below this, an alert is one severity level lower (absolute size sets severity, never suppresses).
    severity_floor_base: SegmentTierMoney = _severity_floors((3000, 2000, 1000))
    min_log_mad: float = Field(default=0.25, gt=0)
    recurring_tolerance_ratio: float = Field(default=0.2, ge=0, le=1)
    # One earlier payment of a similar amount to the same payee makes a repeat (rent, a loan instalment).
    recurring_min_occurrences: int = Field(default=1, ge=1)
    cooldown_seconds: int = Field(default=6 * 3600, ge=0)


class VelocitySpikeSettings(_Section):
    """Too many transactions in a sliding window against the customer's usual daily rate, at two scales:
    an hour (card testing, a takeover cash-out) and a day (a stolen card used all day). In each, debits to
    counterparties the customer has never paid are counted against their usual rate of such debits (from
    a small minimum count), and all transactions against their usual rate (from a larger one, a card run
    at known merchants). The minimum counts only keep a handful of purchases from alerting; the rate
    multiple is the real bar."""

    window_seconds: int = Field(default=3600, ge=60)
    min_new_counterparty_count: TierValues = TierValues(low=8, medium=8, high=8)
    min_window_count: TierValues = TierValues(low=16, medium=14, high=12)
    rate_multiplier: TierValues = TierValues(low=30.0, medium=24.0, high=20.0)
    # Before ``min_history_days`` there is no usual rate (and every payee is new): only this count of any
    # transactions in the short window alerts (and the day window waits).
    cold_start_min_window_count: TierValues = TierValues(low=15, medium=12, high=10)
    day_window_seconds: int = Field(default=86400, ge=3600)
    min_day_new_counterparty_count: TierValues = TierValues(low=8, medium=8, high=8)
    min_day_window_count: TierValues = TierValues(low=24, medium=20, high=18)
    day_rate_multiplier: TierValues = TierValues(low=14.0, medium=12.0, high=10.0)
    # An individual's incoming credit of at least this multiple of their median debit is a payday (a
    # salary, a refund of a deposit): for ``payday_window_seconds`` after it, the new-counterparty bars
    # are ``payday_floor_factor`` times higher (an evening of shopping after payday is ordinary).
    payday_credit_min_ratio_to_median: float = Field(default=10.0, gt=0)
    payday_window_seconds: int = Field(default=18 * 3600, ge=0)
    payday_floor_factor: float = Field(default=1.5, ge=1)
    baseline_days: int = Field(default=28, ge=1, le=366)
    min_history_days: int = Field(default=3, ge=0)
    active_hours_per_day: float = Field(default=16.0, gt=0, le=24)
    max_window_events: int = Field(default=400, ge=10)
    cooldown_seconds: int = Field(default=3 * 3600, ge=0)

    @model_validator(mode="after")
    def _day_window_longer(self) -> VelocitySpikeSettings:
        if self.day_window_seconds <= self.window_seconds:
            raise ValueError("velocity_spike.day_window_seconds must be longer than window_seconds")
        return self


class ContactChangeBurstSettings(_Section):
    """Several distinct contact-detail changes within a window; one on its own is normal."""

    window_seconds: int = Field(default=48 * 3600, ge=60)
    min_changes: TierValues = TierValues(low=3, medium=3, high=2)
    max_window_changes: int = Field(default=50, ge=2)
    cooldown_seconds: int = Field(default=48 * 3600, ge=0)


class AccountTakeoverSettings(_Section):
    """A change of a takeover-relevant contact detail, then a debit transfer large for that customer within
    hours. Large is a multiple of the customer's median debit; money sets the severity, and decides alone
    only for a customer with too little history for a median (``cold_start_min_amount_base``)."""

    trigger_fields: tuple[str, ...] = ("phone", "email", "device")
    window_seconds: int = Field(default=24 * 3600, ge=60)
    transfer_channels: tuple[str, ...] = ("transfer", "online")
    # A change made in person, identity checked at the counter, is not how an account is taken over (that
    # is done remotely: app, web, a talked-round call centre), so it opens no takeover window.
    in_person_channels: tuple[str, ...] = ("branch",)
    # A purchase from a merchant (a car dealer, a furniture shop) buys goods and pays no mule, so a debit
    # with a merchant category counts only in the categories that move money on
    # (``CASH_OUT_MERCHANT_CATEGORIES``).
    cash_out_merchant_categories: tuple[str, ...] = CASH_OUT_MERCHANT_CATEGORIES
    min_ratio_to_median: TierValues = TierValues(low=4.0, medium=4.0, high=3.0)
    # ... and at least this multiple of the largest debit the customer is known to make (their baseline, or
    # a payee still remembered): a debit their history already has the like of is not a cash-out.
    min_ratio_to_largest: float = Field(default=1.0, ge=0)
    # A debit later than ``prompt_seconds`` after the change (within the window) must be at least
    # ``late_min_ratio_to_largest`` times that largest debit: the link to the change weakens with time.
    prompt_seconds: int = Field(default=6 * 3600, ge=0)
    late_min_ratio_to_largest: float = Field(default=1.5, ge=0)
    min_history_events: int = Field(default=5, ge=1)
    min_amount_base: SegmentMoney = SegmentMoney(individual=Decimal(100), corporate=Decimal(1000))
    cold_start_min_amount_base: SegmentTierMoney = _severity_floors((20000, 10000, 5000))
    # At or above this a new-payee takeover is critical, below it high (a known payee: high / medium).
    severity_floor_base: SegmentTierMoney = _severity_floors((20000, 10000, 5000))
    # A payee paid before (a supplier, payroll, a landlord) is only suspicious far above what it was paid.
    known_payee_min_payments: int = Field(default=1, ge=1)
    known_payee_min_ratio_to_largest: float = Field(default=2.0, ge=1)
    cooldown_seconds: int = Field(default=24 * 3600, ge=0)


class StructuringSettings(_Section):
    """Several cash transactions each just below the cash large-value threshold, together above it, within
    a week; and more of them than the customer's own usual (a cash business near the line every week)."""

    window_seconds: int = Field(default=7 * 86400, ge=3600)
    near_threshold_ratio: float = Field(default=0.8, gt=0, lt=1)
    # a pair of large deposits in a week is what a business or a saver does; three is a pattern
    min_transactions: TierValues = TierValues(low=3, medium=3, high=3)
    # the customer's usual count per window is taken over this long before the window (as long as they
    # have been seen, from one window's length on), and the window's count must reach this multiple of it
    usual_lookback_seconds: int = Field(default=56 * 86400, ge=0)
    usual_count_multiplier: TierValues = TierValues(low=3.0, medium=3.0, high=2.0)
    cash_channels: tuple[str, ...] = ("cash", "atm")
    max_window_events: int = Field(default=100, ge=2)
    cooldown_seconds: int = Field(default=7 * 86400, ge=0)


class SustainedShiftSettings(_Section):
    """Several debits at new merchants, each well above the customer's median, more than their own history
    makes likely.

    A debit is elevated when it is a card or online payment (``channels``; cross-border payments, a trip
    abroad, are left out) to a payee never paid before, at ``level_ratios_to_median[0]`` times the median
    debit or more (the median of the baseline without the window's elevated debits). For each level and
    each run of elevated debits ending now, the count (at most ``max_elevated_per_day`` a day) among the
    debits since the run's first day is tested against the customer's own chance of such a
    debit: their share of new-merchant card/online debits (``history``, shrunk with
    ``prior_new_payee_weight_debits`` towards ``prior_new_payee_share``) times the share of their baseline at or above the level (shrunk with
    ``prior_weight_debits`` towards a log-normal tail with their robust spread pooled with ``prior_log_sigma``
    weighted as ``prior_log_sigma_weight_debits`` debits, at least ``min_log_sigma``). The count is judged
    by a beta-binomial whose rate carries the evidence of the customer's debits outside the window plus
    ``prior_weight_debits``; runs start on a day and must span ``min_elevated_days`` days. The smallest tail
    times the tests tried must be under ``false_alert_budget_per_check``.

    The excess CUSUM (``detectors/excess_cusum.py``) also alerts: each new-merchant card/online payment's log
    excess over the median, standardised by the customer's own mean and spread of such payments (shrunk
    towards mean 0 and ``cusum_prior_log_sd`` weighted as ``cusum_prior_weight_payments`` payments), capped
    at ``cusum_max_step_sds``, less ``cusum_reference_sds``, summed by Page's recursion; an excursion lasts at
    most ``window_seconds``. It alerts past the decision interval whose in-control run length (Siegmund's
    normal approximation) is the customer's new-merchant payments per month over
    ``cusum_false_alerts_per_customer_month``, with ``cusum_min_debits`` elevated debits of the excursion on
    ``cusum_min_days`` days. The budget is nominal: ordinary spending has heavier tails than the normal
    model, so the defaults were set from measured false alerts (README).

    The far payments' test (``detectors/far_payments.py``) counts payments on ``far_channels`` at any
    merchant, new or known, from ``far_min_ratio_to_median`` times the median and ``far_min_spreads`` of
    the customer's own upper spread of log amounts (pooled as above) above it, up to
    ``far_max_ratio_to_median``, and to a payee paid before from ``far_min_ratio_to_largest_paid`` times the
    most paid to it. Runs of ``far_min_debits`` or more (at most ``max_elevated_per_day`` a day) on
    ``far_min_days`` days are judged as the count test's runs, at the customer's own share of far payments
    shrunk towards the normal tail at their bar, under ``far_false_alert_budget_per_check``."""

    window_seconds: int = Field(default=14 * 86400, ge=86400)
    min_history_events: int = Field(default=10, ge=3)
    channels: tuple[str, ...] = ("card", "online")
    level_ratios_to_median: tuple[float, ...] = (1.5, 2.0, 3.0, 5.0)
    min_elevated_debits: int = Field(default=4, ge=2)
    # "Over days": a run must hold elevated debits on this many calendar days (UTC); one or two days of
    # dear purchases is a spree, not a card drained in steps.
    min_elevated_days: int = Field(default=3, ge=1)
    # A spree on one evening is one piece of evidence, not seven: at most this many elevated debits a day.
    max_elevated_per_day: int = Field(default=3, ge=1)
    false_alert_budget_per_check: TierValues = TierValues(low=0.00075, medium=0.0015, high=0.003)
    prior_new_payee_share: float = Field(default=0.5, gt=0, lt=1)
    prior_new_payee_weight_debits: float = Field(default=2.0, gt=0)
    prior_weight_debits: float = Field(default=30.0, gt=0)
    min_log_sigma: float = Field(default=0.5, gt=0)
    # The customer's robust spread of log amounts is pooled with this wide one, weighted as this many debits.
    prior_log_sigma: float = Field(default=0.8, gt=0)
    prior_log_sigma_weight_debits: float = Field(default=10.0, ge=0)
    # The new-merchant share forgets slowly: both counts are halved past this many debits.
    history_halving_debits: int = Field(default=400, ge=20)
    min_amount_base: SegmentMoney = SegmentMoney(individual=Decimal(50), corporate=Decimal(500))
    max_elevated_events: int = Field(default=64, ge=4)
    cooldown_seconds: int = Field(default=7 * 86400, ge=0)
    # The excess CUSUM: reference and cap in the customer's own spreads (sds) of new-merchant log excess.
    cusum_reference_sds: float = Field(default=0.5, gt=0)
    cusum_max_step_sds: float = Field(default=2.0, gt=0)
    cusum_prior_weight_payments: float = Field(default=30.0, gt=0)
    cusum_prior_log_sd: float = Field(default=1.0, gt=0)
    cusum_false_alerts_per_customer_month: TierValues = TierValues(low=0.00005, medium=0.0001, high=0.0002)
    cusum_min_debits: int = Field(default=3, ge=2)
    cusum_min_days: int = Field(default=2, ge=1)
    # The far payments' test (``detectors/far_payments.py``), at any merchant. A payment is far from this
    # multiple of the median and this many of the customer's own upper spreads (of log amount) above it ...
    far_min_ratio_to_median: float = Field(default=3.0, gt=1)
    far_min_spreads: float = Field(default=2.5, gt=0)
    # ... up to this multiple: beyond it a payment is a one-off purchase (``amount_spike`` judges single
    # payments), not a moderate step of a drain
    far_max_ratio_to_median: float = Field(default=10.0, gt=1)
    # ... and, to a payee paid before, from this multiple of the most already paid to it (a bill or a shop
    # where the customer has spent as much is their habit).
    far_min_ratio_to_largest_paid: float = Field(default=2.0, ge=0)
    # Card payments only: a stolen card number pays by card; ``online`` also carries bills, wallet top-ups
    # and transfers to people, which spread as they will.
    far_channels: tuple[str, ...] = ("card",)
    far_min_debits: int = Field(default=2, ge=2)
    far_min_days: int = Field(default=1, ge=1)
    far_false_alert_budget_per_check: TierValues = TierValues(low=0.003, medium=0.006, high=0.012)

    @field_validator("level_ratios_to_median")
    @classmethod
    def _increasing(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or v[0] <= 1 or any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("must be increasing ratios above 1, e.g. [1.5, 2, 3, 5]")
        return v


class LargeValueSettings(_Section):
    """PBoC 2016 (Order No. 3) large-value reporting thresholds, in the base currency."""

    cash_threshold_base: Decimal = Decimal(50000)
    corporate_transfer_threshold_base: Decimal = Decimal(2000000)
    individual_transfer_domestic_threshold_base: Decimal = Decimal(500000)
    individual_transfer_cross_border_threshold_base: Decimal = Decimal(200000)
    cash_channels: tuple[str, ...] = ("cash", "atm")
    reporting_timezone: str = "Asia/Shanghai"
    max_tracked_days: int = Field(default=3, ge=2)


class TierLimitSettings(_Section):
    """Per-transaction and daily debit limits by tier; corporates get a multiple of them."""

    per_transaction_limit_base: TierMoney = TierMoney(
        low=Decimal(1000000), medium=Decimal(200000), high=Decimal(50000)
    )
    daily_limit_base: TierMoney = TierMoney(
        low=Decimal(2000000), medium=Decimal(500000), high=Decimal(100000)
    )
    corporate_limit_multiplier: Decimal = Decimal(10)
    cooldown_seconds: int = Field(default=86400, ge=0)


def _default_industry_risk() -> dict[str, Tier]:
    """The contract's default industry-risk table."""
    groups: dict[Tier, tuple[str, ...]] = {
        "high": ("gambling", "cryptocurrency", "money_services", "precious_metals", "arms", "shell_company"),
        "medium": (
            "real_estate",
            "construction",
            "retail",
            "hospitality",
            "logistics",
            "trading",
            "automotive",
        ),
        "low": ("utilities", "education", "healthcare", "manufacturing", "government", "agriculture"),
    }
    return {name: tier for tier, names in groups.items() for name in names}


def _default_review_interval_days() -> dict[Tier, int]:
    """PBoC 2013 customer risk classification: review high-risk customers every 180 days, and so on."""
    return {"high": 180, "medium": 365, "low": 730}


class KnockOutRule(_Section):
    """A profile that must be at least ``tier`` whatever its other factors: every condition given must hold
    (an unset condition is not checked). The score is lifted to the bottom of the tier's band, so favourable
    factors (a high income, a large firm) lower the score but never the tier a knock-out sets.

    A rule with no condition at all would fire on everyone; the validator refuses it."""

    tier: Tier = "high"
    reason: str
    industry_risk_in: tuple[Tier, ...] = ()
    segment_in: tuple[Literal["individual", "corporate"], ...] = ()
    min_overdue_count_12m: int | None = Field(default=None, ge=0)
    max_credit_score: int | None = Field(default=None, ge=300, le=900)
    # total liabilities / total assets; assets of 0 with liabilities counts as infinitely leveraged
    min_liabilities_to_assets_ratio: float | None = Field(default=None, gt=0)
    politically_exposed: bool | None = None

    @model_validator(mode="after")
    def _has_a_condition(self) -> KnockOutRule:
        if (
            not self.industry_risk_in
            and not self.segment_in
            and self.min_overdue_count_12m is None
            and self.max_credit_score is None
            and self.min_liabilities_to_assets_ratio is None
            and self.politically_exposed is None
        ):
            raise ValueError("a knock-out rule needs at least one condition")
        return self


def _default_knockout_rules() -> dict[str, KnockOutRule]:
    """The defaults: a high-risk industry together with serious delinquency, poor credit or insolvency, and
    insolvency together with serious delinquency in any industry. PEP status is ``politically_exposed_forces_high``
    (kept as its own switch). Sanctions hits are not a profile field of the contract: the screening system pins
    them with a ``risk_override``."""
    return {
        "high_risk_industry_delinquent": KnockOutRule(
            reason="High-risk industry with serious delinquency (3 or more overdue payments in 12 months)",
            industry_risk_in=("high",),
            min_overdue_count_12m=3,
        ),
        "high_risk_industry_poor_credit": KnockOutRule(
            reason="High-risk industry with a poor credit score (550 or below)",
            industry_risk_in=("high",),
            max_credit_score=550,
        ),
        "high_risk_industry_insolvent": KnockOutRule(
            reason="High-risk industry and insolvent (liabilities at least 1.5 times assets)",
            industry_risk_in=("high",),
            min_liabilities_to_assets_ratio=1.5,
        ),
        "insolvent_and_delinquent": KnockOutRule(
            reason="Insolvent (liabilities at least twice the assets) with serious delinquency",
            min_liabilities_to_assets_ratio=2.0,
            min_overdue_count_12m=3,
        ),
        "delinquent_poor_credit": KnockOutRule(
            tier="medium",
            reason="Serious delinquency with a poor credit score: at least medium risk",
            min_overdue_count_12m=3,
            max_credit_score=550,
        ),
    }


class ScorecardSettings(_Section):
    """The static scorecard: weights (points out of 100) and the tier bands on the 0-100 score.

    Weights average the factors, so a strong factor can offset a weak one; ``knockout_rules`` are what no
    average may hide (see ``KnockOutRule`` and the README's scorecard section)."""

    weight_credit_record: float = 35.0
    weight_financial_condition: float = 25.0
    weight_business_size: float = 10.0
    weight_industry_risk: float = 20.0
    weight_politically_exposed: float = 10.0
    high_tier_min_score: float = 70.0
    medium_tier_min_score: float = 40.0
    politically_exposed_forces_high: bool = True
    knockout_rules: dict[str, KnockOutRule] = Field(default_factory=lambda: _default_knockout_rules())
    unknown_factor_risk: float = Field(default=0.5, ge=0, le=1)
    individual_business_size_risk: float = Field(default=0.3, ge=0, le=1)
    industry_risk: dict[str, Tier] = Field(default_factory=lambda: _default_industry_risk())
    review_interval_days: dict[Tier, int] = Field(default_factory=lambda: _default_review_interval_days())

    @model_validator(mode="after")
    def _bands_ordered(self) -> ScorecardSettings:
        if not 0 <= self.medium_tier_min_score <= self.high_tier_min_score <= 100:
            raise ValueError(
                "tier bands must satisfy 0 <= medium_tier_min_score <= high_tier_min_score <= 100"
            )
        return self


def _default_alert_points() -> dict[str, float]:
    """One critical alert (40) lifts any customer at least one tier on the default bands (40 and 70)."""
    return {"low": 5.0, "medium": 12.0, "high": 25.0, "critical": 40.0}


def _default_detector_point_multiplier() -> dict[str, float]:
    """A large-value report is a regulatory duty, not a suspicion (a corporate paying suppliers millions
    every week must not drift up for it); a tier-limit breach meets tighter limits once the tier rises, so
    it counts a quarter (it must not feed itself). On generated traffic these moved 4 customers without an
    injected pattern up, against 11 at 0.25/0.5 (README, bench/tier_history.py)."""
    return {"large_value": 0.05, "tier_limit": 0.25}


class RiskBookSettings(_Section):
    """How behaviour, officers and time move a customer's tier (the living risk book).

    Each alert adds ``alert_points[severity] x detector_point_multiplier[detector]`` (1 when not listed) to
    the scorecard score; the points halve every ``points_half_life_days`` of event time. A higher band is
    entered at once; a lower one only after the score has stayed below the current band's minimum minus
    ``downgrade_margin_points`` for ``downgrade_cooldown_days`` (hysteresis: tiers do not flap)."""

    alert_points: dict[str, float] = Field(default_factory=lambda: _default_alert_points())
    detector_point_multiplier: dict[str, float] = Field(
        default_factory=lambda: _default_detector_point_multiplier()
    )
    points_half_life_days: float = Field(default=30.0, gt=0)
    downgrade_margin_points: float = Field(default=5.0, ge=0)
    downgrade_cooldown_days: float = Field(default=14.0, ge=0)
    # an officer's override reason is quoted in CustomerRisk.reason up to this many characters
    override_reason_max_chars: int = Field(default=200, ge=0)


class DetectionSettings(_Section):
    """Everything the detection core needs; the stream workers and ``riskwatch replay`` share it."""

    base_currency: str = "CNY"
    fx_rates_to_base: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "CNY": Decimal(1),
            "USD": Decimal("7.10"),
            "EUR": Decimal("7.70"),
            "GBP": Decimal("9.00"),
            "HKD": Decimal("0.91"),
            "JPY": Decimal("0.047"),
            "SGD": Decimal("5.30"),
            "AUD": Decimal("4.60"),
            "CAD": Decimal("5.10"),
            "CHF": Decimal("8.10"),
            "KRW": Decimal("0.0051"),
            "MOP": Decimal("0.88"),
        }
    )
    default_tier: Tier = "medium"
    default_home_country: str = "CN"
    # Go-live: events with an event time before this instant (ISO 8601 with an offset) build state --
    # baselines, payees, windows, day totals, profiles, overrides and reviews -- but raise no alert and
    # start no cooldown. A bank loads its recent history so that riskwatch knows its customers on the
    # first day, and wants no alerts about last month's payments (README, "Where the contract is silent").
    alerts_from: AwareDatetime | None = None
    # input bounds: a transaction above this (in the base currency, after conversion) or with more digits
    # after the decimal point is a dead letter -- no real payment is that large, and it keeps exact money
    # arithmetic small
    max_amount_base: Decimal = Field(default=Decimal("1000000000000"), gt=0)
    amount_max_decimal_places: int = Field(default=18, ge=0, le=36)
    allowed_lateness_seconds: int = Field(default=600, ge=0)
    seen_event_ids_max: int = Field(default=128, ge=16)
    known_counterparties_max: int = Field(default=100, ge=1)
    # the keyed hash of contact values; the built-in key is public, so hashes made with it can be reversed
    # with a dictionary: the worker refuses it against a non-local broker (README, "Secure by default")
    contact_hash_key: SecretStr = SecretStr(PUBLIC_DEVELOPMENT_HASH_KEY)
    amount_spike: AmountSpikeSettings = AmountSpikeSettings()
    velocity_spike: VelocitySpikeSettings = VelocitySpikeSettings()
    contact_change_burst: ContactChangeBurstSettings = ContactChangeBurstSettings()
    account_takeover: AccountTakeoverSettings = AccountTakeoverSettings()
    structuring: StructuringSettings = StructuringSettings()
    sustained_shift: SustainedShiftSettings = SustainedShiftSettings()
    large_value: LargeValueSettings = LargeValueSettings()
    tier_limit: TierLimitSettings = TierLimitSettings()
    scorecard: ScorecardSettings = ScorecardSettings()
    risk_book: RiskBookSettings = RiskBookSettings()
