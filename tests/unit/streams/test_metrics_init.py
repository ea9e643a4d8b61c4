"""Labelled counters exist at zero before their first increment; only real tier moves are counted."""

from __future__ import annotations

from prometheus_client import generate_latest

from schemas.outputs import DETECTOR_NAMES
from streams.processor import REJECT_REASONS, reject_category
from streams.worker.metrics import WorkerMetrics


def _samples(metrics: WorkerMetrics, name: str) -> dict[frozenset[tuple[str, str]], float]:
    out = {}
    for family in metrics.registry.collect():
        for s in family.samples:
            if s.name == name:
                out[frozenset(s.labels.items())] = s.value
    return out


def test_every_known_label_set_is_exported_at_zero() -> None:
    metrics = WorkerMetrics.create(input_topics=("tx", "cc"))
    alerts = _samples(metrics, "riskwatch_alerts_total")
    assert len(alerts) == len(DETECTOR_NAMES) * 4
    assert set(alerts.values()) == {0.0}
    assert frozenset({("detector", "structuring"), ("severity", "critical")}) in alerts
    assert len(_samples(metrics, "riskwatch_events_rejected_total")) == len(REJECT_REASONS)
    assert {dict(k)["source"] for k in _samples(metrics, "riskwatch_dead_letters_total")} == {"tx", "cc"}
    moves = {
        (dict(k)["from_tier"], dict(k)["to_tier"]) for k in _samples(metrics, "riskwatch_tier_changes_total")
    }
    assert moves == {(a, b) for a in ("low", "medium", "high") for b in ("low", "medium", "high") if a != b}
    text = generate_latest(metrics.registry).decode()
    assert 'riskwatch_dead_letters_total{source="tx"} 0.0' in text


def test_only_real_tier_moves_are_counted() -> None:
    metrics = WorkerMetrics.create()
    metrics.count_tier_change(None, "low")  # a customer's first tier
    metrics.count_tier_change("low", "low")  # a score change within the tier
    metrics.count_tier_change("low", "high")
    counted = {k: v for k, v in _samples(metrics, "riskwatch_tier_changes_total").items() if v}
    assert counted == {frozenset({("from_tier", "low"), ("to_tier", "high")}): 1.0}


def test_every_rejection_category_is_a_known_reason() -> None:
    errors = [
        "internal: boom",
        "event: is not valid JSON",
        "currency: no conversion rate for XYZ",
        "key: 'a' does not match customer_id",
        "type: 'x' events do not belong on t",
        "amount: Field required",
        "amount: Input should be greater than 0",
        "event_id: already seen for this customer with different content",
    ]
    assert {reject_category(e) for e in errors} == set(REJECT_REASONS)


def test_a_batchs_latencies_observed_in_bulk_equal_one_observation_each() -> None:
    """The bulk path reads prometheus_client's value cells: it must export exactly what ``observe`` would,
    bucket bounds (``le`` is inclusive) and records stamped after ``done`` (clamped to 0) included."""
    done = 0.0  # latencies then equal the bucket bounds exactly
    event_times = [-0.001, -0.0025, -0.3, -45.0, 2.0, -0.0099]
    alert_times = [-0.05, -7.0]
    bulk, one_by_one = WorkerMetrics.create(), WorkerMetrics.create()
    bulk.observe_batch({"tx": 5, "cc": 1}, event_times, alert_times, done)
    for t in event_times:
        one_by_one.processing_latency.labels("event").observe(max(0.0, done - t))
    for t in alert_times:
        one_by_one.processing_latency.labels("alert").observe(max(0.0, done - t))
    one_by_one.events_consumed.labels("tx").inc(5)
    one_by_one.events_consumed.labels("cc").inc(1)
    name = "riskwatch_processing_latency_seconds_bucket"
    assert _samples(bulk, name) == _samples(one_by_one, name)
    assert any(v for v in _samples(bulk, name).values())
    total = "riskwatch_processing_latency_seconds_sum"
    assert _samples(bulk, total).keys() == _samples(one_by_one, total).keys()
    for labels, value in _samples(bulk, total).items():
        assert abs(value - _samples(one_by_one, total)[labels]) < 1e-9
    consumed = "riskwatch_events_consumed_total"
    assert _samples(bulk, consumed) == _samples(one_by_one, consumed)
