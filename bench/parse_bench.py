"""CPU microseconds per line of parsing input events: full pydantic validation against ``parse_event_json``
(which takes the shortcut of ``schemas/fast_events.py`` in the compiled build).

Run by hand, never by pytest:

    .venv/bin/python bench/parse_bench.py                      # the replay bench's scenario (cached)
    .venv/bin/python bench/parse_bench.py --events FILE.jsonl --lines 100000

Each figure is the best of --repeat passes over the same lines (process CPU time, so a loaded box inflates
it less than wall time; still noisy on a shared box). Prints which build is in use.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import hardware
from replay_bench import scenario_file

from schemas import events as schema_events
from schemas.events import EventError, parse_event_json, validate_event_json
from streams.build_info import build_in_use


def per_line_us(parse: Callable[[bytes], object], lines: list[bytes], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for line in lines:
            try:  # noqa: SIM105 - a with block per line would cost about what the parse does
                parse(line)
            except EventError:
                pass
        best = min(best, time.process_time() - start)
    return 1e6 * best / len(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=Path, default=None, help="a JSONL file (default: the replay bench's)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/riskwatch-bench"))
    ap.add_argument("--customers", type=int, default=600)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=20250303)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    path = args.events
    if path is None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        path = scenario_file(args.workdir, args.customers, args.days, args.seed)
    with path.open("rb") as f:
        lines = [line for line in f if line.strip()][: args.lines]
    shortcut = schema_events._SHORTCUT
    kinds = Counter(
        "shortcut" if shortcut is not None and shortcut.parse(line) is not None else "validated"
        for line in lines
    )
    print(hardware())
    print(f"build: {build_in_use().describe()}; {len(lines):,} lines of {path.name}; {dict(kinds)}")
    print(
        f"validate_event_json (pydantic): {per_line_us(validate_event_json, lines, args.repeat):.2f} us/line"
    )
    print(f"parse_event_json:               {per_line_us(parse_event_json, lines, args.repeat):.2f} us/line")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
