"""What the CLI and the HTTP API ask of the read model; asyncio, so the server shares one connection pool.

Each lookup is one pipelined round trip (two for lists that fetch each customer's tier), so its latency
is Redis's plus JSON decoding, whatever the number of customers.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import orjson
import redis.asyncio

from readmodel.keys import TIERS, Keys, review_day

Doc = dict[str, Any]


class ReadModel:
    def __init__(self, client: redis.asyncio.Redis, keys: Keys, max_top: int = 1000):
        self.client = client
        self.keys = keys
        self.max_top = max_top

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def customer(self, customer_id: str) -> Doc | None:
        """The customer's latest risk, next review, open review and newest alerts; None if unknown."""
        k = self.keys
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.customer(customer_id))
            pipe.zrevrange(k.alert_ids(customer_id), 0, -1)
            pipe.hgetall(k.alerts(customer_id))
            pipe.hgetall(k.dispositions(customer_id))
            fields, alert_ids, bodies, dispositions = await pipe.execute()
        if not fields and not alert_ids:
            return None
        return customer_doc(customer_id, fields, alert_ids, bodies, dispositions)

    async def customers(self, tier: str | None = None, top: int = 50) -> list[Doc]:
        """The ``top`` riskiest customers (highest score first), of one tier or of all."""
        if tier is not None and tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}")
        key = self.keys.by_tier(tier) if tier else self.keys.by_score
        count = max(0, min(top, self.max_top))
        if count == 0:
            return []
        ranked = await self.client.zrevrange(key, 0, count - 1)
        return await self._rows(cast(list[bytes], ranked))

    async def reviews_due(self, before: date, limit: int = 100) -> list[Doc]:
        """Customers whose next review is due strictly before ``before``, earliest first."""
        count = max(0, min(limit, self.max_top))
        if count == 0:
            return []
        ranked = await self.client.zrangebyscore(
            self.keys.reviews, "-inf", f"({review_day(before)}", start=0, num=count
        )
        return await self._rows(cast(list[bytes], ranked))

    async def _rows(self, ranked: list[bytes]) -> list[Doc]:
        """The ranked customers' rows: one HMGET of ready-made JSON, whatever the number of rows."""
        if not ranked:
            return []
        rows = await self.client.hmget(self.keys.rows, ranked)
        return [orjson.loads(row) for row in rows if row is not None]


def customer_doc(
    customer_id: str,
    fields: dict[bytes, bytes],
    alert_ids: list[bytes],
    bodies: dict[bytes, bytes],
    dispositions: dict[bytes, bytes],
) -> Doc:
    """Assemble the customer view from the raw hashes (pure, so the layout is unit-tested without Redis)."""
    risk = orjson.loads(fields[b"risk"]) if b"risk" in fields else None
    review = orjson.loads(fields[b"review"]) if b"review" in fields else None
    alerts = []
    for alert_id in alert_ids:
        body = bodies.get(alert_id)
        if body is None:
            continue
        alert = orjson.loads(body)
        disposition = dispositions.get(alert_id)
        alert["disposition"] = orjson.loads(disposition) if disposition else None
        alerts.append(alert)
    doc: Doc = {
        "customer_id": customer_id,
        "tier": None,
        "score": None,
        "previous_tier": None,
        "factors": {},
        "updated_at": None,
        "next_review_due": None,
        "reason": None,
    }
    if risk is not None:
        # every field of the latest CustomerRisk as published (later contract versions add some)
        doc.update(
            {name: value for name, value in risk.items() if name not in ("customer_id", "schema_version")}
        )
    doc["override"] = orjson.loads(fields[b"override"]) if b"override" in fields else None
    doc["review"] = review
    # a review stays open until a later CustomerRisk moves the schedule past it (completion, tier change)
    doc["review_open"] = review is not None and (
        doc["next_review_due"] is None or review["due_date"] >= doc["next_review_due"]
    )
    doc["alerts"] = alerts
    return doc
