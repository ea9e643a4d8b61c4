"""Shared test setup: a deterministic Hypothesis profile, so CI runs are repeatable and fast; the chaos
suite's ``--scale`` option."""

import os
from pathlib import Path

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


def children_left(parent: int) -> list[str]:
    """``pid (state): command line`` of every process ``parent`` started that still runs or that nobody
    collected (a zombie: its ``Popen`` was never waited for)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(errors="replace").rsplit(")", 1)[-1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == parent:
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{stat.parent.name} ({fields[0]}): {command[:160]}")
    return sorted(found)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After the session's fixtures are torn down (the private stack too): a process the tests started
    that is still running or was never collected fails the run, named. Its ``Popen`` would only warn
    ("subprocess N is still running") at interpreter exit, after the summary, where nobody reads it."""
    left = children_left(os.getpid())
    if left:
        title = "processes the tests started are still running or were never collected"
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", title, red=True)
            for line in left:
                reporter.write_line(line, red=True)
        else:
            print(title + ":\n  " + "\n  ".join(left))
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
