"""The label format: one JSON object per labelled pattern (see the README, *Labelled history*).

Only what identifies a pattern is required, so a risk team can label its own history with a few fields;
the rest (strength, band, segment, history) makes the curves and is optional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

REQUIRED = ("pattern_id", "kind", "customer_id", "event_ids", "expected_detector")


class LabelError(ValueError):
    """A label that cannot be used; the message names the field."""


@dataclass(frozen=True, slots=True)
class PatternLabel:
    pattern_id: str
    kind: str
    customer_id: str
    event_ids: tuple[str, ...]
    expected_detector: str
    #: how strong the pattern is, in ``strength_unit`` (e.g. 12.0 "x_median"); None when not labelled
    strength: float | None = None
    strength_unit: str | None = None
    #: whether a risk officer would call the pattern suspicious at this strength (weak cases are False)
    suspicious: bool = True
    segment: str | None = None
    #: the customer's number of debits before the pattern
    history_debits: int | None = None
    start: str | None = None


def parse_label(data: Any) -> PatternLabel:
    if not isinstance(data, dict):
        raise LabelError("a label must be a JSON object")
    for name in REQUIRED:
        if name not in data:
            raise LabelError(f"{name}: missing")
    for name in ("pattern_id", "kind", "customer_id", "expected_detector"):
        if not isinstance(data[name], str) or not data[name]:
            raise LabelError(f"{name}: must be a non-empty string")
    ids = data["event_ids"]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise LabelError("event_ids: must be a non-empty list of strings")
    strength = data.get("strength")
    if strength is not None:
        if isinstance(strength, bool) or not isinstance(strength, int | float) or not math.isfinite(strength):
            raise LabelError("strength: must be a finite number")
        strength = float(strength)
    suspicious = data.get("suspicious", True)
    if not isinstance(suspicious, bool):
        raise LabelError("suspicious: must be true or false")
    history = data.get("history_debits")
    if history is not None and (isinstance(history, bool) or not isinstance(history, int) or history < 0):
        raise LabelError("history_debits: must be a non-negative integer")
    for name in ("strength_unit", "segment", "start"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise LabelError(f"{name}: must be a string")
    return PatternLabel(
        pattern_id=data["pattern_id"],
        kind=data["kind"],
        customer_id=data["customer_id"],
        event_ids=tuple(ids),
        expected_detector=data["expected_detector"],
        strength=strength,
        strength_unit=data.get("strength_unit"),
        suspicious=suspicious,
        segment=data.get("segment"),
        history_debits=history,
        start=data.get("start"),
    )
