"""A cProfile dump of the worker's batch step, summed into the groups the per-event budget is argued in.

Run by hand (never by pytest), on a dump of bench/worker_profile.py taken without its own profiler:

    .venv/bin/python -m cProfile -o /tmp/worker.prof bench/worker_profile.py --no-profile
    .venv/bin/python bench/profile_groups.py /tmp/worker.prof --events 200000 [--kafka-us 3.5]

Every function's own time (tottime) goes to one group by its module: parse/validate (schemas/, pydantic),
detectors (the detector modules and their windows), engine shared steps (the rest of detectors/: engine,
context, state, scorecard, risk book, money), state encoding (the state's JSON view and back, orjson, the
worker's state store), other (the processor, the batch step, the outputs' JSON, murmur2, gc, the rest).
C functions (builtins, pydantic-core, orjson) and comprehensions go to the group of the function that
called them, in proportion to the time spent under each caller. The synthetic event generator of the
benchmark itself (bench/, random) is left out. The Kafka client is not in an offline profile: pass the
bare loop's CPU per event (bench/side_by_side.py) as --kafka-us to add it as its own group.
Under cProfile everything is slower than without it; the shares are what to read, not the microseconds.
"""

from __future__ import annotations

import argparse
import pstats
from collections import defaultdict
from pathlib import Path

DETECTOR_MODULES = {
    "account_takeover",
    "amount_spike",
    "beta_binomial",
    "contact_burst",
    "excess_cusum",
    "large_value",
    "shift_runs",
    "shift_state",
    "structuring",
    "sustained_shift",
    "tier_limit",
    "velocity",
    "window",
}
ENCODING_WORDS = ("json", "view", "encode", "decode", "to_dict", "from_dict", "dump", "load")
GROUPS = (
    "parse/validate",
    "detectors",
    "engine shared steps",
    "state encoding",
    "Kafka client",
    "other",
)
EXCLUDED = "benchmark generator (excluded)"

Func = tuple[str, int, str]


def group_of(func: Func) -> str | None:
    """The group of a Python function by its file; None for a C function (decided by its callers)."""
    path, _line, name = func
    if path == "~" or path.startswith("<"):
        low = name.lower()
        if "orjson" in low:
            return "state encoding"
        if "pydantic_core" in low and "serializ" in low:  # model_dump_json of the outputs
            return "other"
        if "gc" in low and ("collect" in low or "freeze" in low):
            return "other"
        return None
    if name.startswith("<") and name != "<module>":  # comprehensions, lambdas: their caller's group
        return None
    p = Path(path)
    parts = p.parts
    if "bench" in parts or p.name == "random.py":
        return EXCLUDED
    if "pydantic" in parts or "pydantic_core" in parts or "schemas" in parts:
        if "outputs" in p.stem or "serializ" in name or "dump" in name:  # the outputs' JSON
            return "other"
        return "parse/validate"
    if "confluent_kafka" in parts:
        return "Kafka client"
    if "detectors" in parts:
        if any(w in name.lower() for w in ENCODING_WORDS):
            return "state encoding"
        return "detectors" if p.stem in DETECTOR_MODULES else "engine shared steps"
    if p.stem in {"state_store", "checkpoint"} or "orjson" in parts:
        return "state encoding"
    return "other"


def grouped(stats: pstats.Stats) -> tuple[dict[str, float], dict[str, list[tuple[float, str]]]]:
    raw = stats.stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}

    def shares(func: Func, depth: int = 0) -> dict[str, float]:
        """How a function's own time splits over groups (1.0 in total)."""
        if func in memo:
            return memo[func]
        g = group_of(func)
        if g is not None or depth > 3:
            out = {g or "other": 1.0}
        else:
            callers = raw[func][4]
            total = sum(edge[2] for edge in callers.values())
            acc: dict[str, float] = defaultdict(float)
            for caller, edge in callers.items():
                w = edge[2] / total if total > 0 else 1.0 / max(1, len(callers))
                for cg, cw in shares(caller, depth + 1).items():
                    acc[cg] += w * cw
            out = dict(acc) if acc else {"other": 1.0}
        memo[func] = out
        return out

    totals: dict[str, float] = defaultdict(float)
    top: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        for g, w in shares(func).items():
            totals[g] += tt * w
            top[g].append((tt * w, f"{Path(func[0]).name}:{func[1]}({func[2]})"))
    return dict(totals), {g: sorted(v, reverse=True)[:5] for g, v in top.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profile", type=Path)
    ap.add_argument("--events", type=int, required=True, help="events the profiled run processed")
    ap.add_argument("--kafka-us", type=float, default=None, help="bare loop CPU us/event")
    ap.add_argument("--top", type=int, default=3, help="functions shown per group")
    args = ap.parse_args()
    totals, top = grouped(pstats.Stats(str(args.profile)))
    excluded = totals.pop(EXCLUDED, 0.0)
    if args.kafka_us is not None:
        totals["Kafka client"] = totals.get("Kafka client", 0.0) + args.kafka_us * args.events / 1e6
    whole = sum(totals.values())
    print(f"{'group':<24}{'us/event':>10}{'share':>8}   top functions (own time, us/event)")
    print("-" * 100)
    for g in GROUPS:
        t = totals.get(g, 0.0)
        fns = ", ".join(f"{name} {1e6 * s / args.events:.1f}" for s, name in top.get(g, [])[: args.top])
        if g == "Kafka client" and args.kafka_us is not None:
            fns = "bare loop's CPU per event (--kafka-us), not profiled"
        print(f"{g:<24}{1e6 * t / args.events:>10.1f}{100 * t / whole:>7.0f}%   {fns}")
    print(f"{'total':<24}{1e6 * whole / args.events:>10.1f}")
    print(f"(left out: the benchmark's own event generator, {1e6 * excluded / args.events:.1f} us/event)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
