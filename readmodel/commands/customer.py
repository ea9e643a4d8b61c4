"""``riskwatch customer show ID``: one customer as the read model holds it."""

from __future__ import annotations

import argparse
import sys

from config.settings import Settings
from readmodel.commands._common import print_json, print_rows, query


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="tier, score, factors, override, next review and newest alerts")
    show.add_argument("customer_id")
    show.add_argument("--json", action="store_true", help="the API's JSON document instead of text")


def run(args: argparse.Namespace, settings: Settings) -> int:
    doc = query(settings, lambda rm: rm.customer(args.customer_id))
    if doc is None:
        print(
            f"riskwatch: customer {args.customer_id} is not in the read model — check the id; an erased "
            "customer, or one `riskwatch project` has not reached yet, is not there either",
            file=sys.stderr,
        )
        return 1
    if args.json:
        print_json(doc)
        return 0
    score = "-" if doc["score"] is None else f"{doc['score']:.1f}"
    print(f"customer {doc['customer_id']}: tier {doc['tier'] or '-'}, score {score}/100")
    if doc.get("reason"):
        print(f"  reason: {doc['reason']}")
    print(f"  updated: {doc.get('updated_at') or '-'}   next review due: {doc.get('next_review_due') or '-'}")
    if doc.get("review") and doc.get("review_open"):
        print(f"  review open since {doc['review']['due_date']}: {doc['review']['reason']}")
    if doc.get("override"):
        o = doc["override"]
        print(f"  override requested: {o['tier']} until {o['expires_at']} by {o['officer_id']}")
    for name, points in sorted(doc["factors"].items(), key=lambda kv: -abs(kv[1])):
        print(f"  {points:+7.2f}  {name}")
    if doc["alerts"]:
        print(f"  newest {len(doc['alerts'])} alerts:")
        rows = [{**a, "disposition": (a.get("disposition") or {}).get("disposition")} for a in doc["alerts"]]
        print_rows(rows, ["event_time", "severity", "detector", "alert_id", "disposition"])
    return 0
