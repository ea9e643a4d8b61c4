"""The debit baseline held as arrays: the same amounts, statistics and cents column as a plain list."""

from __future__ import annotations

import math
import statistics
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detectors.cents import CENTS_LIMIT, cents, cents_of
from detectors.context import DebitBaseline

AMOUNTS = st.floats(min_value=-5.0, max_value=1e9) | st.integers(-500, 10**11).map(lambda c: c / 100)


@given(
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-(10**15), 10**15).map(lambda c: c / 100)
    | st.integers(-(10**15), 10**15).map(lambda c: (c + 0.5) / 100)
)
def test_cents_are_those_of_rounding(amount: float) -> None:
    """Whole cents by adding a half (compiled, ``round()`` is a call through the builtins) give what
    ``round()`` gives, and None for amounts that are not whole cents (exact halves included)."""
    c = round(amount * 100) if -CENTS_LIMIT < amount < CENTS_LIMIT else 0
    assert cents(amount) == (c if c / 100 == amount else None)


@given(
    max_events=st.integers(min_value=1, max_value=12),
    steps=st.lists(st.tuples(AMOUNTS, st.booleans()), max_size=60),
)
def test_the_baseline_keeps_the_last_debits_and_their_cents(
    max_events: int, steps: list[tuple[float, bool]]
) -> None:
    baseline = DebitBaseline(max_events)
    model: list[tuple[str, float]] = []
    for n, (amount, forget_oldest) in enumerate(steps):
        baseline.add(amount, f"e{n}")
        if amount > 0:
            model = [*model, (f"e{n}", amount)][-max_events:]
        if forget_oldest and model:
            baseline.forget({model[0][0]})
            model = model[1:]
        assert list(baseline.amounts) == [a for _, a in model]
        assert baseline.event_ids == [e for e, _ in model]
        # the cents kept as the amounts come and go are what a state record would compute afresh
        assert baseline.in_cents() == cents_of(baseline.amounts)
        if model:
            logs = [math.log(a) for _, a in model]
            assert baseline.log_median() == statistics.median(sorted(logs))
            assert baseline.largest() == max(a for _, a in model)
            ordered = sorted(a for _, a in model)
            mid = len(ordered) // 2
            middle = ordered[mid] if len(ordered) % 2 else math.sqrt(ordered[mid - 1] * ordered[mid])
            assert baseline.median() == middle
            assert baseline.median() == pytest.approx(math.exp(baseline.log_median()), rel=1e-12)
    restored = DebitBaseline(max_events)
    restored.restore_text(baseline.ids_text, baseline.amounts, baseline.in_cents())
    assert list(restored.amounts) == list(baseline.amounts)
    assert restored.log_median_and_mad() == baseline.log_median_and_mad()


@given(
    steps=st.lists(
        st.tuples(
            st.integers(1, 10**6).map(lambda c: c / 100), st.sampled_from(["a", "b", "c\x00", "d\x01", "e"])
        ),
        max_size=30,
    ),
    left_out=st.sets(st.sampled_from(["a", "b", "c\x00", "d\x01", "e", "zz"])),
)
def test_sorted_without_leaves_out_every_amount_of_the_ids(
    steps: list[tuple[float, str]], left_out: set[str]
) -> None:
    """The sorted amounts less the given ids' (an id held twice, as a redelivery past the seen ids could
    leave it, goes twice; ids holding the separator are found): what filtering the id list gives."""
    baseline = DebitBaseline(20)
    for amount, event_id in steps:
        baseline.add(amount, event_id)
    expected = sorted(
        a for e, a in zip(baseline.event_ids, baseline.amounts, strict=True) if e not in left_out
    )
    assert baseline.sorted_without(left_out) == expected


@given(
    max_events=st.integers(min_value=1, max_value=8),
    held=st.lists(st.integers(1, 10**7), max_size=8),
    steps=st.lists(st.tuples(AMOUNTS, st.booleans()), max_size=30),
)
def test_a_baseline_held_as_cents_alone_answers_as_a_list(
    max_events: int, held: list[int], steps: list[tuple[float, bool]]
) -> None:
    """Restored from a record's cents (no doubles: they are built only when asked), then updated: every
    statistic, the amount leaving the window and ``sorted_without`` as a plain list gives. Nothing here
    asks for ``amounts`` until the end, so the cents-only path is what runs (the test above asks after
    every step, which builds the doubles)."""
    kept = held[-max_events:]
    baseline = DebitBaseline(max_events)
    baseline.restore_text("\x00" + "".join(f"r{i}\x00" for i in range(len(kept))), None, array("q", kept))
    model = [(f"r{i}", c / 100) for i, c in enumerate(kept)]
    for n, (amount, leave_one_out) in enumerate(steps):
        baseline.add(amount, f"e{n}")
        if amount > 0:
            model = [*model, (f"e{n}", amount)][-max_events:]
        assert len(baseline) == len(model)
        assert baseline.sorted_without(set()) == sorted(a for _, a in model)
        if leave_one_out and model:
            assert baseline.sorted_without({model[-1][0]}) == sorted(a for _, a in model[:-1])
        if model:
            assert baseline.largest() == max(a for _, a in model)
    assert baseline.event_ids == [e for e, _ in model]
    assert list(baseline.amounts) == [a for _, a in model]
    assert baseline.in_cents() == cents_of(a for _, a in model)
