"""Where an event's time to its alert goes: the latency bench's triggers set against the batches' timelines.

The timelines come from ``bench/batch_trace.py`` (the worker) or ``bench/bare_txn_loop.py`` (the floor); the
bench knows when it produced each trigger event and when a read_committed consumer saw its output. Each
trigger's time splits into consecutive parts (they add up to its whole latency):

    busy       produced while the loop was still on earlier batches (until the poll that brought it began)
    fetch      from then until the poll/consume returned it (the broker's fetch: fetch_wait_max_ms and
               fetch_min_bytes, the consumer's queue)
    ordering   until the batch step began (the orderer's release, flow control)
    processing the batch's events, its own and every other (its output waits for the whole batch)
    changelog  the changed customers' state records (encode, produce) and the budget's eviction
    flush      (traced with BENCH_TRACE_FLUSH=1) until the batch's outputs were acknowledged
    offsets    the input offsets into the transaction (AddOffsetsToTxn, TxnOffsetCommit)
    commit     commit_transaction: the rest of its flush, then EndTxn
    visible    from the commit's return until the bench's read_committed consumer had it (the
               transaction markers, the consumer's fetch, the bench's own thread)
"""

from __future__ import annotations

import bisect
import itertools
import json
from pathlib import Path
from typing import Any

PARTS = ("busy", "fetch", "ordering", "processing", "changelog", "flush", "offsets", "commit", "visible")


def read_trace(path: Path, since: float) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sorted((r for r in rows if r.get("p", 0) >= since), key=lambda r: r["s"])


def split(row: dict[str, Any], sent: float, received: float) -> dict[str, float]:
    """One trigger's latency in parts (ms), from its batch's timeline."""
    q, p, s, w, c, o, d = (row[k] for k in ("q", "p", "s", "w", "c", "o", "d"))
    f = row.get("f", c)
    start = max(sent, q)
    parts = {
        "busy": start - sent,
        "fetch": p - start,
        "ordering": s - p,
        "processing": w - s,
        "changelog": c - w,
        "flush": f - c,
        "offsets": o - f,
        "commit": d - o,
        "visible": received - d,
    }
    return {k: 1000.0 * v for k, v in parts.items()}


def decompose(
    rows: list[dict[str, Any]],
    sent: dict[str, float],
    received: dict[str, float],
    detected: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Per part: its mean, p50 and p99 over the triggers, and its mean over the slowest 1% of them (the
    p99's make-up). A trigger is placed in its batch by the worker's detected_at (within [s, w]) or, for
    the bare loop, by the ids its trace lists."""
    by_id: dict[str, dict[str, Any]] = {}
    for r in rows:
        for i in r.get("ids", ()):
            by_id[i] = r
    starts = [r["s"] for r in rows]
    per: list[tuple[float, dict[str, float]]] = []
    for eid, r_at in received.items():
        if eid not in sent:
            continue
        row = by_id.get(eid)
        if row is None and detected and eid in detected and rows:
            k = bisect.bisect_right(starts, detected[eid] + 1e-6) - 1
            row = rows[k] if k >= 0 else None
        if row is None:
            continue
        parts = split(row, sent[eid], r_at)
        per.append((1000.0 * (r_at - sent[eid]), parts))
    if not per:
        return {"placed": 0}
    per.sort(key=lambda x: x[0])
    tail = per[min(len(per) - 1, round(0.99 * (len(per) - 1))) :]
    out: dict[str, Any] = {"placed": len(per), "tail_n": len(tail), "total_p50_ms": per[len(per) // 2][0]}
    out["total_p99_ms"] = tail[0][0]
    tail_total = sum(t for t, _ in tail) / len(tail)
    out["tail_mean_ms"] = tail_total
    for part in PARTS:
        vals = sorted(p[part] for _, p in per)
        tail_mean = sum(p[part] for _, p in tail) / len(tail)
        out[part] = {
            "mean": sum(vals) / len(vals),
            "p50": vals[len(vals) // 2],
            "p99": vals[min(len(vals) - 1, round(0.99 * (len(vals) - 1)))],
            "tail_mean": tail_mean,
            "tail_share": tail_mean / tail_total if tail_total else 0.0,
        }
    sizes = [r["n"] for r in rows]
    out["batches"] = len(rows)
    out["mean_batch_events"] = sum(sizes) / len(sizes) if sizes else 0.0
    out["mean_batch_ms"] = 1000.0 * sum(r["e"] - r["s"] for r in rows) / len(rows) if rows else 0.0
    out["mean_turn_gap_ms"] = (
        1000.0 * sum(b["q"] - a["e"] for a, b in itertools.pairwise(rows)) / (len(rows) - 1)
        if len(rows) > 1
        else 0.0
    )
    out["held_max"] = max((r.get("held", 0) for r in rows), default=0)
    return out


def line(d: dict[str, Any]) -> str:
    """The decomposition in one log line: per part, mean / p99 / share of the slowest 1%."""
    if not d.get("placed"):
        return "decomposition: no trigger placed in a traced batch"
    parts = ", ".join(
        f"{k} {d[k]['mean']:.1f}/{d[k]['p99']:.1f}/{100 * d[k]['tail_share']:.0f}%"
        for k in PARTS
        if d[k]["p99"] > 0.05 or d[k]["tail_share"] > 0.005
    )
    return (
        f"decomposition of {d['placed']} triggers (part mean/p99 ms/share of the slowest 1%, whose mean is "
        f"{d['tail_mean_ms']:.0f} ms): {parts}; {d['batches']} batches of {d['mean_batch_events']:.0f} events, "
        f"{d['mean_batch_ms']:.1f} ms each, {d['mean_turn_gap_ms']:.1f} ms between batches"
    )
