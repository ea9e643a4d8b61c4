"""CPU per ``update`` call of chosen detectors, on the observations a replay gives them.

Run by hand (never by pytest); no broker needed:

    riskwatch generate --customers 600 --days 60 --seed 7 --out /tmp/g600.jsonl
    .venv/bin/python bench/detector_updates.py /tmp/g600.jsonl
    .venv/bin/python bench/detector_updates.py /tmp/g600.jsonl --detectors large_value,tier_limit --passes 5

The file goes once through the worker's ``Processor`` with each chosen detector wrapped to record what
it is called with (customer, observation, context); then each detector, built afresh, is fed those calls
straight, each customer with a state of its own, and the best of --passes passes is reported (CPU time,
the collector off). A detector's share of replay is too small to see in replay's own figures on a shared
box; this times it alone. The contexts are the customers' last ones (what a detector reads of them, the
tier, segment and baselines, is as the replay left it), the same for every build compared. The figure
includes the loop's own ~0.1 µs per call. Compare builds run alternately: the box is shared.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import hardware

from config.settings import load_settings
from detectors.base import Detector
from detectors.context import CustomerContext
from detectors.engine import RiskEngine
from detectors.findings import Finding
from detectors.observation import Observation
from streams.processor import MemoryStateStore, Processor


class _Recording(Detector[Any]):
    """Passes every call on to ``inner``, and keeps what it was called with."""

    def __init__(self, inner: Detector[Any], calls: list[tuple[str, Observation, CustomerContext]]) -> None:
        self.inner, self.calls = inner, calls
        self.name = inner.name  # type: ignore[misc]
        self.kinds = inner.kinds  # type: ignore[misc]
        self.cooldown_seconds = inner.cooldown_seconds

    def new_state(self) -> Any:
        return self.inner.new_state()

    def update(self, state: Any, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        self.calls.append((ctx.customer_id, obs, ctx))
        return self.inner.update(state, obs, ctx)

    def state_to_json(self, state: Any) -> Any:
        return self.inner.state_to_json(state)

    def state_from_json(self, data: Any) -> Any:
        return self.inner.state_from_json(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("events", type=Path, help="JSON lines, e.g. from riskwatch generate")
    ap.add_argument("--detectors", default="large_value,tier_limit,account_takeover")
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    names = args.detectors.split(",")
    detection = load_settings().detection
    calls: dict[str, list[tuple[str, Observation, CustomerContext]]] = {n: [] for n in names}
    wrapped = [
        _Recording(d, calls[d.name]) if d.name in calls else d for d in RiskEngine(detection).detectors
    ]
    processor = Processor(RiskEngine(detection, detectors=wrapped), MemoryStateStore())
    with args.events.open("rb") as f:
        for offset, line in enumerate(f):
            processor.handle(line.rstrip(b"\n"), source="bench", offset=offset)
    fresh = {d.name: d for d in RiskEngine(detection).detectors}
    print(hardware())
    gc.disable()
    for name in names:
        detector, recorded, best = fresh[name], calls[name], float("inf")
        for _ in range(args.passes):
            states: dict[str, Any] = {}
            started = time.process_time()
            for customer, obs, ctx in recorded:
                state = states.get(customer)
                if state is None:
                    state = states[customer] = detector.new_state()
                detector.update(state, obs, ctx)
            best = min(best, time.process_time() - started)
        print(f"{name:<18} {len(recorded):>9,} calls {best / len(recorded) * 1e9:>7.0f} ns per call")


if __name__ == "__main__":
    main()
