"""Worker processes killed, stopped and churned while traffic flows: afterwards the alerts on the topic
(read_committed) are exactly ``riskwatch replay``'s, each id once, and every bad input is a dead letter.

Faults land at a random point of the work (seeded), after the victim has committed a few batches, while the
feeder is still producing; small batches keep a transaction open most of the time, so a kill usually
interrupts one.
"""

from __future__ import annotations

import random
import time

import pytest
from chaos_harness import (
    Feeder,
    Figures,
    Traffic,
    batches_committed,
    check_outcome,
    owns_partitions,
    wait_for_batches,
)
from kafka_harness import (
    PARTITIONS,
    WAIT_SECONDS,
    Topics,
    WorkerProcess,
    committed_everything,
    produce,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.chaos]

SMALL_BATCHES = {"RISKWATCH_WORKER__BATCH_MAX_EVENTS": "20"}


def all_partitions(settings) -> int:
    """Input partitions a group owns: every input topic of the contract, co-partitioned."""
    return len(settings.topics.input_topics()) * PARTITIONS


def start_feeding(kafka_conf: dict[str, str], topics: Topics, traffic: Traffic, seconds: float) -> Feeder:
    """Profiles now (a table that exists before the traffic), the rest spread over ``seconds``."""
    start_ms = int(time.time() * 1000) - traffic.events
    produce(kafka_conf, topics, traffic.profiles, start_ms)
    feeder = Feeder(
        kafka_conf, topics, traffic.rest, len(traffic.rest) / seconds, start_ms + len(traffic.profiles)
    )
    feeder.start()
    return feeder


def finish(
    kafka_conf: dict[str, str],
    topics: Topics,
    group_id: str,
    feeder: Feeder,
    traffic: Traffic,
    figures: Figures,
    *alive: WorkerProcess,
) -> None:
    feeder.finish(hurry=True)  # every fault is over and recovered from: the rest of the traffic at once
    figures.extra["unpaced_s"] = feeder.unpaced_seconds
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "all input committed", *alive)
    figures.events = traffic.events
    figures.bad_inputs = len(traffic.expected_letters)
    check_outcome(kafka_conf, topics, traffic.expected_alerts, traffic.expected_letters, figures, group_id)


def test_sigkill_storm(kafka_conf, topics, workers, group_id, traffic, scale, figures) -> None:
    """One worker SIGKILLed again and again mid-stream, restarted each time under its instance id."""
    kills = max(3, round(3 * scale))
    rng = random.Random(9)
    w = workers("storm", **SMALL_BATCHES)
    w.wait_ready()
    # a SIGKILLed member holds its partitions until its session times out (6 s here): most of a round
    feeder = start_feeding(kafka_conf, topics, traffic, seconds=12.0 * kills)
    for _ in range(kills):
        wait_for_batches(w, 3, WAIT_SECONDS, "a few batches committed before the kill")
        time.sleep(rng.uniform(0.0, 0.3))  # a random point inside the work, not a wait for a condition
        assert feeder.is_alive(), "the traffic ended before the kill: the storm would not be mid-stream"
        w.kill()
        killed_at = time.monotonic()
        figures.faults += 1
        w = workers("storm", **SMALL_BATCHES)  # same instance id: fences its killed self at once
        wait_for_batches(w, 1, WAIT_SECONDS, "the restarted worker's first commit")
        figures.recovery_seconds.append(time.monotonic() - killed_at)
    finish(kafka_conf, topics, group_id, feeder, traffic, figures, w)


