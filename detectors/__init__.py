"""The detection core: pure, deterministic, event-time-driven detectors over explicit per-customer state.

Nothing here touches Kafka, Redis or the wall clock; ``streams/`` wires it to the world.
"""

from detectors.engine import Outcome, RiskEngine
from detectors.state import CustomerState

__all__ = ["CustomerState", "Outcome", "RiskEngine"]
