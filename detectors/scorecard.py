"""The static scorecard: a customer's profile to a 0-100 risk score, each factor's share, and a tier.

Each factor is a risk in [0, 1] (unknown inputs count as ``unknown_factor_risk``) times its weight in points.
Weights and bands are settings; defaults follow common practice for the PBoC customer risk classification:
credit record, financial condition, business size, industry risk, and politically exposed status.

A weighted average lets a high income hide a gambling business in arrears; knock-out rules
(``ScorecardSettings.knockout_rules``) set a minimum tier no average can undo, each with its own reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from config.detection import KnockOutRule, ScorecardSettings
from schemas.events import CustomerProfile, parse_event

_PROFILE_STUB = {
    "type": "customer_profile",
    "event_id": "-",
    "customer_id": "-",
    "timestamp": "2025-01-01T00:00:00Z",
}

BUSINESS_SIZE_RISK = {"micro": 1.0, "small": 0.7, "medium": 0.4, "large": 0.1}
INDUSTRY_TIER_RISK = {"high": 1.0, "medium": 0.5, "low": 0.1}
TIER_RANK = {"low": 0, "medium": 1, "high": 2}
PEP_RULE = KnockOutRule(
    reason="Politically exposed person: high risk regardless of scorecard", politically_exposed=True
)
# Annual income (or turnover) in the base currency below which the income part of financial risk is full.
LOW_INCOME_BASE = {"individual": Decimal(60000), "corporate": Decimal(2000000)}


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: float
    tier: str
    factors: dict[str, float]
    reason: str


class Scorecard:
    def __init__(self, settings: ScorecardSettings) -> None:
        self.s = settings

    def score(self, p: CustomerProfile) -> ScoreResult:
        s = self.s
        industry_tier = s.industry_risk.get(p.industry.strip().lower(), "medium")
        risks = {
            "credit_record": self._credit_risk(p),
            "financial_condition": self._financial_risk(p),
            "business_size": self._size_risk(p),
            "industry_risk": INDUSTRY_TIER_RISK[industry_tier],
            "politically_exposed": 1.0 if p.politically_exposed else 0.0,
        }
        weights = {
            "credit_record": s.weight_credit_record,
            "financial_condition": s.weight_financial_condition,
            "business_size": s.weight_business_size,
            "industry_risk": s.weight_industry_risk,
            "politically_exposed": s.weight_politically_exposed,
        }
        total_weight = sum(weights.values()) or 1.0
        factors = {k: round(100.0 * weights[k] * risks[k] / total_weight, 2) for k in risks}
        score = round(min(100.0, sum(factors.values())), 2)
        tier = self.band(score)
        top = max(factors, key=lambda k: factors[k])
        reason = (
            f"Scorecard {score:.1f}/100; largest factor {top.replace('_', ' ')} ({factors[top]:.1f} points)."
        )
        fired = self.knockouts(p, industry_tier)
        if fired:
            floor = max((rule.tier for _, rule in fired), key=TIER_RANK.__getitem__)
            lift = 0.0
            if TIER_RANK[floor] > TIER_RANK[tier]:
                lift = round(self.band_min(floor) - score, 2)
                score, tier = round(score + lift, 2), floor
            lifted = next(name for name, rule in fired if rule.tier == floor)
            for name, _ in fired:
                factors[f"knockout.{name}"] = lift if name == lifted else 0.0
            reasons = "; ".join(rule.reason for _, rule in fired)
            reason = f"Knock-out: {reasons} ({tier} at least; weighted factors alone {score - lift:.1f}/100)."
        return ScoreResult(score=score, tier=tier, factors=factors, reason=reason)

    def band(self, score: float) -> str:
        if score >= self.s.high_tier_min_score:
            return "high"
        if score >= self.s.medium_tier_min_score:
            return "medium"
        return "low"

    def band_min(self, tier: str) -> float:
        return {"low": 0.0, "medium": self.s.medium_tier_min_score, "high": self.s.high_tier_min_score}[tier]

    def knockouts(self, p: CustomerProfile, industry_tier: str) -> list[tuple[str, KnockOutRule]]:
        """The knock-out rules this profile meets, in configuration order."""
        rules = list(self.s.knockout_rules.items())
        if self.s.politically_exposed_forces_high:
            rules.append(("politically_exposed", PEP_RULE))
        return [(name, rule) for name, rule in rules if _meets(rule, p, industry_tier)]

    def tier_of_fields(self, fields: Mapping[str, Any]) -> str:
        """The tier of a profile given as contract fields: lets a traffic generator aim at a customer's real
        tier without depending on the detectors itself."""
        profile = parse_event({**_PROFILE_STUB, **fields})
        if not isinstance(profile, CustomerProfile):
            raise TypeError("not a customer profile")
        return self.score(profile).tier

    def _credit_risk(self, p: CustomerProfile) -> float:
        parts: list[float] = []
        if p.credit_score is not None:
            parts.append((900 - p.credit_score) / 600)
        if p.overdue_count_12m is not None:
            parts.append(min(1.0, p.overdue_count_12m / 3))
        if not parts:
            return self.s.unknown_factor_risk
        # An overdue history weighs at least as much as a middling score: take the worse, averaged with the mean.
        return round((max(parts) + sum(parts) / len(parts)) / 2, 6)

    def _financial_risk(self, p: CustomerProfile) -> float:
        parts: list[float] = []
        if p.total_assets is not None and p.total_liabilities is not None:
            if p.total_assets == 0:
                parts.append(1.0 if p.total_liabilities > 0 else self.s.unknown_factor_risk)
            else:
                ratio = float(p.total_liabilities / p.total_assets)
                parts.append(min(1.0, max(0.0, (ratio - 0.4) / 0.6)))
        if p.annual_income is not None:
            low = LOW_INCOME_BASE[p.segment]
            parts.append(max(0.0, 1.0 - float(p.annual_income / (low * 4))))
        if not parts:
            return self.s.unknown_factor_risk
        return round(sum(parts) / len(parts), 6)

    def _size_risk(self, p: CustomerProfile) -> float:
        if p.segment == "individual":
            return self.s.individual_business_size_risk
        if p.business_size is None:
            return self.s.unknown_factor_risk
        return BUSINESS_SIZE_RISK[p.business_size]


def _meets(rule: KnockOutRule, p: CustomerProfile, industry_tier: str) -> bool:
    """Every condition the rule sets must hold; an unknown input never meets a condition."""
    if rule.industry_risk_in and industry_tier not in rule.industry_risk_in:
        return False
    if rule.segment_in and p.segment not in rule.segment_in:
        return False
    if rule.politically_exposed is not None and bool(p.politically_exposed) != rule.politically_exposed:
        return False
    if rule.min_overdue_count_12m is not None and (
        p.overdue_count_12m is None or p.overdue_count_12m < rule.min_overdue_count_12m
    ):
        return False
    if rule.max_credit_score is not None and (
        p.credit_score is None or p.credit_score > rule.max_credit_score
    ):
        return False
    if rule.min_liabilities_to_assets_ratio is not None:
        if p.total_liabilities is None or p.total_assets is None:
            return False
        if p.total_assets == 0:
            return p.total_liabilities > 0
        if float(p.total_liabilities / p.total_assets) < rule.min_liabilities_to_assets_ratio:
            return False
    return True
