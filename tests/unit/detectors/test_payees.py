"""The payee memory: the same payees, counts, largest amounts and evictions as the dict it replaced."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from detectors.cents import cents_of
from detectors.payees import EVICTION_SCAN, Payees


def _dict_model(max_payees: int, payments: list[tuple[str, float]]) -> list[tuple[str, list[float]]]:
    """State format 7's payee memory: a dict in recency order, evicting the oldest one-off payee."""
    payees: dict[str, list[float]] = {}
    for payee, amount in payments:
        entry = payees.pop(payee, None) or [0.0, amount]
        entry[0] += 1
        entry[1] = max(entry[1], amount)
        payees[payee] = entry
        while len(payees) > max_payees:
            oldest = list(itertools.islice(payees.items(), EVICTION_SCAN))
            del payees[next((k for k, v in oldest if v[0] < 2), oldest[0][0])]
    return list(payees.items())


def _found(model: list[tuple[str, list[float]]], payee: str) -> tuple[float, float] | None:
    found = dict(model).get(payee)
    return None if found is None else (found[0], found[1])


@given(
    max_payees=st.integers(min_value=1, max_value=20),
    payments=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d\x00", "\x00", "\x01", "\x010", "e\x01\x00", "长", "f"] * 3)
            | st.text(max_size=3),
            st.floats(min_value=0.01, max_value=1e9) | st.integers(1, 10**11).map(lambda c: c / 100),
        ),
        max_size=80,
    ),
)
def test_payees_keep_what_the_dict_kept(max_payees: int, payments: list[tuple[str, float]]) -> None:
    payees = Payees(max_payees)
    for n, (payee, amount) in enumerate(payments, start=1):
        assert payees.get(payee) == _found(_dict_model(max_payees, payments[: n - 1]), payee)
        payees.remember(payee, amount)
        # looked up again at once, as the detectors of one debit do
        assert payees.get(payee) == _found(_dict_model(max_payees, payments[:n]), payee)
        # the whole cents kept beside the amounts (what a state record writes) follow them
        assert payees.in_cents() == cents_of(payees.largest)
    expected = _dict_model(max_payees, payments)
    assert [(k, tuple(v)) for k, v in expected] == payees.items()
    assert list(payees) == [k for k, _ in expected]
    for payee, _ in payments:
        found = dict(expected).get(payee)
        assert payees.get(payee) == (None if found is None else tuple(found))
        assert (payee in payees) == (found is not None)
    assert payees.most_paid() == max((v[1] for _, v in expected), default=0.0)
    assert Payees.from_rows(max_payees, [(k, *v) for k, v in payees.items()]) == payees


def test_remember_reports_the_largest_amount_pushed_out() -> None:
    payees = Payees(2)
    assert payees.remember("a", 50.0) == -1.0
    assert payees.remember("b", 70.0) == -1.0
    assert payees.remember("c", 10.0) == 50.0  # "a", the oldest one-off payee, leaves
    assert "a" not in payees
    assert len(payees) == 2
