"""``riskwatch evaluate`` on files: runs the detectors itself or reads alerts, one clear line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.cli import main


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    base = {"customer_id": "c-1", "account_id": "a-1", "currency": "CNY", "channel": "cash"}
    events = [
        {
            "type": "transaction",
            "event_id": "t-1",
            "timestamp": "2026-03-02T10:00:00+08:00",
            "amount": "60000",
            "direction": "credit",
            **base,
        },
        {
            "type": "transaction",
            "event_id": "t-2",
            "timestamp": "2026-03-02T11:00:00+08:00",
            "amount": "80",
            "direction": "debit",
            **base,
        },
    ]
    label = {
        "pattern_id": "P1",
        "kind": "large_value",
        "customer_id": "c-1",
        "event_ids": ["t-1"],
        "expected_detector": "large_value",
        "strength": 1.2,
        "strength_unit": "x_reporting_line",
    }
    return _write(tmp_path / "events.jsonl", events), _write(tmp_path / "labels.jsonl", [label])


def test_evaluate_runs_the_detectors_and_writes_json(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    assert main(["evaluate", str(files[0]), str(files[1]), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    lv = report["detectors"]["large_value"]
    assert (lv["true_alerts"], lv["false_alerts"], lv["recall_suspicious"]) == (1, 0, 1.0)
    assert report["transactions"] == 2
    assert "large_value" in capsys.readouterr().out


def test_evaluate_reads_alerts_of_an_earlier_run(files: tuple[Path, Path], tmp_path: Path) -> None:
    alerts = _write(
        tmp_path / "alerts.jsonl",
        [{"customer_id": "c-1", "detector": "amount_spike", "trigger_event_ids": ["t-2"]}],
    )
    out = tmp_path / "report.json"
    assert main(["evaluate", str(files[0]), str(files[1]), "--alerts", str(alerts), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["detectors"]["amount_spike"]["false_alerts"] == 1
    assert report["detectors"]["large_value"]["recall_suspicious"] == 0.0


def test_a_bad_label_is_one_line_naming_file_line_and_field(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path / "bad.jsonl", [{"pattern_id": "P1"}])
    assert main(["evaluate", str(files[0]), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"riskwatch evaluate: {bad} line 1: kind: missing (the label format is in the README)"
    assert main(["evaluate", str(tmp_path / "nope.jsonl"), str(files[1])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "nope.jsonl is not a readable file — check the path" in err


def test_evaluate_from_go_live(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    go_live = "2026-03-02T10:30:00+08:00"
    assert main(["evaluate", *map(str, files), "--alerts-from", go_live, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["patterns_before_go_live"] == ["P1"]
    assert (report["transactions"], report["alerts"]) == (1, 0)
    assert "1 labelled patterns not scored" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["evaluate", *map(str, files), "--alerts-from", "2026-03-02T10:30:00"])
    assert "has no UTC offset; add one" in capsys.readouterr().err
