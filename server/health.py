"""Probes, open without a token and carrying no data: ``/healthz`` (the process answers) and ``/readyz``
(Redis answers too)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from readmodel.queries import ReadModel

router = APIRouter(tags=["probes"])


@router.get("/healthz", summary="The server answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The server and its Redis answer")
async def readyz(request: Request) -> JSONResponse:
    readmodel: ReadModel = request.app.state.readmodel
    await readmodel.ping()  # unreachable Redis: the app's handler answers 503 with the cause
    return JSONResponse({"status": "ready"})
