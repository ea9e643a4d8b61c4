"""Evaluation metrics on hand-built histories whose right answers can be counted by eye."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from evaluation import Evaluator, LabelError, parse_label
from evaluation.metrics import strength_buckets


def _tx(event_id: str, customer: str, amount: str, day: int, direction: str = "debit") -> dict[str, Any]:
    return {
        "type": "transaction",
        "event_id": event_id,
        "customer_id": customer,
        "timestamp": f"2025-03-{day:02d}T10:00:00+08:00",
        "amount": amount,
        "currency": "CNY",
        "direction": direction,
        "channel": "card",
    }


def _label(pid: str, customer: str, ids: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "pattern_id": pid,
        "kind": "amount_spike",
        "customer_id": customer,
        "event_ids": ids,
        "expected_detector": "amount_spike",
        **extra,
    }


def _alert(customer: str, detector: str, *ids: str) -> dict[str, Any]:
    return {"customer_id": customer, "detector": detector, "trigger_event_ids": list(ids)}


@pytest.fixture
def evaluator() -> Evaluator:
    ev = Evaluator()
    ev.add_event({"type": "customer_profile", "event_id": "p1", "customer_id": "B1", "segment": "corporate"})
    for i in range(40):  # A: 40 debits, one every day or so, narrow spread
        ev.add_event(_tx(f"a{i}", "A", str(100 + i % 3), 1 + i % 28))
    for i in range(10):  # B: a corporate with a short history, wide spread
        ev.add_event(_tx(f"b{i}", "B1", str(50 * 3**i), 1 + i))
    ev.add_event(_tx("a-spike", "A", "5000", 28))
    ev.add_event(_tx("a-weak", "A", "300", 28))
    ev.add_event(_tx("b-spike", "B1", "900000", 20))
    ev.add_event(_tx("a0", "A", "100", 1))  # a redelivery: counted once
    return ev


LABELS = [
    _label("P1", "A", ["a-spike"], strength=50.0, strength_unit="x_median", history_debits=40),
    _label("P2", "A", ["a-weak"], strength=3.0, strength_unit="x_median", suspicious=False),
    _label("P3", "B1", ["b-spike"], strength=20.0, strength_unit="x_median"),
]


def test_alerts_are_true_weak_or_false_and_patterns_found(evaluator: Evaluator) -> None:
    evaluator.add_alert(_alert("A", "amount_spike", "a-spike"))
    evaluator.add_alert(_alert("A", "amount_spike", "a-weak"))
    evaluator.add_alert(_alert("A", "velocity_spike", "a3", "a4"))  # on ordinary traffic
    evaluator.add_alert(_alert("B1", "tier_limit", "b-spike"))  # a true alert, but not the expected detector
    data = evaluator.report([parse_label(x) for x in LABELS]).to_dict()
    assert data["transactions"] == 53
    spike = data["detectors"]["amount_spike"]
    assert (spike["true_alerts"], spike["false_alerts"], spike["weak_alerts"]) == (1, 0, 1)
    assert spike["precision"] == 1.0
    assert (spike["suspicious_patterns"], spike["found_suspicious"]) == (2, 1)
    assert spike["recall_suspicious"] == 0.5
    assert data["detectors"]["velocity_spike"]["false_alerts"] == 1
    assert data["detectors"]["tier_limit"]["true_alerts"] == 1
    overall = data["overall"]
    assert overall["false_per_10k"] == pytest.approx(1 / 53 * 10000)
    assert overall["precision"] == pytest.approx(2 / 3)
    curve = {(r["low"], r["high"]): (r["found"], r["patterns"]) for r in spike["curves"]}
    assert curve == {(2.0, 5.0): (1, 1), (20.0, 50.0): (0, 1), (50.0, 100.0): (1, 1)}


def test_segments_split_recall_and_false_alerts(evaluator: Evaluator) -> None:
    evaluator.add_alert(_alert("A", "amount_spike", "a-spike"))
    evaluator.add_alert(_alert("A", "velocity_spike", "a3", "a4"))
    data = evaluator.report([parse_label(x) for x in LABELS]).to_dict()
    seg = data["segments"]
    assert seg["segment=corporate"]["per_detector"]["amount_spike"]["recall_suspicious"] == 0.0
    assert seg["segment=individual"]["per_detector"]["amount_spike"]["recall_suspicious"] == 1.0
    assert seg["segment=corporate"]["transactions"] == 11
    assert seg["segment=individual"]["false_alerts"] == 1
    # P3 had 10 debits before it (short); P1 says 40 (long); the false alert came after 3 debits (short)
    assert seg["history=short"]["suspicious_patterns"] == 1
    assert seg["history=long"]["found_suspicious"] == 1
    assert seg["history=short"]["false_alerts"] == 1
    assert seg["spread=narrow"]["transactions"] == 42
    assert seg["spread=wide"]["transactions"] == 11


def test_strength_buckets() -> None:
    assert strength_buckets([2.0, 3.0, 5.0]) == [(2.0, 2.0), (3.0, 3.0), (5.0, 5.0)]  # counts
    assert strength_buckets([3.0, 20.0, 50.0])[0] == (2.0, 5.0)  # integral, but not small counts
    assert strength_buckets([1.5, 7.0, 30.0]) == [
        (1.0, 2.0),
        (2.0, 5.0),
        (5.0, 10.0),
        (10.0, 20.0),
        (20.0, 50.0),
    ]
    assert strength_buckets([0.25, 0.3]) == [(0.2, 0.5)]
    assert strength_buckets([]) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_ids": []}, "event_ids"),
        ({"customer_id": 7}, "customer_id"),
        ({"strength": "high"}, "strength"),
        ({"suspicious": "yes"}, "suspicious"),
        ({"history_debits": -1}, "history_debits"),
    ],
)
def test_a_bad_label_names_its_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(LabelError, match=rf"^{field}:"):
        parse_label({**_label("P", "A", ["x"]), **change})
    missing = _label("P", "A", ["x"])
    del missing["kind"]
    with pytest.raises(LabelError, match=r"^kind: missing"):
        parse_label(missing)


def test_go_live_scores_from_then_and_lists_patterns_before_it() -> None:
    """With ``alerts_from`` the days before it are backfill: their transactions are not counted, an alert
    in them is not judged, and a label wholly before go-live is named in the report, not scored."""
    ev = Evaluator(alerts_from=datetime.fromisoformat("2025-03-10T00:00:00+08:00"))
    for day in range(1, 21):
        ev.add_event(_tx(f"a{day}", "A", "100", day))
    ev.add_alert(_alert("A", "amount_spike", "a3"))  # day 3: before go-live, no event_time given
    ev.add_alert({**_alert("A", "amount_spike", "a12"), "event_time": "2025-03-12T10:00:00+08:00"})
    labels = [parse_label(_label("EARLY", "A", ["a2"])), parse_label(_label("LATE", "A", ["a9", "a15"]))]
    data = ev.report(labels).to_dict()
    assert data["transactions"] == 11
    assert data["transactions_before_go_live"] == 9
    assert data["alerts_before_go_live"] == 1
    assert data["patterns_before_go_live"] == ["EARLY"]
    row = data["detectors"]["amount_spike"]
    assert (row["false_alerts"], row["suspicious_patterns"], row["found_suspicious"]) == (1, 1, 0)
    assert row["false_per_10k"] == pytest.approx(1 / 11 * 10000)
