"""The static scorecard and the CustomerRisk it produces through the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from strategies import DETECTION, HIGH_RISK, LOW_RISK, MEDIUM_RISK, at, feed, profile, tier_profile, tx

from detectors.engine import RiskEngine
from detectors.scorecard import Scorecard

S = DETECTION.scorecard


@pytest.mark.parametrize(
    ("fields", "tier"), [(LOW_RISK, "low"), (MEDIUM_RISK, "medium"), (HIGH_RISK, "high")]
)
def test_tiers(fields: dict, tier: str) -> None:
    result = Scorecard(S).score(profile(**fields))
    assert result.tier == tier
    assert 0 <= result.score <= 100
    assert sum(result.factors.values()) == pytest.approx(result.score, abs=0.05)


def test_politically_exposed_forces_high() -> None:
    result = Scorecard(S).score(profile(politically_exposed=True, **LOW_RISK))
    lift = result.factors["knockout.politically_exposed"]
    # the weighted factors alone are low; the knock-out lifts the score to the bottom of the high band
    assert result.score - lift < S.medium_tier_min_score
    assert result.score == S.high_tier_min_score
    assert result.tier == "high"
    assert "Politically exposed" in result.reason


def test_unknown_industry_counts_as_medium_and_names_are_normalised() -> None:
    card = Scorecard(S)
    unknown = card.score(profile(industry="widgets")).factors["industry_risk"]
    retail = card.score(profile(industry="retail")).factors["industry_risk"]
    assert unknown == retail
    assert card.score(profile(industry=" Gambling ")).factors["industry_risk"] == S.weight_industry_risk


@pytest.mark.parametrize(("tier", "days"), [("high", 180), ("medium", 365), ("low", 730)])
def test_customer_risk_next_review_due(tier: str, days: int) -> None:
    when = datetime(2024, 3, 4, 1, tzinfo=UTC)
    run = feed(RiskEngine(DETECTION), [tier_profile(tier, when)])
    (risk,) = run.risks
    assert risk.tier == tier
    assert risk.previous_tier is None
    assert risk.next_review_due == date(2024, 3, 4) + timedelta(days=days)
    assert risk.updated_at == when


def test_next_review_due_uses_the_reporting_day() -> None:
    when = datetime(2024, 3, 4, 23, 30, tzinfo=UTC)  # already 5 March in Shanghai
    (risk,) = feed(RiskEngine(DETECTION), [tier_profile("high", when)]).risks
    assert risk.next_review_due == date(2024, 3, 5) + timedelta(days=180)


def test_emitted_on_change_only() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [tier_profile("low", at(days=1)), tier_profile("low", at(days=2))])
    assert len(run.risks) == 1  # same score again: nothing to emit
    feed(engine, [tier_profile("high", at(days=3))], run)
    assert [(r.previous_tier, r.tier) for r in run.risks] == [(None, "low"), ("low", "high")]
    assert "low -> high" in run.risks[-1].reason
    # A score change within the same tier is emitted too.
    feed(engine, [profile(at(days=4), **{**HIGH_RISK, "credit_score": 330})], run)
    assert len(run.risks) == 3
    assert run.risks[-1].previous_tier == run.risks[-1].tier == "high"


def test_older_profile_arriving_late_is_ignored() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [tier_profile("high", at(days=5)), tier_profile("low", at(days=1))])
    assert [r.tier for r in run.risks] == ["high"]
    assert run.state.ctx.tier == "high"


def test_alerts_carry_the_tier_at_the_time() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(
        engine,
        [
            tx("60000", at(0), channel="cash"),
            tier_profile("high", at(60)),
            tx("60000", at(120), channel="cash"),
        ],
    )
    assert [a.risk_tier for a in run.alerts if a.detector == "large_value"] == ["medium", "high"]


def test_the_tier_bands_include_their_lower_bound() -> None:
    """A score of exactly 70 is high and of exactly 40 medium (README: >= 70 high, >= 40 medium)."""
    card = Scorecard(S)
    high, medium = S.high_tier_min_score, S.medium_tier_min_score
    assert [card.band(x) for x in (high, high - 0.01, medium, medium - 0.01)] == ["high", "medium", "medium", "low"]  # fmt: skip


def test_the_credit_record_points() -> None:
    """Credit record (35 points): a score of 600 is half the risk (900 best, 300 worst), three overdue
    payments in 12 months the full risk, one a third; with both, the worse averaged with their mean."""
    card = Scorecard(S)
    weight = S.weight_credit_record

    def points(**fields: object) -> float:
        return card.score(profile(**fields)).factors["credit_record"]

    assert points(credit_score=600) == pytest.approx(weight * 0.5, abs=0.01)
    assert points(overdue_count_12m=1) == pytest.approx(weight / 3, abs=0.01)
    assert points(overdue_count_12m=5) == pytest.approx(weight, abs=0.01)
    both = (0.5 + (0.5 + 1 / 3) / 2) / 2
    assert points(credit_score=600, overdue_count_12m=1) == pytest.approx(weight * both, abs=0.01)


def test_no_assets_is_the_full_financial_risk_only_with_debts() -> None:
    """Financial condition (25 points): liabilities and no assets at all is the worst case; no assets and
    no liabilities says nothing (the unknown factor's risk)."""
    card = Scorecard(S)
    indebted = card.score(profile(total_assets="0", total_liabilities="1000")).factors["financial_condition"]
    empty = card.score(profile(total_assets="0", total_liabilities="0")).factors["financial_condition"]
    assert indebted == pytest.approx(S.weight_financial_condition)
    assert empty == pytest.approx(S.weight_financial_condition * S.unknown_factor_risk)


def test_a_politically_exposed_person_carries_the_factors_weight() -> None:
    result = Scorecard(S).score(profile(politically_exposed=True, **LOW_RISK))
    assert result.factors["politically_exposed"] == pytest.approx(S.weight_politically_exposed)
