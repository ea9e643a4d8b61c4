"""``riskwatch customers [--tier T] [--top N]``: the riskiest customers, highest score first."""

from __future__ import annotations

import argparse

from config.settings import Settings
from readmodel.commands._common import print_json, print_rows, query
from readmodel.keys import TIERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tier", choices=TIERS, help="only customers currently in this tier")
    parser.add_argument("--top", type=int, default=50, help="how many (default 50)")
    parser.add_argument("--json", action="store_true", help="the API's JSON instead of a table")


def run(args: argparse.Namespace, settings: Settings) -> int:
    rows = query(settings, lambda rm: rm.customers(args.tier, args.top))
    if args.json:
        print_json(rows)
    else:
        print_rows(rows, ["customer_id", "tier", "score", "next_review_due"])
    return 0
