"""``riskwatch generate``: labelled synthetic bank traffic as JSON lines, for replay, demos and quality tests.

Deterministic for a seed. Events go to ``--out`` (``-`` for stdout) one JSON object per line in time order;
labels of the injected fraud/AML patterns to ``--labels-out``. ``--rate-per-second`` paces the output for a
live demo (for example piped into a Kafka producer).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

from config.settings import Settings
from detectors.scorecard import Scorecard
from scenarios.generator import ScenarioConfig, generate
from streams.errors import ConfigFault


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1000, help="number of customers (default 1000)")
    parser.add_argument("--days", type=int, default=60, help="days of traffic (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same file")
    parser.add_argument("--start-date", default="2025-03-03", help="first day, YYYY-MM-DD at +08:00")
    parser.add_argument("--out", type=Path, required=True, help="events file (JSON lines), or - for stdout")
    parser.add_argument("--labels-out", type=Path, help="labels of the injected patterns (JSON lines)")
    parser.add_argument(
        "--pattern-share", type=float, default=0.35, help="share of customers with an injected pattern"
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=30,
        help="days of ordinary traffic before --start-date for existing customers (default 30)",
    )
    parser.add_argument(
        "--malformed", type=int, default=0, help="malformed lines to mix in, for dead-letter demos"
    )
    parser.add_argument(
        "--rate-per-second", type=float, help="write at most this many lines per second (live demos)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.customers < 1 or args.days < 1:
        raise ConfigFault("generate: --customers and --days must be at least 1", "give 1 or more")
    if args.history_days < 0:
        raise ConfigFault("generate: --history-days must be 0 or more", "give 0 or more")
    if args.rate_per_second is not None and args.rate_per_second <= 0:
        raise ConfigFault(
            "generate: --rate-per-second must be positive", "give a positive rate, or leave it out"
        )
    detection = settings.detection
    tier_of = Scorecard(detection.scorecard).tier_of_fields

    config = ScenarioConfig(
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        start_date=args.start_date,
        pattern_share=args.pattern_share,
        history_days=args.history_days,
        malformed=args.malformed,
    )
    scenario = generate(config, tier_of, fx_rates=detection.fx_rates_to_base)
    to_stdout = str(args.out) == "-"
    out: IO[str] = sys.stdout if to_stdout else args.out.open("w", encoding="utf-8")
    try:
        lines = _write(out, scenario.json_lines(), args.rate_per_second)
    finally:
        if not to_stdout:
            out.close()
    if args.labels_out is not None:
        with args.labels_out.open("w", encoding="utf-8") as f:
            for label in scenario.labels:
                f.write(json.dumps(label.to_dict(), ensure_ascii=False) + "\n")
    kinds = Counter(label.kind for label in scenario.labels)
    print(
        f"generated {lines:,} lines ({len(scenario.events):,} events, {len(scenario.malformed)} malformed) for "
        f"{args.customers:,} customers over {args.days} days -> {args.out}; "
        f"{len(scenario.labels)} patterns: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        file=sys.stderr,
    )
    return 0


def _write(out: IO[str], lines: Any, rate: float | None) -> int:
    n = 0
    started = time.monotonic()
    for line in lines:
        out.write(line + "\n")
        n += 1
        if rate is not None:
            out.flush()
            ahead = n / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    return n
