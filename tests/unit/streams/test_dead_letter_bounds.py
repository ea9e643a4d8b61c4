"""A poison message of any size becomes a bounded dead letter: the reason never echoes the value, the
dead letter fits its byte bound by construction, and a refused dead letter never stops the stream."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import load_settings
from detectors.engine import RiskEngine
from offline.replay import replay_file
from schemas.outputs import DeadLetter
from streams.emit import emit
from streams.processor import MemoryStateStore, Processor, Result, make_dead_letter
from streams.worker.metrics import WorkerMetrics

FIXED = datetime(2026, 3, 1, tzinfo=UTC)
GOOD = {
    "type": "transaction",
    "event_id": "t-1",
    "customer_id": "c-1",
    "timestamp": "2026-03-02T10:00:00+08:00",
    "account_id": "a-1",
    "amount": "60000",
    "currency": "CNY",
    "direction": "debit",
    "channel": "cash",
}
HUGE = "9" * 990_000


@pytest.mark.parametrize("field", ["timestamp", "amount", "currency", "direction", "event_id", "type"])
def test_the_reason_names_the_field_and_never_echoes_a_huge_value(field: str) -> None:
    raw = json.dumps({**GOOD, field: HUGE}).encode()
    processor = Processor(RiskEngine(load_settings().detection), MemoryStateStore(), clock=lambda: FIXED)
    letter = processor.handle(raw, source="transactions").dead_letter
    assert letter is not None
    assert letter.error.startswith(f"{field}:"), letter.error[:200]
    assert "99999999" not in letter.error
    assert len(letter.error) < 400
    assert letter.raw_truncated
    assert letter.raw_bytes == len(raw)
    assert raw.decode().startswith(letter.raw)
    assert len(letter.model_dump_json().encode()) <= processor.dead_letter_max_bytes


# text that JSON escapes heavily (quotes, backslashes, control characters: up to 6 bytes a character)
# or that takes several bytes in UTF-8, and bytes that are not UTF-8 at all (base64)
_TEXT = st.text(alphabet=st.sampled_from(['"', "\\", "\n", "\x01", "a", "é", "风", "😀"]), max_size=4000)


@given(
    payload=st.one_of(_TEXT.map(str.encode), st.binary(max_size=4000)),
    key=st.binary(max_size=3000),
    max_bytes=st.integers(min_value=8192, max_value=12000),
)
def test_a_dead_letter_fits_its_bound_whatever_the_input(payload: bytes, key: bytes, max_bytes: int) -> None:
    letter = make_dead_letter(
        payload * 3,
        "reason " * 50,
        source="transactions",
        partition=1,
        offset=2,
        key=key,
        received_at=FIXED,
        max_bytes=max_bytes,
    )
    assert len(letter.model_dump_json().encode()) <= max_bytes
    assert letter.raw_bytes == len(payload) * 3
    whole = (
        (payload * 3).decode() if letter.raw_encoding == "utf-8" else base64.b64encode(payload * 3).decode()
    )
    assert whole.startswith(letter.raw)
    assert letter.raw_truncated == (letter.raw != whole)


def test_a_small_message_is_carried_whole() -> None:
    letter = make_dead_letter(
        b"{not json", "invalid", source="t", partition=0, offset=0, key=b"k", received_at=FIXED
    )
    assert (letter.raw, letter.raw_truncated, letter.raw_bytes) == ("{not json", False, 9)


def _letter(raw: str = "x" * 400) -> DeadLetter:
    return DeadLetter(
        source="transactions", raw=raw, raw_bytes=len(raw), error="amount: bad", received_at=FIXED
    )


def test_a_dead_letter_the_producer_refuses_is_produced_again_without_its_raw_message() -> None:
    settings = load_settings()
    metrics = WorkerMetrics.create()
    produced: list[tuple[str, bytes | None, bytes]] = []

    def produce(topic: str, key: bytes | None, value: bytes) -> None:
        if len(value) > 300:
            raise RuntimeError("MSG_SIZE_TOO_LARGE")  # as the producer refuses a message over its limit
        produced.append((topic, key, value))

    emit(Result(dead_letter=_letter()), b"k" * 5000, settings.topics, metrics, produce)
    assert len(produced) == 1
    topic, key, value = produced[0]
    bare = json.loads(value)
    assert topic == settings.topics.dead_letter
    assert key == b"k" * 1024
    assert (bare["raw"], bare["raw_truncated"], bare["raw_bytes"]) == ("", True, 400)
    assert "raw dropped" in bare["error"]
    assert metrics.dead_letters_stripped.labels("transactions")._value.get() == 1


def test_a_second_refusal_is_not_about_the_message_and_is_raised() -> None:
    def produce(topic: str, key: bytes | None, value: bytes) -> None:
        raise RuntimeError("broker gone")

    with pytest.raises(RuntimeError, match="broker gone"):
        emit(Result(dead_letter=_letter()), None, load_settings().topics, WorkerMetrics.create(), produce)


def test_replay_writes_the_same_bounded_dead_letter(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({**GOOD, "timestamp": HUGE}) + "\n" + json.dumps(GOOD) + "\n")
    settings = load_settings()
    replay_file(events, settings, alerts_out=tmp_path / "a.jsonl", dead_letter_out=tmp_path / "d.jsonl")
    lines = (tmp_path / "d.jsonl").read_bytes().splitlines()
    assert len(lines) == 1
    assert len(lines[0]) <= settings.worker.dead_letter_max_bytes
    letter = json.loads(lines[0])
    assert letter["raw_truncated"] is True
    assert letter["error"].startswith("timestamp:")
    assert "99999999" not in letter["error"]
    assert (tmp_path / "a.jsonl").read_text().count("large_value") == 1
