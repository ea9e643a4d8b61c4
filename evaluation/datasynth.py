"""datasynth-banking (Apache-2.0, a KYC/AML bank-transaction simulator written by others) as contract events
and pattern labels: a second labelled stream riskwatch did not write, next to SynCCFD.

What ``evaluation/external/datasynth`` dumps (datasynth-banking 0.2.3, read from its source): retail and
business customers with persona-driven salaries, bills, card and transfer spending in USD on one or more
accounts, and AML typologies injected on top, each transaction of a case carrying ``suspicion_reason`` and
``scenario_id``:
* structuring: 3-40 cash deposits of 8,000-9,900 each (under the US 10,000 cash report) over 3-60 days;
* money mule, funnel account, layering: money paid in from several sources and moved out days later;
* account takeover and authorised push payment fraud, written by the crate's ``FraudInjector`` (the
  orchestrator of 0.2.3 only marks random existing transactions with these names, see the dump program):
  1-10 debits of 500-250,000 within hours (takeover) or days (push payments to a scammer).
Transactions marked suspicious without a ``scenario_id`` (the orchestrator's random marking) are no pattern
and get no label; the converter counts them.

The simulator has no contact changes, so riskwatch's ``account_takeover`` (which starts at a phone, email or
device change) cannot fire on it; the takeover's cash-out is scored against ``amount_spike``, as a risk
officer's "unusually large debit" view of it. Mules, funnels and layering move money *through* an account;
riskwatch has no pass-through or fan-in detector, so those cases are labelled ``expected_detector =
"no_counterpart"``: an alert on them counts as true (a risk officer would want it) but no detector's recall
is measured on them.

The crate's typology injectors share one id sequence (one seed, one generator kind), so a few hundred
transaction ids come back for different transactions of different typologies; the second and later
transactions with an id get ``ds-<id>-<n>`` (counted as ``renamed_duplicate_transaction_id``), so that no
two events share an id and no label holds another case's events.

The conversion: customer ``ds-<uuid>`` (the account's primary owner), one ``customer_profile`` at the
start (retail = individual, business = corporate; industry is left ``unknown``, the contract's medium),
each transaction a ``transaction`` with the simulator's currency (converted by riskwatch's FX table),
inbound = credit, outbound = debit, and channel: card present/not present = ``card``, ATM = ``atm``, cash and
branch cash = ``cash``, mobile and online = ``online``, the rest (ACH, wire, SWIFT, real-time, peer-to-peer,
cheque, internal) ``transfer``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

#: typology -> (label kind, riskwatch detector expected to find it)
TYPOLOGIES: dict[str, tuple[str, str]] = {
    "structuring": ("datasynth_structuring", "structuring"),
    "smurfing": ("datasynth_structuring", "structuring"),
    "account_takeover": ("datasynth_account_takeover", "amount_spike"),
    "authorized_push_payment": ("datasynth_push_payment_fraud", "amount_spike"),
    "money_mule": ("datasynth_money_mule", "no_counterpart"),
    "funnel_account": ("datasynth_funnel_account", "no_counterpart"),
    "layering": ("datasynth_layering", "no_counterpart"),
}
NO_COUNTERPART = "no_counterpart"

CHANNELS: dict[str, str] = {
    "card_present": "card",
    "card_not_present": "card",
    "atm": "atm",
    "cash": "cash",
    "mobile": "online",
    "online": "online",
}
CENT = Decimal("0.01")
CASH_CATEGORIES = frozenset({"cash_deposit", "atm_withdrawal"})


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _utc(text: str) -> str:
    """The simulator's chrono timestamps (``2024-03-01T10:00:00Z``, maybe with fractions) as RFC 3339 Z."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.isoformat().replace("+00:00", "Z")


def channel(tx: dict[str, Any]) -> str:
    name = str(tx["channel"])
    if name == "branch":
        return "cash" if tx.get("category") in CASH_CATEGORIES else "transfer"
    return CHANNELS.get(name, "transfer")


def _counterparty(tx: dict[str, Any]) -> str | None:
    cp = tx.get("counterparty") or {}
    ident = cp.get("counterparty_id") or cp.get("account_identifier") or cp.get("name")
    return str(ident) if ident else None


