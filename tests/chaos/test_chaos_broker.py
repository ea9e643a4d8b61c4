"""The broker SIGKILLed mid-stream and restarted with ``riskwatch stack up`` (a private stack on its own
ports, so the rest of the session's shared broker is never touched): the worker must ride out the outage
and afterwards the alerts must be replay's, each id once, every bad input a dead letter once."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from chaos_harness import Feeder, Figures, Traffic, batches_committed, check_outcome, wait_for_batches
from confluent_kafka.admin import AdminClient
from kafka_harness import (
    WAIT_SECONDS,
    PrivateStack,
    WorkerProcess,
    committed_everything,
    contract_topics,
    produce,
    topic_factory_on,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.chaos]

OUTAGE_SECONDS = 5.0


def test_broker_sigkill_and_restart_mid_stream(
    private_stack: PrivateStack,
    group_id: str,
    traffic: Traffic,
    scale: float,
    figures: Figures,
    tmp_path: Path,
) -> None:
    kills = max(1, round(scale))
    rng = random.Random(29)
    conf = private_stack.conf
    env = {
        "RISKWATCH_KAFKA__BOOTSTRAP_SERVERS": private_stack.bootstrap,
        "RISKWATCH_WORKER__BATCH_MAX_EVENTS": "20",
    }
    with topic_factory_on(AdminClient(dict(conf))) as factory:
        topics = contract_topics(factory)
        start_ms = int(time.time() * 1000) - traffic.events
        produce(conf, topics, traffic.profiles, start_ms)
        w = WorkerProcess("broker-chaos", group_id, topics, tmp_path, env)
        try:
            w.wait_ready()
            feeder = Feeder(
                conf,
                topics,
                traffic.rest,
                len(traffic.rest) / (25.0 * kills),
                start_ms + len(traffic.profiles),
            )
            feeder.start()
            restarts: list[float] = []
            for _ in range(kills):
                before = batches_committed(w)
                wait_for_batches(w, before + 3, WAIT_SECONDS, "the worker committing before the broker dies")
                time.sleep(rng.uniform(0.0, 0.3))
                assert feeder.is_alive(), "the traffic ended before the broker died"
                at_kill = batches_committed(w)
                private_stack.kill_broker()
                killed_at = time.monotonic()
                figures.faults += 1
                time.sleep(OUTAGE_SECONDS * scale)  # the outage itself: nothing to wait for
                w.assert_running()
                restarts.append(private_stack.up())
                wait_for_batches(w, at_kill + 1, WAIT_SECONDS, "the worker committing after the restart")
                figures.recovery_seconds.append(time.monotonic() - killed_at)
            figures.extra["outage_s"] = OUTAGE_SECONDS * scale
            figures.extra["broker_restart_s"] = round(max(restarts), 1)
            feeder.finish()
            wait_for(committed_everything(conf, group_id, topics), WAIT_SECONDS, "all input committed", w)
            figures.events = traffic.events
            figures.bad_inputs = len(traffic.expected_letters)
            check_outcome(conf, topics, traffic.expected_alerts, traffic.expected_letters, figures)
        finally:
            w.close()
