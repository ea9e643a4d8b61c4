"""The risk book on the real broker: the worker consumes the officers' topics and gives replay's alerts,
tier history and reviews; the wall-clock punctuation moves a quiet customer once, across a restart; an
erasure leaves only tombstones in the changelog and on customer-risk.

Runs the confluent runtime (the default); the faust runtime consumes the same topics but has no punctuation
(README)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]
from kafka_harness import (
    PARTITIONS,
    READ_TO_END,
    READ_TO_END_POLL_SECONDS,
    WAIT_SECONDS,
    committed_everything,
    produce,
    strip,
    wait_for,
)

from config.settings import KafkaSettings, load_settings
from detectors.scorecard import Scorecard
from offline.replay import replay_file
from scenarios.generator import ScenarioConfig, generate

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the default reporting time zone: review dates are its calendar days


@pytest.fixture
def runtime() -> str:
    return "confluent"


def read_records(conf: dict[str, str], topic: str) -> list[tuple[str, Any]]:
    """Every committed (key, value or None for a tombstone) of ``topic``, in partition order: values decoded
    from JSON, but a state changelog's as the binary records they are (``detectors/state_codec.py``)."""
    binary = topic.endswith("-customer-state-changelog")
    consumer = Consumer(
        {
            **conf,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            **READ_TO_END,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    out: list[tuple[str, Any]] = []
    eof: set[int] = set()
    while len(eof) < PARTITIONS:
        for msg in consumer.consume(1000, READ_TO_END_POLL_SECONDS):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    eof.add(msg.partition())
                    continue
                raise AssertionError(str(err))
            value = msg.value()
            decoded = value if value is None or binary else json.loads(value)
            out.append(((msg.key() or b"").decode(), decoded))
    consumer.close()
    return out


def officer_event(kind: str, customer: str, when: datetime, **fields: Any) -> bytes:
    return json.dumps(
        {
            "type": kind,
            "event_id": f"{kind}-{customer}-{when.timestamp()}",
            "customer_id": customer,
            "timestamp": when.isoformat(),
            "officer_id": "officer-7",
            "reason": "integration test",
            **fields,
        }
    ).encode()


def risky_profile(customer: str, when: datetime) -> dict[str, Any]:
    """A profile the scorecard puts high (a gambling business in arrears), so the customer has a tier on
    customer-risk and state on the changelog for an erasure to delete."""
    return {
        "type": "customer_profile",
        "event_id": "p-1",
        "customer_id": customer,
        "timestamp": when.isoformat(),
        "segment": "individual",
        "industry": "gambling",
        "credit_score": 400,
        "overdue_count_12m": 5,
    }


def by_customer_order(records: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    """Each customer's records in order (a customer lives on one partition, so its order is defined)."""
    out: dict[str, list[Any]] = {}
    for r in records:
        out.setdefault(r["customer_id"], []).append({k: v for k, v in r.items() if k not in drop})
    return out


def test_worker_equals_replay_with_officer_inputs(
    kafka_conf, topics, workers, group_id, tmp_path: Path
) -> None:
    scenario = generate(ScenarioConfig(customers=30, days=40, seed=5, malformed=0))
    lines = [line.encode() for line in scenario.json_lines()]
    profiles = [x for x in lines if b'"type":"customer_profile"' in x]
    rest = [x for x in lines if b'"type":"customer_profile"' not in x]
    first = json.loads(rest[0])
    start = datetime.fromisoformat(first["timestamp"])
    # the override pins tier high: aim it at a customer the scorecard does not already put there
    scorecard = Scorecard(load_settings().detection.scorecard)
    tiers = {json.loads(x)["customer_id"]: scorecard.tier_of_fields(json.loads(x)) for x in profiles}
    customers = sorted(tiers, key=lambda c: (tiers[c] == "high", c))
    officer = [
        officer_event(
            "risk_override",
            customers[0],
            start + timedelta(days=1),
            tier="high",
            expires_at=(start + timedelta(days=9)).isoformat(),
        ),
        officer_event(
            "review_completed", customers[1], start + timedelta(days=2), outcome="tier_changed", tier="low"
        ),
    ]
    # the officer events go where their event time puts them in the file (the stream orders by record time)
    times = [datetime.fromisoformat(json.loads(x)["timestamp"]) for x in rest]
    merged = list(rest)
    for ev in officer:
        t = datetime.fromisoformat(json.loads(ev)["timestamp"])
        merged.insert(next(i for i, x in enumerate(times) if x >= t) + officer.index(ev), ev)
    # a customer profiled two years before the traffic: its first event falls after the review date
    old_profile = {
        "type": "customer_profile",
        "event_id": "p-old",
        "customer_id": "book-old",
        "timestamp": (start - timedelta(days=731)).isoformat(),
        "segment": "individual",
        "industry": "education",
    }
    old_tx = {
        "type": "transaction",
        "event_id": "t-old",
        "customer_id": "book-old",
        "timestamp": (start + timedelta(seconds=1)).isoformat(),
        "account_id": "a-old",
        "amount": "120.00",
        "currency": "CNY",
        "direction": "debit",
        "channel": "card",
    }
    merged.insert(1, json.dumps(old_tx).encode())
    events = [json.dumps(old_profile).encode(), *profiles, *merged]
    file = tmp_path / "events.jsonl"
    file.write_bytes(b"\n".join(events) + b"\n")
    out = {n: tmp_path / f"{n}.jsonl" for n in ("alerts", "risk", "reviews", "dlq")}
    replay_file(
        file,
        load_settings(),
        alerts_out=out["alerts"],
        risk_out=out["risk"],
        reviews_out=out["reviews"],
        dead_letter_out=out["dlq"],
    )
    produce(kafka_conf, topics, events)
    w = workers("w-book", RISKWATCH_WORKER__PUNCTUATE_INTERVAL_MS="0")
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "all input committed", w)

    def read(name: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in out[name].read_text().splitlines()]

    alerts = [v for _, v in read_records(kafka_conf, topics["alerts"])]
    assert strip(alerts) == strip(read("alerts"))
    risks = [v for _, v in read_records(kafka_conf, topics["customer_risk"])]
    expected_risks = read("risk")
    assert by_customer_order(risks) == by_customer_order(expected_risks)
    moved = {r["customer_id"] for r in expected_risks if r["previous_tier"] not in (None, r["tier"])}
    assert customers[0] in moved, "the override should have moved its customer"
    assert any("pins tier high" in r["reason"] for r in expected_risks)
    assert any("expired" in r["reason"] for r in expected_risks)
    reviews = [v for _, v in read_records(kafka_conf, topics["reviews"])]
    expected_reviews = read("reviews")
    assert [r["customer_id"] for r in expected_reviews] == ["book-old"]
    assert by_customer_order(reviews) == by_customer_order(expected_reviews)


def test_punctuation_moves_a_quiet_customer_once_across_a_restart(
    kafka_conf, topics, workers, group_id
) -> None:
    now = datetime.now(UTC)
    # a low-risk customer profiled 731 days ago: its 730-day review fell due yesterday, and no event of its
    # own will ever say so; another pinned to high until a few seconds from now
    profile = {
        "type": "customer_profile",
        "segment": "individual",
        "industry": "utilities",
        "credit_score": 880,
        "overdue_count_12m": 0,
        "annual_income": "900000",
        "total_assets": "1000000",
        "total_liabilities": "0",
    }
    quiet = {
        **profile,
        "event_id": "p-quiet",
        "customer_id": "quiet-1",
        "timestamp": (now - timedelta(days=731)).isoformat(),
    }
    pinned = {
        **profile,
        "event_id": "p-pin",
        "customer_id": "pinned-1",
        "timestamp": (now - timedelta(seconds=20)).isoformat(),
    }
    expires = now + timedelta(seconds=4)
    override = officer_event(
        "risk_override", "pinned-1", now - timedelta(seconds=10), tier="high", expires_at=expires.isoformat()
    )
    produce(
        kafka_conf,
        topics,
        [json.dumps(quiet).encode(), json.dumps(pinned).encode(), override],
        int(time.time() * 1000) - 100,
    )
    # the review date has passed in stream time already; the expiry needs the wall clock, which takes over
    # once the partition has been idle for a second
    env = {
        "RISKWATCH_WORKER__PUNCTUATE_INTERVAL_MS": "300",
        "RISKWATCH_WORKER__PUNCTUATE_WALL_CLOCK_AFTER_IDLE_MS": "1000",
    }
    w = workers("w-clock", **env)

    def reviews() -> list[dict[str, Any]]:
        return [v for _, v in read_records(kafka_conf, topics["reviews"])]

    def risks_of(customer: str) -> list[dict[str, Any]]:
        return [v for k, v in read_records(kafka_conf, topics["customer_risk"]) if k == customer]

    wait_for(lambda: len(reviews()) >= 1, WAIT_SECONDS, "the quiet customer's review", w)
    wait_for(
        lambda: any("expired" in r["reason"] for r in risks_of("pinned-1")),
        WAIT_SECONDS,
        "override expiry",
        w,
    )
    (review,) = reviews()
    assert review["customer_id"] == "quiet-1"
    profiled_on = (now - timedelta(days=731)).astimezone(SHANGHAI).date()
    assert review["due_date"] == (profiled_on + timedelta(days=730)).isoformat()
    expiry = next(r for r in risks_of("pinned-1") if "expired" in r["reason"])
    assert (expiry["previous_tier"], expiry["tier"]) == ("high", "low")
    assert datetime.fromisoformat(expiry["updated_at"]) == expires
    # restart: the emitted-review marker and the lifted override were committed with the outputs
    assert w.terminate() == 0
    w2 = workers("w-clock", **env)
    w2.wait_ready()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # several punctuation intervals of the restarted worker
        assert len(reviews()) == 1
        assert sum("expired" in r["reason"] for r in risks_of("pinned-1")) == 1
        w2.assert_running()


def test_forget_leaves_only_tombstones(kafka_conf, topics, workers, group_id) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    profile = risky_profile("forget-me", now)
    base = int(time.time() * 1000) - 1000
    produce(kafka_conf, topics, [json.dumps(profile).encode()], base)
    w = workers("w-forget", RISKWATCH_WORKER__PUNCTUATE_INTERVAL_MS="0")
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "profile committed", w)
    produce(
        kafka_conf,
        topics,
        [officer_event("erasure_request", "forget-me", now + timedelta(minutes=1))],
        base + 10,
    )
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "erasure committed", w)
    changelog = f"{group_id}-customer-state-changelog"
    for topic in (changelog, topics["customer_risk"]):
        mine = [v for k, v in read_records(kafka_conf, topic) if k == "forget-me"]
        assert mine, f"{topic} never held the customer"
        assert mine[-1] is None, f"the last record of the customer on {topic} must be a tombstone"
    # a restarted worker restores the partition from the changelog: nothing of the customer comes back, and
    # later events start from a clean state (the customer is new again: no previous tier)
    assert w.terminate() == 0
    w2 = workers("w-forget", RISKWATCH_WORKER__PUNCTUATE_INTERVAL_MS="0")
    again = {**profile, "event_id": "p-2", "timestamp": (now + timedelta(minutes=2)).isoformat()}
    produce(kafka_conf, topics, [json.dumps(again).encode()], base + 20)
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "new profile committed", w2)
    last = [v for k, v in read_records(kafka_conf, topics["customer_risk"]) if k == "forget-me"][-1]
    assert last is not None
    assert last["previous_tier"] is None


