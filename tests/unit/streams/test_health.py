"""The worker's HTTP endpoint serves metrics, liveness and readiness."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from streams.worker.health import Health, serve
from streams.worker.metrics import WorkerMetrics


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Health, WorkerMetrics]]:
    metrics = WorkerMetrics.create()
    health = Health(stall_seconds=60.0)
    server = serve("127.0.0.1", 0, metrics.registry, health)
    yield f"http://127.0.0.1:{server.server_address[1]}", health, metrics
    server.shutdown()
    server.server_close()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_metrics_liveness_and_readiness(endpoint: tuple[str, Health, WorkerMetrics]) -> None:
    base, health, metrics = endpoint
    metrics.alerts.labels("large_value", "medium").inc()
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:  # noqa: S310
        body = response.read().decode()
    assert 'riskwatch_alerts_total{detector="large_value",severity="medium"} 1.0' in body
    assert status(base + "/healthz") == 200
    assert status(base + "/readyz") == 503  # no partitions assigned yet
    health.ready = True
    assert status(base + "/readyz") == 200
    health.last_beat -= 120  # the loop has not turned for two minutes
    assert status(base + "/healthz") == 503
    assert status(base + "/readyz") == 503
    assert status(base + "/nope") == 404
