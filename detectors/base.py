"""The contract every detector keeps, checked for all of them by ``tests/unit/detectors/test_contract.py``.

A detector is a small object holding only its settings (like a river estimator's hyperparameters). Its
per-customer state is explicit: ``new_state()`` makes it, ``update()`` reads and advances it, and
``state_to_json``/``state_from_json`` round-trip it through plain JSON (never pickle).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, get_args

from mypy_extensions import mypyc_attr

from config.detection import Tier
from detectors.context import CustomerContext
from detectors.findings import Finding
from detectors.observation import Observation

S = TypeVar("S")
T = TypeVar("T")

NO_FINDINGS: list[Finding] = []

TIERS: tuple[str, ...] = get_args(Tier)


def per_tier(resolve: Callable[[str], T]) -> dict[str, T]:
    """``resolve(tier)`` for every risk tier, once, when a detector is built: detectors read their tier's
    thresholds from this table (``table[ctx.tier]``) instead of resolving settings on every event."""
    return {tier: resolve(tier) for tier in TIERS}


# the extension point: in the compiled build, detectors written in plain Python (tests' wrappers, a
# site's own) still subclass it
@mypyc_attr(allow_interpreted_subclasses=True)
class Detector(ABC, Generic[S]):
    name: ClassVar[str]
    #: which observations ``update`` can act on; the engine calls it for these kinds only
    kinds: ClassVar[frozenset[str]] = frozenset({"transaction", "contact_change"})
    #: Findings with the same dedup key within this many seconds of event time are one pattern.
    cooldown_seconds: int = 0

    @abstractmethod
    def new_state(self) -> S:
        """A cold-start state for a customer never seen before."""

    @abstractmethod
    def update(self, state: S, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        """Advance ``state`` by one event and return what it completes. Never mutates ``obs`` or ``ctx``."""

    @abstractmethod
    def state_to_json(self, state: S) -> Any:
        """Plain JSON types only."""

    @abstractmethod
    def state_from_json(self, data: Any) -> S:
        """Inverse of ``state_to_json``."""

    def state_view(self, state: S) -> Any:
        """What ``state_to_json`` gives, for immediate serialisation (the worker's changelog, once per
        changed customer per batch, was a third of its CPU): it may share lists with the live state
        instead of copying them, and tuples stand for arrays. Serialise it before the state changes."""
        return self.state_to_json(state)
