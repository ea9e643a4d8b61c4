"""Labelled, seeded, deterministic synthetic bank traffic for riskwatch.

``generate(ScenarioConfig(...))`` returns a time-ordered stream of contract-valid input events (plain dicts)
and one label per injected fraud/AML pattern. Pure Python; depends only on ``config`` and ``schemas``.
"""

from scenarios.generator import Label, Scenario, ScenarioConfig, generate

__all__ = ["Label", "Scenario", "ScenarioConfig", "generate"]
