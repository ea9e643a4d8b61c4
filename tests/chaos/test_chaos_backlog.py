"""A backlog: all the traffic is produced before the worker starts (a worker back after an outage, or a
new deployment over history). Its memory must stay bounded whatever the backlog's length, and however far
one input topic's event time runs ahead of another's while it catches up, the alerts must be replay's.

CI size: 200 customers over 30 days (~18k events); ``--scale 28``: 5,600 customers, ~500k events.
"""

from __future__ import annotations

import time

import pytest
from chaos_harness import check_outcome
from kafka_harness import WAIT_SECONDS, committed_everything, produce, replay_lines, scenario, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.chaos]

# Peak resident memory allowed for one worker over the backlogs this suite runs (up to --scale 28: ~500k
# events, 5,600 customers): the interpreter and libraries (~100 MiB), librdkafka's prefetch queue (bounded
# by queued.max.messages.kbytes, 64 MiB), the ordering buffers (worker.ordering_buffer_max_messages), the
# customers' state within STATE_BUDGET_MIB (every record, as many decoded as the rest holds; a batch's own
# customers decoded on top until it commits). What remains grows with the customers a backlog brings, not
# with its length in events (README, Tests).
PEAK_RSS_MIB = 400.0
STATE_BUDGET_MIB = 40


def test_backlog_catch_up_equals_replay_with_bounded_memory(
    kafka_conf, topics, workers, group_id, scale, figures, tmp_path
) -> None:
    customers = round(200 * scale)
    profiles, rest = scenario(customers=customers, days=30, seed=7)
    expected, letters = replay_lines(profiles + rest, tmp_path)
    figures.events = len(profiles) + len(rest)
    figures.expected_alerts = len(expected)
    figures.extra["customers"] = customers
    produce(kafka_conf, topics, profiles + rest)
    started = time.monotonic()
    w = workers("backlog", RISKWATCH_WORKER__STATE_MEMORY_BUDGET_MIB=str(STATE_BUDGET_MIB))
    peak = 0.0

    def caught_up() -> bool:
        nonlocal peak
        peak = max(peak, w.peak_rss_mib())
        return committed_everything(kafka_conf, group_id, topics)()

    wait_for(caught_up, WAIT_SECONDS * max(1.0, scale), "the backlog committed", w)
    elapsed = time.monotonic() - started
    peak = max(peak, w.peak_rss_mib())
    figures.recovery_seconds.append(elapsed)
    figures.extra["events_per_s"] = round(figures.events / elapsed)
    figures.extra["peak_rss_mib"] = round(peak)
    check_outcome(kafka_conf, topics, expected, letters, figures, group_id)
    assert peak < PEAK_RSS_MIB, f"the worker peaked at {peak:.0f} MiB over a {figures.events}-event backlog"
