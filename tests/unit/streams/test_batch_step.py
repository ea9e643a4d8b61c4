"""The worker's batch step without a broker (quix-streams' ``.test()`` idea): the records of a generated
history, on the partitions Kafka's partitioner gives, through ``BatchStep.run`` into a recording sink give
exactly ``riskwatch replay``'s alerts; and a step that "crashes" after a committed batch and is rebuilt from
the changelog records written so far continues to the same alerts, none twice."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from fake_records import FakeRecord

from config.settings import Settings, load_settings
from detectors.engine import RiskEngine
from offline.replay import replay_file
from scenarios.generator import ScenarioConfig, generate
from streams.partitioning import kafka_partition
from streams.processor import utc_now
from streams.send import TYPE_TO_TOPIC_ROLE
from streams.worker.batch import BatchStep, collector_paused
from streams.worker.metrics import WorkerMetrics
from streams.worker.state_store import deadline_from_headers

PARTITIONS = 3
BATCH = 40
CHANGELOG = "test-changelog"


class Sink:
    """A batch's output that keeps what a committed transaction would have written."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, int, Any]] = []
        self.offsets: dict[tuple[str, int], int] = {}

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int = -1,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None:
        self.records.append((topic, key, value, partition, headers))

    def consumed(self, topic: str, partition: int, offset: int) -> None:
        self.offsets[(topic, partition)] = offset + 1

    def alerts(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(value) for t, _, value, _, _ in self.records if t == topic and value is not None]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    """Profiles first (a compacted table that exists before the traffic), then the rest in order."""
    generated = [
        line.encode() for line in generate(ScenarioConfig(customers=12, days=25, seed=3)).json_lines()
    ]
    profiles = [line for line in generated if b'"type":"customer_profile"' in line]
    return profiles + [line for line in generated if b'"type":"customer_profile"' not in line]


def records(lines: list[bytes], settings: Settings) -> list[FakeRecord]:
    offsets: dict[tuple[str, int], int] = {}
    out = []
    for line in lines:
        event = json.loads(line)
        topic = getattr(settings.topics, TYPE_TO_TOPIC_ROLE[event["type"]])
        key = event["customer_id"].encode()
        partition = kafka_partition(key, PARTITIONS)
        offset = offsets[(topic, partition)] = offsets.get((topic, partition), -1) + 1
        out.append(FakeRecord(topic, partition, offset, key=key, value=line))
    return out


def new_step(settings: Settings) -> BatchStep:
    step = BatchStep(settings, RiskEngine(settings.detection), WorkerMetrics.create(), CHANGELOG, utc_now)
    step.partition_count = PARTITIONS
    return step


def run(step: BatchStep, batch: list[FakeRecord], sink: Sink) -> None:
    step.run(batch, sink, False, lambda topic, partition: True)


def by_id(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["alert_id"]: {k: v for k, v in a.items() if k != "detected_at"} for a in alerts}


@pytest.fixture(scope="module")
def replayed(lines: list[bytes], settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    directory = tmp_path_factory.mktemp("replay")
    events, alerts = directory / "events.jsonl", directory / "alerts.jsonl"
    events.write_bytes(b"\n".join(lines) + b"\n")
    replay_file(events, settings, alerts_out=alerts, dead_letter_out=directory / "dlq.jsonl")
    found = [json.loads(line) for line in Path(alerts).read_text().splitlines()]
    assert len(found) >= 5, "the history should raise a fair number of alerts"
    return found


def test_the_batch_step_gives_replays_alerts(lines: list[bytes], settings: Settings, replayed: list) -> None:
    step, sink = new_step(settings), Sink()
    todo = records(lines, settings)
    for start in range(0, len(todo), BATCH):
        run(step, todo[start : start + BATCH], sink)
    alerts = sink.alerts(settings.topics.alerts)
    assert len(alerts) == len(replayed)
    assert by_id(alerts) == by_id(replayed)
    assert sink.offsets == {(r.topic(), r.partition()): r.offset() + 1 for r in todo}
    changelog = [r for r in sink.records if r[0] == CHANGELOG]
    assert {key for _, key, _, _, _ in changelog} == {r.key() for r in todo}, (
        "every customer's state is written"
    )


def test_a_step_rebuilt_from_the_changelog_continues_to_the_same_alerts(
    lines: list[bytes], settings: Settings, replayed: list
) -> None:
    todo = records(lines, settings)
    crash_after = (len(todo) // BATCH // 2) * BATCH
    first, sink = new_step(settings), Sink()
    for start in range(0, crash_after, BATCH):
        run(first, todo[start : start + BATCH], sink)
    committed = dict(sink.offsets)

    # the next owner: state from the changelog written so far, input from the committed offsets
    second = new_step(settings)
    stores = {p: second.new_store() for p in range(PARTITIONS)}
    for topic, key, value, partition, headers in sink.records:
        if topic == CHANGELOG and key is not None:
            stores[partition].load(key.decode(), value, deadline_from_headers(headers))
    second.adopt(stores)
    rest = [r for r in todo if r.offset() >= committed.get((r.topic(), r.partition()), 0)]
    assert len(rest) == len(todo) - crash_after
    for start in range(0, len(rest), BATCH):
        run(second, rest[start : start + BATCH], sink)

    alerts = sink.alerts(settings.topics.alerts)
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)), "an alert raised again after the restore"
    assert by_id(alerts) == by_id(replayed)


def test_the_changelog_gets_the_state_record_format_set(settings: Settings) -> None:
    """``worker.state_record_format = 9`` (or 8) keeps a group's changelog readable by workers of the
    versions before during a rolling upgrade."""
    rolling = {
        fmt: settings.model_copy(
            update={"worker": settings.worker.model_copy(update={"state_record_format": fmt})}
        )
        for fmt in (9, 8)
    }
    for chosen, fmt in ((settings, 10), (rolling[9], 9), (rolling[8], 8)):
        store = new_step(chosen).new_store()
        store.put("c", store.engine.new_state("c"))
        [(customer, record)] = store.take_dirty()
        assert customer == "c"
        assert record is not None
        assert record[0] == fmt


def test_the_collector_runs_again_after_a_batch_however_it_ends() -> None:
    """A batch pauses the cyclic collector's automatic runs; a batch that raises (an aborted transaction,
    a fault) must not leave them off for the rest of the worker's life, nor turn them on where they were
    off."""
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    def failing_batch() -> None:
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("batch failed")

    with pytest.raises(RuntimeError, match="batch failed"):
        failing_batch()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
