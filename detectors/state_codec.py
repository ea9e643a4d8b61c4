"""A customer's state as the changelog (and the worker's idle customers) hold it: compact, versioned bytes.

A record is one format byte, then a zstd frame. Format 10 (written now) is format 9 with the remembered
ids' fingerprints moved out of the frame to the record's end, as they are: 4 bytes of a hash each, which
zstd cannot shrink but spends time on. Format 9 frames a binary body: the long, regular parts of a state
(the remembered event ids and their fingerprints, the debit baseline, the payees) as columns of packed
numbers and of id texts, exactly as the live state holds them (the ``detectors.id_text`` strings of
``SeenEvents``, ``DebitBaseline`` and ``Payees``); the parts of the detectors that pack their own state
(``Detector.state_bytes``: windows and daily counts as columns of numbers) as those bytes; and only the
small, irregular rest (the profile facts, cooldowns, the parts of the detectors that do not, the risk
book) as JSON. Decoding a customer that left the decoded cache takes each column as it is, one C call
each, and encoding one writes them back the same way. The frame is compressed with a dictionary trained
on typical states (``state_dictionary_v9.zdict``; formats 7 and 8 use ``state_dictionary_v7.zdict``; see
``bench/train_state_dictionary.py``): a record of two kilobytes has no earlier copy of its field names
and id shapes to refer to.

Records written before this format are still read: format 9 (the fingerprints in the frame), format 8
(the same, every detector's part as JSON), format 7 (the same columns, but the baseline's ids as
positions among the remembered ones and the payees' ids joined without escapes), format 6 (a zstd frame
of a columnar JSON tree) and the JSON objects of formats 1 to 5, so a worker restoring an older
changelog migrates it as it goes. Formats 9, 8 and 7 can still be written, for a group in a rolling
upgrade (``worker.state_record_format``).
Pure: bytes in, bytes out.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Sequence
from importlib import resources
from sys import intern
from typing import Any

import orjson
import zstandard

from detectors.cents import amounts_of, cents_of
from detectors.columns import column, from_column
from detectors.context import CustomerContext, DebitBaseline
from detectors.engine import STATE_FORMAT_VERSION, RiskEngine
from detectors.id_text import check as check_ids
from detectors.payees import Payees
from detectors.riskbook import Book
from detectors.state import CustomerState, SeenEvents

#: the first byte of a record of the current format; a JSON record starts with "{"
BINARY_FORMAT = 0x0A
FORMAT_9 = 0x09
FORMAT_8 = 0x08
FORMAT_7 = 0x07
FORMAT_6 = 0x06
#: what ``StateCodec`` can write: the current format, and those before for a rolling upgrade
WRITABLE_FORMATS = (FORMAT_7, FORMAT_8, FORMAT_9, BINARY_FORMAT)
_JSON_START = ord("{")
#: zstd's fastest level: on these records of a few kilobytes, higher levels barely shrink them for several
#: times the time, and faster (negative) ones take them over 2 KiB (docs/performance.md); decoding does not
#: depend on it
ZSTD_LEVEL = 1
#: the trained dictionary of formats 7 and 8, shipped with the package: records written with it need
#: exactly it, so a new dictionary is a new format byte (and the old file stays, to read the old records)
DICTIONARY_V7 = "state_dictionary_v7.zdict"
#: format 9's (and 10's), trained on its bodies: its binary detector parts are byte planes and packed
#: numbers the v7 dictionary never saw, and compressed with it the records came out larger than format 8's
DICTIONARY_V9 = "state_dictionary_v9.zdict"
#: joins the ids of a format 7 column; an id holding it went to the JSON part
_SEP = "\x00"
# body of format 8: the lengths of its eight sections, then the sections (see ``state_body_v8``)
_HEADER = struct.Struct("<8I")
# body of formats 9 and 10: the lengths of its nine sections, then the sections (see ``state_body``)
_HEADER_9 = struct.Struct("<9I")
#: the section of the remembered ids' fingerprints, which format 10 writes after the frame
_FINGERPRINTS = 2
#: the JSON part of formats 7 and 8 opens with the context's profile facts, customer_id to first_tx_ts
_PROFILE_FIELDS = 9

#: Text format 6 records are likely to repeat, given to zstd as a raw dictionary (format 6 only).
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

_dictionaries: dict[str, zstandard.ZstdCompressionDict] = {}


def trained_dictionary(name: str = DICTIONARY_V7) -> zstandard.ZstdCompressionDict:
    """A dictionary shipped in this package, read once per process (not at import)."""
    found = _dictionaries.get(name)
    if found is None:
        data = resources.files("detectors").joinpath(name).read_bytes()
        found = _dictionaries[name] = zstandard.ZstdCompressionDict(data)
    return found


def _array(kind: str, values: Any) -> bytes:
    return column(array(kind, values))


def _pack_money(values: Sequence[float]) -> bytes:
    """Whole cents as 64-bit integers (their ``/ 100`` is the same float again), else every value as a
    double: exact either way, and cents compress far better than the doubles' mantissas."""
    return _money_column(values, cents_of(values))


