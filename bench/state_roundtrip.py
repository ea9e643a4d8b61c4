"""Digests of what a traffic file gives through the worker's ``Processor`` when every event's customer is
decoded from its changelog record: to show that a change to the state's classes or codec changes no
output and no record byte.

Run by hand (never by pytest), once per build, and compare the lines:

    .venv/bin/riskwatch generate --customers 600 --days 60 --seed 7 --malformed 40 --out tmp/rt.jsonl
    .venv/bin/python bench/state_roundtrip.py tmp/rt.jsonl
    PYTHONPATH=/path/to/other/tree .venv/bin/python bench/state_roundtrip.py tmp/rt.jsonl   # the other build

One ``PartitionState`` holding one decoded customer: after each event its changed customer is encoded
(``take_dirty``) and leaves the cache, so the next event of any other customer is decoded from that
record. Printed: per kind (alerts, tier changes, reviews, dead letters, changelog records) the count and
the first 16 hex digits of a SHA-256 over them in order (alerts and the rest without their wall-clock
fields ``detected_at`` and ``received_at``; records as the customer id and the record's bytes).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

import orjson

from config.settings import load_settings
from detectors.engine import RiskEngine
from streams.processor import Processor
from streams.worker.state_store import PartitionState

WALL_CLOCK_FIELDS = ("detected_at", "received_at")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("events", type=Path, help="JSON lines, as riskwatch generate writes them")
    ap.add_argument("--limit", type=int, default=0, help="only the first N lines")
    args = ap.parse_args()

    engine = RiskEngine(load_settings().detection)
    part = PartitionState(engine, max_decoded=1)
    processor = Processor(engine, part)
    digests = {k: hashlib.sha256() for k in ("alerts", "risks", "reviews", "dead_letters", "records")}
    counts = dict.fromkeys(digests, 0)

    def add(kind: str, model: Any) -> None:
        data = orjson.loads(model.model_dump_json())
        for name in WALL_CLOCK_FIELDS:
            data.pop(name, None)
        digests[kind].update(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        counts[kind] += 1

    with args.events.open("rb") as lines:
        for n, line in enumerate(lines, start=1):
            if args.limit and n > args.limit:
                break
            result = processor.handle(line.rstrip(b"\n"), source="roundtrip", partition=0, offset=n)
            for alert in result.alerts:
                add("alerts", alert)
            for risk in result.risks:
                add("risks", risk)
            for review in result.reviews:
                add("reviews", review)
            if result.dead_letter is not None:
                add("dead_letters", result.dead_letter)
            for customer_id, record in part.take_dirty():
                digests["records"].update(customer_id.encode() + (record or b"-"))
                counts["records"] += 1
    for kind, digest in digests.items():
        print(f"{kind:<13} {counts[kind]:>8,}  {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
