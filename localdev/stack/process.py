"""Detached child processes tracked by pid files.

A pid file alone can point at a recycled pid, so every check also matches ``/proc/PID/cmdline`` against
markers that only our process has (its config path, or binary name and port); ``down`` never signals a
process that fails that check.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# Popen objects of children started by this process; holding them keeps Popen.__del__ from warning
# that a deliberately detached child "is still running". One is let go once ``_alive`` collected its
# child through it.
_STARTED: list[subprocess.Popen[bytes]] = []


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs: any of its threads, not only its main one.

    A child this process started is alive until its ``Popen`` collects it: reaped behind its back with
    ``os.waitpid``, or never polled after it ended, a ``Popen`` warns at exit that its child "is still
    running" (the ResourceWarning at the end of a test run that stopped its private stack). Its /proc state
    is no guide: a JVM's main thread exits first and shows "Z" while the broker's other threads still shut
    down and hold its ports, so a stop that trusted it returned early and nothing collected the child."""
    for proc in _STARTED:
        if proc.pid == pid:
            if proc.poll() is None:
                return True
            _STARTED.remove(proc)
            return False
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # our child, started otherwise: do not leave it a zombie
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    # Field 3, after the parenthesised command name (which may itself contain spaces or parentheses).
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X") or threads > 1


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", errors="replace")


def running_pid(pid_file: Path, markers: Sequence[str]) -> int | None:
    """The pid from ``pid_file`` if that process is alive and is ours (its command line has every marker)."""
    pid = read_pid(pid_file)
    if pid is None or not _alive(pid):
        return None
    cmdline = _cmdline(pid)
    if not all(marker in cmdline for marker in markers):
        return None
    return pid


def start_detached(
    argv: Sequence[str], *, log_file: Path, pid_file: Path, cwd: Path, env: dict[str, str] | None = None
) -> int:
    """Start ``argv`` in its own session so it outlives ``riskwatch stack up`` and ignores its Ctrl-C."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - argv is built from settings, never through a shell
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    _STARTED.append(proc)
    # exec closes Popen's pipe (its sign that exec succeeded) a moment before the kernel sets the new
    # program's arguments: until then /proc shows an empty command line, and a running_pid() at once
    # (a test's stop()) took the child for someone else's process and left it running
    deadline = time.monotonic() + 2.0
    while not _cmdline(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    pid_file.write_text(f"{proc.pid}\n", encoding="ascii")
    return proc.pid


def is_alive(pid: int) -> bool:
    return _alive(pid)


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def stop(pid_file: Path, markers: Sequence[str], timeout: float) -> str:
    """SIGTERM our process, SIGKILL it after ``timeout``; returns what happened, for the user."""
    pid = running_pid(pid_file, markers)
    if pid is None:
        existed = pid_file.exists()
        pid_file.unlink(missing_ok=True)
        return "not running (removed a stale pid file)" if existed else "not running"
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    how = "stopped"
    if not wait_for_exit(pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        how = f"killed (did not stop within {timeout:.0f}s of SIGTERM)"
        wait_for_exit(pid, 10.0)
    pid_file.unlink(missing_ok=True)
    return f"{how} (pid {pid})"


def log_tail(log_file: Path, lines: int = 15) -> str:
    try:
        text = log_file.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])
