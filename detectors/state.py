"""All that riskwatch remembers about one customer, and nothing else: the unit of durable state.

Every part is bounded (windows, id memory, counterparties, baselines), so memory grows with customers,
not with events. ``RiskEngine.state_to_json``/``state_from_json`` turn it into plain JSON and back.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Final

from detectors.context import CustomerContext
from detectors.id_text import SEP as _SEP
from detectors.id_text import escape as _escape
from detectors.id_text import split as _split_ids
from detectors.riskbook import Book

# the fingerprint of an event remembered before fingerprints were kept (state format 3 and older)
FINGERPRINT_WIDTH: Final = 4
UNKNOWN_FINGERPRINT = bytes(FINGERPRINT_WIDTH)
# lookups a freshly decoded memory answers by search alone before it builds its filter: a customer the
# worker decodes for one or two events would spend more building it than searching
_LOOKUPS_BEFORE_FILTER = 4


@dataclass(slots=True)
class SeenEvents:
    """The last N event ids of a customer, each with a fingerprint of its content (4 bytes of a keyed
    hash: compact, and no contact value can be recovered from it), so a redelivered event is counted once
    and an id reused for different content is told apart from a redelivery.

    The ids are one string and the fingerprints one byte string, both oldest first, rather than an object
    per id: a decoded customer is some 15 KB smaller, decoding one takes both as the record holds them, and
    finding an id is one search of a kilobyte or two, once per event.

    Nearly every event is new, so the search nearly always fails, and it is the slowest part of
    deduplication (every separator and the ids' shared prefix match its first characters).
    A customer kept decoded past a few events (replay, the worker's decoded cache) therefore also gets a
    one-bit-per-slot filter of the ids' hashes (``_filter``, a few hundred bytes, never stored): an id
    whose bit is clear is not remembered, and only an id whose bit is set is searched for. Evicted ids
    keep their bits until the filter is rebuilt, which only makes the exact search run more often; the
    filter decides no answer, so no output depends on it (nor on the process's string hash seed)."""

    max_ids: int
    # "\0id\0id\0...": each id escaped, then the separator, after a leading one; the newest id last
    text: str = _SEP
    fingerprints: bytearray = field(default_factory=bytearray)
    count: int = 0
    # the filter of the ids' hashes (one bit set per id added since it was built), or None before it is
    _filter: bytearray | None = field(default=None, repr=False, compare=False)
    # ids evicted since the filter was built (their bits still set), or lookups made without a filter
    _stale: int = field(default=0, repr=False, compare=False)

    def __init__(  # written out: compiled (see ``detectors.observation``); one per decoded customer
        self, max_ids: int, text: str = _SEP, fingerprints: bytearray | None = None, count: int = 0
    ) -> None:
        self.max_ids = max_ids
        self.text = text
        self.fingerprints = bytearray() if fingerprints is None else fingerprints
        self.count = count
        self._filter = None
        self._stale = 0

    def _index(self, event_id: str) -> int:
        """The position of the newest occurrence of ``event_id``, or -1."""
        bits = self._filter
        if bits is None:
            self._stale += 1
            if self._stale >= _LOOKUPS_BEFORE_FILTER:
                bits = self._build_filter()
        if bits is not None:
            slot = hash(event_id) & (len(bits) * 8 - 1)
            if not bits[slot >> 3] & (1 << (slot & 7)):
                return -1
        at = self.text.rfind(_SEP + _escape(event_id) + _SEP)
        return -1 if at < 0 else self.text.count(_SEP, 0, at)

    def _build_filter(self) -> bytearray:
        """The filter of the ids now remembered: 16 slots an id (so with as many evicted ids still set, an
        eighth of the slots at most), a power of two, for a mask."""
        size = 64
        while size * 8 < 16 * self.max_ids:
            size *= 2
        bits = bytearray(size)
        mask = size * 8 - 1
        for event_id in _split_ids(self.text):
            slot = hash(event_id) & mask
            bits[slot >> 3] |= 1 << (slot & 7)
        self._filter = bits
        self._stale = 0
        return bits

    def __contains__(self, event_id: str) -> bool:
        return self._index(event_id) >= 0

    def fingerprint(self, event_id: str) -> bytes | None:
        i = self._index(event_id)
        if i < 0:
            return None
        return bytes(self.fingerprints[i * FINGERPRINT_WIDTH : (i + 1) * FINGERPRINT_WIDTH])

    def add(self, event_id: str, fingerprint: bytes = UNKNOWN_FINGERPRINT) -> None:
        if len(fingerprint) != FINGERPRINT_WIDTH:
            raise ValueError(f"an event fingerprint has {FINGERPRINT_WIDTH} bytes, not {len(fingerprint)}")
        self.text += _escape(event_id) + _SEP
        self.fingerprints += fingerprint
        self.count += 1
        bits = self._filter
        if bits is not None:
            slot = hash(event_id) & (len(bits) * 8 - 1)
            bits[slot >> 3] |= 1 << (slot & 7)
        if self.count > self.max_ids:
            self.text = self.text[self.text.index(_SEP, 1) :]
            del self.fingerprints[:FINGERPRINT_WIDTH]
            self.count -= 1
            if bits is not None:
                self._stale += 1
                if self._stale >= self.max_ids:  # as many stale bits as live ones: start afresh
                    self._build_filter()

    @property
    def order(self) -> list[str]:
        """The ids, oldest first."""
        return _split_ids(self.text) if self.count else []

    def fingerprints_blob(self) -> str:
        """All fingerprints in id order as one base64 string (~6 bytes of JSON per id, not a list)."""
        return base64.b64encode(self.fingerprints).decode("ascii")

    def fingerprints_bytes(self) -> bytes:
        """All fingerprints in id order, 4 bytes each (the binary state record's column)."""
        return bytes(self.fingerprints)

    def restore(self, event_ids: list[str], fingerprints: list[bytes]) -> None:
        """Refill an empty memory in one go (a decoded state): as ``add`` of each pair in order."""
        kept = event_ids[-self.max_ids :]
        self.text = _SEP + "".join(_escape(i) + _SEP for i in kept)
        self.fingerprints = bytearray(b"".join(fingerprints[len(fingerprints) - len(kept) :]))
        self.count = len(kept)
        self._filter = None
        self._stale = 0

    def restore_text(self, text: str, fingerprints: bytes) -> None:
        """Refill an empty memory from another's ``text`` and ``fingerprints`` (a binary record's columns)."""
        count = text.count(_SEP) - 1
        if (
            not text.startswith(_SEP)
            or not text.endswith(_SEP)
            or len(fingerprints) != FINGERPRINT_WIDTH * count
        ):
            raise ValueError("event ids and fingerprints differ in number")
        if count > self.max_ids:
            ids = _split_ids(text)
            self.restore(
                ids,
                [
                    fingerprints[k : k + FINGERPRINT_WIDTH]
                    for k in range(0, len(fingerprints), FINGERPRINT_WIDTH)
                ],
            )
            return
        self.text = text
        self.fingerprints = bytearray(fingerprints)
        self.count = count
        self._filter = None
        self._stale = 0


@dataclass(slots=True)
class CustomerState:
    ctx: CustomerContext
    seen: SeenEvents
    # "detector|dedup_key" -> [event time of the last alert, its severity rank]
    cooldowns: dict[str, list[float]]
    detectors: dict[str, Any]
    events_processed: int = 0
    book: Book = field(default_factory=Book)

    def __init__(  # written out: compiled (see ``detectors.observation``); one per decoded customer
        self,
        ctx: CustomerContext,
        seen: SeenEvents,
        cooldowns: dict[str, list[float]],
        detectors: dict[str, Any],
        events_processed: int = 0,
        book: Book | None = None,
    ) -> None:
        self.ctx = ctx
        self.seen = seen
        self.cooldowns = cooldowns
        self.detectors = detectors
        self.events_processed = events_processed
        self.book = Book() if book is None else book
