"""The read model's key layout and the customer view assembled from raw hashes."""

from __future__ import annotations

from datetime import date

import orjson

from config.settings import RedisSettings
from readmodel.keys import Keys, day_from_score, offset_field, review_day
from readmodel.queries import customer_doc


def test_every_key_is_under_the_prefix_and_per_customer_keys_name_the_customer() -> None:
    keys = Keys.for_prefix("bank1")
    per_customer = keys.customer_keys("C42")
    assert len(set(per_customer)) == 4
    assert all(k.startswith("bank1:rm:") and k.endswith(":C42") for k in per_customer)
    shared = (
        keys.by_score,
        keys.by_tier("high"),
        keys.rows,
        keys.reviews,
        keys.erased,
        keys.offsets,
        keys.skipped,
    )
    assert all(k.startswith("bank1:rm:") for k in shared)
    assert len(set(shared) | set(per_customer)) == 11
    assert keys.pattern == "bank1:rm:*"
    assert offset_field("alerts", 3) == "alerts|3"


def test_review_day_round_trips_and_orders_like_dates() -> None:
    days = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 1)]
    assert [review_day(d) for d in days] == sorted(review_day(d) for d in days)
    assert all(day_from_score(float(review_day(d))) == d for d in days)


def test_customer_view_merges_risk_review_alerts_and_dispositions() -> None:
    risk = {
        "customer_id": "C1",
        "schema_version": 1,
        "tier": "high",
        "score": 81.5,
        "previous_tier": "medium",
        "factors": {"credit_record": 30.0},
        "updated_at": "2026-01-02T00:00:00+00:00",
        "next_review_due": "2026-07-01",
        "reason": "r",
    }
    a1 = {"alert_id": "a1", "detector": "structuring", "severity": "critical"}
    a2 = {"alert_id": "a2", "detector": "large_value", "severity": "medium"}
    doc = customer_doc(
        "C1",
        {b"risk": orjson.dumps(risk), b"tier": b"high"},
        [b"a2", b"a1", b"gone"],
        {b"a1": orjson.dumps(a1), b"a2": orjson.dumps(a2)},
        {b"a1": orjson.dumps({"disposition": "confirmed"})},
    )
    assert doc["tier"] == "high"
    assert doc["score"] == 81.5
    assert doc["factors"] == {"credit_record": 30.0}
    assert "schema_version" not in doc
    assert doc["review"] is None
    assert [a["alert_id"] for a in doc["alerts"]] == ["a2", "a1"]
    assert doc["alerts"][1]["disposition"] == {"disposition": "confirmed"}
    assert doc["alerts"][0]["disposition"] is None


def test_a_customer_with_alerts_but_no_risk_yet_has_empty_risk_fields() -> None:
    doc = customer_doc("C2", {}, [b"a"], {b"a": b'{"alert_id": "a"}'}, {})
    assert doc["tier"] is None
    assert doc["factors"] == {}
    assert len(doc["alerts"]) == 1


def test_redis_settings_keep_the_password_out_of_messages_and_apply_tls_only_to_rediss() -> None:
    plain = RedisSettings(url="redis://app:pw123@cache:6379/0")  # type: ignore[arg-type]
    assert plain.display_url() == "redis://app@cache:6379/0"
    assert "ssl_ca_certs" not in plain.client_kwargs()
    tls = RedisSettings(url="rediss://cache:6380/0", password="pw", ssl_ca_certs="/etc/ca.pem")  # type: ignore[arg-type]
    kwargs = tls.client_kwargs()
    assert kwargs["ssl_ca_certs"] == "/etc/ca.pem"
    assert kwargs["password"] == "pw"
    assert "pw" not in repr(tls)
