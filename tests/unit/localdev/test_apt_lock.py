"""``stack up`` waits for another apt/dpkg run's lock instead of failing at once.

The lock is held by a child process, as apt holds it: POSIX record locks never conflict within one
process, so a lock taken by the test itself would be invisible to the check.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.stack.apt_lock import lock_holder, wait_for_apt_lock
from localdev.stack.errors import StackError

_HOLD = """
import fcntl, sys
with open(sys.argv[1], "w") as f:
    fcntl.lockf(f, fcntl.LOCK_EX)  # what apt does (fcntl F_SETLK, write lock)
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


class HeldLock:
    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == b"held\n"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def lock_file(tmp_path: Path) -> Path:
    path = tmp_path / "lock-frontend"
    path.touch()
    return path


@pytest.fixture
def held(lock_file: Path) -> Iterator[HeldLock]:
    lock = HeldLock(lock_file)
    yield lock
    if lock.proc.poll() is None:
        lock.release()


def test_a_free_lock_is_not_waited_for(lock_file: Path, tmp_path: Path) -> None:
    said: list[str] = []
    missing = tmp_path / "no-such-lock"
    assert lock_holder([missing, lock_file]) is None
    assert wait_for_apt_lock(120.0, paths=[missing, lock_file], say=said.append) == 120.0
    assert said == []


def test_names_the_holder_and_waits_until_it_lets_go(lock_file: Path, held: HeldLock) -> None:
    holder = lock_holder([lock_file])
    assert holder is not None
    assert holder.pid == held.proc.pid

    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        held.release()  # the other apt run finishes right after we said we wait

    left = wait_for_apt_lock(120.0, paths=[lock_file], say=say, poll_seconds=0.05)
    assert len(said) == 1, "says it waits once, not once per poll"
    assert "120s" in said[0]
    assert f"held by process {held.proc.pid} (python" in said[0]
    assert 0 < left <= 120.0
    assert lock_holder([lock_file]) is None


def test_gives_up_after_the_timeout_with_one_line(lock_file: Path, held: HeldLock) -> None:
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(StackError) as caught:
        wait_for_apt_lock(0.3, paths=[lock_file], say=said.append, poll_seconds=0.05)
    assert time.monotonic() - started >= 0.3
    message = str(caught.value)
    assert "\n" not in message
    assert str(lock_file) in message
    assert str(held.proc.pid) in message
    assert "RISKWATCH_STACK__APT_LOCK_TIMEOUT_SECONDS" in message
    assert len(said) == 1
