"""sustained_shift: several elevated debits over days, more than the customer's own history makes likely."""

from __future__ import annotations

from strategies import DETECTION, at, by_detector, feed, tx

from detectors.engine import RiskEngine

NAME = "sustained_shift"
HABIT = DETECTION.sustained_shift.habit_min_payments
MERCHANTS = 30 // HABIT  # each paid HABIT times in the history


def history() -> list:
    """Thirty ordinary debits of 40-46 over the 50 days before day 0, ``HABIT`` to each merchant, and one
    payment each to eight payees paid only once."""
    return [
        *(
            tx(
                f"{40 + i % 7}",
                at(days=-50 + 50 * i / 30),
                channel="card",
                counterparty_id=f"m{i % MERCHANTS}",
            )
            for i in range(30)
        ),
        *(tx("45", at(days=-1), channel="transfer", counterparty_id=f"once{i}") for i in range(8)),
    ]


def shifts(payee_of_elevated: object) -> list:
    """Twelve days of two debits a day, every third one at 200 (5x the median) to ``payee_of_elevated(i)``."""
    later = [
        tx(
            "200" if i % 3 == 0 else "42",
            at(hours=12 * i),
            channel="card",
            counterparty_id=payee_of_elevated(i) if i % 3 == 0 else f"n{i}",  # type: ignore[operator]
        )
        for i in range(24)
    ]
    return by_detector(feed(RiskEngine(DETECTION), [*history(), *later]).alerts, NAME)


def test_elevated_debits_to_new_payees_alert() -> None:
    (alert,) = shifts(lambda i: f"new{i}")
    assert alert.evidence["elevated_debits"] >= DETECTION.sustained_shift.min_elevated_debits


def test_elevated_debits_to_habitual_payees_are_the_customers_own_doing() -> None:
    """A larger bill to a merchant or person the customer pays habitually (``habit_min_payments`` times
    before) is their own doing, not a drain; to a payee paid fewer times it still counts."""
    assert shifts(lambda i: f"m{i % MERCHANTS}") == []
    if HABIT > 1:
        assert len(shifts(lambda i: f"once{i // 3}")) == 1
