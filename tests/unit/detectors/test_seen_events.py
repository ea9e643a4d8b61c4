"""The remembered event ids: the filter that spares the search never changes an answer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detectors.state import FINGERPRINT_WIDTH, SeenEvents

IDS = st.sampled_from(["e1", "e2", "e3", "e10", "\x00", "\x01", "a\x000", "长"]) | st.text(max_size=3)


@given(
    max_ids=st.integers(min_value=1, max_value=12),
    steps=st.lists(st.tuples(st.booleans(), IDS), max_size=300),
    restore_at=st.integers(min_value=0, max_value=300),
)
def test_answers_are_those_of_a_list_of_the_last_ids(
    max_ids: int, steps: list[tuple[bool, str]], restore_at: int
) -> None:
    seen = SeenEvents(max_ids)
    model: list[tuple[str, bytes]] = []  # the last ``max_ids`` (id, fingerprint), oldest first
    for n, (add, event_id) in enumerate(steps):
        if n == restore_at:  # a customer taken from its record again: the filter is dropped and rebuilt
            copy = SeenEvents(max_ids)
            copy.restore_text(seen.text, seen.fingerprints_bytes())
            seen = copy
        newest = next((fp for i, fp in reversed(model) if i == event_id), None)
        # looked up before it is added, as the engine does: enough lookups to build the filter, and enough
        # adds to fill it with evicted ids and rebuild it
        assert seen.fingerprint(event_id) == newest
        assert (event_id in seen) == (newest is not None)
        if add:
            fingerprint = n.to_bytes(FINGERPRINT_WIDTH, "big")
            seen.add(event_id, fingerprint)
            model = [*model, (event_id, fingerprint)][-max_ids:]
            assert seen.fingerprint(event_id) == fingerprint
    assert seen.order == [i for i, _ in model]
    assert seen.fingerprints_bytes() == b"".join(fp for _, fp in model)
