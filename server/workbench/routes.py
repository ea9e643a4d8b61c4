"""The workbench's pages: the inbox (``/``), the live feed (``/events``, server-sent events), an alert's
page, a customer's page, dispositions, login/logout and ``/metrics``. Server-side rendered with Jinja2
(autoescaped); one small static script keeps the inbox live. Nothing is fetched from the internet."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from schemas.common import SEVERITY_RANK, TIER_RANK
from schemas.outputs import DETECTOR_NAMES, AlertDisposition
from server.workbench.auth import COOKIE, csrf_ok
from server.workbench.feed import DispositionError
from server.workbench.inbox import DISPOSITIONS
from server.workbench.state import Workbench

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
HEARTBEAT_SECONDS = 15.0
FILTERS = ("detector", "severity", "tier", "status")


def _wb(request: Request) -> Workbench:
    workbench: Workbench = request.app.state.workbench
    return workbench


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    wb = _wb(request)
    officer = wb.sessions.officer(request)
    html = wb.templates.get_template(template).render(
        officer=officer,
        csrf=officer.csrf if officer else "",
        detectors=DETECTOR_NAMES,
        severities=tuple(SEVERITY_RANK),
        tiers=tuple(TIER_RANK),
        statuses=("open", *DISPOSITIONS),
        feed_error=wb.feed.error,
        **context,
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get("/", response_class=HTMLResponse)
async def inbox(request: Request) -> HTMLResponse:
    wb = _wb(request)
    chosen = {f: request.query_params.get(f, "") for f in FILTERS}
    alerts = wb.inbox.newest(
        detector=chosen["detector"], severity=chosen["severity"], tier=chosen["tier"], status=chosen["status"]
    )
    return _page(request, "inbox.html", alerts=alerts, chosen=chosen, kpis=wb.inbox.kpis())


@router.get("/events")
async def events(request: Request) -> StreamingResponse:
    """Server-sent events: ``alert`` (a new alert, with its status) and ``disposition``."""
    wb = _wb(request)
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(maxsize=10_000)
    loop = asyncio.get_running_loop()

    def listener(kind: str, doc: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(_offer, queue, (kind, doc))

    async def stream() -> AsyncIterator[bytes]:
        wb.inbox.listeners.append(listener)
        try:
            yield b"retry: 1000\n\n"
            while not wb.stopping.is_set():
                try:
                    kind, doc = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield f"event: {kind}\ndata: {json.dumps(doc)}\n\n".encode()
        finally:
            wb.inbox.listeners.remove(listener)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _offer(queue: asyncio.Queue[tuple[str, dict[str, Any]]], item: tuple[str, dict[str, Any]]) -> None:
    if not queue.full():  # a client that stopped reading loses live updates, never the server's memory
        queue.put_nowait(item)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(alert_id: str, request: Request) -> HTMLResponse:
    alert = _wb(request).inbox.alert(alert_id)
    if alert is None:
        raise HTTPException(404, f"alert {alert_id} is not among the workbench's newest alerts")
    return _page(request, "alert.html", alert=alert)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer_page(customer_id: str, request: Request) -> HTMLResponse:
    wb = _wb(request)
    from_readmodel: dict[str, Any] | None = None
    readmodel_error = ""
    try:
        from_readmodel = await request.app.state.readmodel.customer(customer_id)
    except Exception as exc:  # the read model is optional here: the topics' view still shows
        readmodel_error = f"read model unavailable ({type(exc).__name__}); showing what the topics say"
    risk, moves = wb.inbox.customer(customer_id)
    alerts = wb.inbox.newest(customer=customer_id, limit=50)
    if from_readmodel is None and risk is None and not alerts:
        raise HTTPException(404, f"customer {customer_id} is unknown to the read model and the workbench")
    view = dict(risk or {})
    if from_readmodel is not None and from_readmodel.get("tier") is not None:
        view.update({k: v for k, v in from_readmodel.items() if k != "alerts"})
    return _page(
        request,
        "customer.html",
        customer_id=customer_id,
        risk=view,
        moves=moves,
        alerts=alerts,
        readmodel_error=readmodel_error,
    )


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@router.post("/alerts/{alert_id}/disposition")
async def dispose(alert_id: str, request: Request) -> Response:
    wb = _wb(request)
    officer = wb.sessions.officer(request)
    if officer is None:
        raise HTTPException(
            403, "log in to record a disposition (the workbench is read-only without a login)"
        )
    form = await _form(request)
    if not csrf_ok(officer, form.get("csrf", "")):
        raise HTTPException(
            403, "the form's CSRF token does not match your session; reload the page and retry"
        )
    alert = wb.inbox.alert(alert_id)
    if alert is None:
        raise HTTPException(404, f"alert {alert_id} is not among the workbench's newest alerts")
    disposition = (
        AlertDisposition(
            alert_id=alert_id,
            customer_id=alert["customer_id"],
            detector=alert["detector"],
            officer_id=officer.officer_id,
            disposition=form.get("disposition", ""),  # validated by the model
            note=form.get("note") or None,
            decided_at=datetime.now(UTC),
        )
        if form.get("disposition") in DISPOSITIONS
        else None
    )
    if disposition is None:
        raise HTTPException(400, f"disposition must be one of {', '.join(DISPOSITIONS)}")
    payload = disposition.model_dump_json().encode()
    try:
        await run_in_threadpool(wb.writer.write, disposition.customer_id, payload)
    except DispositionError as exc:
        raise HTTPException(503, str(exc)) from None
    wb.inbox.add_disposition(json.loads(payload))  # shown at once; the feed reads the same record back
    back = form.get("back") or "/"
    return RedirectResponse(
        back if back.startswith("/") and not back.startswith("//") else "/", status_code=303
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html", failed=False)


@router.post("/login")
async def login(request: Request) -> Response:
    wb = _wb(request)
    form = await _form(request)
    cookie = await run_in_threadpool(wb.sessions.login, form.get("officer", ""), form.get("password", ""))
    if cookie is None:
        failed = _page(request, "login.html", failed=True)
        failed.status_code = 401
        return failed
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=wb.settings.workbench.session_max_age_seconds,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/static/{name}")
async def static(name: str) -> Response:
    path = STATIC / name
    if "/" in name or not path.is_file():
        raise HTTPException(404)
    media = {"js": "text/javascript", "css": "text/css"}.get(
        path.suffix.lstrip("."), "application/octet-stream"
    )
    return Response(path.read_bytes(), media_type=media)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(generate_latest(_wb(request).registry), media_type=CONTENT_TYPE_LATEST)


def query(chosen: dict[str, str], **change: str) -> str:
    return urlencode({k: v for k, v in {**chosen, **change}.items() if v})
