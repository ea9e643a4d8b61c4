"""Tests against the real broker and Redis of ``riskwatch stack up``; their fixtures live in
``tests/kafka_harness.py`` (shared with tests/chaos) and are brought into scope here by importing them."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka_harness import (  # noqa: F401 - fixtures, registered by being in this module
    admin_client,
    group_id,
    kafka_conf,
    redis_client,
    runtime,
    settings,
    topic_factory,
    topics,
    workers,
)

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse integration tests without the marker, so ``-m 'not integration'`` really skips them all."""
    unmarked = [
        item.nodeid
        for item in items
        if _HERE in Path(str(item.path)).parents and item.get_closest_marker("integration") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests under tests/integration must be marked `pytestmark = pytest.mark.integration`: "
            + ", ".join(unmarked)
        )
