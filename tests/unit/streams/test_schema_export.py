"""The JSON Schemas shipped in ``schemas/json`` are what the models generate: consumers can rely on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.schema_export import MESSAGE_TYPES, json_schemas

SHIPPED = Path(__file__).resolve().parents[3] / "schemas" / "json"


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_shipped_schema_matches_the_models(name: str) -> None:
    shipped = json.loads((SHIPPED / f"{name}.schema.json").read_text())
    assert shipped == json_schemas()[name], f"run `riskwatch schema --out schemas/json` to refresh {name}"


def test_alert_schema_requires_the_contract_fields() -> None:
    required = set(json_schemas()["alert"]["required"])  # type: ignore[arg-type]
    assert {
        "alert_id",
        "customer_id",
        "detector",
        "severity",
        "score",
        "risk_tier",
        "event_time",
        "detected_at",
        "trigger_event_ids",
        "reason",
        "evidence",
    } <= required
