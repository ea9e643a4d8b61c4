"""Bounded and explicit input: an amount ceiling, exact money in every piece of evidence, and an event id
reused for different content told apart from a redelivery (issue #9)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from strategies import DETECTION, at, roundtrip_state, tx

from detectors.engine import STATE_FORMAT_VERSION, RiskEngine
from schemas.events import EventError

# 30 significant digits: more than the 28 of Python's default decimal context
EXACT_AMOUNT = "999999999999.123456789012345678"


def test_an_amount_above_the_ceiling_is_refused_before_anything_is_remembered() -> None:
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    with pytest.raises(EventError, match=r"^amount: above the ceiling .*detection.max_amount_base"):
        engine.process(state, tx("1000000000000.01", event_id="big"), at())
    # converted: 150 billion USD is above a trillion CNY
    with pytest.raises(EventError, match=r"^amount: above the ceiling"):
        engine.process(state, tx("150000000000", currency="USD", event_id="big-usd"), at())
    with pytest.raises(EventError, match=r"^amount: more than 18 digits after the decimal point"):
        engine.process(state, tx("1E-999999", event_id="tiny"), at())
    assert state.events_processed == 0
    assert "big" not in state.seen
    assert not engine.process(state, tx("1000000000000", event_id="at-ceiling"), at()).duplicate


def test_evidence_keeps_exact_decimals_in_every_detector() -> None:
    """large_value's day total once rounded a long amount to 28 digits (Decimal(0) + amount in the
    default context) while tier_limit showed it exactly."""
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    alerts = engine.process(state, tx(EXACT_AMOUNT, channel="transfer", event_id="x"), at()).alerts
    amounts = {a.detector: a.evidence["amount_base"] for a in alerts}
    assert set(amounts) >= {"large_value", "tier_limit"}
    assert set(amounts.values()) == {EXACT_AMOUNT}
    # a same-day total of long amounts, and a converted one
    state = engine.new_state("cust-2")
    engine.process(state, tx("300000.000000000000000001", channel="transfer", event_id="a"), at())
    later = engine.process(state, tx("300000.000000000000000002", channel="transfer", event_id="b"), at(60))
    totals = [a.evidence["amount_base"] for a in later.alerts if a.detector == "large_value"]
    assert totals == ["600000.000000000000000003"]
    assert Decimal("7.10") * Decimal("12345678901.123456789012345678") != Decimal(
        "87654320197.97654320198765431380"
    ), "the default context rounds this product: the check below would not test anything"
    state = engine.new_state("cust-3")
    usd = engine.process(state, tx("12345678901.123456789012345678", currency="USD", event_id="u"), at())
    assert {a.evidence["amount_base"] for a in usd.alerts} == {"87654320197.97654320198765431380"}


def test_a_redelivery_is_a_duplicate_and_a_reused_id_with_other_content_a_conflict() -> None:
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    first = tx("60000", channel="cash", event_id="same-id")
    message = first.model_dump_json().encode()
    assert engine.process(state, first, at(), engine.fingerprint(message)).alerts
    assert engine.process(state, first, at(), engine.fingerprint(message)).duplicate
    other = tx("70000", channel="cash", event_id="same-id")
    with pytest.raises(EventError, match=r"^event_id: already seen for this customer with different content"):
        engine.process(state, other, at(), engine.fingerprint(other.model_dump_json().encode()))
    # the fingerprints survive the changelog, compactly: 4 bytes an id, in one base64 string
    again = roundtrip_state(engine, state)
    with pytest.raises(EventError, match=r"^event_id: already seen"):
        engine.process(again, other, at(), engine.fingerprint(other.model_dump_json().encode()))
    assert engine.process(again, first, at(), engine.fingerprint(message)).duplicate
    stored = engine.state_to_json(again)
    assert stored["v"] == STATE_FORMAT_VERSION
    assert len(stored["seen_fp"]) == 8  # base64 of one 4-byte fingerprint


def test_a_format_3_state_is_migrated_and_its_ids_stay_duplicates_whatever_the_content() -> None:
    """Ids remembered before fingerprints were kept have an unknown one: a redelivery must not turn into
    a conflict after an upgrade."""
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    engine.process(state, tx("60000", channel="cash", event_id="old"), at())
    old = json.loads(json.dumps(engine.state_to_json(state)))
    del old["seen_fp"]
    old["v"] = 3
    migrated = engine.state_from_json(old)
    assert engine.process(migrated, tx("70000", channel="cash", event_id="old"), at()).duplicate
    assert engine.state_to_json(migrated)["v"] == STATE_FORMAT_VERSION
    # new ids get a fingerprint from now on
    engine.process(migrated, tx("100", event_id="new"), at(1))
    with pytest.raises(EventError, match=r"^event_id: already seen"):
        engine.process(migrated, tx("200", event_id="new"), at(1))
