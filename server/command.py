"""``riskwatch serve``: the HTTP server (uvicorn) for ``server.app``; FastAPI and uvicorn are imported only
when it runs, so other commands do not pay for them."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
from types import FrameType

from config.settings import Settings
from streams.errors import ConfigFault, LocalFault


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: settings serve.host)")
    parser.add_argument(
        "--port", type=int, help="port to listen on, 0 for any free one (default: serve.port)"
    )
    parser.add_argument("--workers", type=int, help="server processes (default: serve.workers, 1)")
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password (prompted, or one line of standard input) and print its hash for workbench.users",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.hash_password:
        import getpass

        from server.workbench.auth import hash_password

        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        if not password:
            raise ConfigFault("serve: an empty password cannot be hashed", "type the officer's password")
        print(hash_password(password))
        return 0
    host = args.host or settings.serve.host
    port = settings.serve.port if args.port is None else args.port
    try:
        sock = _listen(host, port)
    except OSError as exc:
        raise LocalFault(
            f"`riskwatch serve` cannot listen on {host}:{port} ({exc.strerror or exc})",
            "pick another --port (serve.port) or stop what holds it",
        ) from None
    bound = sock.getsockname()[1]
    if settings.serve.api_token is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"riskwatch serve: listening on {host} without a token; set serve.api_token "
            "(RISKWATCH_SERVE__API_TOKEN) to require one",
            file=sys.stderr,
        )
    print(
        f"riskwatch serve: http://{host}:{bound}/ (workbench), http://{host}:{bound}/api/ (OpenAPI: /api/openapi.json)",
        file=sys.stderr,
        flush=True,
    )
    workers = settings.serve.workers if args.workers is None else max(1, args.workers)
    if settings.workbench.session_secret is None:
        # one session key for all of this server's processes (a cookie must be valid in each), made before
        # they fork; sessions still end when the server restarts, as without a configured secret
        import secrets

        from pydantic import SecretStr

        workbench = settings.workbench.model_copy(
            update={"session_secret": SecretStr(secrets.token_urlsafe(32))}
        )
        settings = settings.model_copy(update={"workbench": workbench})
    if workers == 1:
        _serve(sock, settings)
        return 0
    return _prefork(sock, settings, workers)


def _serve(sock: socket.socket, settings: Settings) -> None:
    import uvicorn

    from server.app import create_app

    # open server-sent event streams (the workbench's live inbox) must not hold a shutdown for long
    config = uvicorn.Config(
        create_app(settings),
        log_level=settings.serve.log_level,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _prefork(sock: socket.socket, settings: Settings, workers: int) -> int:
    """``workers`` uvicorn processes accept on the one socket. They are forked before any event loop or
    Redis connection exists, so they share nothing else; SIGTERM/SIGINT to this process stops them all,
    and one that dies stops the rest (a supervisor restarts the whole server)."""
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns here
            code = 0
            try:
                _serve(sock, settings)
            except BaseException:
                code = 1
            os._exit(code)
        children.append(pid)

    def stop(signum: int, frame: FrameType | None) -> None:
        # SIGTERM, not the signal itself: a second SIGINT would make uvicorn drop open requests
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    remaining = set(children)
    while remaining:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        remaining.discard(pid)
        # uvicorn re-raises the signal that stopped it after its graceful shutdown: that is a clean stop
        if os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM, -signal.SIGINT):
            code = 1
            stop(signal.SIGTERM, None)
    return code


def _listen(host: str, port: int) -> socket.socket:
    """Bind before handing the socket to uvicorn: a taken port is one clear line, and ``--port 0`` prints
    the port it got."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
