"""Train the zstd dictionary of the state records (``detectors/state_dictionary_v9.zdict``; v7 is formats
7 and 8's).

Run by hand (never by pytest); no broker needed:

    .venv/bin/python bench/train_state_dictionary.py --out detectors/state_dictionary_v9.zdict

``riskwatch generate`` writes --customers customers' traffic (its own seed, not the one bench/state_size.py
measures with); the events go through the worker's ``Processor`` and, every --every events, the body of a
format 9 record (``detectors.state_codec.state_body``) of the customer just changed is kept, so the
samples cover customers early and late in their history. zstd trains a --size byte dictionary on them.

A dictionary is part of the record format: records written with one can only be read with it. Writing a
new one means a new format byte and a new file beside the old one (the old file stays, to read old
records); never overwrite a shipped dictionary.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import generate_events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--customers", type=int, default=600)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--history-days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--every", type=int, default=25, help="keep a sample every this many events")
    ap.add_argument("--size", type=int, default=16384, help="dictionary bytes")
    args = ap.parse_args()
    if args.out.exists():
        sys.exit(f"{args.out} exists: a shipped dictionary is never replaced (write a new format's file)")

    from config.settings import load_settings
    from detectors.engine import RiskEngine
    from detectors.state_codec import state_body
    from streams.processor import MemoryStateStore, Processor

    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.jsonl"
        lines = generate_events(events, args.customers, args.days, args.history_days, args.seed)
    engine = RiskEngine(load_settings().detection)
    store = MemoryStateStore()
    processor = Processor(engine, store)
    samples = []
    for offset, line in enumerate(lines):
        result = processor.handle(line, source="train", offset=offset)
        if offset % args.every == 0 and result.customer_id is not None:
            state = store.get(result.customer_id)
            if state is not None:
                samples.append(state_body(engine, state))
    dictionary = zstandard.train_dictionary(args.size, samples, level=1, threads=1)
    args.out.write_bytes(dictionary.as_bytes())
    print(
        f"{len(samples):,} samples of {len(lines):,} events -> {args.out} ({len(dictionary.as_bytes()):,} bytes)"
    )


if __name__ == "__main__":
    main()
