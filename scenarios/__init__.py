"""Labelled, seeded, deterministic synthetic bank traffic for riskwatch.

``generate(ScenarioConfig(...))`` returns a time-ordered stream of contract-valid input events (plain dicts)
and one label per pattern (injected ones, and what the law or the bank's limits require reporting). Pure
Python and blind to the detectors: nothing here imports ``config``, ``detectors`` or their settings (a unit
test checks), so a quality figure on this traffic cannot be tuned by the generator reading thresholds.
"""

from scenarios.generator import Label, Scenario, ScenarioConfig, generate

__all__ = ["Label", "Scenario", "ScenarioConfig", "generate"]
