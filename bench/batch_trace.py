"""`riskwatch worker` with each batch's timeline written to a file: the latency bench's decomposition.

Run by ``bench/worker_bench.py --trace`` in place of ``python -m streams.cli``; never by the product. It wraps
the worker's own methods (``Worker._consume``, ``_process_batch``, ``_run_batch``, ``BatchStep.write_changelog``,
``Checkpoint.commit`` and the transactional calls in ``checkpoint.retrying``) so the code under test is the
real loop, unchanged; the wrappers cost a few clock readings per batch, not per event.

One JSON line per batch, wall-clock seconds (``time.time``, so the bench can set them against the times it
produced an event and consumed its alert):

    q  the loop turn that brought the batch's input began (the poll was called: the worker was free)
    p  that poll/consume returned the input
    s  the batch step began (after the orderer released the input)
    w  the changelog records began (every event processed)
    c  the commit began (offsets sent, then commit_transaction)
    f  (``BENCH_TRACE_FLUSH=1`` only) the outputs' produce acks were in: a ``flush`` ahead of the commit,
       which splits commit_transaction's own flush from its EndTxn round trip
    o  the offsets were in the transaction (commit_transaction was called)
    d  the commit returned
    e  the loop was free again (the collector's collection after the batch and the metrics done)
    n  records in the batch; held: records the orderer still held after it

``BENCH_RETRY_BACKOFF_MS=N``: the transactional producer's ``retry.backoff.ms`` (an A/B of it).

Usage: ``batch_trace.py TRACE_FILE worker --instance-id ...`` (the arguments after the file are the CLI's).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def install(path: str) -> None:
    from streams.worker import checkpoint, loop
    from streams.worker.batch import BatchOutput, BatchStep

    lines = open(path, "a", buffering=1)  # noqa: SIM115  (open for the worker's life, a line per batch)
    flush_first = os.environ.get("BENCH_TRACE_FLUSH") == "1"
    turn: dict[str, float] = {"q": 0.0, "p": 0.0}
    batch: dict[str, Any] = {}

    consume = loop.Worker._consume

    def traced_consume(self: loop.Worker, wait_seconds: float) -> list[Any]:
        q = time.time()
        msgs = consume(self, wait_seconds)
        if msgs:
            turn["q"], turn["p"] = q, time.time()
        return msgs

    process_batch = loop.Worker._process_batch

    def traced_process_batch(self: loop.Worker, msgs: list[Any], punctuate: bool = False) -> None:
        batch.clear()
        batch.update(q=turn["q"], p=turn["p"], n=len(msgs), punctuate=punctuate)
        process_batch(self, msgs, punctuate)
        batch["e"] = time.time()
        batch["held"] = len(self.orderer)
        if msgs:
            lines.write(json.dumps(batch) + "\n")

    run_batch = loop.Worker._run_batch

    def traced_run_batch(self: loop.Worker, msgs: list[Any], punctuate: bool) -> None:
        batch["s"] = time.time()
        run_batch(self, msgs, punctuate)

    write_changelog = BatchStep.write_changelog

    def traced_write_changelog(self: BatchStep, out: BatchOutput) -> None:
        batch["w"] = time.time()
        write_changelog(self, out)

    commit = checkpoint.Checkpoint.commit

    def traced_commit(self: checkpoint.Checkpoint) -> None:
        batch["c"] = time.time()
        if flush_first:
            self.producer.flush(self.call_timeout_seconds)
            batch["f"] = time.time()
        commit(self)
        batch["d"] = time.time()

    retrying = checkpoint.retrying

    def traced_retrying(watchdog: Any, doing: str, call: Callable[[], None]) -> None:
        if doing.startswith("committing"):
            batch["o"] = time.time()
        retrying(watchdog, doing, call)

    backoff = os.environ.get("BENCH_RETRY_BACKOFF_MS")
    if backoff:
        # A/B of the transactional producer's retry backoff (CONCURRENT_TRANSACTIONS after each commit);
        # the loop calls the name it imported from checkpoint, so that name is the one replaced
        producer_config = checkpoint.producer_config

        def with_backoff(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return {**producer_config(*args, **kwargs), "retry.backoff.ms": int(backoff)}

        loop.producer_config = with_backoff  # type: ignore[attr-defined]

    loop.Worker._consume = traced_consume  # type: ignore[method-assign]
    loop.Worker._process_batch = traced_process_batch  # type: ignore[method-assign]
    loop.Worker._run_batch = traced_run_batch  # type: ignore[method-assign]
    BatchStep.write_changelog = traced_write_changelog  # type: ignore[method-assign]
    checkpoint.Checkpoint.commit = traced_commit  # type: ignore[method-assign]
    checkpoint.retrying = traced_retrying


def main() -> int:
    if len(sys.argv) < 3 or sys.argv[1].startswith("-"):
        # not a trace file: ``--help`` would otherwise be opened as one
        print(
            "usage: batch_trace.py TRACE_FILE worker --instance-id ID [the worker's options]", file=sys.stderr
        )
        return 2
    install(sys.argv[1])
    from streams.cli import main as cli_main

    sys.argv = ["riskwatch", *sys.argv[2:]]
    return int(cli_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
