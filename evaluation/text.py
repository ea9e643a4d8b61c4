"""The evaluation report as the tables a risk team reads on a terminal."""

from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _edge(value: float) -> str:
    return f"{value:g}"


def format_report(data: dict[str, Any]) -> str:
    o = data["overall"]
    lines = []
    if data.get("alerts_from"):
        early = data["patterns_before_go_live"]
        lines.append(
            f"go-live {data['alerts_from']}: scored from then on; before it "
            f"{data['transactions_before_go_live']:,} transactions built state, "
            f"{data['alerts_before_go_live']:,} alerts not scored, {len(early):,} labelled patterns not "
            f"scored (nothing could alert on them)"
            + (f": {', '.join(early[:10])}" if early else "")
            + (" ..." if len(early) > 10 else "")
        )
    lines += [
        f"{data['transactions']:,} transactions, {data['customers']:,} customers, {data['alerts']:,} alerts, "
        f"{data['patterns']:,} labelled patterns",
        f"overall: precision {_pct(o['precision'])} ({o['true_alerts']} true, {o['false_alerts']} false, "
        f"{o['weak_alerts']} on weak patterns), {_rate(o['false_per_10k'])} false alerts per 10,000 transactions, "
        f"recall on the suspicious band {_pct(o['recall_suspicious'])} "
        f"({o['found_suspicious']}/{o['suspicious_patterns']})",
        "",
        f"{'detector':<22}{'alerts':>8}{'true':>7}{'false':>7}{'weak':>6}{'precision':>11}{'false/10k':>11}"
        f"{'suspicious':>12}{'found':>7}{'recall':>8}",
    ]
    for name, r in data["detectors"].items():
        lines.append(
            f"{name:<22}{r['alerts']:>8}{r['true_alerts']:>7}{r['false_alerts']:>7}{r['weak_alerts']:>6}"
            f"{_pct(r['precision']):>11}{_rate(r['false_per_10k']):>11}{r['suspicious_patterns']:>12}"
            f"{r['found_suspicious']:>7}{_pct(r['recall_suspicious']):>8}"
        )
    lines += ["", "recall by pattern strength (* = bucket holds suspicious patterns)"]
    for name, r in data["detectors"].items():
        current = None
        for row in r["curves"]:
            key = (row["kind"], row["unit"])
            if key != current:
                current = key
                lines.append(f"  {name} <- {row['kind']} [{row['unit'] or 'strength'}]")
            span = (
                _edge(row["low"])
                if row["low"] == row["high"]
                else f"{_edge(row['low'])}-{_edge(row['high'])}"
            )
            mark = "*" if row["suspicious"] else " "
            bar = "#" * round(row["recall"] * 20)
            lines.append(
                f"    {span:>12} {mark} {row['found']:>4}/{row['patterns']:<4} {row['recall']:>6.3f} {bar}"
            )
    lines += [
        "",
        f"{'segment':<22}{'tx':>9}{'alerts':>8}{'false':>7}{'precision':>11}{'false/10k':>11}{'recall':>8}"
        "  recall on the suspicious band per detector",
    ]
    for name, r in data["segments"].items():
        per = "  ".join(
            f"{d}={_pct(s['recall_suspicious'])}({s['found_suspicious']}/{s['suspicious_patterns']})"
            for d, s in r["per_detector"].items()
            if s["suspicious_patterns"]
        )
        lines.append(
            f"{name:<22}{r['transactions']:>9,}{r['alerts']:>8}{r['false_alerts']:>7}{_pct(r['precision']):>11}"
            f"{_rate(r['false_per_10k']):>11}{_pct(r['recall_suspicious']):>8}  {per}"
        )
    return "\n".join(lines)
