"""The key layout of the read model, in one place for the projector, the queries and the tests.

Every key starts with ``<redis.key_prefix>:rm:`` so the read model can share a Redis with other data and
be dropped by prefix. Per customer: a hash (the latest ``CustomerRisk`` and its review), a sorted set of
alert ids by event time with the alerts' JSON in a hash beside it, and the officers' dispositions of those
alerts. Across customers: sorted sets by score (all, and one per tier) and by next review date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

TIERS: tuple[str, ...] = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    @classmethod
    def for_prefix(cls, key_prefix: str) -> Keys:
        return cls(f"{key_prefix}:rm")

    # --- per customer
    def customer(self, customer_id: str) -> str:
        """Hash: ``risk`` (the CustomerRisk JSON), ``tier``, ``score``, ``next_review_due``, ``review``."""
        return f"{self.prefix}:customer:{customer_id}"

    def alert_ids(self, customer_id: str) -> str:
        """Sorted set: alert id -> event time in epoch milliseconds (the newest N are kept)."""
        return f"{self.prefix}:alert-ids:{customer_id}"

    def alerts(self, customer_id: str) -> str:
        """Hash: alert id -> the Alert JSON as published."""
        return f"{self.prefix}:alerts:{customer_id}"

    def dispositions(self, customer_id: str) -> str:
        """Hash: alert id -> the officer's latest AlertDisposition JSON."""
        return f"{self.prefix}:dispositions:{customer_id}"

    def customer_keys(self, customer_id: str) -> tuple[str, ...]:
        """Every per-customer key: what an erasure deletes."""
        return (
            self.customer(customer_id),
            self.alert_ids(customer_id),
            self.alerts(customer_id),
            self.dispositions(customer_id),
        )

    # --- across customers
    @property
    def by_score(self) -> str:
        """Sorted set: customer id -> risk score (0-100), every customer with a CustomerRisk."""
        return f"{self.prefix}:by-score"

    def by_tier(self, tier: str) -> str:
        """Sorted set: customer id -> risk score, the customers currently in ``tier``."""
        return f"{self.prefix}:tier:{tier}"

    @property
    def rows(self) -> str:
        """Hash: customer id -> its list row as JSON (customer_id, tier, score, next_review_due), so a
        list of N customers is one HMGET of ready-made rows."""
        return f"{self.prefix}:rows"

    @property
    def reviews(self) -> str:
        """Sorted set: customer id -> next review due date as a day number (``review_day``)."""
        return f"{self.prefix}:reviews"

    @property
    def erased(self) -> str:
        """Hash: keyed hash of an erased customer's id -> record timestamp (ms) of its erasure tombstone.

        Alerts of an erased customer stay on the alerts topic; the projector reads that topic apart from
        customer-risk, so it needs the time of the erasure to skip alerts that predate it.
        """
        return f"{self.prefix}:erased"

    @property
    def offsets(self) -> str:
        """Hash: ``topic|partition`` -> the next offset to apply; written in the same MULTI as the data."""
        return f"{self.prefix}:offsets"

    @property
    def skipped(self) -> str:
        """Hash: topic -> records that could not be decoded (logged and counted, never applied)."""
        return f"{self.prefix}:skipped"

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of the read model."""
        return f"{self.prefix}:*"


def offset_field(topic: str, partition: int) -> str:
    return f"{topic}|{partition}"


def review_day(day: date) -> int:
    """A date as a sorted-set score: its proleptic Gregorian ordinal (exact in a double)."""
    return day.toordinal()


def day_from_score(score: float) -> date:
    return date.fromordinal(int(score))
