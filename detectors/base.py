"""The contract every detector keeps, checked for all of them by ``tests/unit/detectors/test_contract.py``.

A detector is a small object holding only its settings (like a river estimator's hyperparameters). Its
per-customer state is explicit: ``new_state()`` makes it, ``update()`` reads and advances it, and
``state_to_json``/``state_from_json`` round-trip it through plain JSON (never pickle): the readable form,
the one the contract suite compares. A detector whose state is long and regular may also give it as
compact bytes (``state_bytes``/``state_from_bytes``), which the changelog's records hold instead of its
JSON: columns of packed numbers decode in one C call each, where JSON builds an object per value.
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

    def state_bytes(self, state: S) -> bytes | None:
        """The state as compact bytes for the changelog (``detectors.state_codec``), or None to have its
        JSON written instead (the default). The bytes are the detector's own layout: their first byte
        should be a layout number that ``state_from_bytes`` checks, so that the detector can change its
        layout later and still read the bytes written before, as it reads its older JSON. They may share
        nothing with the live state that changes later (they are written at once, but may be kept)."""
        return None

    def state_from_bytes(self, data: memoryview) -> S:
        """Inverse of ``state_bytes`` (called only for bytes it gave); raises ``ValueError`` for bytes it
        cannot read."""
        raise ValueError(f"{self.name} writes no binary state")

    def state_view(self, state: S) -> Any:
        """What ``state_to_json`` gives, for immediate serialisation (the worker's changelog, once per
        changed customer per batch, was a third of its CPU): it may share lists with the live state
        instead of copying them, and tuples stand for arrays. Serialise it before the state changes."""
        return self.state_to_json(state)
