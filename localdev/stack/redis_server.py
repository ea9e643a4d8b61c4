"""A throwaway Redis on its own port: no persistence, data dir inside the stack's state dir.

Debian's ``redis-server`` package may also start a system service on 6379; we never rely on it or stop
it, we only borrow the binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from config.settings import StackSettings
from localdev.stack import apt_lock, process
from localdev.stack.errors import StackError

STOP_TIMEOUT_SECONDS = 10.0
APT_TIMEOUT_SECONDS = 900.0


@dataclass(frozen=True)
class RedisLayout:
    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "redis.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "redis.pid"

    @property
    def markers(self) -> tuple[str, ...]:
        # redis-server rewrites its process title to "redis-server HOST:PORT"; both forms hold these.
        return ("redis-server", str(self.port))


def layout(stack_root: Path, stack: StackSettings) -> RedisLayout:
    return RedisLayout(stack_root / "redis", stack.redis_port)


def _apt(args: tuple[str, ...], lock_timeout_seconds: float) -> subprocess.CompletedProcess[str]:
    """One apt-get run, after waiting (bounded) for another apt/dpkg run to let go of the locks."""
    left = apt_lock.wait_for_apt_lock(lock_timeout_seconds, say=lambda line: print(line, flush=True))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # If another run grabs the dpkg lock between our check and apt's, apt itself waits out the rest.
    argv = ["apt-get", "-o", f"DPkg::Lock::Timeout={int(left)}", *args]
    try:
        return subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv,
            capture_output=True,
            text=True,
            env=env,
            timeout=APT_TIMEOUT_SECONDS + left,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"apt-get {' '.join(args)} did not finish within {exc.timeout:.0f}s") from exc


def ensure_installed(stack: StackSettings) -> str:
    """Path of ``redis-server``, installing Debian's package when it is missing and we may."""
    found = shutil.which("redis-server")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise StackError("redis-server is not installed; install it (Debian: apt-get install redis-server)")
    print("installing redis-server with apt-get (first time only) ...", flush=True)
    for args in (("update",), ("install", "-y", "--no-install-recommends", "redis-server")):
        result = _apt(args, stack.apt_lock_timeout_seconds)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-12:])
            raise StackError(f"apt-get {' '.join(args)} failed (exit {result.returncode})", tail)
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )
    if found is None:
        raise StackError("apt-get installed redis-server but the binary is not on PATH")
    return found


def start(binary: str, stack: StackSettings, redis: RedisLayout) -> int:
    redis.data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        binary,
        "--port",
        str(stack.redis_port),
        "--bind",
        stack.kafka_host,
        "--daemonize",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(redis.data_dir),
    ]
    return process.start_detached(argv, log_file=redis.log_file, pid_file=redis.pid_file, cwd=redis.root)


def ping(host: str, port: int, timeout: float = 1.0) -> bool:
    import redis as redis_lib

    client = redis_lib.Redis(host=host, port=port, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except redis_lib.RedisError:
        return False
    finally:
        client.close()


def running_pid(redis: RedisLayout) -> int | None:
    return process.running_pid(redis.pid_file, redis.markers)


def stop(redis: RedisLayout) -> str:
    return process.stop(redis.pid_file, redis.markers, STOP_TIMEOUT_SECONDS)
