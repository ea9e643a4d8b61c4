"""The workbench's pure parts: the in-memory inbox and its KPIs, password hashing, sessions and CSRF."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request

from config.settings import WorkbenchSettings
from server.workbench.auth import COOKIE, Sessions, csrf_ok, hash_password, verify_password
from server.workbench.inbox import Inbox

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def _alert(
    alert_id: str, detector: str = "large_value", hours_ago: float = 1.5, **kw: str
) -> dict[str, object]:
    detected = datetime.fromtimestamp(NOW.timestamp() - hours_ago * 3600, UTC).isoformat()
    return {
        "alert_id": alert_id,
        "customer_id": kw.get("customer", "C1"),
        "detector": detector,
        "severity": kw.get("severity", "medium"),
        "risk_tier": kw.get("tier", "low"),
        "detected_at": detected,
    }


def _disposition(
    alert_id: str, outcome: str, officer: str = "o1", at: str = "2026-01-02T12:00:00+00:00"
) -> dict[str, object]:
    return {"alert_id": alert_id, "officer_id": officer, "disposition": outcome, "decided_at": at}


def test_newest_first_filters_and_status() -> None:
    inbox = Inbox(max_alerts=3)
    for i, det in enumerate(("large_value", "structuring", "large_value", "tier_limit")):
        inbox.add_alert(_alert(f"a{i}", det))
    inbox.add_alert(_alert("a3", "tier_limit"))  # a redelivered alert is kept once
    assert [a["alert_id"] for a in inbox.newest()] == ["a3", "a2", "a1"]  # a0 fell out (max 3)
    inbox.add_disposition(_disposition("a2", "confirmed"))
    assert [a["alert_id"] for a in inbox.newest(status="open")] == ["a3", "a1"]
    assert [a["alert_id"] for a in inbox.newest(detector="large_value")] == ["a2"]
    assert inbox.newest(status="confirmed")[0]["disposition"]["officer_id"] == "o1"


def test_kpis_age_precision_and_time_to_disposition() -> None:
    inbox = Inbox()
    observed: list[float] = []
    inbox.on_first_disposition.append(observed.append)
    inbox.add_alert(_alert("old", hours_ago=30))
    inbox.add_alert(_alert("new", hours_ago=0.5))
    inbox.add_alert(_alert("fp", hours_ago=2))
    inbox.add_alert(_alert("ok", detector="structuring", hours_ago=2))
    inbox.add_disposition(_disposition("fp", "false_positive"))
    inbox.add_disposition(_disposition("fp", "false_positive"))  # read back from Kafka: counted once
    inbox.add_disposition(_disposition("ok", "confirmed", officer="o2"))
    k = inbox.kpis(NOW)
    assert k["open"] == 2
    assert k["open_by_age"] == {"under_1h": 1, "1h_to_4h": 0, "4h_to_24h": 0, "over_24h": 1}
    assert k["oldest_open_seconds"] == 30 * 3600
    assert k["precision"] == {"large_value": 0.0, "structuring": 1.0}
    assert k["decided"] == {("o1", "false_positive"): 1, ("o2", "confirmed"): 1}
    assert observed == [2 * 3600, 2 * 3600]


def test_password_hashes_verify_and_differ_by_salt() -> None:
    a, b = hash_password("s3cret", iterations=1000), hash_password("s3cret", iterations=1000)
    assert a != b
    assert a.startswith("pbkdf2_sha256$1000$")
    assert verify_password("s3cret", a)
    assert not verify_password("s3cret!", a)
    assert not verify_password("s3cret", "md5$x")


def _request(cookie: str | None = None, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookie:
        raw.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    return Request({"type": "http", "headers": raw, "method": "GET", "path": "/"})


def test_sessions_sign_the_officer_and_carry_a_csrf_token() -> None:
    settings = WorkbenchSettings(users={"o1": hash_password("pw", iterations=1000)})
    sessions = Sessions(settings)
    assert sessions.login("o1", "wrong") is None
    assert sessions.login("nobody", "pw") is None
    cookie = sessions.login("o1", "pw")
    assert cookie is not None
    officer = sessions.officer(_request(cookie))
    assert officer is not None
    assert officer.officer_id == "o1"
    assert csrf_ok(officer, officer.csrf)
    assert not csrf_ok(officer, "")
    assert not csrf_ok(officer, officer.csrf + "x")
    body, signature = cookie.rsplit(".", 1)
    assert sessions.officer(_request(f"{body}.{signature[:-2]}xx")) is None  # a forged signature
    assert Sessions(settings).officer(_request(cookie)) is None  # another key (restart without a secret)
    assert sessions.officer(_request()) is None


def test_a_reverse_proxy_header_names_the_officer_only_when_configured() -> None:
    assert Sessions(WorkbenchSettings()).officer(_request(headers={"X-Forwarded-User": "o9"})) is None
    sessions = Sessions(WorkbenchSettings(user_header="X-Forwarded-User"))
    officer = sessions.officer(_request(headers={"X-Forwarded-User": "o9"}))
    assert officer is not None
    assert officer.officer_id == "o9"
    assert csrf_ok(officer, officer.csrf)
