"""The chaos suite: faults injected into real worker processes and a real broker, then the outcome
checked against ``riskwatch replay``. Sized for CI (~3-4 minutes on 2 cores); ``--scale N`` runs it N
times bigger by hand. Each run's figures are printed at the end of the session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaos_harness import Figures, Traffic
from kafka_harness import (  # noqa: F401 - fixtures are registered by being in this module
    admin_client,
    group_id,
    kafka_conf,
    replay_lines,
    scenario,
    settings,
    topic_factory,
    topics,
    workers,
)

_HERE = Path(__file__).parent
_FIGURES = pytest.StashKey[list[Figures]]()


# Modules that restart the private stack's broker for a test of their own: run after every other test of
# the session, so that broker's recovery (a JVM starting, its logs recovered) does not load the shared box
# while other tests' workers race through a churn. (The broker chaos test restarts it too, as its fault.)
RUN_LAST = frozenset({"test_chaos_restore_after_broker_restart.py"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Chaos tests need the stack: without both markers ``-m 'not integration'`` would run them. The
    ``RUN_LAST`` modules' tests go to the end of the session."""
    items.sort(key=lambda item: Path(str(item.path)).name in RUN_LAST)  # stable: the rest keep their order
    unmarked = [
        item.nodeid
        for item in items
        if _HERE in Path(str(item.path)).parents
        and (item.get_closest_marker("chaos") is None or item.get_closest_marker("integration") is None)
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests under tests/chaos must be marked `pytest.mark.chaos` and `pytest.mark.integration`: "
            + ", ".join(unmarked)
        )


@pytest.fixture
def runtime() -> str:
    """The default runtime, the one the guarantees are claimed for."""
    return "confluent"


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> float:
    value = float(request.config.getoption("--scale"))
    if value <= 0:
        raise pytest.UsageError("--scale must be positive")
    return value


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """This run's figures; recorded whether the run passes or fails (a failure's figures matter most)."""
    record = Figures(test=request.node.name)
    started = time.monotonic()
    yield record
    record.seconds = time.monotonic() - started
    request.config.stash.setdefault(_FIGURES, []).append(record)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    records = config.stash.get(_FIGURES, [])
    if not records:
        return
    terminalreporter.section(f"chaos figures (--scale {config.getoption('--scale')})")
    for record in records:
        terminalreporter.write_line(record.line())


@pytest.fixture(scope="session")
def traffic(scale: float, tmp_path_factory: pytest.TempPathFactory) -> Traffic:
    """~5k events of 50 customers over 30 days with malformed lines mixed in (``--scale``: more customers)."""
    profiles, rest = scenario(customers=round(50 * scale), days=30, seed=5, malformed=8)
    alerts, letters = replay_lines(profiles + rest, tmp_path_factory.mktemp("chaos-replay"))
    assert len(alerts) >= 10, "the scenario should raise a fair number of alerts"
    assert len(letters) >= 8, "every malformed line is a dead letter in replay"
    return Traffic(profiles, rest, alerts, letters)
