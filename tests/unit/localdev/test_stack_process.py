"""The local stack's detached children: stopped ones are collected so that nothing warns at exit."""

from __future__ import annotations

import warnings
from pathlib import Path

from localdev.stack import process


def test_a_stopped_child_is_collected_through_its_popen(tmp_path: Path) -> None:
    """Reaped with ``os.waitpid`` behind its back, a ``Popen`` still thinks its child runs and warns
    "subprocess N is still running" when it is collected: the ResourceWarnings at the end of a test run
    that stopped its private stack."""
    pid_file = tmp_path / "sleep.pid"
    pid = process.start_detached(
        ["sleep", "60"], log_file=tmp_path / "sleep.log", pid_file=pid_file, cwd=tmp_path
    )
    popen = next(p for p in process._STARTED if p.pid == pid)
    assert process.stop(pid_file, ["sleep"], timeout=10).startswith("stopped")
    assert popen.returncode is not None
    assert popen not in process._STARTED
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        popen.__del__()  # what the garbage collector does with it at exit
    assert [w.message for w in caught if issubclass(w.category, ResourceWarning)] == []