def _money_column(values: Sequence[float], in_cents: array[int] | None) -> bytes:
    """``_pack_money`` of ``values`` whose whole cents (or None) are known."""
    if in_cents is None:
        return b"d" + _array("d", values)
    return b"q" + column(in_cents)


def _unpack_money(data: memoryview) -> list[float]:
    """A money column's amounts as a list (format 7's readers)."""
    doubles, in_cents = _money_as_held(data)
    if in_cents is not None:
        return amounts_of(in_cents).tolist()
    return doubles.tolist() if doubles is not None else []


def _payee_money(payees: Payees) -> bytes:
    """The payees' largest amounts as ``_pack_money`` writes them, from the cents they hold if they do."""
    in_cents = payees.in_cents()
    return _money_column(payees.largest if in_cents is None else (), in_cents)


def _money_as_held(data: memoryview) -> tuple[array[float] | None, array[int] | None]:
    """A money column as it is: (None, its whole cents) or (its doubles, None)."""
    if not data:
        return None, array("q")
    if data[0] == ord("q"):
        return None, from_column("q", data[1:])
    return from_column("d", data[1:]), None


def _split(data: memoryview, fallback: list[str] | None) -> list[str]:
    if fallback is not None:
        return fallback
    return str(data, "utf-8").split(_SEP) if data else []


def _profile_facts(ctx: CustomerContext) -> list[Any]:
    """The context's profile facts that open the JSON part of formats 7 and 8 (``_PROFILE_FIELDS`` of
    them, read back by ``StateCodec._context``)."""
    return [
        ctx.customer_id,
        ctx.tier,
        ctx.segment,
        ctx.home_country,
        ctx.score,
        ctx.factors,
        ctx.has_profile,
        ctx.profile_ts,
        ctx.first_tx_ts,
    ]


def _columns(state: CustomerState) -> tuple[bytes, ...]:
    """The sections formats 8, 9 and 10 share after their JSON part: the remembered event ids (their
    ``id_text``), their fingerprints (after the zstd frame in format 10), the debit baseline's ids and
    amounts, and the payees' ids, payment counts and largest amounts."""
    baseline = state.ctx.debit_baseline
    payees = state.ctx.counterparties
    debits_in_cents = baseline.in_cents()
    return (
        state.seen.text.encode(),
        state.seen.fingerprints_bytes(),
        baseline.ids_text.encode(),
        _money_column(baseline.amounts if debits_in_cents is None else (), debits_in_cents),
        payees.text.encode(),
        column(payees.counts),
        _payee_money(payees),
    )


def state_body(engine: RiskEngine, state: CustomerState) -> bytes:
    """The uncompressed body of a format 9 record (what the dictionary is trained on): the lengths of its
    nine sections, then the sections: the JSON of the small parts, the remembered event ids (their
    ``id_text``), their fingerprints, the debit baseline's ids and amounts, the payees' ids, payment
    counts and largest amounts, and the detectors' binary parts one after another. The JSON part holds
    the parts of the detectors that give no bytes (``Detector.state_bytes``), and the names and lengths
    of those that do, in the order of the last section."""
    sections = _sections_9(engine, state)
    return b"".join((_HEADER_9.pack(*map(len, sections)), *sections))


