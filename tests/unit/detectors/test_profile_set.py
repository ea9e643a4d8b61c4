"""A labelled set of individual profiles written in a risk officer's terms (not from the weights): clearly bad
ones (poor credit, several overdue payments, a high-risk industry, liabilities far above assets, any income)
must end high, clearly good ones (good credit, no arrears, a low- or medium-risk industry, modest debt) low.
The issue's target: at least 95% of each. Without the knock-out rules a high income averaged the bad ones
down to medium, which the last test keeps visible."""

from __future__ import annotations

import random
from decimal import Decimal

from strategies import DETECTION, profile

from config.detection import ScorecardSettings
from detectors.scorecard import Scorecard
from schemas.events import CustomerProfile

HIGH_RISK_INDUSTRIES = [
    "gambling",
    "cryptocurrency",
    "money_services",
    "precious_metals",
    "arms",
    "shell_company",
]
LOW_MEDIUM_INDUSTRIES = [
    "utilities",
    "education",
    "healthcare",
    "manufacturing",
    "retail",
    "logistics",
    "trading",
]
N = 400


def bad_profiles(seed: int = 7) -> list[CustomerProfile]:
    rnd = random.Random(seed)
    out = []
    for _ in range(N):
        assets = rnd.randint(20_000, 2_000_000)
        out.append(
            profile(
                industry=rnd.choice(HIGH_RISK_INDUSTRIES),
                credit_score=rnd.randint(300, 560),  # poor
                overdue_count_12m=rnd.randint(3, 12),  # several overdue payments
                annual_income=str(rnd.choice([30_000, 120_000, 480_000, 1_500_000, 6_000_000])),
                total_assets=str(assets),
                total_liabilities=str(int(assets * rnd.uniform(2.0, 10.0))),  # far above assets
            )
        )
    return out


def good_profiles(seed: int = 11) -> list[CustomerProfile]:
    rnd = random.Random(seed)
    out = []
    for _ in range(N):
        assets = rnd.randint(50_000, 5_000_000)
        out.append(
            profile(
                industry=rnd.choice(LOW_MEDIUM_INDUSTRIES),
                credit_score=rnd.randint(720, 900),
                overdue_count_12m=0,
                annual_income=str(rnd.choice([60_000, 150_000, 400_000, 2_000_000])),
                total_assets=str(assets),
                total_liabilities=str(int(assets * rnd.uniform(0.0, 0.5))),
            )
        )
    return out


def share(card: Scorecard, profiles: list[CustomerProfile], tier: str) -> float:
    return sum(card.score(p).tier == tier for p in profiles) / len(profiles)


def test_clearly_bad_profiles_end_high() -> None:
    assert share(Scorecard(DETECTION.scorecard), bad_profiles(), "high") >= 0.95


def test_clearly_good_profiles_end_low() -> None:
    assert share(Scorecard(DETECTION.scorecard), good_profiles(), "low") >= 0.95


def test_every_knock_out_names_its_reason() -> None:
    card = Scorecard(DETECTION.scorecard)
    for p in bad_profiles()[:50]:
        result = card.score(p)
        fired = [k for k in result.factors if k.startswith("knockout.")]
        assert fired
        for key in fired:
            assert DETECTION.scorecard.knockout_rules[key.removeprefix("knockout.")].reason in result.reason


def test_a_high_income_never_cancels_a_knock_out() -> None:
    card = Scorecard(DETECTION.scorecard)
    bad = bad_profiles()[0]
    rich = bad.model_copy(update={"annual_income": Decimal(50_000_000)})
    result = card.score(rich)
    assert result.tier == "high"
    # the income did lower the weighted factors: it just cannot take the tier below the knock-out
    assert result.factors["financial_condition"] < card.score(bad).factors["financial_condition"]


def test_without_knock_outs_the_average_hides_bad_profiles() -> None:
    plain = ScorecardSettings(knockout_rules={}, politically_exposed_forces_high=False)
    assert share(Scorecard(plain), bad_profiles(), "high") < 0.95
