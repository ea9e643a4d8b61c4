"""The read-only JSON API under ``/api/``: the same lookups as ``riskwatch customer``/``customers``/
``reviews``. Handlers hand the read model's documents to orjson directly; the per-request pydantic pass
FastAPI would otherwise make is most of a lookup's CPU."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response

from readmodel.queries import ReadModel
from server.models import CustomerRow, CustomerView, Problem

router = APIRouter(tags=["read model"], responses={401: {"model": Problem}, 503: {"model": Problem}})


def _json(doc: Any) -> Response:
    return Response(content=orjson.dumps(doc), media_type="application/json")


def _readmodel(request: Request) -> ReadModel:
    readmodel: ReadModel = request.app.state.readmodel
    return readmodel


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerView,
    responses={404: {"model": Problem}},
    summary="A customer's tier, score, factors, next review and newest alerts",
)
async def get_customer(customer_id: str, request: Request) -> Response:
    doc = await _readmodel(request).customer(customer_id)
    if doc is None:
        raise HTTPException(status_code=404, detail=f"customer {customer_id} is not in the read model")
    return _json(doc)


@router.get(
    "/customers",
    response_model=list[CustomerRow],
    summary="The riskiest customers, highest score first, of one tier or of all",
)
async def list_customers(
    request: Request,
    tier: Literal["low", "medium", "high"] | None = None,
    top: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> Response:
    return _json(await _readmodel(request).customers(tier, top))


@router.get(
    "/reviews/due",
    response_model=list[CustomerRow],
    summary="Customers whose next periodic review is due before a date, earliest first",
)
async def reviews_due(
    request: Request,
    before: date,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Response:
    return _json(await _readmodel(request).reviews_due(before, limit))
