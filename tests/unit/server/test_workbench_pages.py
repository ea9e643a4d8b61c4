"""The workbench's pages without Kafka or Redis (closed local ports, not mocks): read-only without a login,
login, and forms refused without the session's CSRF token; an alert applied to the inbox is rendered with
its reason and evidence, HTML-escaped."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from config.settings import load_settings
from server.app import create_app
from server.workbench.auth import hash_password


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ALERT = {
    "alert_id": "a" * 32,
    "customer_id": "C<1>",
    "detector": "structuring",
    "severity": "high",
    "score": 0.5,
    "risk_tier": "low",
    "event_time": "2025-03-03T10:00:00+08:00",
    "detected_at": "2026-01-01T00:00:00+00:00",
    "trigger_event_ids": ["e1", "e2"],
    "reason": "3 cash deposits <script>alert(1)</script> just under the threshold",
    "evidence": {"window_count": 3},
}


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = load_settings(
        kafka={"bootstrap_servers": f"127.0.0.1:{_closed_port()}"},
        redis={"url": f"redis://127.0.0.1:{_closed_port()}/0", "socket_timeout_seconds": 0.5},
        workbench={"users": {"o1": hash_password("pw", iterations=1000)}},
    )
    with TestClient(create_app(settings)) as c:
        c.app.state.workbench.inbox.add_alert(dict(ALERT))  # type: ignore[attr-defined]
        yield c


def test_read_only_without_login(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "read-only" in page.text
    assert "3 cash deposits &lt;script&gt;" in page.text  # escaped, never markup
    assert "<script>alert(1)" not in page.text
    assert "window_count" in page.text
    assert 'class="dispose"' not in page.text
    refused = client.post(f"/alerts/{ALERT['alert_id']}/disposition", data={"disposition": "confirmed"})
    assert refused.status_code == 403


def test_login_then_a_form_without_the_csrf_token_is_refused(client: TestClient) -> None:
    assert client.post("/login", data={"officer": "o1", "password": "nope"}).status_code == 401
    assert (
        client.post("/login", data={"officer": "o1", "password": "pw"}, follow_redirects=False).status_code
        == 303
    )
    page = client.get("/")
    assert "signed in as <b>o1</b>" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    url = f"/alerts/{ALERT['alert_id']}/disposition"
    assert client.post(url, data={"disposition": "confirmed"}).status_code == 403
    assert client.post(url, data={"disposition": "confirmed", "csrf": "forged"}).status_code == 403
    bad = client.post(url, data={"disposition": "maybe", "csrf": token.group(1)})
    assert bad.status_code == 400
    unknown = client.post(
        f"/alerts/{'b' * 32}/disposition", data={"disposition": "confirmed", "csrf": token.group(1)}
    )
    assert unknown.status_code == 404
