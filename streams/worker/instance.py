"""Instance ids that cannot collide by accident on one host.

A worker's transactional id is ``<group>-<instance id>``: two live workers with the same id fence each
other, and a restarted worker must keep its id to fence its crashed self at once (instead of the group
waiting out the transaction timeout). The default id is therefore ``<hostname>-<n>``, with ``n`` the lowest
slot whose lock file in the state directory no live process holds: the first worker on a host is always
``host-0`` (so a restart takes its old id back), a second one started beside it gets ``host-1``. An id given
with ``--instance-id`` is locked the same way, so a second process with it is refused with the first one's
pid instead of silently fencing it. Locks are ``flock``s: the kernel drops them when a process dies, SIGKILL
included, so a crashed worker never blocks its own restart. In containers each has its own hostname.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from streams.errors import Refused

MAX_SLOTS = 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/riskwatch`` (``~/.local/state/riskwatch``), read when a worker starts."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "riskwatch"


@dataclass
class InstanceLock:
    """The id this process runs as, held until ``release()`` or the process's end."""

    instance_id: str
    path: Path | None
    _file: IO[str] | None

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _try_lock(path: Path) -> IO[str] | None:
    f = path.open("a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid else "another process"


def acquire_instance_id(group: str, requested: str | None, state_dir: Path | None = None) -> InstanceLock:
    """The instance id to run as, locked for this process (see the module docstring)."""
    directory = (state_dir or default_state_dir()) / "instances" / _UNSAFE.sub("_", group)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        writable = os.access(directory, os.W_OK)
    except OSError:
        writable = False
    if not writable:  # a read-only container: one worker per container, named after it
        return InstanceLock(requested or f"{_UNSAFE.sub('_', socket.gethostname())}-0", None, None)
    if requested:
        path = directory / f"{_UNSAFE.sub('_', requested)}.lock"
        f = _try_lock(path)
        if f is None:
            raise Refused(
                f"instance id {requested} of group {group} is already used by {_holder(path)} on this host "
                f"(lock {path}); a second worker with it would fence the first",
                "give each worker its own --instance-id, or leave it out for a unique default",
            )
        return InstanceLock(requested, path, f)
    host = _UNSAFE.sub("_", socket.gethostname())
    for slot in range(MAX_SLOTS):
        path = directory / f"{host}-{slot}.lock"
        f = _try_lock(path)
        if f is not None:
            return InstanceLock(f"{host}-{slot}", path, f)
    raise Refused(
        f"{MAX_SLOTS} workers of group {group} already run on this host", "stop some, or set --instance-id"
    )
