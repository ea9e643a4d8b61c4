"""Dead letters of contact changes carry keyed hashes, not the contact values (dead_letter.redact_contact_values,
on by default), in the worker's dead-letter topic and in replay's dead-letter file alike."""

from __future__ import annotations

import json
from pathlib import Path

from config import load_settings
from detectors.engine import RiskEngine
from detectors.privacy import contact_hash
from offline.replay import replay_file
from streams.processor import MemoryStateStore, Processor

PHONE = "+86 138 0013 8000"
BAD_CHANGE = {
    "type": "contact_change",
    "event_id": "cc-1",
    "customer_id": "c-1",
    "timestamp": "2026-03-01T10:00:00+08:00",
    "field": "fax",  # not a contract field: rejected
    "new_value": PHONE,
}


def processor(redact: bool = True) -> Processor:
    return Processor(RiskEngine(load_settings().detection), MemoryStateStore(), redact_contact_values=redact)


def test_a_rejected_contact_change_keeps_only_the_keyed_hash() -> None:
    key = load_settings().detection.contact_hash_key.get_secret_value().encode()
    result = processor().handle(json.dumps(BAD_CHANGE).encode(), source="contact-changes")
    dl = result.dead_letter
    assert dl is not None
    assert PHONE not in dl.raw
    raw = json.loads(dl.raw)
    assert raw["new_value"] == "hmac:" + contact_hash(key, "fax", PHONE)
    assert raw["event_id"] == "cc-1"  # everything else stays for the data-quality reader
    assert "new_value redacted to keyed hashes" in dl.error
    assert dl.error.startswith("field:")  # the reason still comes first (metric categories)


def test_redaction_can_be_turned_off() -> None:
    dl = processor(redact=False).handle(json.dumps(BAD_CHANGE).encode(), source="contact-changes").dead_letter
    assert dl is not None
    assert json.loads(dl.raw)["new_value"] == PHONE


def test_unparseable_input_on_the_contact_topic_is_withheld_elsewhere_kept() -> None:
    raw = f'{{"type": "contact_change", "new_value": "{PHONE}"'.encode()  # cut short: not JSON
    on_contacts = processor().handle(raw, source="contact-changes", expected_type="contact_change")
    assert on_contacts.dead_letter is not None
    assert on_contacts.dead_letter.raw == ""
    assert "raw withheld" in on_contacts.dead_letter.error
    on_transactions = processor().handle(b"{not json", source="transactions", expected_type="transaction")
    assert on_transactions.dead_letter is not None
    assert on_transactions.dead_letter.raw == "{not json"


def test_replay_dead_letter_file_is_redacted(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(BAD_CHANGE) + "\n")
    dlq = tmp_path / "dlq.jsonl"
    replay_file(events, load_settings(), alerts_out=tmp_path / "a.jsonl", dead_letter_out=dlq)
    text = dlq.read_text()
    assert text.count("\n") == 1
    assert PHONE not in text
    assert "hmac:" in text
