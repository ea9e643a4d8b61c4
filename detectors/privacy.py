"""Keyed hashes of contact values: detectors need equality of values, never the values themselves."""

from __future__ import annotations

import hashlib
import hmac


def contact_hash(key: bytes, field: str, value: str) -> str:
    """HMAC-SHA256 over the field and the normalised value; truncated, since equality is all it serves.

    Normalisation (trim, case-fold) makes ``A@x.com`` and ``a@x.com `` the same contact detail.
    """
    normalised = value.strip().casefold()
    digest = hmac.new(key, f"{field}\x00{normalised}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]
