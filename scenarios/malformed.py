"""A few malformed lines for replay and dead-letter demos: each broken in one readable way."""

from __future__ import annotations

import json
import random
from typing import Any


def malformed_lines(rng: random.Random, template: dict[str, Any], n: int) -> list[str]:
    """``n`` bad lines built from a valid transaction ``template`` (never mutated)."""
    makers = (
        lambda e: json.dumps(e)[: len(json.dumps(e)) // 2],  # truncated JSON
        lambda e: json.dumps({k: v for k, v in e.items() if k != "customer_id"}),  # missing customer_id
        lambda e: json.dumps({**e, "amount": "-12.50"}),  # negative amount
        lambda e: json.dumps({**e, "currency": "XTS"}),  # no conversion rate configured
        lambda e: json.dumps({**e, "timestamp": e["timestamp"][:19]}),  # no offset
        lambda e: json.dumps({**e, "type": "refund"}),  # unknown event type
        lambda e: json.dumps({**e, "direction": "sideways"}),
        lambda e: "not json at all",
    )
    out = []
    for i in range(n):
        event = {**template, "event_id": f"{template['event_id']}-bad{i}"}
        out.append(makers[i % len(makers)](event) if i < len(makers) else rng.choice(makers)(event))
    return out
