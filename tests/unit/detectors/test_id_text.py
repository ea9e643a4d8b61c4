"""The id texts' join: its one-join shortcut gives exactly the text of escaping each id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detectors.id_text import ESCAPE, SEP, count, escape, join, split

# ids as the contract allows them, the separator and the escape included
ids_lists = st.lists(st.text(alphabet=st.sampled_from(["a", "1", "-", SEP, ESCAPE, "é"]), max_size=6))


@given(ids=ids_lists)
def test_join_is_each_id_escaped_and_splits_back(ids: list[str]) -> None:
    text = join(ids)
    assert text == SEP + "".join(escape(i) + SEP for i in ids)
    assert split(text) == ids
    assert count(text) == len(ids)
