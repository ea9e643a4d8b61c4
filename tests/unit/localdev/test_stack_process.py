"""The local stack's detached children: stopped ones are collected so that nothing warns at exit."""

from __future__ import annotations

import subprocess
import sys
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


# A child whose main thread ends first while another thread runs on, as a JVM's does when the broker stops:
# /proc shows its main thread "Z" for as long as the other thread lives.
_LEADER_EXITS_FIRST = """
import ctypes, threading, time
threading.Thread(target=time.sleep, args=(1.0,)).start()
ctypes.CDLL(None).pthread_exit(None)
"""


def test_a_child_whose_main_thread_ended_first_is_waited_for_and_collected(tmp_path: Path) -> None:
    pid_file = tmp_path / "leader.pid"
    pid = process.start_detached(
        [sys.executable, "-c", _LEADER_EXITS_FIRST],
        log_file=tmp_path / "l.log",
        pid_file=pid_file,
        cwd=tmp_path,
    )
    popen = next(p for p in process._STARTED if p.pid == pid)
    assert process.wait_for_exit(pid, timeout=30)
    assert popen.returncode == 0, "collected through its Popen, once its last thread ended"
    assert popen not in process._STARTED


def test_a_process_of_another_parent_is_alive_while_any_thread_runs(tmp_path: Path) -> None:
    """``riskwatch stack down`` in another shell than the ``up``: the broker is not its child."""
    script = tmp_path / "leader.py"
    script.write_text(_LEADER_EXITS_FIRST)
    shell = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" "{script}" >/dev/null 2>&1 & echo $!'],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    pid = int(shell.stdout)
    assert process.wait_for_exit(pid, timeout=30)
    task = Path(f"/proc/{pid}/task")
    assert not task.exists() or len(list(task.iterdir())) <= 1, "returned while a thread still ran"
