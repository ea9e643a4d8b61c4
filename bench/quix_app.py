"""riskwatch's own ``Processor`` as a Quix Streams application: the third runner of bench/side_by_side.py.

Runs ONLY under the Python of Quix Streams' own virtual environment (it pins an older confluent-kafka and
pydantic than riskwatch), started by bench/side_by_side.py; set it up once with

    python3.11 -m venv bench/.venv-quix && bench/.venv-quix/bin/pip install -r bench/quix-requirements.txt

riskwatch is not installed there: the repository root goes on ``sys.path`` and the detection core runs on
the pydantic, pydantic-settings and orjson that Quix Streams brings (riskwatch's lower bounds allow them).
Whatever the main ``.venv`` compiled into the source tree (mypyc extension modules beside the ``.py``
files) is imported here too, so both runtimes run the same build; the first line printed says which.

The application: the three co-partitioned input topics concatenated (Quix aligns them by record
timestamp, as riskwatch's worker orders them), one stateful ``apply`` per message that calls
``Processor.handle`` with a ``StateStore`` backed by Quix's key-scoped state (RocksDB, changelog topics),
its outputs (alerts, tier changes, reviews, dead letters) fanned out to their topics by branches,
``processing_guarantee="exactly-once"``. The customer state goes into the store as the engine's JSON view
on every accepted event (Quix's ``State.set`` serialises the value at once); reads use a decoded copy
while the store's version of the customer still matches it (see ``build_store``; ``--decoded-cache 0``
decodes from the store on every event).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def build_store(engine: Any, max_cached: int) -> Any:
    """A ``streams.processor.StateStore`` over the current message's Quix ``State`` (set per message).

    Every accepted event writes the customer's state (the engine's JSON view) and a version number to the
    store, as Quix's exactly-once changelog needs. Reads use a decoded copy kept here while the store's
    version still matches it (the worker likewise keeps hot customers decoded, at most as many as
    ``max_cached``, least recently used out first); ``max_cached=0`` decodes from the store every time.
    """

    class QuixStateStore:
        def __init__(self) -> None:
            self.state: Any = None
            self.cache: OrderedDict[str, tuple[int, Any]] = OrderedDict()

        def get(self, customer_id: str) -> Any:
            version = self.state.get("v")
            if version is None:
                return None
            hit = self.cache.get(customer_id)
            if hit is not None and hit[0] == version:
                self.cache.move_to_end(customer_id)
                return hit[1]
            decoded = engine.state_from_json(self.state.get("s"))
            self._keep(customer_id, version, decoded)
            return decoded

        def put(self, customer_id: str, state: Any) -> None:
            version = (self.state.get("v") or 0) + 1
            self.state.set("s", engine.state_view(state))
            self.state.set("v", version)
            self._keep(customer_id, version, state)

        def delete(self, customer_id: str) -> None:
            self.state.delete("s")
            self.state.delete("v")
            self.cache.pop(customer_id, None)

        def _keep(self, customer_id: str, version: int, state: Any) -> None:
            if max_cached <= 0:
                return
            self.cache[customer_id] = (version, state)
            self.cache.move_to_end(customer_id)
            while len(self.cache) > max_cached:
                self.cache.popitem(last=False)

    return QuixStateStore()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--inputs", required=True, help="transactions,contact-changes,customer-profiles topics")
    ap.add_argument("--alerts", required=True)
    ap.add_argument("--risk", required=True)
    ap.add_argument("--dead-letter", required=True)
    ap.add_argument("--reviews", required=True)
    ap.add_argument("--state-dir", type=Path, default=None)
    ap.add_argument("--commit-interval", type=float, default=5.0, help="Quix's default: 5 s")
    ap.add_argument(
        "--decoded-cache",
        type=int,
        default=None,
        help="decoded customers kept (default: the worker's per-partition cap x partitions); 0 = none",
    )
    ap.add_argument("--partitions", type=int, default=6)
    args = ap.parse_args()

    sys.path.insert(0, str(REPO))
    from quixstreams import Application, message_context
    from quixstreams import __version__ as quix_version

    import detectors.engine as engine_module
    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from streams.processor import Processor

    compiled = not engine_module.__file__.endswith(".py") if engine_module.__file__ else False
    print(
        f"quixstreams {quix_version}; riskwatch from {REPO} ({'compiled' if compiled else 'pure Python'}: "
        f"{Path(engine_module.__file__ or '?').name})",
        flush=True,
    )

    settings = load_settings()
    engine = RiskEngine(settings.detection)
    max_cached = args.decoded_cache
    if max_cached is None:
        max_cached = getattr(settings.worker, "max_decoded_customers_per_partition", 20000) * args.partitions
    store = build_store(engine, max_cached)
    print(f"decoded customers kept: at most {max_cached:,}", flush=True)
    processor = Processor(
        engine,
        store,
        dead_letter_max_bytes=settings.worker.dead_letter_max_bytes,
        redact_contact_values=settings.dead_letter.redact_contact_values,
    )
    tx_topic, cc_topic, cp_topic = args.inputs.split(",")
    expected = {tx_topic: "transaction", cc_topic: "contact_change", cp_topic: "customer_profile"}

    app = Application(
        broker_address=args.broker,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        processing_guarantee="exactly-once",
        commit_interval=args.commit_interval,
        state_dir=str(args.state_dir or tempfile.mkdtemp(prefix="quix-state-")),
        loglevel=logging.WARNING,
    )

    def raw_topic(name: str) -> Any:
        return app.topic(name, key_deserializer="bytes", value_deserializer="bytes", value_serializer="bytes")

    sdf = app.dataframe(raw_topic(tx_topic))
    sdf = sdf.concat(app.dataframe(raw_topic(cc_topic))).concat(app.dataframe(raw_topic(cp_topic)))

    def handle(value: bytes, key: bytes, timestamp: int, headers: Any, state: Any) -> list[tuple[str, bytes]]:
        ctx = message_context()
        store.state = state
        result = processor.handle(
            value,
            source=ctx.topic,
            partition=ctx.partition,
            offset=ctx.offset,
            key=key,
            expected_type=expected.get(ctx.topic),
        )
        out: list[tuple[str, bytes]] = []
        if result.dead_letter is not None:
            out.append(("dead_letter", result.dead_letter.model_dump_json().encode()))
            return out
        out += [("alerts", a.model_dump_json().encode()) for a in result.alerts]
        out += [("risk", r.model_dump_json().encode()) for r in result.risks]
        out += [("reviews", r.model_dump_json().encode()) for r in result.reviews]
        return out

    rows = sdf.apply(handle, stateful=True, metadata=True, expand=True)
    for role, name in (
        ("alerts", args.alerts),
        ("risk", args.risk),
        ("reviews", args.reviews),
        ("dead_letter", args.dead_letter),
    ):
        out_topic = app.topic(name, key_serializer="bytes", value_serializer="bytes")
        rows.filter(lambda r, role=role: r[0] == role).apply(lambda r: r[1]).to_topic(out_topic)
    app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
