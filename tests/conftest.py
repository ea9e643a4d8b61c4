"""Shared test setup: a deterministic Hypothesis profile, so CI runs are repeatable and fast; the chaos
suite's ``--scale`` option."""

import os

import pytest
from hypothesis import HealthCheck, settings

# one private stack per session, shared by tests/chaos and tests/integration (a conftest of each would
# start one each)
from kafka_harness import private_stack  # noqa: F401 - a fixture, registered by being in this module

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=30,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    # here, not in tests/chaos/conftest.py: pytest reads options only from conftests loaded at start-up
    parser.addoption(
        "--scale",
        type=float,
        default=1.0,
        help="run the chaos suite (tests/chaos) this many times bigger: more events, more faults "
        "(1 = the CI size; 15 = the 500k-event backlog)",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    """A compiled build older than its sources would test the old code: stop with the one line that says
    so (an editable install keeps the compiled modules beside the .py files; see README *The compiled
    build*)."""
    from streams.build_info import stale_line, stale_sources

    stale = stale_sources()
    if stale:
        raise pytest.UsageError(stale_line(stale))
