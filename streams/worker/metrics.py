"""All Prometheus metrics of a worker as one bundle, created against an injected registry (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class WorkerMetrics:
    registry: CollectorRegistry
    events_consumed: Counter
    events_rejected: Counter
    dead_letters: Counter
    duplicates: Counter
    alerts: Counter
    tier_changes: Counter
    processing_latency: Histogram
    batch_duration: Histogram
    batch_size: Histogram
    consumer_lag: Gauge
    customers_in_state: Gauge
    assigned_partitions: Gauge
    rebalances: Counter
    transactions_aborted: Counter
    state_restore_seconds: Histogram
    state_bytes_written: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> WorkerMetrics:
        r = registry if registry is not None else CollectorRegistry()
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
            duplicates=Counter(
                p + "duplicate_events", "Redelivered events (same event_id) skipped", registry=r
            ),
            alerts=Counter(p + "alerts", "Alerts produced", ["detector", "severity"], registry=r),
            tier_changes=Counter(
                p + "tier_changes", "Customer risk tier changes", ["from_tier", "to_tier"], registry=r
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
