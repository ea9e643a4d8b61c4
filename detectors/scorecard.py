"""The static scorecard: a customer's profile to a 0-100 risk score, each factor's share, and a tier.

Each factor is a risk in [0, 1] (unknown inputs count as ``unknown_factor_risk``) times its weight in points.
Weights and bands are settings; defaults follow common practice for the PBoC customer risk classification:
credit record, financial condition, business size, industry risk, and politically exposed status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from config.detection import ScorecardSettings
from schemas.events import CustomerProfile, parse_event

_PROFILE_STUB = {
    "type": "customer_profile",
    "event_id": "-",
    "customer_id": "-",
    "timestamp": "2025-01-01T00:00:00Z",
}

BUSINESS_SIZE_RISK = {"micro": 1.0, "small": 0.7, "medium": 0.4, "large": 0.1}
INDUSTRY_TIER_RISK = {"high": 1.0, "medium": 0.5, "low": 0.1}
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
        risks = {
            "credit_record": self._credit_risk(p),
            "financial_condition": self._financial_risk(p),
            "business_size": self._size_risk(p),
            "industry_risk": INDUSTRY_TIER_RISK[s.industry_risk.get(p.industry.strip().lower(), "medium")],
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
        if score >= s.high_tier_min_score:
            tier = "high"
        elif score >= s.medium_tier_min_score:
            tier = "medium"
        else:
            tier = "low"
        top = max(factors, key=lambda k: factors[k])
        reason = (
            f"Scorecard {score:.1f}/100; largest factor {top.replace('_', ' ')} ({factors[top]:.1f} points)."
        )
        if p.politically_exposed and s.politically_exposed_forces_high and tier != "high":
            tier = "high"
            reason = f"Politically exposed person: high risk regardless of scorecard ({score:.1f}/100)."
        return ScoreResult(score=score, tier=tier, factors=factors, reason=reason)

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
