"""The API's response shapes, for the OpenAPI document. Handlers return the read model's JSON directly
(no per-request validation); a test checks that what they return fits these models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(extra="allow")


class AlertView(_View):
    """An Alert as published on the alerts topic, with the officer's latest disposition if any."""

    alert_id: str
    detector: str
    severity: str
    score: float
    event_time: str
    reason: str
    disposition: dict[str, Any] | None = None


class CustomerView(_View):
    """The latest CustomerRisk of the customer (every field as published), the override an officer last
    asked for, its latest ReviewDue (``review_open`` until a later CustomerRisk moves the schedule past it)
    and its newest alerts (newest first, at most ``readmodel.alerts_per_customer``)."""

    customer_id: str
    tier: str | None
    score: float | None
    previous_tier: str | None
    factors: dict[str, Any]
    updated_at: str | None
    next_review_due: str | None
    reason: str | None
    override: dict[str, Any] | None
    review: dict[str, Any] | None
    review_open: bool
    alerts: list[AlertView]


class CustomerRow(_View):
    customer_id: str
    tier: str | None
    score: float | None
    next_review_due: str | None


class Problem(BaseModel):
    detail: str
