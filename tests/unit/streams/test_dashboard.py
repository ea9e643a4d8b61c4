"""The shipped Grafana dashboard only queries metrics the worker really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import generate_latest

from streams.worker.metrics import WorkerMetrics

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "dashboards" / "riskwatch.json"


def test_every_dashboard_query_names_an_exported_metric() -> None:
    metrics = WorkerMetrics.create()
    # touch every labelled metric once so each series family appears in the exposition
    metrics.events_consumed.labels("t").inc()
    metrics.events_rejected.labels("invalid_json").inc()
    metrics.dead_letters.labels("t").inc()
    metrics.alerts.labels("large_value", "medium").inc()
    metrics.tier_changes.labels("low", "high").inc()
    metrics.processing_latency.labels("event").observe(0.01)
    metrics.consumer_lag.labels("t", "0").set(1)
    metrics.rebalances.labels("assign").inc()
    metrics.state_memory.labels("records").set(1)
    exported = set(re.findall(r"^(riskwatch_[a-z_]+)", generate_latest(metrics.registry).decode(), re.M))
    panels = json.loads(DASHBOARD.read_text())["panels"]
    queried = {
        name for p in panels for t in p["targets"] for name in re.findall(r"riskwatch_[a-z_]+", t["expr"])
    }
    assert queried, "the dashboard queries nothing"
    assert queried <= exported, sorted(queried - exported)