def convert(
    customers: Iterable[dict[str, Any]],
    accounts: Iterable[dict[str, Any]],
    transactions: Iterable[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Contract events in time order, one label per injected case, and counts of what was left out."""
    owner = {str(a["account_id"]): f"ds-{a['primary_owner_id']}" for a in accounts}
    people = {f"ds-{c['customer_id']}": c for c in customers}
    skipped: Counter[str] = Counter()
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for tx in transactions:
        cid = owner.get(str(tx["account_id"]))
        if cid is None:
            skipped["transaction_of_unknown_account"] += 1
            continue
        amount = Decimal(str(tx["amount"])).quantize(CENT, ROUND_HALF_UP)
        if amount <= 0:
            skipped["amount_not_positive"] += 1
            continue
        rows.append(
            (
                _utc(str(tx["timestamp_initiated"])),
                str(tx["transaction_id"]),
                tx | {"_cid": cid, "amount": amount},
            )
        )
    rows.sort(key=lambda r: (r[0], r[1], str(r[2]["account_id"]), r[2]["amount"]))
    seen: Counter[str] = Counter()

    events: list[dict[str, Any]] = []
    first_seen = rows[0][0] if rows else "2024-01-01T00:00:00Z"
    for cid, c in sorted(people.items()):
        events.append(_profile(cid, c, first_seen))
    debits_before: dict[str, int] = defaultdict(int)
    cases: dict[str, list[tuple[dict[str, Any], str, int]]] = defaultdict(list)
    for ts, tid, tx in rows:
        cid = tx["_cid"]
        seen[tid] += 1
        if seen[tid] > 1:
            skipped["renamed_duplicate_transaction_id"] += 1
        event: dict[str, Any] = {
            "type": "transaction",
            "event_id": f"ds-{tid}" if seen[tid] == 1 else f"ds-{tid}-{seen[tid] - 1}",
            "customer_id": cid,
            "timestamp": ts,
            "account_id": str(tx["account_id"]),
            "amount": str(tx["amount"]),  # quantized to the cent above
            "currency": str(tx["currency"]),
            "direction": "credit" if tx["direction"] == "inbound" else "debit",
            "channel": channel(tx),
        }
        counterparty = _counterparty(tx)
        if counterparty:
            event["counterparty_id"] = counterparty
        country = (tx.get("counterparty") or {}).get("country") or tx.get("location_country")
        if country:
            event["counterparty_country"] = str(country)
        if tx.get("mcc") is not None:
            event["merchant_category"] = f"{int(tx['mcc']):04d}"
        events.append(event)
        if tx.get("is_suspicious"):
            if tx.get("scenario_id") and tx.get("suspicion_reason") in TYPOLOGIES:
                cases[f"{cid}|{tx['scenario_id']}"].append(
                    (event, str(tx["suspicion_reason"]), debits_before[cid])
                )
            else:
                skipped[f"marked_without_pattern:{tx.get('suspicion_reason')}"] += 1
        if event["direction"] == "debit":
            debits_before[cid] += 1
    labels = [_label(key, found, people) for key, found in sorted(cases.items())]
    return events, labels, dict(skipped)


def _profile(cid: str, c: dict[str, Any], at: str) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "type": "customer_profile",
        "event_id": f"{cid}-profile",
        "customer_id": cid,
        "timestamp": at,
        "segment": "individual" if str(c.get("customer_type")) == "retail" else "corporate",
        "industry": "unknown",
    }
    if c.get("is_pep") is not None:
        profile["politically_exposed"] = bool(c["is_pep"])
    if c.get("residence_country"):
        profile["home_country"] = str(c["residence_country"])
    return profile


def _label(key: str, found: list[tuple[dict[str, Any], str, int]], people: dict[str, Any]) -> dict[str, Any]:
    cid, scenario = key.split("|", 1)
    typology = found[0][1]
    kind, detector = TYPOLOGIES[typology]
    segment = "individual" if str(people.get(cid, {}).get("customer_type")) == "retail" else "corporate"
    return {
        "pattern_id": f"datasynth-{scenario}-{cid}",
        "kind": kind,
        "customer_id": cid,
        "event_ids": [e["event_id"] for e, _, _ in found],
        "expected_detector": detector,
        "strength": float(len(found)),
        "strength_unit": "transactions",
        "suspicious": True,
        "segment": segment,
        "history_debits": found[0][2],
        "start": found[0][0]["timestamp"],
    }


def caught_by_kind(labels: Iterable[dict[str, Any]], alerts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per label kind: cases, cases with an alert of any detector on one of their events, and which detectors."""
    by_event: dict[str, set[str]] = defaultdict(set)
    for a in alerts:
        for i in a.get("trigger_event_ids", ()):
            by_event[str(i)].add(str(a["detector"]))
    out: dict[str, Any] = {}
    for lb in labels:
        row = out.setdefault(lb["kind"], {"cases": 0, "caught_by_any": 0, "by_detector": Counter()})
        row["cases"] += 1
        hit = set().union(*(by_event.get(i, set()) for i in lb["event_ids"]))
        row["caught_by_any"] += bool(hit)
        row["by_detector"].update(hit)
    return {k: v | {"by_detector": dict(v["by_detector"])} for k, v in sorted(out.items())}


def main(argv: list[str] | None = None) -> int:
    """``python -m evaluation.datasynth DUMP_DIR OUT_DIR`` writes events.jsonl and labels.jsonl;
    ``python -m evaluation.datasynth --caught LABELS ALERTS`` prints what any detector caught per kind."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "--caught":
        labels = list(read_lines(Path(args[1])))
        print(json.dumps(caught_by_kind(labels, read_lines(Path(args[2]))), indent=2))
        return 0
    if len(args) != 2:
        print("usage: python -m evaluation.datasynth DUMP_DIR OUT_DIR | --caught LABELS.jsonl ALERTS.jsonl")
        return 2
    dump, out = Path(args[0]), Path(args[1])
    events, labels, skipped = convert(
        read_lines(dump / "customers.jsonl"),
        read_lines(dump / "accounts.jsonl"),
        read_lines(dump / "transactions.jsonl"),
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("events.jsonl", events), ("labels.jsonl", labels)):
        with (out / name).open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    kinds = Counter(lb["kind"] for lb in labels)
    print(
        f"{len(events):,} events, {len(labels)} labelled cases {dict(sorted(kinds.items()))}; left out {skipped}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
