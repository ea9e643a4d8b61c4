"""Contact values out of dead letters: a dead letter's ``raw`` is the rejected message, and a rejected
contact change still holds the phone number or email it was about. With
``dead_letter.redact_contact_values`` (on by default) the values are replaced by their keyed hash, the same
one the detectors use, so a data-quality reader can still tell two letters about the same value apart.
"""

from __future__ import annotations

from typing import Any

import orjson

from detectors.privacy import contact_hash

# fields of a message that carry a contact value (the contract's ``new_value``; ``old_value`` is not in
# the contract but an upstream system may send it)
CONTACT_VALUE_FIELDS = ("new_value", "old_value")
REDACTED_PREFIX = "hmac:"
WITHHELD_NOTE = (
    " (raw withheld: unparseable input on the contact-changes topic may hold contact values; read it "
    "from the source partition and offset, or set dead_letter.redact_contact_values = false)"
)


def redact_contact_values(raw: bytes, hash_key: bytes, *, contact_source: bool) -> tuple[bytes, str]:
    """``raw`` with every contact value replaced by ``hmac:<keyed hash>``, and a note for the dead letter's
    error. A JSON object is redacted field by field, whatever its ``type`` says; anything else that came
    from the contact-changes topic (``contact_source``) is withheld whole, since it cannot be parsed."""
    try:
        message: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return (b"", WITHHELD_NOTE) if contact_source else (raw, "")
    if not isinstance(message, dict):
        return (b"", WITHHELD_NOTE) if contact_source else (raw, "")
    present = [f for f in CONTACT_VALUE_FIELDS if message.get(f) is not None]
    if not present:
        return raw, ""
    kind = message.get("field")
    kind_text = kind if isinstance(kind, str) else ""
    for name in present:
        value = message[name]
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        message[name] = REDACTED_PREFIX + contact_hash(hash_key, kind_text, text)
    return orjson.dumps(message), f" ({', '.join(present)} redacted to keyed hashes)"
