"""The HTTP app without a Redis: the token guard, the probes, the OpenAPI document and the one-line 503
when Redis is unreachable (a closed local port, not a mock)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings, load_settings
from server.app import create_app


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(**serve: object) -> Settings:
    return load_settings(
        redis={"url": f"redis://127.0.0.1:{_closed_port()}/0", "socket_timeout_seconds": 0.5},
        serve=serve,
    )


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    with TestClient(create_app(_settings(api_token="s3cret-token"))) as client:
        yield client


def test_api_needs_the_bearer_token_when_one_is_configured(guarded: TestClient) -> None:
    missing = guarded.get("/api/customers/C1")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    assert guarded.get("/api/customers", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert (
        guarded.get("/api/reviews/due?before=2026-01-01", headers={"Authorization": "Basic czM="}).status_code
        == 401
    )


def test_the_right_token_reaches_redis_and_an_unreachable_redis_is_one_line(guarded: TestClient) -> None:
    response = guarded.get("/api/customers/C1", headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "is unreachable" in detail
    assert "riskwatch stack up" in detail
    assert "\n" not in detail


def test_probes_need_no_token(guarded: TestClient) -> None:
    assert guarded.get("/healthz").json() == {"status": "ok"}
    assert guarded.get("/readyz").status_code == 503


def test_without_a_token_configured_the_api_is_open() -> None:
    with TestClient(create_app(_settings())) as client:
        assert client.get("/api/customers/C1").status_code == 503  # past the guard, to Redis


def test_openapi_document_is_published_with_every_lookup_and_the_bearer_scheme(guarded: TestClient) -> None:
    doc = guarded.get("/api/openapi.json").json()
    assert {"/api/customers/{customer_id}", "/api/customers", "/api/reviews/due"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert guarded.get("/api/docs").status_code == 200


def test_bad_query_parameters_are_a_422_naming_the_parameter(guarded: TestClient) -> None:
    auth = {"Authorization": "Bearer s3cret-token"}
    response = guarded.get("/api/customers?tier=extreme", headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "tier"]
    assert guarded.get("/api/reviews/due?before=tomorrow", headers=auth).status_code == 422


def test_an_empty_token_setting_means_no_token_not_an_empty_one() -> None:
    assert _settings(api_token="").serve.api_token is None
    with TestClient(create_app(_settings(api_token=""))) as client:
        # an empty bearer would have matched an empty token: here the request goes on to Redis
        assert client.get("/api/customers/C1", headers={"Authorization": "Bearer "}).status_code == 503
