"""The one list of detectors: name, class, settings section and how to build it from the settings tree.

The engine builds its detectors from here, the contract suite checks every entry, and a test holds
``schemas.outputs.DETECTOR_NAMES`` (the alert's ``detector`` field, which cannot import this layer) equal to
it, so adding a detector is: its module, its settings section, one line here, its name in the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config.detection import DetectionSettings
from detectors.account_takeover import AccountTakeover
from detectors.amount_spike import AmountSpike
from detectors.base import Detector
from detectors.contact_burst import ContactChangeBurst
from detectors.large_value import LargeValue
from detectors.structuring import Structuring
from detectors.sustained_shift import SustainedShift
from detectors.tier_limit import TierLimit
from detectors.velocity import VelocitySpike


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    name: str
    cls: type[Detector[Any]]
    #: the field of ``DetectionSettings`` that holds this detector's thresholds
    section: str
    build: Callable[[DetectionSettings], Detector[Any]]


REGISTRY: tuple[DetectorSpec, ...] = (
    DetectorSpec("amount_spike", AmountSpike, "amount_spike", lambda s: AmountSpike(s.amount_spike)),
    DetectorSpec(
        "velocity_spike",
        VelocitySpike,
        "velocity_spike",
        lambda s: VelocitySpike(s.velocity_spike, s.allowed_lateness_seconds),
    ),
    DetectorSpec(
        "contact_change_burst",
        ContactChangeBurst,
        "contact_change_burst",
        lambda s: ContactChangeBurst(s.contact_change_burst, s.allowed_lateness_seconds),
    ),
    DetectorSpec(
        "account_takeover",
        AccountTakeover,
        "account_takeover",
        lambda s: AccountTakeover(s.account_takeover, s.allowed_lateness_seconds),
    ),
    DetectorSpec(
        "structuring",
        Structuring,
        "structuring",
        lambda s: Structuring(s.structuring, s.large_value.cash_threshold_base, s.allowed_lateness_seconds),
    ),
    DetectorSpec("large_value", LargeValue, "large_value", lambda s: LargeValue(s.large_value)),
    DetectorSpec("tier_limit", TierLimit, "tier_limit", lambda s: TierLimit(s.tier_limit)),
    DetectorSpec(
        "sustained_shift", SustainedShift, "sustained_shift", lambda s: SustainedShift(s.sustained_shift)
    ),
)

REGISTERED_NAMES: tuple[str, ...] = tuple(spec.name for spec in REGISTRY)


def spec(name: str) -> DetectorSpec:
    for entry in REGISTRY:
        if entry.name == name:
            return entry
    raise KeyError(f"no detector named {name!r}; registered: {', '.join(REGISTERED_NAMES)}")


def build_detectors(settings: DetectionSettings) -> list[Detector[Any]]:
    """One instance of every registered detector, in registry order (which is the order findings come in)."""
    return [entry.build(settings) for entry in REGISTRY]
