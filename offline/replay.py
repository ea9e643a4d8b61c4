"""``riskwatch replay``: the stream's detectors over a JSON-lines file, to try a rule on history.

Memory is bounded by customer state, not file size: lines are read, processed and written one at a time.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

from config.settings import Settings
from detectors.engine import RiskEngine
from offline import go_live
from streams.errors import ConfigFault
from streams.processor import MemoryStateStore, Processor

PROGRESS_INTERVAL_SECONDS = 0.5
GC_FREEZE_EVERY_LINES = 5000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "events", type=Path, help="JSON-lines file of mixed input events, roughly in time order"
    )
    parser.add_argument("--alerts-out", type=Path, required=True, help="where to write alerts (JSON lines)")
    parser.add_argument(
        "--risk-out", type=Path, help="where to write CustomerRisk tier and score changes (JSON lines)"
    )
    parser.add_argument(
        "--reviews-out",
        type=Path,
        help="where to write ReviewDue messages of reviews falling due (JSON lines)",
    )
    parser.add_argument(
        "--dead-letter-out",
        type=Path,
        help="where to write malformed lines (default: next to --alerts-out, *.dead-letter.jsonl)",
    )
    go_live.add_argument(
        parser,
        "events before it build the customers' state (baselines, payees, day totals, profiles) but raise "
        "no alert",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress and no summary")


def run(args: argparse.Namespace, settings: Settings) -> int:
    events_path: Path = args.events
    if not events_path.is_file():
        raise ConfigFault(
            f"{events_path} is not a readable file", "check the path (a JSON-lines file of events to replay)"
        )
    dlq_path: Path = args.dead_letter_out or args.alerts_out.with_name(
        args.alerts_out.stem + ".dead-letter.jsonl"
    )
    summary = replay_file(
        events_path,
        go_live.apply(settings, args.alerts_from),
        alerts_out=args.alerts_out,
        risk_out=args.risk_out,
        reviews_out=args.reviews_out,
        dead_letter_out=dlq_path,
        progress=None if args.quiet or not sys.stderr.isatty() else sys.stderr,
    )
    if not args.quiet:
        print(format_summary(summary, args.alerts_out, dlq_path), file=sys.stderr)
    return 0


def replay_file(
    events_path: Path,
    settings: Settings,
    *,
    alerts_out: Path,
    dead_letter_out: Path,
    risk_out: Path | None = None,
    reviews_out: Path | None = None,
    progress: IO[str] | None = None,
) -> dict[str, Any]:
    engine = RiskEngine(settings.detection)
    store = MemoryStateStore()
    processor = Processor(
        engine,
        store,
        dead_letter_max_bytes=settings.worker.dead_letter_max_bytes,
        redact_contact_values=settings.dead_letter.redact_contact_values,
    )
    source = str(events_path)
    handle = processor.handle
    # plain local counters: this loop runs interpreted, once per line, where a ``Counter`` item costs a
    # method call each time
    lines = events = duplicates = dead_letters = blank_lines = tier_updates = reviews = erasures = 0
    by_detector: Counter[str] = Counter()
    started = time.perf_counter()
    next_progress = started + PROGRESS_INTERVAL_SECONDS
    with (
        events_path.open("rb") as src,
        alerts_out.open("w", encoding="utf-8") as alerts_file,
        dead_letter_out.open("w", encoding="utf-8") as dlq_file,
        risk_out.open("w", encoding="utf-8") if risk_out else _NullWriter() as risk_file,
        reviews_out.open("w", encoding="utf-8") if reviews_out else _NullWriter() as reviews_file,
    ):
        for line_no, line in enumerate(src, start=1):
            raw = line.rstrip(b"\r\n")
            if not raw or raw.isspace():  # what ``strip()`` leaves empty, without a copy of each line
                blank_lines += 1
                continue
            lines += 1
            if lines % GC_FREEZE_EVERY_LINES == 0:
                # as in the worker: keep the cyclic collector off the long-lived customer states
                gc.collect(1)
                gc.freeze()
            result = handle(raw, source=source, offset=line_no)
            if result.dead_letter is not None:
                dead_letters += 1
                dlq_file.write(result.dead_letter.model_dump_json() + "\n")
                continue
            if result.duplicate:
                duplicates += 1
                continue
            events += 1
            if result.alerts:
                for alert in result.alerts:
                    by_detector[alert.detector] += 1
                    alerts_file.write(alert.model_dump_json() + "\n")
            if result.erased:
                erasures += 1
            if result.risks:
                for risk in result.risks:
                    tier_updates += 1
                    risk_file.write(risk.model_dump_json() + "\n")
            if result.reviews:
                for review in result.reviews:
                    reviews += 1
                    reviews_file.write(review.model_dump_json() + "\n")
            if progress is not None and lines % 1000 == 0 and time.perf_counter() >= next_progress:
                next_progress = time.perf_counter() + PROGRESS_INTERVAL_SECONDS
                elapsed = time.perf_counter() - started
                progress.write(
                    f"\r{lines:,} lines  {sum(by_detector.values()):,} alerts  "
                    f"{dead_letters:,} dead letters  {lines / elapsed:,.0f} lines/s"
                )
                progress.flush()
    elapsed = time.perf_counter() - started
    gc.unfreeze()  # what replay froze is garbage once its states go; let the collector see it again
    if progress is not None:
        progress.write("\n")
    return {
        "lines": lines,
        "events": events,
        "duplicates": duplicates,
        "dead_letters": dead_letters,
        "blank_lines": blank_lines,
        "tier_updates": tier_updates,
        "reviews": reviews,
        "erasures": erasures,
        "alerts": sum(by_detector.values()),
        "alerts_by_detector": dict(sorted(by_detector.items())),
        "customers": len(store),
        "seconds": elapsed,
        "events_per_second": lines / elapsed if elapsed > 0 else 0.0,
    }


def format_summary(summary: dict[str, Any], alerts_out: Path, dlq_path: Path) -> str:
    lines = [
        f"replayed {summary['lines']:,} lines in {summary['seconds']:.2f}s "
        f"({summary['events_per_second']:,.0f} lines/s): {summary['events']:,} events, "
        f"{summary['duplicates']:,} duplicates skipped, {summary['customers']:,} customers, "
        f"{summary['tier_updates']:,} tier updates, {summary['reviews']:,} reviews due, "
        f"{summary['erasures']:,} erasures",
        f"alerts: {summary['alerts']:,} -> {alerts_out}",
    ]
    lines += [f"  {name:<22}{n:>8,}" for name, n in summary["alerts_by_detector"].items()]
    lines.append(f"dead letters: {summary['dead_letters']:,} -> {dlq_path}")
    return "\n".join(lines)


class _NullWriter:
    def __enter__(self) -> _NullWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, text: str) -> int:
        return len(text)
