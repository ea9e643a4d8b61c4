"""``riskwatch schema``: the JSON Schema of every message, generated from the pydantic models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter

from config.settings import Settings
from schemas.events import (
    ContactChange,
    CustomerProfile,
    ErasureRequest,
    InputEvent,
    ReviewCompleted,
    RiskOverride,
    Transaction,
)
from schemas.outputs import Alert, AlertDisposition, CustomerRisk, DeadLetter, ReviewDue

MESSAGE_TYPES: dict[str, Any] = {
    "transaction": Transaction,
    "contact_change": ContactChange,
    "customer_profile": CustomerProfile,
    "risk_override": RiskOverride,
    "review_completed": ReviewCompleted,
    "erasure_request": ErasureRequest,
    "input_event": InputEvent,
    "alert": Alert,
    "customer_risk": CustomerRisk,
    "dead_letter": DeadLetter,
    "review_due": ReviewDue,
    "alert_disposition": AlertDisposition,
}


OUTPUTS = frozenset({"alert", "customer_risk", "dead_letter", "review_due", "alert_disposition"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, required=True, help="directory to write NAME.schema.json files into"
    )


def json_schemas() -> dict[str, dict[str, object]]:
    schemas: dict[str, dict[str, object]] = {}
    for name, model in MESSAGE_TYPES.items():
        mode: Literal["validation", "serialization"] = "serialization" if name in OUTPUTS else "validation"
        schema = TypeAdapter(model).json_schema(mode=mode)
        schema["$id"] = f"https://riskwatch.dev/schemas/v1/{name}.schema.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schemas[name] = schema
    return schemas


def run(args: argparse.Namespace, settings: Settings) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        (out / f"{name}.schema.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        print(out / f"{name}.schema.json")
    return 0
