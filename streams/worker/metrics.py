"""All Prometheus metrics of a worker as one bundle, created against an injected registry (no globals).

Every labelled counter starts with a zero series for each label set it can take: a series that first
appears at its first increment has no earlier sample, so ``increase()``/``rate()`` miss that increment (a
Grafana "dead letters (1h)" panel showed 0 with two real dead letters) and an alerting rule cannot tell
"none yet" from "not exported".
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from schemas.common import SEVERITY_RANK, TIER_RANK
from schemas.outputs import DETECTOR_NAMES
from streams.processor import REJECT_REASONS

LATENCY_OUTCOMES = ("event", "alert")
REBALANCE_KINDS = ("assign", "revoke")
LATENCY_BUCKETS_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class WorkerMetrics:
    registry: CollectorRegistry
    events_consumed: Counter
    events_rejected: Counter
    dead_letters: Counter
    dead_letters_stripped: Counter
    duplicates: Counter
    alerts: Counter
    tier_changes: Counter
    processing_latency: Histogram
    batch_duration: Histogram
    commit_duration: Histogram
    batch_size: Histogram
    consumer_lag: Gauge
    customers_in_state: Gauge
    state_memory: Gauge
    assigned_partitions: Gauge
    rebalances: Counter
    transactions_aborted: Counter
    state_restore_seconds: Histogram
    state_bytes_written: Counter

    @classmethod
    def create(
        cls, registry: CollectorRegistry | None = None, input_topics: tuple[str, ...] = ()
    ) -> WorkerMetrics:
        """The bundle, with zero series for every detector x severity, rejection reason, real tier move
        and, for ``input_topics``, every topic consumed and dead-lettered."""
        metrics = cls._new(registry if registry is not None else CollectorRegistry())
        for detector in DETECTOR_NAMES:
            for severity in SEVERITY_RANK:
                metrics.alerts.labels(detector, severity)
        for reason in REJECT_REASONS:
            metrics.events_rejected.labels(reason)
        for before in TIER_RANK:
            for after in TIER_RANK:
                if before != after:
                    metrics.tier_changes.labels(before, after)
        for topic in input_topics:
            metrics.events_consumed.labels(topic)
            metrics.dead_letters.labels(topic)
            metrics.dead_letters_stripped.labels(topic)
        for outcome in LATENCY_OUTCOMES:
            metrics.processing_latency.labels(outcome)
        for kind in REBALANCE_KINDS:
            metrics.rebalances.labels(kind)
        return metrics

    def observe_batch(
        self,
        consumed: dict[str, int],
        event_times: Sequence[float],
        alert_times: Sequence[float],
        done: float,
    ) -> None:
        """A committed batch's input counts and the latency of each of its records (``done`` minus the
        record's timestamp; all epoch seconds), observed in bulk: one ``observe`` per record was a
        measurable share of the worker's CPU per event (a lock and a bucket scan each)."""
        for topic, n in consumed.items():
            self.events_consumed.labels(topic).inc(n)
        observe_latencies(self.processing_latency.labels("event"), event_times, done)
        if alert_times:
            observe_latencies(self.processing_latency.labels("alert"), alert_times, done)

    def count_tier_change(self, previous: str | None, tier: str) -> None:
        """Only a real move counts: a customer's first tier and a score change within a tier do not."""
        if previous is not None and previous != tier:
            self.tier_changes.labels(previous, tier).inc()

    @classmethod
    def _new(cls, r: CollectorRegistry) -> WorkerMetrics:
        p = "riskwatch_"
        return cls(
            registry=r,
            events_consumed=Counter(p + "events_consumed", "Input messages consumed", ["topic"], registry=r),
            events_rejected=Counter(
                p + "events_rejected",
                "Input messages rejected to the dead-letter topic",
                ["reason"],
                registry=r,
            ),
            dead_letters=Counter(p + "dead_letters", "Dead letters produced", ["source"], registry=r),
            dead_letters_stripped=Counter(
                p + "dead_letters_stripped",
                "Dead letters the producer refused, produced again without their raw message",
                ["source"],
                registry=r,
            ),
            duplicates=Counter(
                p + "duplicate_events", "Redelivered events (same event_id) skipped", registry=r
            ),
            alerts=Counter(p + "alerts", "Alerts produced", ["detector", "severity"], registry=r),
            tier_changes=Counter(
                p + "tier_changes",
                "Customers moved from one risk tier to another",
                ["from_tier", "to_tier"],
                registry=r,
            ),
            processing_latency=Histogram(
                p + "processing_latency_seconds",
                "Kafka message timestamp of the input to its output committed (outcome=alert: alerts only)",
                ["outcome"],
                buckets=LATENCY_BUCKETS_SECONDS,
                registry=r,
            ),
            batch_duration=Histogram(
                p + "batch_duration_seconds",
                "Processing plus transaction commit time of one micro-batch",
                buckets=LATENCY_BUCKETS_SECONDS,
                registry=r,
            ),
            commit_duration=Histogram(
                p + "transaction_commit_seconds",
                "Of a micro-batch's time, the offsets sent to its transaction and the commit",
                buckets=LATENCY_BUCKETS_SECONDS,
                registry=r,
            ),
            batch_size=Histogram(
                p + "batch_size_messages",
                "Messages per micro-batch",
                buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
                registry=r,
            ),
            consumer_lag=Gauge(
                p + "consumer_lag_messages",
                "High watermark minus position",
                ["topic", "partition"],
                registry=r,
            ),
            customers_in_state=Gauge(p + "customers_in_state", "Customers held in memory", registry=r),
            # labelled, so the faust runtime (a count-bound cache, no budget) exports none of it
            state_memory=Gauge(
                p + "state_memory_bytes",
                "Estimated memory of the customer state (part: records, decoded; budget: "
                "worker.state_memory_budget_mib), after each batch's eviction",
                ["part"],
                registry=r,
            ),
            assigned_partitions=Gauge(p + "assigned_partitions", "Input partitions assigned", registry=r),
            rebalances=Counter(
                p + "rebalances", "Partition assignments and revocations", ["kind"], registry=r
            ),
            transactions_aborted=Counter(
                p + "transactions_aborted", "Kafka transactions aborted and retried", registry=r
            ),
            state_restore_seconds=Histogram(
                p + "state_restore_seconds",
                "Time to restore a partition's customer state from the changelog",
                buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
                registry=r,
            ),
            state_bytes_written=Counter(
                p + "state_changelog_bytes", "Bytes of customer state written to the changelog", registry=r
            ),
        )


def observe_latencies(histogram: Any, times: Sequence[float], done: float) -> None:
    """``histogram.observe(max(0, done - t))`` for each of ``times``, with one increment per bucket and one
    for the sum instead of one locked update per value. The child histogram's value cells are
    prometheus_client's, not its public API: should a release rename them, the per-value path is taken."""
    buckets = getattr(histogram, "_buckets", None)
    bounds = getattr(histogram, "_upper_bounds", None)
    total = getattr(histogram, "_sum", None)
    if buckets is None or bounds is None or total is None or len(buckets) != len(bounds):
        for t in times:
            histogram.observe(max(0.0, done - t))
        return
    counts = [0] * len(bounds)
    latency_sum = 0.0
    for t in times:
        latency = done - t
        if latency < 0.0:
            latency = 0.0
        latency_sum += latency
        counts[bisect_left(bounds, latency)] += 1  # the first bucket whose bound is >= the latency
    for cell, n in zip(buckets, counts, strict=True):
        if n:
            cell.inc(n)
    total.inc(latency_sum)
