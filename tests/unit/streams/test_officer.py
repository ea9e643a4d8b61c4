"""The officers' commands build a valid contract event or fail with one line naming the fix."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from config.settings import load_settings
from schemas.events import ErasureRequest, ReviewCompleted, RiskOverride
from streams.cli import build_parser
from streams.officer import OfficerError, build_event

SETTINGS = load_settings()


def event(*argv: str) -> tuple[str, object]:
    return build_event(build_parser().parse_args(list(argv)), SETTINGS)


def test_override_until_a_date_holds_through_that_day() -> None:
    topic, ev = event(
        "override",
        "C1",
        "--tier",
        "high",
        "--until",
        "2025-06-30",
        "--reason",
        "r",
        "--officer",
        "o7",
        "--at",
        "2025-03-01T00:00:00Z",
    )
    assert topic == SETTINGS.topics.risk_overrides
    assert isinstance(ev, RiskOverride)
    assert ev.tier == "high"
    assert ev.expires_at == datetime(2025, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert ev.officer_id == "o7"


def test_override_none_lifts() -> None:
    _, ev = event("override", "C1", "--tier", "none", "--until", "2025-06-30T00:00:00Z", "--reason", "r")
    assert isinstance(ev, RiskOverride)
    assert ev.tier is None


def test_review_and_forget() -> None:
    topic, ev = event("review-complete", "C1", "--outcome", "tier_changed", "--tier", "low", "--reason", "ok")
    assert topic == SETTINGS.topics.review_completed
    assert isinstance(ev, ReviewCompleted)
    topic, ev = event("forget", "C1", "--reason", "PIPL request 42", "--at", "2025-03-01T00:00:00Z")
    assert topic == SETTINGS.topics.erasure_requests
    assert isinstance(ev, ErasureRequest)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["override", "C1", "--tier", "high", "--until", "next week", "--reason", "r"], "--until"),
        (["override", "C1", "--tier", "high", "--until", "2025-06-30T00:00:00", "--reason", "r"], "offset"),
        (["forget", "C1", "--reason", "r", "--at", "yesterday"], "--at"),
        (
            ["review-complete", "C1", "--outcome", "no_change", "--tier", "low", "--reason", "r"],
            "tier_changed",
        ),
        (["forget", "", "--reason", "r"], "customer_id"),
    ],
)
def test_mistakes_are_one_clear_line(argv: list[str], says: str) -> None:
    with pytest.raises(OfficerError) as err:
        event(*argv)
    assert says in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("until", "at", "says"),
    [
        ("2020-01-31", None, "not after now ("),  # a day long past
        ("2025-02-28", "2025-03-01T00:00:00Z", "not after --at 2025-03-01T00:00:00Z"),
        # the day of --at itself still holds (through that day); its start does not
        ("2025-03-01T08:00:00+08:00", "2025-03-01T00:00:00Z", "not after --at"),
    ],
)
def test_an_override_ending_before_it_is_made_is_refused(until: str, at: str | None, says: str) -> None:
    with pytest.raises(OfficerError) as err:
        event(
            "override",
            "C1",
            "--tier",
            "high",
            "--until",
            until,
            "--reason",
            "r",
            *(["--at", at] if at else []),
        )
    assert f"--until {until} ends the override at" in str(err.value)
    assert says in str(err.value)
    assert "give a later --until" in str(err.value)
    assert "\n" not in str(err.value)


def test_an_override_through_the_day_it_is_made_is_accepted() -> None:
    _, ev = event(
        "override",
        "C1",
        "--tier",
        "high",
        "--until",
        "2025-03-01",
        "--reason",
        "r",
        "--at",
        "2025-03-01T00:00:00Z",
    )
    assert isinstance(ev, RiskOverride)
    assert ev.expires_at == datetime(2025, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