def state_body_v10(engine: RiskEngine, state: CustomerState) -> tuple[bytes, bytes]:
    """A format 10 record's body and tail: format 9's body without the fingerprints' section (its length
    stays in the header), and the fingerprints, which the record holds after the zstd frame as they are.
    They are 4 bytes of a hash per remembered id, which zstd cannot shrink (stored in the frame, they made
    the record larger) but spends time on."""
    sections = _sections_9(engine, state)
    body = b"".join(
        (_HEADER_9.pack(*map(len, sections)), *sections[:_FINGERPRINTS], *sections[_FINGERPRINTS + 1 :])
    )
    return body, sections[_FINGERPRINTS]


def _sections_9(engine: RiskEngine, state: CustomerState) -> tuple[bytes, ...]:
    """The nine sections of the body of formats 9 and 10 (``state_body``)."""
    ctx = state.ctx
    as_json: dict[str, Any] = {}
    index: list[tuple[str, int]] = []
    binary: list[bytes] = []
    for d in engine.detectors:
        part = state.detectors[d.name]
        packed = d.state_bytes(part)
        if packed is None:
            as_json[d.name] = d.state_view(part)
        else:
            index.append((d.name, len(packed)))
            binary.append(packed)
    misc = orjson.dumps(
        [
            *_profile_facts(ctx),
            state.cooldowns,
            as_json,
            index,
            state.events_processed,
            state.book.to_json(),
        ]
    )
    return (misc, *_columns(state), b"".join(binary))


def state_body_v8(engine: RiskEngine, state: CustomerState) -> bytes:
    """The uncompressed body of a format 8 record: format 9's without the binary detector parts, for a
    group in a rolling upgrade from a version that reads no later format: the lengths of its eight
    sections, then the JSON of the small parts and the sections of ``_columns``."""
    ctx = state.ctx
    misc = orjson.dumps(
        [
            *_profile_facts(ctx),
            state.cooldowns,
            {d.name: d.state_view(state.detectors[d.name]) for d in engine.detectors},
            state.events_processed,
            state.book.to_json(),
        ]
    )
    sections = (misc, *_columns(state))
    return _HEADER.pack(*map(len, sections)) + b"".join(sections)


def state_body_v7(engine: RiskEngine, state: CustomerState) -> bytes:
    """The body of a format 7 record, for a group in a rolling upgrade from a version that reads no
    later format (``worker.state_record_format``): the baseline's ids as their positions among the
    remembered ids (the JSON part lists those not remembered), the payees' ids joined unescaped (or, if
    any holds the separator or is empty, as a JSON list)."""
    ctx = state.ctx
    seen = state.seen.order
    position = {eid: i for i, eid in enumerate(seen)}
    baseline_ids = ctx.debit_baseline.event_ids
    payees = ctx.counterparties
    payee_ids = list(payees)
    joined = _SEP.join(payee_ids)
    cp_fallback: list[str] | None = None
    if joined.count(_SEP) != max(0, len(payee_ids) - 1) or "" in payee_ids:
        joined, cp_fallback = "", payee_ids
    misc = orjson.dumps(
        [
            *_profile_facts(ctx),
            [eid for eid in baseline_ids if eid not in position],
            cp_fallback,
            state.cooldowns,
            {d.name: d.state_view(state.detectors[d.name]) for d in engine.detectors},
            state.events_processed,
            state.book.to_json(),
        ]
    )
    sections = (
        misc,
        state.seen.text.encode(),
        state.seen.fingerprints_bytes(),
        _array("i", [position.get(eid, -1) for eid in baseline_ids]),
        _pack_money(ctx.debit_baseline.amounts),
        joined.encode(),
        _array("d", payees.counts),
        _pack_money(payees.largest),
    )
    return _HEADER.pack(*map(len, sections)) + b"".join(sections)


