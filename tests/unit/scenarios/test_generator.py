"""The synthetic traffic generator: deterministic, contract-valid, honestly labelled and time-ordered."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from config.detection import DetectionSettings
from detectors.scorecard import Scorecard
from evaluation import parse_label
from scenarios.generator import Scenario, ScenarioConfig, generate
from scenarios.patterns import KINDS, NEEDS_HISTORY
from schemas.events import EventError, Transaction, parse_event, parse_event_json
from schemas.outputs import DETECTOR_NAMES

SETTINGS = DetectionSettings()
CONFIG = ScenarioConfig(customers=240, days=45, seed=11, malformed=8, pattern_share=0.6)


def _tier_of(profile: dict[str, Any]) -> str:
    stub = {
        "type": "customer_profile",
        "event_id": "-",
        "customer_id": "-",
        "timestamp": "2025-01-01T00:00:00Z",
    }
    return Scorecard(SETTINGS.scorecard).score(parse_event({**stub, **profile})).tier  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate(CONFIG, _tier_of, fx_rates=SETTINGS.fx_rates_to_base)


def test_same_seed_same_stream(scenario: Scenario) -> None:
    again = generate(CONFIG, _tier_of, fx_rates=SETTINGS.fx_rates_to_base)
    assert list(again.json_lines()) == list(scenario.json_lines())
    assert [lb.to_dict() for lb in again.labels] == [lb.to_dict() for lb in scenario.labels]


def test_other_seed_other_stream(scenario: Scenario) -> None:
    other = generate(ScenarioConfig(customers=150, days=30, seed=12), _tier_of)
    assert list(other.json_lines()) != list(scenario.json_lines())


def test_every_event_parses_and_follows_the_contract(scenario: Scenario) -> None:
    for event in scenario.events:
        parsed = parse_event_json(json.dumps(event))
        assert parsed.timestamp.utcoffset() is not None
        assert event["timestamp"].endswith("+08:00")
        if isinstance(parsed, Transaction):
            assert isinstance(event["amount"], str)
            assert parsed.currency in SETTINGS.fx_rates_to_base
    currencies = Counter(e["currency"] for e in scenario.events if e["type"] == "transaction")
    assert currencies.most_common(1)[0][0] == "CNY"
    assert {"USD", "HKD"} <= set(currencies)
    assert {e["type"] for e in scenario.events} == {"transaction", "contact_change", "customer_profile"}


def test_malformed_lines_are_rejected_and_only_they() -> None:
    small = generate(ScenarioConfig(customers=20, days=5, seed=3, malformed=8))
    rejected = 0
    for line in small.json_lines():
        try:
            event = parse_event_json(line)
        except EventError:
            rejected += 1
            continue
        if isinstance(event, Transaction) and event.currency not in SETTINGS.fx_rates_to_base:
            rejected += 1  # valid JSON, but no conversion rate: the engine dead-letters it
    assert rejected == 8
    assert len(list(small.json_lines())) == len(small.events) + 8


def test_event_ids_are_unique_except_redeliveries(scenario: Scenario) -> None:
    first: dict[str, dict[str, Any]] = {}
    redelivered = 0
    for event in scenario.events:
        earlier = first.setdefault(event["event_id"], event)
        if earlier is not event:
            assert earlier == event, "a redelivery repeats the same event"
            redelivered += 1
    assert 0 < redelivered < len(scenario.events) * 0.01


def test_labels_reference_events_of_their_customer(scenario: Scenario) -> None:
    by_id = {e["event_id"]: e for e in scenario.events}
    assert len({lb.pattern_id for lb in scenario.labels}) == len(scenario.labels)
    assert set(KINDS) <= {lb.kind for lb in scenario.labels}
    for label in scenario.labels:
        assert label.expected_detector in (*DETECTOR_NAMES, "sustained_shift")
        assert label.event_ids
        for event_id in label.event_ids:
            assert by_id[event_id]["customer_id"] == label.customer_id
    injected = [lb for lb in scenario.labels if lb.kind in KINDS]
    assert len({lb.customer_id for lb in injected}) == len(injected), "one injected pattern per customer"


def test_labels_are_in_the_evaluate_format(scenario: Scenario) -> None:
    for label in scenario.labels:
        parsed = parse_label(json.loads(json.dumps(label.to_dict())))
        assert parsed.strength == label.strength
        assert parsed.strength_unit
        assert parsed.segment in ("individual", "corporate")
        assert parsed.history_debits is not None


def test_every_kind_is_swept_through_weak_and_suspicious_strengths(scenario: Scenario) -> None:
    for kind in KINDS:
        mine = [lb for lb in scenario.labels if lb.kind == kind]
        assert any(lb.suspicious for lb in mine), kind
        assert any(not lb.suspicious for lb in mine), f"{kind} has no weak case"
        assert len({lb.strength for lb in mine}) >= 4, f"{kind} strengths are swept"


def test_baseline_patterns_land_on_short_histories_and_every_segment(scenario: Scenario) -> None:
    baseline = [lb for lb in scenario.labels if lb.kind in NEEDS_HISTORY]
    assert all(lb.history_debits >= 10 for lb in baseline)
    assert sum(1 for lb in baseline if lb.history_debits <= 30) >= len(baseline) // 4
    injected = [lb for lb in scenario.labels if lb.kind in KINDS]
    assert {lb.segment for lb in injected} == {"individual", "corporate"}
    assert {lb.spread for lb in injected} == {"narrow", "wide"}
    assert {lb.activity for lb in injected} == {"low", "normal"}


def test_ordinary_traffic_has_legitimate_lookalikes(scenario: Scenario) -> None:
    what = " | ".join(scenario.lookalikes.values())
    for lookalike in ("moving house", "payday spree", "trip abroad", "rent deposit"):
        assert lookalike in what
    emitted = {e["event_id"] for e in scenario.events}
    assert set(scenario.lookalikes) <= emitted, "no lookalike is removed near a pattern"


def test_pattern_strength_is_measured_against_the_customer(scenario: Scenario) -> None:
    """An amount spike's amount is its strength times the median of the customer's earlier debits."""
    fx = SETTINGS.fx_rates_to_base
    events = [e for e in scenario.events if e["type"] == "transaction"]
    for label in (lb for lb in scenario.labels if lb.kind == "amount_spike"):
        first = min(label.event_ids)
        spike = next(e for e in events if e["event_id"] == first)
        earlier = sorted(
            float(Decimal(e["amount"]) * fx[e["currency"]])
            for e in {x["event_id"]: x for x in events}.values()
            if e["customer_id"] == label.customer_id
            and e["direction"] == "debit"
            and e["timestamp"] < spike["timestamp"]
            and e["event_id"] not in label.event_ids
        )
        assert len(earlier) == label.history_debits
        median = earlier[len(earlier) // 2]
        assert float(spike["amount"]) == pytest.approx(label.strength * median, rel=1e-3)


def test_time_order_within_allowed_lateness(scenario: Scenario) -> None:
    lateness = SETTINGS.allowed_lateness_seconds
    newest = None
    late = 0
    for event in scenario.events:
        ts = datetime.fromisoformat(event["timestamp"]).timestamp()
        if newest is not None and ts < newest:
            assert newest - ts <= lateness
            late += 1
        newest = ts if newest is None else max(newest, ts)
    assert late > 0, "the stream includes a few slightly late events"


def test_profile_comes_first_and_tiers_are_mixed(scenario: Scenario) -> None:
    seen: set[str] = set()
    for event in scenario.events:
        if event["customer_id"] not in seen:
            assert event["type"] == "customer_profile"
            seen.add(event["customer_id"])
    tiers = Counter(c.tier for c in scenario.customers)
    segments = Counter(c.segment for c in scenario.customers)
    assert set(tiers) == {"low", "medium", "high"}
    assert tiers["low"] > tiers["medium"] > tiers["high"]
    assert set(segments) == {"individual", "corporate"}


@pytest.mark.parametrize("days", [1, 3, 10])
def test_short_scenarios_finish(days: int) -> None:
    """Every placement loop is bounded: a scenario too short for some spacing rule still completes."""
    scenario = generate(ScenarioConfig(customers=60, days=days, seed=5))
    assert scenario.events
    assert all(e["timestamp"] for e in scenario.events)
