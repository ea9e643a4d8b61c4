"""``riskwatch serve``: the HTTP server (uvicorn) for ``server.app``; FastAPI and uvicorn are imported only
when it runs, so other commands do not pay for them."""

from __future__ import annotations

import argparse
import socket
import sys

from config.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: settings serve.host)")
    parser.add_argument(
        "--port", type=int, help="port to listen on, 0 for any free one (default: serve.port)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.serve.host
    port = settings.serve.port if args.port is None else args.port
    try:
        sock = _listen(host, port)
    except OSError as exc:
        print(
            f"riskwatch serve: cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --port "
            "or stop what holds it",
            file=sys.stderr,
        )
        return 1
    import uvicorn

    from server.app import create_app

    bound = sock.getsockname()[1]
    if settings.serve.api_token is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"riskwatch serve: listening on {host} without a token; set serve.api_token "
            "(RISKWATCH_SERVE__API_TOKEN) to require one",
            file=sys.stderr,
        )
    print(
        f"riskwatch serve: http://{host}:{bound}/api/ (OpenAPI: /api/openapi.json)",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(create_app(settings), log_level=settings.serve.log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


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