class StateCodec:
    """Encodes and decodes the states of one engine (its detectors decide what their parts hold)."""

    def __init__(self, engine: RiskEngine, write_format: int = BINARY_FORMAT) -> None:
        """``write_format``: the format ``encode`` writes, this one or (during a rolling upgrade from a
        version that reads no later one) format 9, 8 or 7; every format is read either way."""
        if write_format not in WRITABLE_FORMATS:
            raise ValueError(
                f"state record format {write_format} cannot be written (only {WRITABLE_FORMATS})"
            )
        self.engine = engine
        self._format_byte = bytes((write_format,))
        self._tail = write_format == BINARY_FORMAT
        self._body = {FORMAT_9: state_body, FORMAT_8: state_body_v8, FORMAT_7: state_body_v7}.get(
            write_format
        )
        settings = engine.settings
        self._max_ids = settings.seen_event_ids_max
        self._max_debits = settings.amount_spike.baseline_window_events
        self._max_counterparties = settings.known_counterparties_max
        dictionary = trained_dictionary(DICTIONARY_V9)
        dictionary_v7 = trained_dictionary(DICTIONARY_V7)
        self._compressor = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL,
            dict_data=dictionary if write_format >= FORMAT_9 else dictionary_v7,
            write_checksum=False,
            write_dict_id=False,
        )
        self._decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)
        self._decompressor_v7 = zstandard.ZstdDecompressor(dict_data=dictionary_v7)
        v6 = zstandard.ZstdCompressionDict(DICTIONARY_V6, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        self._decompressor_v6 = zstandard.ZstdDecompressor(dict_data=v6)

    def encode(self, state: CustomerState) -> bytes:
        """The record for the changelog; reads serialised parts of the live state, so call it before the
        state changes again (as ``Detector.state_view``)."""
        if self._tail:
            body, tail = state_body_v10(self.engine, state)
            return b"".join((self._format_byte, self._compressor.compress(body), tail))
        return self._format_byte + self._compressor.compress(self.body(state))

    def body(self, state: CustomerState) -> bytes:
        """The body a record of the format written compresses (see ``state_body``, ``state_body_v10``)."""
        if self._body is None:
            return state_body_v10(self.engine, state)[0]
        return self._body(self.engine, state)

    def sections(self, raw: bytes) -> list[memoryview]:
        """The nine sections of a format 10 or 9 record's body (``state_body``), as the decoder reads them."""
        first = raw[0] if raw else None
        if first == BINARY_FORMAT:
            return self._sections_10(raw)
        if first == FORMAT_9:
            return _sections(memoryview(self._decompressor.decompress(raw[1:])), _HEADER_9)
        raise ValueError("not a customer state record of format 9 or 10")

    def _sections_10(self, raw: bytes) -> list[memoryview]:
        """Format 10: the frame is followed by the fingerprints (``state_body_v10``)."""
        return _sections_10(raw, memoryview(self._decompressor.decompress(raw[1:], allow_extra_data=True)))

    def decode(self, raw: bytes) -> CustomerState:
        """A state from a record of this format or of any before it; ``ValueError`` naming the format for a
        record that is not one (a damaged frame included: zstd's own error is no ``ValueError``)."""
        if not raw:
            raise ValueError("empty customer state record")
        first = raw[0]
        try:
            if first == BINARY_FORMAT:
                return self._from_sections(self._sections_10(raw))
            if first == FORMAT_9:
                return self._from_sections(
                    _sections(memoryview(self._decompressor.decompress(raw[1:])), _HEADER_9)
                )
            if first == FORMAT_8:
                return self._from_body_v8(memoryview(self._decompressor_v7.decompress(raw[1:])))
            if first == FORMAT_7:
                return self._from_body_v7(memoryview(self._decompressor_v7.decompress(raw[1:])))
            if first == _JSON_START:
                return self.engine.state_from_json(orjson.loads(raw))
            if first == FORMAT_6:
                return self.engine.state_from_json(self._v6_to_json(raw))
        except zstandard.ZstdError as exc:
            raise ValueError(f"damaged customer state record of format {first:#04x}: {exc}") from exc
        raise ValueError(f"unsupported customer state record format {first:#04x}")

    def _from_sections(self, sections: list[memoryview]) -> CustomerState:
        """Formats 9 and 10."""
        head = orjson.loads(sections[0])
        cooldowns, stored, index, events_processed, book = head[_PROFILE_FIELDS:]
        binary: dict[str, memoryview] = {}
        at, parts = 0, sections[8]
        for name, n in index:
            binary[name] = parts[at : at + n]
            at += n
        if at != len(parts):
            raise ValueError("customer state record: the detectors' binary parts differ in length")
        ctx, seen = self._columns(head, sections)
        return self._state(ctx, seen, cooldowns, stored, events_processed, book, binary)

    def _from_body_v8(self, body: memoryview) -> CustomerState:
        """Format 8: format 9 without the binary detector parts (each detector's part in the JSON)."""
        sections = _sections(body, _HEADER)
        head = orjson.loads(sections[0])
        cooldowns, stored, events_processed, book = head[_PROFILE_FIELDS:]
        ctx, seen = self._columns(head, sections)
        return self._state(ctx, seen, cooldowns, stored, events_processed, book)

    def _columns(self, head: list[Any], sections: list[memoryview]) -> tuple[CustomerContext, SeenEvents]:
        """The context and the remembered ids from the sections formats 8 and 9 share."""
        seen = SeenEvents(self._max_ids)
        seen.restore_text(str(sections[1], "utf-8"), bytes(sections[2]))
        baseline = DebitBaseline(self._max_debits)
        baseline.restore_text(str(sections[3], "utf-8"), *_money_as_held(sections[4]))
        payee_ids = str(sections[5], "utf-8")
        counts = from_column("d", sections[6])
        largest, largest_cents = _money_as_held(sections[7])
        held = len(largest_cents) if largest_cents is not None else len(largest or ())
        if not check_ids(payee_ids) == len(counts) == held:
            raise ValueError("customer state record: the payees' columns differ in length")
        payees = Payees(self._max_counterparties, payee_ids, counts, largest, largest_cents)
        return self._context(head, baseline, payees), seen

    def _context(self, head: list[Any], baseline: DebitBaseline, payees: Payees) -> CustomerContext:
        """The context from the profile facts that open the JSON part of formats 7 and 8."""
        customer_id, tier, segment, home_country, score, factors, has_profile, profile_ts, first_tx_ts = head[
            :_PROFILE_FIELDS
        ]
        return CustomerContext(
            customer_id=customer_id,
            # shared with every customer of the same value: a few distinct texts, one object each
            tier=intern(tier),
            max_counterparties=self._max_counterparties,
            debit_baseline=baseline,
            segment=intern(segment),
            home_country=intern(home_country),
            score=score,
            factors=factors,
            has_profile=has_profile,
            profile_ts=profile_ts,
            first_tx_ts=first_tx_ts,
            counterparties=payees,
        )

    def _state(
        self,
        ctx: CustomerContext,
        seen: SeenEvents,
        cooldowns: dict[str, list[float]],
        stored: dict[str, Any],
        events_processed: int,
        book: Any,
        binary: dict[str, memoryview] | None = None,
    ) -> CustomerState:
        """The state; each detector's part from its bytes (``binary``), else its JSON (``stored``), else
        new (a detector the record's writer did not have)."""
        detectors: dict[str, Any] = {}
        for d in self.engine.detectors:
            name = d.name
            if binary is not None and name in binary:
                detectors[name] = d.state_from_bytes(binary[name])
            elif name in stored:
                detectors[name] = d.state_from_json(stored[name])
            else:
                detectors[name] = d.new_state()
        risk_book = Book.from_json(book)
        if risk_book.static_factors == ctx.factors:
            # one dict for both while they are equal (neither is ever changed in place, only replaced)
            risk_book.static_factors = ctx.factors
        return CustomerState(
            ctx=ctx,
            seen=seen,
            cooldowns={k: [float(v[0]), float(v[1])] for k, v in cooldowns.items()},
            detectors=detectors,
            events_processed=events_processed,
            book=risk_book,
        )

    def _from_body_v7(self, body: memoryview) -> CustomerState:
        """Format 7: the baseline's ids as positions among the remembered ids (those not remembered in
        the JSON part), the payees' ids joined by the separator unescaped (or, if any held it, in the
        JSON part)."""
        sections = _sections(body, _HEADER)
        head = orjson.loads(sections[0])
        unseen_debits, cp_fallback, cooldowns, stored, events_processed, book = head[_PROFILE_FIELDS:]
        seen = SeenEvents(self._max_ids)
        seen.restore_text(str(sections[1], "utf-8"), bytes(sections[2]))
        seen_ids = seen.order if len(unseen_debits) < len(sections[3]) // 4 else []
        unseen = iter(unseen_debits)
        debit_ids = [seen_ids[p] if p >= 0 else next(unseen) for p in from_column("i", sections[3])]
        baseline = DebitBaseline(self._max_debits)
        baseline.restore(debit_ids, _unpack_money(sections[4]))
        cp_ids = _split(sections[5], cp_fallback)
        counts = from_column("d", sections[6])
        largest = _unpack_money(sections[7])
        if not len(cp_ids) == len(counts) == len(largest):
            raise ValueError("customer state record: the payees' columns differ in length")
        payees = Payees.from_rows(self._max_counterparties, zip(cp_ids, counts, largest, strict=True))
        ctx = self._context(head, baseline, payees)
        return self._state(ctx, seen, cooldowns, stored, events_processed, book)

    def to_json(self, raw: bytes) -> dict[str, Any]:
        """A binary record as ``RiskEngine.state_to_json`` gives it (for inspection and migration)."""
        if raw and raw[0] == FORMAT_6:
            return self._v6_to_json(raw)
        return self.engine.state_to_json(self.decode(raw))

    def _v6_to_json(self, raw: bytes) -> dict[str, Any]:
        """Format 6: a zstd frame of the JSON of a columnar tree, amounts in whole cents as integers."""
        tree = orjson.loads(self._decompressor_v6.decompress(raw[1:]))
        fmt, c, seen, fingerprints, debit_ids, debit_amounts = tree[:6]
        cp_ids, cp_counts, cp_largest, cooldowns, detectors, events_processed, book = tree[6:]
        if fmt != FORMAT_6:
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
                    for e, a in zip(debit_ids, _unmoney_v6(debit_amounts), strict=True)
                ],
                "counterparties": [
                    [k, float(n), m]
                    for k, n, m in zip(cp_ids, cp_counts, _unmoney_v6(cp_largest), strict=True)
                ],
            },
            "seen": seen,
            "seen_fp": fingerprints,
            "cooldowns": cooldowns,
            "detectors": detectors,
            "events_processed": events_processed,
            "book": book,
        }


