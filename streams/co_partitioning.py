"""The start-up check both stream runtimes make: the input topics exist and are co-partitioned, and the state
changelog, if it exists already, has as many partitions (state of partition i lives in changelog partition
i, whichever runtime wrote it)."""

from __future__ import annotations

from typing import Any

from streams.errors import EXIT_TOPICS, Fault


class WorkerError(Fault):
    """The worker cannot go on (inputs missing or not co-partitioned, fenced by a newer instance, ...)."""


class TopologyError(WorkerError):
    """The input topics are missing or not co-partitioned, or the changelog does not match them."""

    exit_code = EXIT_TOPICS


def input_partition_count(metadata: Any, inputs: list[str], changelog: str) -> int:
    """The partition count the inputs share, from AdminClient ``list_topics`` metadata."""
    found = {t: metadata.topics.get(t) for t in inputs}
    missing = [t for t, m in found.items() if m is None or m.error is not None]
    if missing:
        raise TopologyError(
            f"input topics missing: {', '.join(missing)}",
            "create them (`riskwatch stack topics`, or `riskwatch stack up` locally) or fix the topics.* names",
        )
    counts = {len(m.partitions) for m in found.values()}
    if len(counts) != 1:
        raise TopologyError(
            f"input topics are not co-partitioned: partition counts {sorted(counts)}",
            "give transactions, contact-changes and customer-profiles the same partition count",
        )
    partitions = counts.pop()
    existing = metadata.topics.get(changelog)
    if existing is not None and existing.error is None and len(existing.partitions) != partitions:
        raise TopologyError(
            f"{changelog} has {len(existing.partitions)} partitions, the inputs {partitions}",
            "the state changelog must match the inputs: restore the inputs' partition count",
        )
    return partitions
