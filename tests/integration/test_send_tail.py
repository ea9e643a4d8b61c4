"""``riskwatch send`` and ``riskwatch tail`` as the README's first section uses them: one's own events in,
the worker's alerts out, the same alerts ``riskwatch replay`` gives for the same file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from kafka_harness import (
    PARTITIONS,
    READ_TO_END,
    READ_TO_END_POLL_SECONDS,
    WAIT_SECONDS,
    WorkerProcess,
    all_topics,
    committed_everything,
    wait_for,
)

from config.settings import Settings
from offline.replay import replay_file
from scenarios.generator import ScenarioConfig, generate
from streams.partitioning import kafka_partition
from streams.send import TYPE_TO_TOPIC_ROLE

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BAD_LINES = {2: "not json at all", 5: '{"type": "transaction", "customer_id": "P1"}', 9: '{"type": "wire"}'}


def _riskwatch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _input_file(tmp_path: Path, settings: Settings) -> tuple[Path, Path]:
    """A small scenario with bad lines at known line numbers; and the same file without them."""
    from detectors.scorecard import Scorecard

    scenario = generate(
        ScenarioConfig(customers=30, days=15, seed=5, malformed=0),
        Scorecard(settings.detection.scorecard).tier_of_fields,
        fx_rates=settings.detection.fx_rates_to_base,
    )
    good = [json.dumps(e) for e in scenario.events]
    mixed: list[str] = []
    it = iter(good)
    for number in range(1, len(good) + len(BAD_LINES) + 1):
        mixed.append(BAD_LINES[number] if number in BAD_LINES else next(it))
    mixed_path, good_path = tmp_path / "events.jsonl", tmp_path / "good.jsonl"
    mixed_path.write_text("\n".join(mixed) + "\n")
    good_path.write_text("\n".join(good) + "\n")
    return mixed_path, good_path


def test_send_then_tail_gives_replays_alerts(
    settings: Settings,
    kafka_conf: dict[str, str],
    topic_factory: Callable[..., str],
    group_id: str,
    tmp_path: Path,
) -> None:
    topics = all_topics(topic_factory)
    env = {**os.environ, **topics.env(), "RISKWATCH_KAFKA__CONSUMER_GROUP": group_id}
    events, good = _input_file(tmp_path, settings)
    expected_lines = len(good.read_text().splitlines())

    # sent before the worker starts, so it reads a backlog: a live worker orders the topics by record
    # timestamp only among what has arrived (README, "Event order across topics")
    worker: WorkerProcess | None = None
    try:
        sent = _riskwatch(env, "send", str(events))
        # bad lines are named by number and reason, not sent, and make the exit code 1
        assert sent.returncode == 1, sent.stderr
        for number in BAD_LINES:
            assert f"line {number}: " in sent.stderr, sent.stderr
        assert "line 2: event: is not valid JSON (not sent)" in sent.stderr
        assert f"sent {expected_lines:,} of {expected_lines + len(BAD_LINES):,} lines" in sent.stderr
        assert "Traceback" not in sent.stderr

        # every event sits on its type's topic, on the partition Kafka's murmur2 partitioner gives its key
        reader = Consumer(
            {**kafka_conf, "group.id": f"{group_id}-check", "enable.auto.commit": False, **READ_TO_END}
        )
        try:
            ends: dict[tuple[str, int], int] = {}
            starts = []
            for role in sorted(set(TYPE_TO_TOPIC_ROLE.values())):
                for p in range(PARTITIONS):
                    low, high = reader.get_watermark_offsets(TopicPartition(topics[role], p), timeout=10)
                    if high > low:
                        ends[(topics[role], p)] = high
                        starts.append(TopicPartition(topics[role], p, low))
            # all partitions in one assignment: one after another, each waits out its own first fetch
            reader.assign(starts)
            seen = 0
            deadline = time.monotonic() + WAIT_SECONDS
            while ends:
                assert time.monotonic() < deadline, f"not read to the end of {sorted(ends)}"
                for msg in reader.consume(1000, READ_TO_END_POLL_SECONDS):
                    assert msg.error() is None, msg.error()
                    key = msg.key()
                    assert key is not None
                    assert kafka_partition(key, PARTITIONS) == msg.partition()
                    assert topics[TYPE_TO_TOPIC_ROLE[json.loads(msg.value())["type"]]] == msg.topic()
                    seen += 1
                    if msg.offset() + 1 >= ends.get((msg.topic(), msg.partition()), 0):
                        ends.pop((msg.topic(), msg.partition()), None)
            assert seen == expected_lines
        finally:
            reader.close()

        worker = WorkerProcess("send-tail", group_id, topics, tmp_path, {})
        worker.wait_ready()
        caught_up = committed_everything(kafka_conf, group_id, topics)
        wait_for(caught_up, 90, "the worker to process the events", worker)
    finally:
        if worker is not None:
            worker.close()

    replay_file(good, settings, alerts_out=tmp_path / "a.jsonl", dead_letter_out=tmp_path / "d.jsonl")
    expected = {json.loads(line)["alert_id"] for line in (tmp_path / "a.jsonl").read_text().splitlines()}
    assert expected, "the scenario raised no alert: the test would prove nothing"

    as_json = _riskwatch(env, "tail", "alerts", "--from-beginning", "--exit-at-end", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert {json.loads(line)["alert_id"] for line in as_json.stdout.splitlines()} == expected

    human = _riskwatch(env, "tail", "alerts", "--from-beginning", "--exit-at-end")
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    assert lines[0].split()[:4] == ["EVENT", "TIME", "SEVERITY", "DETECTOR"]
    assert all(len(line) <= 120 for line in lines), max(lines, key=len)
    assert all(alert_id in human.stdout for alert_id in expected)


def test_tail_names_the_topics_it_knows(settings: Settings) -> None:
    proc = _riskwatch(dict(os.environ), "tail", "alertz")
    assert proc.returncode == 2
    assert "unknown topic 'alertz' — choose one of" in proc.stderr
    assert "customer-risk" in proc.stderr
    assert "Traceback" not in proc.stderr
