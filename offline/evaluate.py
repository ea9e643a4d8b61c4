"""``riskwatch evaluate``: detection quality on a labelled history, as curves rather than one number.

Reads the events and the labels of the patterns in them; takes the alerts from ``--alerts`` (a replay or
a live run) or runs the detectors itself exactly as ``riskwatch replay`` does. The metrics are
``evaluation``'s; this module only reads files and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from config.settings import Settings
from detectors.engine import RiskEngine
from evaluation import Evaluator, LabelError, PatternLabel, parse_label
from evaluation.text import format_report
from offline import go_live
from streams.errors import ConfigFault
from streams.processor import MemoryStateStore, Processor


class InputError(Exception):
    """A file evaluate cannot use; the message names the file, the line and the fix."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", type=Path, help="JSON-lines file of input events, roughly in time order")
    parser.add_argument("labels", type=Path, help="JSON-lines file of labelled patterns (see the README)")
    parser.add_argument(
        "--alerts", type=Path, help="alerts of an earlier run (JSON lines); without it the detectors run here"
    )
    go_live.add_argument(
        parser,
        "alerts and transactions are scored from it; the detectors (without --alerts) build state from "
        "the events before it; labelled patterns wholly before it are listed, not scored",
    )
    parser.add_argument("--json", dest="json_out", type=Path, help="also write the full report as JSON")


def run(args: argparse.Namespace, settings: Settings) -> int:
    for path in (args.events, args.labels, args.alerts):
        if path is not None and not path.is_file():
            raise ConfigFault(
                f"evaluate: {path} is not a readable file",
                "check the path (the events, the labels and --alerts are JSON-lines files)",
            )
    try:
        labels = read_labels(args.labels)
        report = evaluate_files(args.events, labels, go_live.apply(settings, args.alerts_from), args.alerts)
    except InputError as exc:
        print(f"riskwatch evaluate: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def read_labels(path: Path) -> list[PatternLabel]:
    labels = []
    for n, line in _lines(path):
        try:
            labels.append(parse_label(orjson.loads(line)))
        except orjson.JSONDecodeError:
            raise InputError(f"{path} line {n} is not valid JSON; fix or remove the line") from None
        except LabelError as exc:
            raise InputError(f"{path} line {n}: {exc} (the label format is in the README)") from None
    return labels


def evaluate_files(
    events_path: Path, labels: list[PatternLabel], settings: Settings, alerts_path: Path | None
) -> dict[str, Any]:
    evaluator = Evaluator(settings.detection.fx_rates_to_base, alerts_from=settings.detection.alerts_from)
    processor = None if alerts_path else Processor(RiskEngine(settings.detection), MemoryStateStore())
    for n, line in _lines(events_path):
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            event = None  # counted by nobody: the detectors dead-letter it below
        if isinstance(event, dict):
            evaluator.add_event(event)
        if processor is not None:
            result = processor.handle(line, source=str(events_path), offset=n)
            for alert in result.alerts:
                evaluator.add_alert(
                    {
                        "customer_id": alert.customer_id,
                        "detector": alert.detector,
                        "trigger_event_ids": alert.trigger_event_ids,
                        "event_time": alert.event_time,
                    }
                )
    if alerts_path is not None:
        for n, line in _lines(alerts_path):
            try:
                alert = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise InputError(
                    f"{alerts_path} line {n} is not valid JSON; fix or remove the line"
                ) from None
            if not isinstance(alert, dict) or not isinstance(alert.get("trigger_event_ids"), list):
                raise InputError(
                    f"{alerts_path} line {n} is not an alert (no trigger_event_ids); pass the --alerts-out "
                    "file of riskwatch replay or alerts read from the alerts topic"
                )
            evaluator.add_alert(alert)
    return evaluator.report(labels).to_dict()


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as f:
        for n, line in enumerate(f, start=1):
            raw = line.rstrip(b"\r\n")
            if raw.strip():
                yield n, raw
