"""``riskwatch replay`` end to end on files: outputs, dead letters with line numbers, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.outputs import Alert, CustomerRisk, DeadLetter
from streams.cli import main


def _tx(event_id: str, amount: str, **extra: str) -> str:
    event = {
        "type": "transaction",
        "event_id": event_id,
        "customer_id": "c-1",
        "timestamp": "2026-03-02T10:00:00+08:00",
        "account_id": "a-1",
        "amount": amount,
        "currency": "CNY",
        "direction": "credit",
        "channel": "cash",
        **extra,
    }
    return json.dumps(event)


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    profile = {
        "type": "customer_profile",
        "event_id": "p-1",
        "customer_id": "c-1",
        "timestamp": "2026-03-01T09:00:00+08:00",
        "segment": "individual",
        "industry": "education",
        "credit_score": 800,
    }
    lines = [
        json.dumps(profile),
        _tx("t-1", "60000"),
        _tx("t-1", "60000"),  # redelivered: counted once
        "{broken json",
        "",
        _tx("t-2", "10", currency="ZZZ"),
        _tx("t-3", "-1"),
    ]
    path = tmp_path / "events.jsonl"
    # the last line only whitespace: blank, not a dead letter
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n \t\x0b\r\n")
    return path


def test_replay_writes_alerts_risk_and_dead_letters(events_file: Path, tmp_path: Path) -> None:
    alerts_out, risk_out, dlq_out = tmp_path / "a.jsonl", tmp_path / "r.jsonl", tmp_path / "d.jsonl"
    rc = main(
        [
            "replay",
            str(events_file),
            "--alerts-out",
            str(alerts_out),
            "--risk-out",
            str(risk_out),
            "--dead-letter-out",
            str(dlq_out),
            "--quiet",
        ]
    )
    assert rc == 0
    alerts = [Alert.model_validate_json(line) for line in alerts_out.read_text().splitlines()]
    assert [(a.detector, a.trigger_event_ids) for a in alerts] == [("large_value", ["t-1"])]
    risks = [CustomerRisk.model_validate_json(line) for line in risk_out.read_text().splitlines()]
    # the profile sets the tier; the large-value alert then adds its (small) behavioural points
    assert [(r.customer_id, r.tier, r.previous_tier) for r in risks] == [
        ("c-1", "low", None),
        ("c-1", "low", "low"),
    ]
    assert "behaviour.large_value" in risks[1].factors
    letters = [DeadLetter.model_validate_json(line) for line in dlq_out.read_text().splitlines()]
    assert [(d.offset, d.error.split(":")[0]) for d in letters] == [
        (4, "event"),
        (6, "currency"),
        (7, "amount"),
        (8, "event"),
    ]
    assert letters[-1].raw_encoding == "base64"
    assert all(d.source == str(events_file) for d in letters)


def test_replay_default_dead_letter_path_is_next_to_the_alerts(events_file: Path, tmp_path: Path) -> None:
    alerts_out = tmp_path / "out" / "alerts.jsonl"
    alerts_out.parent.mkdir()
    assert main(["replay", str(events_file), "--alerts-out", str(alerts_out), "--quiet"]) == 0
    assert len((tmp_path / "out" / "alerts.dead-letter.jsonl").read_text().splitlines()) == 4


def test_replay_of_a_missing_file_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["replay", str(tmp_path / "nope.jsonl"), "--alerts-out", str(tmp_path / "a.jsonl")])
    assert rc == 2
    assert "not a readable file" in capsys.readouterr().err


def test_replay_summary_counts(events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(events_file), "--alerts-out", str(tmp_path / "a.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "7 lines" in err
    assert "1 duplicates skipped" in err
    assert "dead letters: 4" in err
    assert "large_value" in err
