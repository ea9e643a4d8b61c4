"""``riskwatch reviews due --before DATE``: customers whose periodic review is due, earliest first."""

from __future__ import annotations

import argparse
from datetime import date

from config.settings import Settings
from readmodel.commands._common import print_json, print_rows, query


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    due = sub.add_parser("due", help="customers whose next review is due before a date")
    due.add_argument("--before", type=date.fromisoformat, required=True, metavar="YYYY-MM-DD")
    due.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    due.add_argument("--json", action="store_true", help="the API's JSON instead of a table")


def run(args: argparse.Namespace, settings: Settings) -> int:
    rows = query(settings, lambda rm: rm.reviews_due(args.before, args.limit))
    if args.json:
        print_json(rows)
    else:
        print_rows(rows, ["next_review_due", "customer_id", "tier", "score"])
    return 0