ERASURE_BOUND_MS = (
    3000  # kafka.erasure_max_compaction_lag_ms for this test's topics: short, so CI stays quick
)
# what the broker adds to the bound: the cleaner's pause between looks (read from the broker) and a
# margin for cleaning a few small segments on a loaded 2-core box
CLEANING_MARGIN_SECONDS = 10.0


def cleaner_backoff_seconds(conf: dict[str, str]) -> float:
    admin = AdminClient(conf)
    broker = next(iter(admin.list_topics(timeout=10).brokers))
    resource = ConfigResource(ConfigResource.Type.BROKER, str(broker))
    entries = next(iter(admin.describe_configs([resource]).values())).result(10)
    return int(entries["log.cleaner.backoff.ms"].value) / 1000


def topic_config(conf: dict[str, str], topic: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    admin = AdminClient(conf)  # held until the future resolves: a collected handle fails it
    entries = next(iter(admin.describe_configs([resource]).values())).result(10)
    return {name: entry.value for name, entry in entries.items()}


def test_forget_leaves_no_trace_within_the_bound(
    kafka_conf, topics, topic_factory, workers, group_id
) -> None:
    """After the bound the broker has compacted the erased customer's old records away: reading the
    changelog and customer-risk from the beginning finds only tombstones of the customer."""
    bounded = KafkaSettings(erasure_max_compaction_lag_ms=ERASURE_BOUND_MS).compacted_topic_config()
    topics["customer_risk"] = topic_factory(PARTITIONS, bounded, prefix="rw-risk")  # as `stack topics` does
    changelog = f"{group_id}-customer-state-changelog"
    now = datetime.now(UTC) - timedelta(minutes=5)
    profile = risky_profile("erase-me", now)
    base = int(time.time() * 1000) - 1000
    produce(kafka_conf, topics, [json.dumps(profile).encode()], base)
    w = workers(
        "w-erase",
        RISKWATCH_WORKER__PUNCTUATE_INTERVAL_MS="0",
        RISKWATCH_KAFKA__ERASURE_MAX_COMPACTION_LAG_MS=str(ERASURE_BOUND_MS),
    )
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "profile committed", w)
    for topic in (changelog, topics["customer_risk"]):
        assert topic_config(kafka_conf, topic)["max.compaction.lag.ms"] == str(ERASURE_BOUND_MS)
        assert any(k == "erase-me" and v is not None for k, v in read_records(kafka_conf, topic)), topic
    erasure = officer_event("erasure_request", "erase-me", now + timedelta(minutes=1))
    produce(kafka_conf, topics, [erasure], base + 10)
    wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "erasure committed", w)
    erased_at = time.monotonic()
    deadline = erased_at + ERASURE_BOUND_MS / 1000 + cleaner_backoff_seconds(kafka_conf)
    deadline += CLEANING_MARGIN_SECONDS
    # A segment rolls on the next append to its partition, which later traffic brings in production; here a
    # tombstone of a key nobody holds stands in for that traffic (it deletes nothing anywhere).
    filler = Producer({**kafka_conf, "enable.idempotence": True})
    left: dict[str, list[Any]] = {}
    while True:
        for topic in (changelog, topics["customer_risk"]):
            for partition in range(PARTITIONS):
                filler.produce(topic, key=b"erasure-filler", value=None, partition=partition)
        assert filler.flush(10) == 0
        left = {
            topic: [v for k, v in read_records(kafka_conf, topic) if k == "erase-me"]
            for topic in (changelog, topics["customer_risk"])
        }
        if all(values and all(v is None for v in values) for values in left.values()):
            break
        assert time.monotonic() < deadline, f"records of the erased customer remain: {left}"
        time.sleep(0.5)  # a polling interval: the loop ends as soon as the cleaner has run
    print(f"no trace of the erased customer {time.monotonic() - erased_at:.1f}s after the erasure committed")
    w.assert_running()
