"""``riskwatch send``'s line check and the shared display rows (used by ``tail`` and the demo)."""

from __future__ import annotations

import json

from config.settings import TopicSettings
from streams.display import ALERT, DISPOSITION, LAYOUTS, WIDTH
from streams.send import check_line
from streams.tail import topic_roles

TX = {
    "type": "transaction",
    "event_id": "e1",
    "customer_id": "C1",
    "timestamp": "2025-03-03T10:00:00+08:00",
    "account_id": "A1",
    "amount": "10.00",
    "currency": "CNY",
    "direction": "debit",
    "channel": "card",
}


def test_a_valid_line_goes_to_its_types_topic_keyed_by_customer() -> None:
    topics = TopicSettings(transactions="tx.v1")
    assert check_line(json.dumps(TX).encode(), topics) == ("tx.v1", "C1")
    change = {"type": "contact_change", "event_id": "e2", "customer_id": "C2", "timestamp": TX["timestamp"]}
    assert check_line(json.dumps({**change, "field": "email"}).encode(), topics) == ("contact-changes", "C2")


def test_a_bad_line_gets_a_reason_naming_the_field_and_no_personal_data() -> None:
    topics = TopicSettings()
    assert check_line(b"{not json", topics) == "event: is not valid JSON"
    reason = check_line(json.dumps({**TX, "amount": "-5"}).encode(), topics)
    assert isinstance(reason, str)
    assert reason.startswith("amount: ")
    secret = {"type": "contact_change", "event_id": "e", "customer_id": "C", "timestamp": "bad"}
    reason = check_line(
        json.dumps({**secret, "field": "email", "new_value": "me@example.com"}).encode(), topics
    )
    assert isinstance(reason, str)
    assert "timestamp" in reason
    assert "example.com" not in reason


def test_rows_fit_120_columns_and_keep_the_whole_reason() -> None:
    alert = {
        "alert_id": "0123456789abcdef0123456789abcdef",
        "customer_id": "ab12-P000001",
        "detector": "contact_change_burst",
        "severity": "critical",
        "score": 0.5,
        "risk_tier": "medium",
        "event_time": "2025-03-03T10:00:00+08:00",
        "reason": "word " * 60,
    }
    lines = ALERT.lines(alert)
    assert all(len(line) <= WIDTH for line in [ALERT.header(), *lines])
    assert lines[0].startswith("2025-03-03 10:00:00+0800  CRITICAL  contact_change_burst  ab12-P000001")
    assert alert["alert_id"] in lines[0]
    assert " ".join(" ".join(lines[1:]).split()) == " ".join(alert["reason"].split())
    assert len(DISPOSITION.header()) <= WIDTH
    assert all(len(layout.header()) <= WIDTH for layout in LAYOUTS.values())


def test_tail_accepts_the_contract_topic_names() -> None:
    roles = topic_roles(TopicSettings())
    assert roles["customer-risk"] == "customer_risk"
    assert roles["dead-letter"] == "dead_letter"
    assert "partitions" not in roles
