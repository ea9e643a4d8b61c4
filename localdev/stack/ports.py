"""Port checks, kept apart so ``up`` can refuse early instead of letting the JVM die on a bind error."""

from __future__ import annotations

import errno
import socket


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on ``host:port`` (or on the wildcard address with that port).

    Binding with SO_REUSEADDR is the test the servers themselves face: on Linux it still fails against a
    listening socket but not against TIME_WAIT leftovers of a stack that was just stopped.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def accepts_connections(host: str, port: int, timeout: float = 1.0) -> bool:
    """A cheap reachability probe for ``status``; the real readiness checks speak each protocol."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
