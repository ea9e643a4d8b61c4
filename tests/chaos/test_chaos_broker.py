"""The broker SIGKILLed mid-stream and restarted with ``riskwatch stack up`` (a private stack on its own
ports, so the rest of the session's shared broker is never touched); afterwards the alerts must be
replay's, each id once, every bad input a dead letter once.

A transactional call that times out while the broker is away is called again (librdkafka's rule for a
retriable error); one that hangs past its bound (a librdkafka hang after the group coordinator went away)
ends the worker with one line, and like a supervisor (systemd, Kubernetes) the test then starts it again
under the same instance id and counts the exits in the figures (``worker_exits``)."""

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
CALL_TIMEOUT_SECONDS = 10


def committed_or_exited(w: WorkerProcess, batches: float) -> bool:
    if w.proc.poll() is not None:
        return True
    try:
        return batches_committed(w) >= batches
    except OSError:  # it ended between the two looks
        return w.proc.poll() is not None


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
        # the hang after the coordinator moved (most runs meet it) is ended 15 s past the call's timeout:
        # 10 s calls (a timed-out call is retried, as librdkafka asks) end it at 25 s instead of 45 s
        "RISKWATCH_WORKER__TRANSACTION_CALL_TIMEOUT_SECONDS": str(CALL_TIMEOUT_SECONDS),
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
                # the traffic must outlast every kill and recovery; a recovery through the hang bound
                # and a restart takes ~60 s (a CI-size run's 5 s outage recovers in seconds)
                len(traffic.rest) / (25.0 if kills == 1 else 100.0 * kills),
                start_ms + len(traffic.profiles),
            )
            feeder.start()
            restarts: list[float] = []
            exits: list[str] = []
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
                restarts.append(private_stack.up())
                # the worker commits again, or ends with one line (a transactional call that timed out or
                # hung past its bound) and is restarted as a supervisor would, under the same instance id
                wait_for(
                    lambda w=w, at_kill=at_kill: committed_or_exited(w, at_kill + 1),
                    WAIT_SECONDS,
                    "the worker committing (or exiting) after the restart",
                )
                if w.proc.poll() is not None:
                    exits.append(f"exit {w.proc.returncode}: {w.tail(1)}")
                    w.close()
                    w = WorkerProcess("broker-chaos", group_id, topics, tmp_path, env)
                    wait_for_batches(w, 1, WAIT_SECONDS, "the restarted worker committing")
                figures.recovery_seconds.append(time.monotonic() - killed_at)
            figures.extra["outage_s"] = OUTAGE_SECONDS * scale
            figures.extra["broker_restart_s"] = round(max(restarts), 1)
            # every kill is over and recovered from: the rest of the traffic at once
            feeder.finish(hurry=True)
            figures.extra["unpaced_s"] = feeder.unpaced_seconds
            done = committed_everything(conf, group_id, topics)
            deadline = time.monotonic() + 2 * WAIT_SECONDS
            while not done():
                # the hang can come after the first commit (a rejoin once the broker is back): restart
                if w.proc.poll() is not None:
                    exits.append(f"exit {w.proc.returncode}: {w.tail(1)}")
                    w.close()
                    w = WorkerProcess("broker-chaos", group_id, topics, tmp_path, env)
                assert time.monotonic() < deadline, f"not all input committed; worker exits: {exits}"
                time.sleep(0.5)
            figures.extra["worker_exits"] = len(exits)
            if exits:
                figures.extra["first_exit"] = repr(exits[0][:160])
            figures.events = traffic.events
            figures.bad_inputs = len(traffic.expected_letters)
            check_outcome(conf, topics, traffic.expected_alerts, traffic.expected_letters, figures, group_id)
        finally:
            w.close()
