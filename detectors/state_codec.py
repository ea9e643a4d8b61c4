"""A customer's state as the changelog (and the worker's idle customers) hold it: compact, versioned bytes.

The JSON of ``RiskEngine.state_to_json`` took ~8 KB per ordinary customer, most of it the same event ids
spelled again in every part and floats printed in full. A record here is one format byte, then a zstd frame
of the JSON of a columnar tree: the ids a part shares with the remembered event ids become their position
among them, amounts that are whole cents become integers, and the per-row lists of the context become
columns, which compress far better. Records written before this format (JSON objects, formats 1 to 6) are
still read, so a worker restoring an older changelog migrates it as it goes. Pure: bytes in, bytes out.
"""

from __future__ import annotations

from typing import Any

import orjson
import zstandard

from detectors.engine import STATE_FORMAT_VERSION, RiskEngine
from detectors.state import CustomerState

#: the first byte of a binary record; a JSON record starts with "{"
BINARY_FORMAT = 0x06
_JSON_START = ord("{")
#: zstd's fastest level: on these records of a few kilobytes, levels 1 to 3 give the same size (level 5
#: 2% smaller for three times the time); decoding does not depend on it
ZSTD_LEVEL = 1
#: Text a record is likely to repeat (names of parts, settings' words), given to zstd as a dictionary: a
#: record of a few kilobytes has no earlier copy of them to refer to (~350 bytes less per record). Part of
#: format 6: records written with it need exactly it, so a new text is a new format byte.
DICTIONARY_V6 = (
    b'{"amount_spike":null,"velocity_spike":{"window":[],"daily_counts":[],"first_ts":null,'
    b'"day_alert_ts":null},"contact_change_burst":[],"account_takeover":{"changes":[],"transfers":[]},'
    b'"structuring":{},"large_value":{"individual_transfer_domestic|debit|":[],"corporate_transfer|debit|",'
    b'"cash|debit|","cash|credit|"},"tier_limit":{},"sustained_shift":{"elevated":[],"days":[]}},'
    b'{"static_score":,"static_factors":{"credit_record":,"financial_condition":,"business_size":,'
    b'"industry_risk":,"politically_exposed":0.0},"static_reason":"Scorecard /100; largest factor business '
    b'size (7.0 points).","points":{},"computed_tier":"low","above_ts":,"override":null,"clock":,'
    b'"review_base":"2025-","last_review":null,"due":"20","emitted_due":null}]"knockout.politically_exposed",'
    b'"behaviour.sustained_shift","behaviour.velocity_spike","behaviour.amount_spike","behaviour.large_value",'
    b'"individual","corporate","medium","high","low","CN"'
)


def _money(values: Any) -> list[float | int]:
    """Whole cents as integers (their ``/ 100`` is the same float again), anything else as it is."""
    return [c if x < 1e13 and (c := round(x * 100)) / 100 == x else x for x in values]


def _unmoney(values: list[float | int]) -> list[float]:
    return [v / 100 if v.__class__ is int else v for v in values]


class StateCodec:
    """Encodes and decodes the states of one engine (its detectors decide what their parts hold)."""

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine
        dictionary = zstandard.ZstdCompressionDict(DICTIONARY_V6, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        self._compressor = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL, dict_data=dictionary, write_checksum=False, write_dict_id=False
        )
        self._decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)

    def encode(self, state: CustomerState) -> bytes:
        """The record for the changelog; read serialised parts of the live state, so call it before the
        state changes again (as ``Detector.state_view``)."""
        ctx = state.ctx
        seen = state.seen.order
        position = dict(zip(seen, range(len(seen)), strict=True))
        baseline = ctx.debit_baseline
        counterparties = ctx.counterparties
        tree = [
            BINARY_FORMAT,
            [
                ctx.customer_id,
                ctx.tier,
                ctx.segment,
                ctx.home_country,
                ctx.score,
                ctx.factors,
                ctx.has_profile,
                ctx.profile_ts,
                ctx.first_tx_ts,
            ],
            list(seen),
            state.seen.fingerprints_blob(),
            [position.get(eid, eid) for eid in baseline.event_ids],
            _money(baseline.amounts),
            list(counterparties),
            [int(v[0]) for v in counterparties.values()],
            _money([v[1] for v in counterparties.values()]),
            state.cooldowns,
            {d.name: d.state_view(state.detectors[d.name]) for d in self.engine.detectors},
            state.events_processed,
            state.book.to_json(),
        ]
        return bytes((BINARY_FORMAT,)) + self._compressor.compress(orjson.dumps(tree))

    def decode(self, raw: bytes) -> CustomerState:
        """A state from a record of this format or any JSON one before it."""
        if not raw:
            raise ValueError("empty customer state record")
        if raw[0] == _JSON_START:
            return self.engine.state_from_json(orjson.loads(raw))
        if raw[0] != BINARY_FORMAT:
            raise ValueError(f"unsupported customer state record format {raw[0]:#04x}")
        return self.engine.state_from_json(self.to_json(raw))

    def to_json(self, raw: bytes) -> dict[str, Any]:
        """A binary record as ``RiskEngine.state_to_json`` gives it (for inspection and migration)."""
        tree = orjson.loads(self._decompressor.decompress(raw[1:]))
        fmt, c, seen, fingerprints, debit_ids, debit_amounts = tree[:6]
        cp_ids, cp_counts, cp_largest, cooldowns, detectors, events_processed, book = tree[6:]
        if fmt != BINARY_FORMAT:
            raise ValueError(f"customer state record says format {fmt!r} inside, {raw[0]} outside")
        return {
            "v": STATE_FORMAT_VERSION,
            "ctx": {
                "customer_id": c[0],
                "tier": c[1],
                "segment": c[2],
                "home_country": c[3],
                "score": c[4],
                "factors": c[5],
                "has_profile": c[6],
                "profile_ts": c[7],
                "first_tx_ts": c[8],
                "debits": [
                    [seen[e] if e.__class__ is int else e, a]
                    for e, a in zip(debit_ids, _unmoney(debit_amounts), strict=True)
                ],
                "counterparties": [
                    [k, float(n), m] for k, n, m in zip(cp_ids, cp_counts, _unmoney(cp_largest), strict=True)
                ],
            },
            "seen": seen,
            "seen_fp": fingerprints,
            "cooldowns": cooldowns,
            "detectors": detectors,
            "events_processed": events_processed,
            "book": book,
        }
