"""Waiting for the apt/dpkg locks before ``apt-get``, instead of failing at once.

On a fresh machine an unattended upgrade or another installer often holds the locks for a minute or two;
``apt-get update`` then fails at once ("Could not get lock"), and ``DPkg::Lock::Timeout`` only makes
``install`` wait for the dpkg frontend lock, not ``update`` for the lists lock. apt takes its locks with
``fcntl(F_SETLK)``, so ``F_GETLK`` tells who holds one without taking it (taking it, even briefly, could
make a concurrently starting apt fail).
"""

from __future__ import annotations

import fcntl
import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from localdev.stack.errors import StackError

# The locks apt-get and dpkg take (apt's Dir::State::Lists, Dir::Cache::Archives and the dpkg admin dir).
APT_LOCK_FILES: tuple[Path, ...] = (
    Path("/var/lib/dpkg/lock-frontend"),
    Path("/var/lib/dpkg/lock"),
    Path("/var/lib/apt/lists/lock"),
    Path("/var/cache/apt/archives/lock"),
)
POLL_SECONDS = 1.0

# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (+ padding)
_FLOCK = "hhqqi4x"


@dataclass(frozen=True)
class LockHolder:
    path: Path
    pid: int

    def describe(self) -> str:
        try:
            name = Path(f"/proc/{self.pid}/comm").read_text(encoding="utf-8").strip()
        except OSError:
            name = "?"
        return f"{self.path} is held by process {self.pid} ({name})"


def lock_holder(paths: Sequence[Path] = APT_LOCK_FILES) -> LockHolder | None:
    """The first of ``paths`` another process holds a write-conflicting lock on, or None."""
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # missing or unreadable: apt cannot be holding it for us to wait on
        try:
            query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
            l_type, _, _, _, l_pid = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))
        finally:
            os.close(fd)
        if l_type != fcntl.F_UNLCK:
            return LockHolder(path, l_pid)
    return None


def wait_for_apt_lock(
    timeout_seconds: float,
    *,
    paths: Sequence[Path] = APT_LOCK_FILES,
    say: Callable[[str], None] = print,
    poll_seconds: float = POLL_SECONDS,
) -> float:
    """Block until no apt/dpkg lock is held, saying so once; return the seconds left of the timeout.

    Raises StackError (one line naming the lock, its holder and the way out) after ``timeout_seconds``.
    """
    deadline = time.monotonic() + timeout_seconds
    holder = lock_holder(paths)
    if holder is None:
        return timeout_seconds
    say(f"waiting up to {timeout_seconds:.0f}s for the apt/dpkg lock: {holder.describe()}")
    while holder is not None:
        if time.monotonic() >= deadline:
            raise StackError(
                f"the apt/dpkg lock is still taken after {timeout_seconds:.0f}s ({holder.describe()}); "
                "wait for that apt/dpkg run to finish and retry, or raise "
                "RISKWATCH_STACK__APT_LOCK_TIMEOUT_SECONDS"
            )
        time.sleep(poll_seconds)
        holder = lock_holder(paths)
    return max(0.0, deadline - time.monotonic())
