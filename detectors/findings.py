"""What a detector returns: a finding, which the engine turns into an ``Alert`` after deduplication."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.common import SEVERITY_RANK


@dataclass(frozen=True, slots=True)
class Finding:
    detector: str
    severity: str
    score: float
    trigger_event_ids: tuple[str, ...]
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # One pattern, one alert: findings with the same key within the detector's cooldown are one pattern.
    dedup_key: str = ""
    # Whether the triggering event should stay out of the customer's learned baseline.
    anomalous_amount: bool = False
    # Earlier events already learned that turn out to be part of the anomaly (taken back out when it alerts).
    unlearn_event_ids: tuple[str, ...] = ()
    # Event time (epoch seconds) of the pattern's completing event, its last trigger, when that may not be
    # the event being processed: an earlier event consumed late (another topic) can finish a pattern, and
    # the alert's ``event_time`` and its cooldown must not depend on which arrived first, or the stream
    # would differ from replay. None: the event being processed.
    completed_at: float | None = None

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]


def past_threshold_score(value: float, threshold: float) -> float:
    """0 at the threshold, 0.5 at twice it, towards 1 far past it: comparable within one detector."""
    if threshold <= 0 or value <= threshold:
        return 0.0
    return round(min(1.0, 1.0 - threshold / value), 6)


def severity_by_ratio(ratio: float, steps: tuple[float, float], low: str = "medium") -> str:
    """Severity rises one level at each step of value/threshold: below steps[0] ``low``, then up."""
    order = ["low", "medium", "high", "critical"]
    start = order.index(low)
    level = start + (ratio >= steps[0]) + (ratio >= steps[1])
    return order[min(level, 3)]