def _sections(body: memoryview, header: struct.Struct) -> list[memoryview]:
    if len(body) < header.size:
        raise ValueError(f"customer state record of {len(body)} bytes, shorter than its header")
    lengths = header.unpack_from(body)
    at = header.size
    sections = []
    for n in lengths:
        sections.append(body[at : at + n])
        at += n
    if at != len(body):
        raise ValueError(f"customer state record of {len(body)} bytes, its sections say {at}")
    return sections


def _sections_10(raw: bytes, body: memoryview) -> list[memoryview]:
    """A format 10 record's nine sections: its body's, but for the fingerprints (``state_body_v10``), which
    are the record's last bytes."""
    if len(body) < _HEADER_9.size:
        raise ValueError(f"customer state record of {len(body)} bytes, shorter than its header")
    lengths = _HEADER_9.unpack_from(body)
    outside = lengths[_FINGERPRINTS]
    if outside > len(raw) - 1:
        raise ValueError(f"customer state record of {len(raw)} bytes, its fingerprints say {outside}")
    at = _HEADER_9.size
    sections = []
    for k, n in enumerate(lengths):
        if k == _FINGERPRINTS:
            sections.append(memoryview(raw)[len(raw) - n :])
            continue
        sections.append(body[at : at + n])
        at += n
    if at != len(body):
        raise ValueError(f"customer state record of {len(body)} bytes, its sections say {at}")
    return sections


def _unmoney_v6(values: list[float | int]) -> list[float]:
    return [v / 100 if v.__class__ is int else v for v in values]
