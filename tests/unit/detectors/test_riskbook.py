"""The living risk book: behaviour moves the tier with hysteresis, officers override it until a date, reviews
fall due once per due date, an erasure forgets the customer; a punctuation gives what the next event gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from strategies import DETECTION, LOW_RISK, T0, Run, at, feed, profile, roundtrip_state, tx

from detectors.engine import STATE_FORMAT_VERSION, RiskEngine
from detectors.riskbook import Book, RiskBook
from schemas.events import ErasureRequest, EventError, ReviewCompleted, RiskOverride
from schemas.outputs import Alert, review_id
from streams.processor import MemoryStateStore, Processor

BOOK = DETECTION.risk_book
DAY = 86400.0


def structuring(day: float, prefix: str, count: int = 3) -> list[Any]:
    """Cash deposits just under the 50,000 reporting threshold within hours: three make a high-severity
    structuring alert (and a large-value day total), four a critical one."""
    return [
        tx("42000", at(days=day, hours=h), channel="cash", direction="credit", event_id=f"{prefix}-{h}")
        for h in range(count)
    ]


def officer(model: type, when: datetime, **fields: Any) -> Any:
    return model(
        event_id=f"o-{when.isoformat()}-{model.__name__}",
        customer_id="cust-1",
        timestamp=when,
        officer_id="officer-7",
        reason="adverse media",
        **fields,
    )


def climbed() -> tuple[RiskEngine, Run]:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [profile(at(days=-1), **LOW_RISK)])
    # the structuring window and cooldown are a week: each episode is a new pattern
    for n, day in enumerate((0, 8, 16)):
        feed(engine, structuring(day, f"ep{n}"), run)
    return engine, run


def test_repeated_patterns_climb_to_high() -> None:
    _, run = climbed()
    tiers = [(r.previous_tier, r.tier) for r in run.risks if r.previous_tier != r.tier]
    assert tiers == [(None, "low"), ("low", "medium"), ("medium", "high")]
    up = next(r for r in run.risks if r.tier == "medium")
    assert "Tier low -> medium" in up.reason
    assert "structuring alert added 25 points" in up.reason
    assert up.factors["behaviour.structuring"] > BOOK.alert_points["high"]  # two episodes, decayed
    # the score is the sum of the contributions
    assert sum(up.factors.values()) == pytest.approx(up.score, abs=0.05)
    # the tier applies from the next event on: the alert that lifted it carries the tier it fired in
    assert [a.risk_tier for a in run.alerts if a.detector == "structuring"] == ["low", "low", "medium"]
    assert run.state.ctx.tier == "high"


@pytest.mark.parametrize("start", ["low", "medium"])
def test_one_critical_alert_lifts_at_least_one_tier(start: str) -> None:
    engine = RiskEngine(DETECTION)
    fields = LOW_RISK if start == "low" else {"industry": "widgets"}
    run = feed(engine, [profile(at(days=-1), **fields)])
    assert run.state.ctx.tier == start
    feed(engine, structuring(0, "crit", count=4), run)
    assert [a.severity for a in run.alerts if a.detector == "structuring"][-1] == "critical"
    assert run.state.ctx.tier == "high"


def test_downgrade_only_after_the_cooldown_below_the_line() -> None:
    engine, run = climbed()
    when = engine.book.downgrade_at(run.state.book)
    assert when is not None
    high_since = run.risks[-1].updated_at.timestamp()
    # the score needs time to fall below 65 (70 minus the margin), then 14 more days below it
    assert when - high_since > BOOK.downgrade_cooldown_days * DAY
    before = datetime.fromtimestamp(when - 3600, UTC)
    feed(engine, [tx("50", before, event_id="quiet-1")], run)
    assert run.state.ctx.tier == "high"
    after = datetime.fromtimestamp(when + 3600, UTC)
    n = len(run.risks)
    feed(engine, [tx("50", after, event_id="quiet-2")], run)
    (down,) = run.risks[n:]
    assert (down.previous_tier, down.tier) == ("high", "medium")
    assert down.updated_at.timestamp() == pytest.approx(when)  # the move carries its own time
    assert "stayed below 65" in down.reason
    assert down.score < 65


def test_a_new_alert_during_the_cooldown_keeps_the_tier() -> None:
    engine, run = climbed()
    when = engine.book.downgrade_at(run.state.book)
    assert when is not None
    feed(engine, structuring((when - T0.timestamp()) / DAY - 2, "c"), run)
    later = engine.book.downgrade_at(run.state.book)
    assert later is not None
    assert later > when + 10 * DAY
    feed(engine, [tx("50", datetime.fromtimestamp(when + DAY, UTC), event_id="q")], run)
    assert run.state.ctx.tier == "high"


def test_punctuation_gives_what_the_next_event_gives() -> None:
    engine, run = climbed()
    when = engine.book.downgrade_at(run.state.book)
    assert when is not None
    late = datetime.fromtimestamp(when + 30 * DAY, UTC)
    by_event = roundtrip_state(engine, run.state)
    by_clock = roundtrip_state(engine, run.state)
    event_out = engine.process(by_event, tx("50", late, event_id="next"), late)
    clock_out = engine.punctuate(by_clock, when + 10 * DAY)
    assert clock_out.risks, "the punctuation should have moved the quiet customer down"
    rest = engine.process(by_clock, tx("50", late, event_id="next"), late)
    assert clock_out.risks + rest.risks == event_out.risks
    assert clock_out.reviews + rest.reviews == event_out.reviews
    assert engine.state_to_json(by_clock) == engine.state_to_json(by_event)


def test_override_wins_until_it_expires() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [profile(at(days=-1), **LOW_RISK)])
    until = at(days=30)
    feed(engine, [officer(RiskOverride, at(days=1), tier="high", expires_at=until)], run)
    pinned = run.risks[-1]
    assert (pinned.previous_tier, pinned.tier) == ("low", "high")
    assert "officer-7 pins tier high" in pinned.reason
    assert "adverse media" in pinned.reason
    assert pinned.factors["override"] > 0
    assert pinned.score >= DETECTION.scorecard.high_tier_min_score
    feed(engine, [tx("100", at(days=10), event_id="mid")], run)
    assert run.state.ctx.tier == "high"
    feed(engine, [tx("100", at(days=31), event_id="after")], run)
    back = run.risks[-1]
    assert (back.previous_tier, back.tier) == ("high", "low")
    assert back.updated_at == until
    assert "expired" in back.reason
    assert "override" not in back.factors


def test_override_can_be_lifted_and_must_not_start_expired() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [profile(at(days=-1), **LOW_RISK)])
    feed(engine, [officer(RiskOverride, at(days=1), tier="medium", expires_at=at(days=90))], run)
    feed(engine, [officer(RiskOverride, at(days=2), tier=None, expires_at=at(days=90))], run)
    assert [r.tier for r in run.risks] == ["low", "medium", "low"]
    assert "lifted" in run.risks[-1].reason
    with pytest.raises(EventError, match="expires_at"):
        engine.process(run.state, officer(RiskOverride, at(days=5), tier="high", expires_at=at(days=4)), at())


def test_review_due_exactly_once_then_again_after_completion() -> None:
    engine = RiskEngine(DETECTION)
    start = datetime(2024, 3, 4, 1, tzinfo=UTC)  # 09:00 in Shanghai
    run = feed(engine, [profile(start, **LOW_RISK)])
    due = date(2024, 3, 4) + timedelta(days=730)
    assert run.risks[-1].next_review_due == due
    feed(engine, [tx("10", start + timedelta(days=729), event_id="before")], run)
    assert run.reviews == []
    feed(engine, [tx("10", start + timedelta(days=731), event_id=f"after-{i}") for i in range(3)], run)
    (review,) = run.reviews
    assert (review.due_date, review.tier, review.last_review) == (due, "low", None)
    assert review.review_id == review_id("cust-1", due)
    done = start + timedelta(days=740)
    feed(engine, [officer(ReviewCompleted, done, outcome="no_change")], run)
    assert run.risks[-1].next_review_due == date(2026, 3, 14) + timedelta(days=730)
    feed(engine, [tx("10", done + timedelta(days=731), event_id="next-cycle")], run)
    assert [r.due_date for r in run.reviews] == [due, date(2026, 3, 14) + timedelta(days=730)]
    assert run.reviews[-1].last_review == date(2026, 3, 14)


def test_tier_change_restarts_the_review_clock() -> None:
    _, run = climbed()
    last = run.risks[-1]
    assert last.tier == "high"
    assert last.next_review_due == last.updated_at.date() + timedelta(days=180)


def test_review_outcome_with_a_tier_holds_until_the_next_review() -> None:
    engine = RiskEngine(DETECTION)
    run = feed(engine, [profile(at(days=-1), **LOW_RISK)])
    feed(engine, [officer(ReviewCompleted, at(days=1), outcome="tier_changed", tier="high")], run)
    assert run.risks[-1].tier == "high"
    assert run.state.book.override is not None


def test_erasure_forgets_the_customer() -> None:
    engine = RiskEngine(DETECTION)
    store = MemoryStateStore()
    proc = Processor(engine, store)
    first = tx("100", at(), event_id="t1").model_dump_json().encode()
    assert proc.handle(first, source="f").customer_id == "cust-1"
    erase = officer(ErasureRequest, at(hours=1))
    result = proc.handle(erase.model_dump_json().encode(), source="f")
    assert result.erased
    assert store.get("cust-1") is None
    # the same event again is new to the clean state: nothing of the old customer is left
    again = proc.handle(first, source="f")
    assert not again.duplicate
    state = store.get("cust-1")
    assert state is not None
    assert state.events_processed == 1


def test_state_format_2_migrates_to_the_risk_book() -> None:
    engine, run = climbed()
    data = engine.state_to_json(run.state)
    assert data["v"] == STATE_FORMAT_VERSION
    old = {k: v for k, v in data.items() if k != "book"} | {"v": 2}
    migrated = engine.state_from_json(old)
    assert migrated.book.computed_tier == run.state.ctx.tier
    assert migrated.book.static_score == run.state.ctx.score


@pytest.mark.parametrize(("static", "before", "after"), [(0.0, "low", "medium"), (40.0, "medium", "high")])
def test_a_single_critical_alert_from_the_bottom_of_a_band(static: float, before: str, after: str) -> None:
    engine = RiskEngine(DETECTION)
    state = engine.new_state("cust-1")
    state.book.static_score = static
    state.book.static_factors = {"credit_record": static}
    critical = Alert(
        alert_id="a1",
        customer_id="cust-1",
        detector="account_takeover",
        severity="critical",
        score=1.0,
        risk_tier=before,
        event_time=at(),
        detected_at=at(),
        trigger_event_ids=["e1"],
        reason="takeover",
        evidence={},
    )
    engine.book.publish(state.ctx, state.book, at().timestamp(), at(), "profile", force=True)
    assert state.ctx.tier == before
    moves = engine.book.on_alerts(state.ctx, state.book, [critical], at().timestamp(), at())
    assert [(r.previous_tier, r.tier) for r in moves.risks] == [(before, after)]


def test_a_review_falls_due_at_the_start_of_its_day_in_the_reporting_timezone() -> None:
    """A review due on 1 June is due from midnight in Shanghai (16:00 UTC the day before), not at
    midnight UTC nor an hour late; the book's days are Shanghai's; a score at the high band is high."""
    shanghai = ZoneInfo(DETECTION.large_value.reporting_timezone)
    book = RiskBook(DETECTION, shanghai)
    midnight = datetime(2030, 6, 1, tzinfo=shanghai).timestamp()
    assert book.review_at(Book(due="2030-06-01")) == midnight
    assert book.review_at(Book(due="2030-06-01")) == midnight  # asked again (the day starts are cached)
    assert (book.day(midnight - 1), book.day(midnight)) == (date(2030, 5, 31), date(2030, 6, 1))
    assert book.band(book.bands["high"]) == "high"
