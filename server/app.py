"""The app factory: builds the FastAPI app from settings (nothing at import time), opens one asyncio Redis
connection pool for its lifetime, and mounts the routers.

Routers: ``/healthz`` and ``/readyz`` (open, for probes), ``/api/...`` (bearer token when configured;
OpenAPI document at ``/api/openapi.json``, browsable at ``/api/docs``). Further routers (the officers'
pages) are mounted here too: the officers' workbench (``server/workbench``) at ``/`` unless
``workbench.enabled`` is false.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from config.settings import Settings
from readmodel.connection import UNREACHABLE, async_client, redis_fault
from readmodel.keys import Keys
from readmodel.queries import ReadModel
from server import api, health
from server.auth import require_token


def create_app(settings: Settings, *, redis_client: redis.asyncio.Redis | None = None) -> FastAPI:
    """``redis_client``: a client to use instead of one built from ``settings.redis`` (left open)."""
    workbench = None
    if settings.workbench.enabled:
        from server.workbench.state import Workbench

        workbench = Workbench.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis_client if redis_client is not None else async_client(settings.redis)
        app.state.readmodel = ReadModel(
            client, Keys.for_prefix(settings.redis.key_prefix), settings.readmodel.max_top
        )
        if workbench is not None:
            workbench.start()
        try:
            yield
        finally:
            if workbench is not None:
                workbench.stop()
            if redis_client is None:
                await client.aclose()

    app = FastAPI(
        title="riskwatch",
        summary="Read-only view of riskwatch's risk book: customers' tiers, scores, alerts and reviews.",
        version="1.1",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    token = settings.serve.api_token
    app.state.api_token = token.get_secret_value().encode() if token is not None else None

    async def redis_unreachable(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(redis_fault(settings.redis, exc))}, status_code=503)

    for error in UNREACHABLE:
        app.add_exception_handler(error, redis_unreachable)

    app.include_router(health.router)
    app.include_router(api.router, prefix="/api", dependencies=[Depends(require_token)])
    if workbench is not None:
        from server.workbench.routes import router as workbench_router

        app.state.workbench = workbench
        app.include_router(workbench_router)
    return app
