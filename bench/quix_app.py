"""riskwatch's own ``Processor`` as a Quix Streams application: the third runner of bench/side_by_side.py.

Runs ONLY under the Python of Quix Streams' own virtual environment (it pins an older confluent-kafka and
pydantic than riskwatch), started by bench/side_by_side.py; set it up once with

    python3.11 -m venv bench/.venv-quix && bench/.venv-quix/bin/pip install quixstreams

riskwatch is not installed there: the repository root goes on ``sys.path`` and the detection core runs on
the pydantic, pydantic-settings and orjson that Quix Streams brings (riskwatch's lower bounds allow them).
Whatever the main ``.venv`` compiled into the source tree (mypyc extension modules beside the ``.py``
files) is imported here too, so both runtimes run the same build; the first line printed says which.

The application: the three co-partitioned input topics concatenated (Quix aligns them by record
timestamp, as riskwatch's worker orders them), one stateful ``apply`` per message that calls
``Processor.handle`` with a ``StateStore`` backed by Quix's key-scoped state (RocksDB, changelog topics),
its outputs (alerts, tier changes, reviews, dead letters) fanned out to their topics by branches,
``processing_guarantee="exactly-once"``. The customer state goes into the store as the engine's JSON view
on every accepted event and is decoded from it on every event: Quix's ``State.set`` serialises the value
at once, so there is no cheaper honest way to keep riskwatch's state in Quix's store.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def build_store(engine: Any) -> Any:
    """A ``streams.processor.StateStore`` over the current message's Quix ``State`` (set per message)."""

    class QuixStateStore:
        def __init__(self) -> None:
            self.state: Any = None

        def get(self, customer_id: str) -> Any:
            view = self.state.get("s")
            return None if view is None else engine.state_from_json(view)

        def put(self, customer_id: str, state: Any) -> None:
            self.state.set("s", engine.state_view(state))

        def delete(self, customer_id: str) -> None:
            self.state.delete("s")

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
    store = build_store(engine)
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
