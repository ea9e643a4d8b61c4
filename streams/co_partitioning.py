"""The start-up check both stream runtimes make: the input topics exist and are co-partitioned, and the state
changelog, if it exists already, has as many partitions (state of partition i lives in changelog partition
i, whichever runtime wrote it)."""

from __future__ import annotations

from typing import Any


class WorkerError(RuntimeError):
    """The worker cannot go on (inputs missing or not co-partitioned, fenced by a newer instance, ...)."""


def input_partition_count(metadata: Any, inputs: list[str], changelog: str) -> int:
    """The partition count the inputs share, from AdminClient ``list_topics`` metadata."""
    found = {t: metadata.topics.get(t) for t in inputs}
    missing = [t for t, m in found.items() if m is None or m.error is not None]
    if missing:
        raise WorkerError(
            f"input topics missing: {', '.join(missing)} (run `riskwatch stack up` or create them)"
        )
    counts = {len(m.partitions) for m in found.values()}
    if len(counts) != 1:
        raise WorkerError(f"input topics are not co-partitioned: partition counts {sorted(counts)}")
    partitions = counts.pop()
    existing = metadata.topics.get(changelog)
    if existing is not None and existing.error is None and len(existing.partitions) != partitions:
        raise WorkerError(f"{changelog} has {len(existing.partitions)} partitions, the inputs {partitions}")
    return partitions
