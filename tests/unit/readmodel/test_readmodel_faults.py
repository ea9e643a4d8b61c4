"""The read model's commands meet an unreachable Redis and a taken port with one line and the README's
exit code, run as a user runs them (no Redis: 127.0.0.1 on a port nobody listens on)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streams.errors import EXIT_LOCAL, EXIT_UNREACHABLE


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def riskwatch(tmp_path: Path, *argv: str, **env: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RISKWATCH_")}
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", *argv],
        env={**clean, "RISKWATCH_REDIS__SOCKET_TIMEOUT_SECONDS": "1", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("customer", "show", "C1"),
        ("customers", "--tier", "high"),
        ("reviews", "due", "--before", "2026-01-01"),
        ("project",),
    ],
)
def test_an_unreachable_redis_is_one_line_with_the_url_but_not_the_password(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    url = f"redis://app:s3cret@127.0.0.1:{closed_port()}/0"
    code, stderr = riskwatch(tmp_path, *argv, RISKWATCH_REDIS__URL=url)
    assert code == EXIT_UNREACHABLE
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("riskwatch: ")]
    assert f"Redis at redis://app@127.0.0.1:{url.rsplit(':', 1)[1]} is unreachable" in line
    assert "— start it (`riskwatch stack up` locally) or point redis.url" in line
    assert "s3cret" not in stderr


def test_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        code, stderr = riskwatch(tmp_path, "serve", "--port", str(port))
    assert code == EXIT_LOCAL
    assert stderr.splitlines() == [
        f"riskwatch: `riskwatch serve` cannot listen on 127.0.0.1:{port} (Address already in use) — "
        "pick another --port (serve.port) or stop what holds it"
    ]
