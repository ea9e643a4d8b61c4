"""The risk book on generated traffic: the tier distribution week by week and which detectors moved customers.

Run by hand (never by pytest):  python bench/tier_history.py --customers 1000 --days 60 --seed 3
It generates traffic with ``riskwatch generate``'s generator, replays it with ``--risk-out``/``--reviews-out``
and reads the CustomerRisk history back: the published tier of every customer at the end of each week, the
tier moves by cause (the detector whose alert lifted a customer, downgrades, profiles, officers), and the
number of distinct customers each detector moved between tiers.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from config.settings import load_settings
from offline.replay import replay_file
from scenarios.generator import ScenarioConfig, generate

ALERT_CAUSE = re.compile(r"(low|medium|high|critical) (\w+) alert added", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        events = d / "events.jsonl"
        scenario = generate(ScenarioConfig(customers=args.customers, days=args.days, seed=args.seed))
        events.write_text("\n".join(scenario.json_lines()) + "\n")
        summary = replay_file(
            events,
            settings,
            alerts_out=d / "alerts.jsonl",
            risk_out=d / "risk.jsonl",
            reviews_out=d / "reviews.jsonl",
            dead_letter_out=d / "dlq.jsonl",
        )
        risks = [json.loads(x) for x in (d / "risk.jsonl").read_text().splitlines()]
        labelled = {lb.customer_id for lb in scenario.labels}
        reviews = sum(1 for _ in (d / "reviews.jsonl").open())
    print(
        f"{args.customers} customers x {args.days} days, seed {args.seed}: {summary['events']:,} events, "
        f"{summary['alerts']:,} alerts, {len(risks):,} CustomerRisk records, {reviews} reviews due"
    )
    risks.sort(key=lambda r: r["updated_at"])
    start = datetime.fromisoformat(risks[0]["updated_at"])
    tier: dict[str, str] = {}
    i = 0
    print("\nweek end      low  medium  high   (published tier of every profiled customer)")
    for week in range(args.days // 7 + 2):
        end = start + timedelta(days=7 * week + 1)
        while i < len(risks) and datetime.fromisoformat(risks[i]["updated_at"]) < end:
            tier[risks[i]["customer_id"]] = risks[i]["tier"]
            i += 1
        c = Counter(tier.values())
        print(f"{end.date()}  {c['low']:>5} {c['medium']:>7} {c['high']:>5}")
    moves: Counter[str] = Counter()
    moved_by: dict[str, set[str]] = defaultdict(set)
    for r in risks:
        if r["previous_tier"] in (None, r["tier"]):
            continue
        causes = ALERT_CAUSE.findall(r["reason"])
        if causes:
            for _, detector in causes:
                moved_by[detector].add(r["customer_id"])
            cause = "+".join(sorted({det for _, det in causes}))
        elif "stayed below" in r["reason"]:
            cause = "downgrade after cooldown"
        elif "override" in r["reason"].lower() or "officer" in r["reason"].lower():
            cause = "officer"
        else:
            cause = "profile"
        moves[f"{r['previous_tier']}->{r['tier']} {cause}"] += 1
    print("\ntier moves by cause")
    for k, n in sorted(moves.items(), key=lambda kv: -kv[1]):
        print(f"  {n:>5}  {k}")
    print("\ncustomers each detector moved between tiers (an alert of it was in the moving CustomerRisk)")
    print("  customers  with an injected pattern  detector")
    for det, cs in sorted(moved_by.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(cs):>9}  {len(cs & labelled):>22}  {det}")
    up = {
        r["customer_id"]
        for r in risks
        if ALERT_CAUSE.search(r["reason"]) and r["previous_tier"] not in (None, r["tier"])
    }
    print(
        f"\ncustomers moved up by behaviour: {len(up)}, of them with an injected pattern: {len(up & labelled)} "
        f"(customers with an injected pattern: {len(labelled)} of {args.customers})"
    )


if __name__ == "__main__":
    main()
