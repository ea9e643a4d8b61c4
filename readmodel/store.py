"""Writes a batch of records into Redis as one MULTI/EXEC together with the partitions' next offsets.

So the read model is always exactly "the topics up to the stored offsets": a projector killed at any
point resumes from what Redis holds and a replayed record is never applied twice. The offsets are WATCHed
and checked against where this projector believes they are, so a second projector on the same Redis
cannot interleave with it (its transaction fails, it re-reads the offsets and seeks there).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import redis
from redis.client import Pipeline

from config.settings import Settings
from readmodel.keys import TIERS, Keys, offset_field, review_day
from readmodel.records import (
    AddAlert,
    Erase,
    Plan,
    PutDisposition,
    PutField,
    PutRisk,
    Record,
    Skip,
    customer_of,
    plan,
)

TopicPartition = tuple[str, int]

# Keep the newest N alerts of a customer (by event time) and drop the older ones' bodies and dispositions.
_TRIM_ALERTS = """
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local old = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
for i = 1, #old, 1000 do
  local chunk = {unpack(old, i, math.min(i + 999, #old))}
  redis.call('HDEL', KEYS[2], unpack(chunk))
  redis.call('HDEL', KEYS[3], unpack(chunk))
end
return excess
"""


class OffsetConflict(RuntimeError):
    """Redis's offsets are not where this projector left them: another projector writes the same keys."""


class RedisStore:
    """``erasure_key``: the secret that keys the hashes of erased customers' ids in ``Keys.erased``."""

    def __init__(self, client: redis.Redis, keys: Keys, alerts_per_customer: int, *, erasure_key: bytes):
        self.client = client
        self.keys = keys
        self.alerts_per_customer = alerts_per_customer
        self._erasure_key = erasure_key
        self._trim = client.register_script(_TRIM_ALERTS)

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Settings) -> RedisStore:
        return cls(
            client,
            Keys.for_prefix(settings.redis.key_prefix),
            settings.readmodel.alerts_per_customer,
            # the same secret that keys contact-detail hashes: set from a secret store in production
            erasure_key=settings.detection.contact_hash_key.get_secret_value().encode(),
        )

    def erased_token(self, customer_id: str) -> str:
        """How an erased customer is remembered: a keyed hash, so no id is left in clear after ``forget``."""
        return hmac.new(self._erasure_key, customer_id.encode(), hashlib.sha256).hexdigest()[:32]

    def offsets(self) -> dict[TopicPartition, int]:
        """The next offset to read per partition, as stored with the data."""
        stored: dict[bytes, bytes] = self.client.hgetall(self.keys.offsets)  # type: ignore[assignment]
        out: dict[TopicPartition, int] = {}
        for name, value in stored.items():
            topic, _, partition = name.decode().rpartition("|")
            out[(topic, int(partition))] = int(value)
        return out

    def apply(self, records: list[Record], expected: dict[TopicPartition, int | None]) -> Plan:
        """Apply ``records`` atomically with their partitions' new offsets; ``expected`` is each partition's
        stored offset before them (None: none stored yet). Raises ``OffsetConflict`` if Redis differs."""
        keys = self.keys
        with self.client.pipeline(transaction=True) as pipe:
            pipe.watch(keys.offsets, keys.erased)  # type: ignore[no-untyped-call]
            tps = list(expected)
            stored = pipe.hmget(keys.offsets, [offset_field(t, p) for t, p in tps]) if tps else []
            for tp, value in zip(tps, stored, strict=True):
                if (None if value is None else int(value)) != expected[tp]:
                    raise OffsetConflict(
                        f"offset of {tp[0]}[{tp[1]}] in Redis is {value!r}, expected {expected[tp]}: "
                        "another projector writes this read model"
                    )
            batch = plan(records, self._erasures(pipe, records))
            pipe.multi()
            self._write(pipe, batch)
            pipe.execute()
        return batch

    def _erasures(self, pipe: Pipeline, records: Iterable[Record]) -> dict[str, int]:
        cids = sorted({c for r in records if r.role != "customer_risk" and (c := customer_of(r))})
        if not cids:
            return {}
        values = pipe.hmget(self.keys.erased, [self.erased_token(c) for c in cids])
        return {c: int(v) for c, v in zip(cids, values, strict=True) if v is not None}

    def _write(self, pipe: Pipeline, batch: Plan) -> None:
        k = self.keys
        for op in batch.ops:
            if isinstance(op, PutRisk):
                cid = op.customer_id
                pipe.hset(
                    k.customer(cid),
                    mapping={
                        "risk": op.risk_json,
                        "tier": op.tier,
                        "score": repr(op.score),
                        "next_review_due": op.next_review_due.isoformat(),
                    },
                )
                pipe.hset(k.rows, cid, op.row_json())
                pipe.zadd(k.by_score, {cid: op.score})
                for tier in TIERS:
                    if tier == op.tier:
                        pipe.zadd(k.by_tier(tier), {cid: op.score})
                    else:
                        pipe.zrem(k.by_tier(tier), cid)
                pipe.zadd(k.reviews, {cid: review_day(op.next_review_due)})
            elif isinstance(op, AddAlert):
                pipe.zadd(k.alert_ids(op.customer_id), {op.alert_id: op.event_time_ms})
                pipe.hset(k.alerts(op.customer_id), op.alert_id, op.alert_json)
            elif isinstance(op, Erase):
                cid = op.customer_id
                pipe.delete(*k.customer_keys(cid))
                pipe.hdel(k.rows, cid)
                pipe.zrem(k.by_score, cid)
                for tier in TIERS:
                    pipe.zrem(k.by_tier(tier), cid)
                pipe.zrem(k.reviews, cid)
                pipe.hset(k.erased, self.erased_token(cid), op.erased_at_ms)
            elif isinstance(op, PutField):
                if op.value_json is None:
                    pipe.hdel(k.customer(op.customer_id), op.name)
                else:
                    pipe.hset(k.customer(op.customer_id), op.name, op.value_json)
            elif isinstance(op, PutDisposition):
                pipe.hset(k.dispositions(op.customer_id), op.alert_id, op.disposition_json)
            elif isinstance(op, Skip):
                pipe.hincrby(k.skipped, op.topic, 1)
        for cid in sorted(batch.touched_alerts):
            self._trim(
                keys=[k.alert_ids(cid), k.alerts(cid), k.dispositions(cid)],
                args=[self.alerts_per_customer],
                client=pipe,
            )
        if batch.offsets:
            pipe.hset(k.offsets, mapping={offset_field(t, p): o for (t, p), o in batch.offsets.items()})

    def clear(self) -> int:
        """Delete the read model (for a rebuild from the topics), keeping the erasure times: the alerts topic
        still holds erased customers' old alerts, and they must not come back."""
        deleted = 0
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=self.keys.pattern, count=1000):
            if key.decode() == self.keys.erased:
                continue
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(self.client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(self.client.unlink(*batch))
        return deleted