def test_churn_in_a_group_of_three(
    kafka_conf, topics, workers, group_id, traffic, scale, figures, settings
) -> None:
    """Three workers; one after the other is SIGKILLed or SIGTERMed and restarted while traffic flows."""
    rounds = max(4, round(4 * scale))
    rng = random.Random(13)
    group = [workers(f"churn-{i}", **SMALL_BATCHES) for i in range(3)]
    wait_for(
        lambda: sum(owns_partitions(w) for w in group) == all_partitions(settings),
        WAIT_SECONDS,
        "the three workers share all partitions",
        *group,
    )
    feeder = start_feeding(kafka_conf, topics, traffic, seconds=9.0 * rounds)
    graceful = 0
    for i in range(rounds):
        victim = group[i % 3]
        wait_for_batches(victim, 2, WAIT_SECONDS, f"{victim.instance_id} committing before the fault")
        time.sleep(rng.uniform(0.0, 0.3))
        assert feeder.is_alive(), "the traffic ended before the fault: churn would not be mid-stream"
        hit_at = time.monotonic()
        if i % 2:
            assert victim.terminate() == 0, victim.tail()
            graceful += 1
        else:
            victim.kill()
        figures.faults += 1
        group[i % 3] = workers(victim.instance_id, **SMALL_BATCHES)
        wait_for_batches(group[i % 3], 1, WAIT_SECONDS, f"restarted {victim.instance_id} committing")
        figures.recovery_seconds.append(time.monotonic() - hit_at)
    figures.extra["sigterm"] = graceful
    figures.extra["sigkill"] = rounds - graceful
    finish(kafka_conf, topics, group_id, feeder, traffic, figures, *group)


def test_sigstop_past_the_session_timeout(
    kafka_conf, topics, workers, group_id, traffic, figures, settings
) -> None:
    """A worker frozen (SIGSTOP) past its session timeout is replaced; woken after the takeover (SIGCONT)
    it must be fenced: nothing it had in flight or does afterwards may reach read_committed readers."""
    zombie = workers("zombie", **SMALL_BATCHES)
    survivor = workers("survivor", **SMALL_BATCHES)
    wait_for(
        lambda: owns_partitions(zombie) > 0 and owns_partitions(survivor) > 0,
        WAIT_SECONDS,
        "both workers own partitions",
        zombie,
        survivor,
    )
    feeder = start_feeding(kafka_conf, topics, traffic, seconds=45.0)
    wait_for_batches(zombie, 3, WAIT_SECONDS, "the zombie-to-be committing")
    time.sleep(random.Random(17).uniform(0.0, 0.3))
    zombie.pause()
    stopped_at = time.monotonic()
    figures.faults = 1
    try:
        wait_for(
            lambda: owns_partitions(survivor) == all_partitions(settings),
            WAIT_SECONDS,
            "the survivor taking over every partition",
            survivor,
        )
        figures.extra["takeover_s"] = round(time.monotonic() - stopped_at, 1)
        after_takeover = batches_committed(survivor)
        wait_for_batches(survivor, after_takeover + 1, WAIT_SECONDS, "the survivor committing after takeover")
        figures.recovery_seconds.append(time.monotonic() - stopped_at)
        assert feeder.is_alive(), "the traffic ended before the zombie woke: nothing left to duplicate"
    finally:
        zombie.resume()
    # Fenced, it cannot have committed since the pause, so this is its count at the pause.
    try:
        committed_at_wake = batches_committed(zombie)
    except AssertionError:  # it exited at once
        committed_at_wake = 0.0
    # Awake, the zombie either finds itself fenced and exits, or rejoins as a new member; both are fine as
    # long as nothing it does duplicates or loses an alert. It has rejoined only once it commits a batch
    # again: right after SIGCONT its metrics still show the partitions it owned before the pause, and it
    # may yet find itself fenced and exit.
    alive = [survivor]

    def exited_or_rejoined() -> bool:
        try:
            return zombie.proc.poll() is not None or batches_committed(zombie) > committed_at_wake
        except AssertionError:  # it exited between the two checks
            return True

    wait_for(
        exited_or_rejoined,
        WAIT_SECONDS,
        "the zombie exiting or rejoining",
        survivor,
    )
    if zombie.proc.poll() is None:
        alive.append(zombie)
    figures.extra["zombie_exit"] = zombie.proc.returncode
    finish(kafka_conf, topics, group_id, feeder, traffic, figures, *alive)
