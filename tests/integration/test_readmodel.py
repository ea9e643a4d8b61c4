"""The Redis read model against the real broker and Redis: it equals the topics after a worker crash and a
projector SIGKILL, an erasure tombstone removes the customer for good (also across a rebuild), and the API
and the CLI return what Redis holds.

Each test uses fresh topics and its own Redis key prefix, and waits on conditions with deadlines.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis
from confluent_kafka import Producer
from fastapi.testclient import TestClient
from kafka_harness import (
    PARTITIONS,
    WAIT_SECONDS,
    Topics,
    committed_everything,
    feed_two_thirds,
    produce,
    read_all,
    scenario,
    wait_for,
)

from config.settings import Settings, load_settings
from readmodel.connection import sync_client
from readmodel.keys import TIERS, Keys, review_day
from readmodel.projector import Projector
from readmodel.store import RedisStore
from server.app import create_app
from server.models import CustomerRow, CustomerView

pytestmark = pytest.mark.integration

ALERTS_KEPT = 4


@pytest.fixture
def runtime() -> str:
    """The read model is checked behind the default (confluent) worker runtime only."""
    return "confluent"


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A Redis key prefix of this test alone, deleted afterwards."""
    name = f"rwtest-{uuid.uuid4().hex[:10]}"
    yield name
    for key in redis_client.scan_iter(match=f"{name}:*", count=1000):
        redis_client.delete(key)


@pytest.fixture
def output_topics(topics: Topics, topic_factory: Callable[..., str]) -> Topics:
    """The harness's fresh contract topics, plus any the projector reads that it does not create, so no
    other test's records come in."""
    for role in ("risk_overrides", "review_completed", "erasure_requests", "reviews", "alert_dispositions"):
        if role not in topics:
            topics[role] = topic_factory(PARTITIONS, prefix=f"rw-{role.replace('_', '-')}")
    return topics


def rm_settings(topics: Topics, prefix: str, **readmodel: Any) -> Settings:
    return load_settings(
        topics=dict(topics),
        redis={"key_prefix": prefix},
        readmodel={"alerts_per_customer": ALERTS_KEPT, "poll_timeout_ms": 50, **readmodel},
    )


class ProjectorProcess:
    """``riskwatch project`` as a process, so it can be SIGKILLed like a real deployment."""

    def __init__(self, topics: Topics, prefix: str, log_dir: Path, batch: int):
        self.instance_id = f"projector-{uuid.uuid4().hex[:6]}"
        self.log_path = log_dir / f"{self.instance_id}.log"
        env = {
            **os.environ,
            **topics.env(),
            "RISKWATCH_REDIS__KEY_PREFIX": prefix,
            "RISKWATCH_READMODEL__ALERTS_PER_CUSTOMER": str(ALERTS_KEPT),
            "RISKWATCH_READMODEL__BATCH_MAX_MESSAGES": str(batch),
            "RISKWATCH_READMODEL__POLL_TIMEOUT_MS": "50",
        }
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "project"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def assert_running(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"projector exited with {self.proc.returncode}:\n{self.tail()}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self._log.close()


# ------------------------------------------------------------------------------ what Redis and topics hold
def snapshot(client: redis.Redis, keys: Keys) -> dict[str, Any]:
    """The read model as plain data, to compare with what the topics say it must be."""
    customers: dict[str, Any] = {}
    for key in client.scan_iter(match=f"{keys.prefix}:customer:*", count=1000):
        cid = key.decode().rsplit(":", 1)[1]
        customers[cid] = json.loads(client.hget(key, "risk") or b"null")
    alerts: dict[str, list[str]] = {}
    for key in client.scan_iter(match=f"{keys.prefix}:alert-ids:*", count=1000):
        cid = key.decode().rsplit(":", 1)[1]
        alerts[cid] = [m.decode() for m in client.zrange(key, 0, -1)]
        assert sorted(alerts[cid]) == sorted(m.decode() for m in client.hkeys(keys.alerts(cid)))

    def zset(name: str) -> dict[str, float]:
        return {m.decode(): s for m, s in client.zrange(name, 0, -1, withscores=True)}

    rows = {cid.decode(): json.loads(row) for cid, row in client.hgetall(keys.rows).items()}
    return {
        "customers": customers,
        "rows": rows,
        "alerts": alerts,
        "by_score": zset(keys.by_score),
        "tiers": {t: set(zset(keys.by_tier(t))) for t in TIERS},
        "reviews": zset(keys.reviews),
    }


def expected_from_topics(kafka_conf: dict[str, str], topics: Topics) -> dict[str, Any]:
    risks: dict[str, Any] = {}
    for risk in read_all(kafka_conf, topics["customer_risk"], timeout=0):
        risks[risk["customer_id"]] = risk  # a customer's records share a partition: the last is the latest
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for alert in read_all(kafka_conf, topics["alerts"], timeout=0):
        if isinstance(alert, dict) and "alert_id" in alert:
            by_customer.setdefault(alert["customer_id"], []).append(alert)

    def newest(alerts: list[dict[str, Any]]) -> list[str]:
        ranked = sorted((_ms(a["event_time"]), a["alert_id"]) for a in alerts)
        return [alert_id for _, alert_id in ranked[-ALERTS_KEPT:]]

    return {
        "customers": risks,
        "rows": {
            cid: {k: r[k] for k in ("customer_id", "tier", "score", "next_review_due")}
            for cid, r in risks.items()
        },
        "alerts": {cid: newest(alerts) for cid, alerts in by_customer.items()},
        "by_score": {cid: r["score"] for cid, r in risks.items()},
        "tiers": {t: {cid for cid, r in risks.items() if r["tier"] == t} for t in TIERS},
        "reviews": {
            cid: float(review_day(date.fromisoformat(r["next_review_due"]))) for cid, r in risks.items()
        },
    }


def _ms(timestamp: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(timestamp).timestamp() * 1000)


def everything_under(client: redis.Redis, keys: Keys) -> bytes:
    """Every key name, hash field and value, set member and string of the read model, concatenated."""
    parts: list[bytes] = []
    for key in client.scan_iter(match=keys.pattern, count=1000):
        parts.append(key)
        kind = client.type(key)
        if kind == b"hash":
            for field, value in client.hgetall(key).items():
                parts += [field, value]
        elif kind == b"zset":
            parts += client.zrange(key, 0, -1)
        elif kind == b"string":
            parts.append(client.get(key) or b"")
        else:
            raise AssertionError(f"unexpected {kind!r} key {key!r}")
    return b"\n".join(parts)


def skipped(client: redis.Redis, keys: Keys, topic: str) -> int:
    return int(client.hget(keys.skipped, topic) or 0)


# ------------------------------------------------------------------------------------------------ tests
@pytest.mark.slow
def test_read_model_equals_the_topics_after_a_worker_crash_and_a_projector_kill(
    kafka_conf: dict[str, str],
    output_topics: Topics,
    workers: Callable[..., Any],
    group_id: str,
    redis_client: redis.Redis,
    prefix: str,
    tmp_path: Path,
) -> None:
    topics = output_topics
    keys = Keys.for_prefix(prefix)
    lines = scenario(customers=30, days=30, seed=7)
    feed_the_rest = feed_two_thirds(kafka_conf, topics, lines)
    # one record no projector can apply: counted once, however often the projector restarts
    bad = Producer(kafka_conf)
    bad.produce(topics["reviews"], key=b"P000001", value=b"{not a review")
    assert bad.flush(10) == 0

    worker = workers("w-rm", RISKWATCH_WORKER__BATCH_MAX_EVENTS="10")
    projector = ProjectorProcess(topics, prefix, tmp_path, batch=3)
    started = [projector]
    try:
        wait_for(
            lambda: (
                skipped(redis_client, keys, topics["reviews"]) == 1 and redis_client.zcard(keys.by_score) >= 5
            ),
            WAIT_SECONDS,
            "the projector mid-stream",
            worker,
            projector,
        )
        projector.kill()
        worker.kill()
        assert redis_client.zcard(keys.by_score) < 30, "the kill came too late to test anything"
        worker = workers("w-rm", RISKWATCH_WORKER__BATCH_MAX_EVENTS="10")
        feed_the_rest()
        projector = ProjectorProcess(topics, prefix, tmp_path, batch=50)
        started.append(projector)
        wait_for(committed_everything(kafka_conf, group_id, topics), WAIT_SECONDS, "input committed", worker)
        expected = expected_from_topics(kafka_conf, topics)
        assert len(expected["customers"]) == 30
        assert sum(len(a) for a in expected["alerts"].values()) >= 10, "too few alerts to test anything"
        wait_for(
            lambda: snapshot(redis_client, keys) == expected,
            60.0,
            "the read model to equal the topics",
            projector,
        )
        assert skipped(redis_client, keys, topics["reviews"]) == 1, "a record was applied twice"
    finally:
        for p in started:
            p.close()


def produce_records(
    conf: dict[str, str], records: list[tuple[str, str, bytes | None]], timestamp_ms: int = 0
) -> None:
    """In one Kafka transaction, as the worker writes; ``timestamp_ms`` 0 is the produce time."""
    producer = Producer(
        {**conf, "partitioner": "murmur2_random", "transactional.id": f"rw-test-{uuid.uuid4().hex[:8]}"}
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    for topic, key, value in records:
        producer.produce(topic, key=key.encode(), value=value, timestamp=timestamp_ms)
    producer.commit_transaction(30)


def risk_json(cid: str, tier: str, score: float, due: str = "2026-06-01") -> bytes:
    return json.dumps(
        {
            "customer_id": cid,
            "schema_version": 1,
            "tier": tier,
            "score": score,
            "previous_tier": None,
            "factors": {"credit_record": score},
            "updated_at": "2026-01-01T00:00:00+00:00",
            "next_review_due": due,
            "reason": "scorecard",
        }
    ).encode()


def alert_json(cid: str, alert_id: str, event_time: str = "2026-01-02T00:00:00+00:00") -> bytes:
    return json.dumps(
        {
            "alert_id": alert_id,
            "schema_version": 1,
            "customer_id": cid,
            "detector": "structuring",
            "severity": "critical",
            "score": 0.5,
            "risk_tier": "high",
            "event_time": event_time,
            "detected_at": "2026-01-02T00:00:01+00:00",
            "trigger_event_ids": ["e1"],
            "reason": "four cash deposits just under the threshold",
            "evidence": {"count": 4},
        }
    ).encode()


def project_until(settings: Settings, condition: Callable[[], bool]) -> None:
    """Run a projector in this process until ``condition`` holds (a fresh one each call: a restart)."""
    client = sync_client(settings.redis)
    store = RedisStore.from_settings(client, settings)
    deadline = time.monotonic() + WAIT_SECONDS
    Projector(settings, store).run(until=lambda: condition() or time.monotonic() > deadline)
    client.close()
    assert condition(), "the projector did not get there in time"


def test_an_erasure_tombstone_removes_the_customer_for_good(
    kafka_conf: dict[str, str], output_topics: Topics, redis_client: redis.Redis, prefix: str
) -> None:
    topics, keys = output_topics, Keys.for_prefix(prefix)
    settings = rm_settings(topics, prefix)
    review = json.dumps(
        {
            "customer_id": "ERASE-ME",
            "schema_version": 1,
            "tier": "high",
            "due_date": "2026-06-01",
            "last_review": None,
            "review_id": "r1",
            "reason": "due",
        }
    ).encode()
    produce_records(
        kafka_conf,
        [
            (topics["customer_risk"], "ERASE-ME", risk_json("ERASE-ME", "high", 80.0)),
            (topics["customer_risk"], "KEEP", risk_json("KEEP", "high", 70.0)),
            (topics["alerts"], "ERASE-ME", alert_json("ERASE-ME", "a1")),
            (topics["alerts"], "KEEP", alert_json("KEEP", "k1")),
            (topics["reviews"], "ERASE-ME", review),
        ],
    )
    project_until(
        settings,
        lambda: redis_client.zcard(keys.by_score) == 2 and redis_client.exists(keys.alerts("KEEP")) == 1,
    )
    assert redis_client.hexists(keys.customer("ERASE-ME"), "review")

    produce_records(kafka_conf, [(topics["customer_risk"], "ERASE-ME", None)])
    gone = lambda: redis_client.zscore(keys.by_score, "ERASE-ME") is None  # noqa: E731
    project_until(settings, gone)
    assert all(redis_client.exists(k) == 0 for k in keys.customer_keys("ERASE-ME"))
    assert not redis_client.hexists(keys.rows, "ERASE-ME")
    assert b"ERASE-ME" not in everything_under(redis_client, keys)
    assert all(redis_client.zscore(z, "ERASE-ME") is None for z in (keys.reviews, *map(keys.by_tier, TIERS)))
    assert redis_client.zscore(keys.by_tier("high"), "KEEP") == 70.0
    assert redis_client.exists(keys.alerts("KEEP")) == 1

    # a rebuild reads the old alert again from the alerts topic: it must not come back
    RedisStore.from_settings(redis_client, settings).clear()
    project_until(
        settings,
        lambda: redis_client.zcard(keys.by_score) == 1 and redis_client.exists(keys.alerts("KEEP")) == 1,
    )
    assert all(redis_client.exists(k) == 0 for k in keys.customer_keys("ERASE-ME"))

    # later events start from a clean state: a new alert and risk of the customer show again
    produce_records(
        kafka_conf,
        [
            (topics["customer_risk"], "ERASE-ME", risk_json("ERASE-ME", "low", 10.0)),
            (topics["alerts"], "ERASE-ME", alert_json("ERASE-ME", "a2")),
        ],
        timestamp_ms=int(time.time() * 1000) + 1000,  # surely after the erasure's record time
    )
    project_until(
        settings,
        lambda: redis_client.exists(keys.alerts("ERASE-ME")) == 1 and redis_client.zcard(keys.by_score) == 2,
    )
    assert [m.decode() for m in redis_client.zrange(keys.alert_ids("ERASE-ME"), 0, -1)] == ["a2"]
    assert redis_client.zscore(keys.by_tier("low"), "ERASE-ME") == 10.0


def test_api_and_cli_return_what_redis_holds_and_the_api_needs_the_token(
    kafka_conf: dict[str, str], output_topics: Topics, redis_client: redis.Redis, prefix: str
) -> None:
    topics, keys = output_topics, Keys.for_prefix(prefix)
    records: list[tuple[str, str, bytes | None]] = [
        (topics["customer_risk"], "C-HIGH", risk_json("C-HIGH", "high", 88.0, "2026-02-01")),
        (topics["customer_risk"], "C-HIGH2", risk_json("C-HIGH2", "high", 71.0, "2026-05-01")),
        (topics["customer_risk"], "C-LOW", risk_json("C-LOW", "low", 12.0, "2027-01-01")),
    ]
    records += [
        (topics["alerts"], "C-HIGH", alert_json("C-HIGH", f"a{i}", f"2026-01-0{i}T00:00:00+00:00"))
        for i in range(1, 7)
    ]
    produce_records(kafka_conf, records)
    settings = rm_settings(topics, prefix).model_copy(
        update={"serve": load_settings(serve={"api_token": "t0ken"}).serve}
    )
    project_until(
        settings,
        lambda: (
            redis_client.zcard(keys.alert_ids("C-HIGH")) == ALERTS_KEPT
            and redis_client.zcard(keys.by_score) == 3
        ),
    )

    auth = {"Authorization": "Bearer t0ken"}
    with TestClient(create_app(settings)) as api:
        assert api.get("/api/customers/C-HIGH").status_code == 401
        doc = api.get("/api/customers/C-HIGH", headers=auth).json()
        assert doc["tier"] == "high"
        assert doc["score"] == 88.0
        assert doc["factors"] == {"credit_record": 88.0}
        assert doc["next_review_due"] == "2026-02-01"
        assert [a["alert_id"] for a in doc["alerts"]] == ["a6", "a5", "a4", "a3"]  # newest N, newest first
        held = json.loads(redis_client.hget(keys.alerts("C-HIGH"), "a6") or b"{}")
        assert {k: v for k, v in doc["alerts"][0].items() if k != "disposition"} == held
        CustomerView.model_validate(doc)  # the OpenAPI document describes what is served
        assert api.get("/api/customers/NOBODY", headers=auth).status_code == 404
        high = api.get("/api/customers?tier=high&top=50", headers=auth).json()
        assert [(r["customer_id"], r["score"]) for r in high] == [("C-HIGH", 88.0), ("C-HIGH2", 71.0)]
        assert all(CustomerRow.model_validate(r) for r in high)
        due = api.get("/api/reviews/due?before=2026-06-01", headers=auth).json()
        assert [(r["customer_id"], r["next_review_due"]) for r in due] == [
            ("C-HIGH", "2026-02-01"),
            ("C-HIGH2", "2026-05-01"),
        ]

    env = {**os.environ, **topics.env(), "RISKWATCH_REDIS__KEY_PREFIX": prefix}
    shown = subprocess.run(
        [sys.executable, "-m", "streams.cli", "customer", "show", "C-HIGH", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(shown.stdout) == doc
    listed = subprocess.run(
        [sys.executable, "-m", "streams.cli", "customers", "--tier", "high", "--top", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert listed.stdout.splitlines()[1].split()[:3] == ["C-HIGH", "high", "88.0"]
    unreachable = subprocess.run(
        [sys.executable, "-m", "streams.cli", "reviews", "due", "--before", "2026-06-01"],
        env={**env, "RISKWATCH_REDIS__URL": "redis://127.0.0.1:1/0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unreachable.returncode == 3
    assert unreachable.stderr.count("\n") == 1
    assert "Redis at redis://127.0.0.1:1/0 is unreachable" in unreachable.stderr


@pytest.mark.slow
def test_forget_through_the_worker_leaves_no_trace_in_redis(
    kafka_conf: dict[str, str],
    output_topics: Topics,
    workers: Callable[..., Any],
    group_id: str,
    redis_client: redis.Redis,
    prefix: str,
    tmp_path: Path,
) -> None:
    topics, keys = output_topics, Keys.for_prefix(prefix)
    when = "2026-01-05T09:00:00+08:00"
    profiles = [
        json.dumps(
            {
                "type": "customer_profile",
                "event_id": f"p-{cid}",
                "customer_id": cid,
                "timestamp": when,
                "segment": "individual",
                "industry": "gambling",
                "credit_score": 420,
                "overdue_count_12m": 4,
            }
        ).encode()
        for cid in ("forget-me", "keep-me")
    ]
    produce(kafka_conf, topics, profiles)
    worker = workers("w-rm-forget", RISKWATCH_WORKER__PUNCTUATE_INTERVAL_MS="0")
    projector = ProjectorProcess(topics, prefix, tmp_path, batch=50)
    try:
        wait_for(
            lambda: redis_client.zcard(keys.by_score) == 2, WAIT_SECONDS, "both customers", worker, projector
        )
        env = {**os.environ, **topics.env()}
        subprocess.run(
            [sys.executable, "-m", "streams.cli", "forget", "forget-me", "--reason", "PIPL art. 47 request"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        wait_for(
            lambda: redis_client.zscore(keys.by_score, "forget-me") is None,
            WAIT_SECONDS,
            "the erasure in Redis",
            worker,
            projector,
        )
        assert redis_client.zscore(keys.by_score, "keep-me") is not None
        assert b"keep-me" in everything_under(redis_client, keys)  # the check below can see a customer
        assert b"forget-me" not in everything_under(redis_client, keys), "a trace of the erased customer"
    finally:
        projector.close()


def test_serve_runs_several_processes_on_one_port_and_stops_on_sigterm(
    output_topics: Topics, redis_client: redis.Redis, prefix: str
) -> None:
    keys = Keys.for_prefix(prefix)
    redis_client.hset(keys.rows, "C-1", b'{"customer_id": "C-1", "tier": "high", "score": 90.0}')
    redis_client.zadd(keys.by_score, {"C-1": 90.0})
    env = {**os.environ, "RISKWATCH_REDIS__KEY_PREFIX": prefix, "RISKWATCH_SERVE__API_TOKEN": "t0ken"}
    server = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "serve", "--port", "0", "--workers", "2"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        match = re.search(r"http://127.0.0.1:(\d+)/api/", first)
        assert match, first
        url = f"http://127.0.0.1:{match.group(1)}/api/customers?top=5"
        request = urllib.request.Request(url, headers={"Authorization": "Bearer t0ken"})

        def answers() -> bool:
            try:
                with urllib.request.urlopen(request, timeout=2) as r:  # noqa: S310 - our local server
                    return bool(
                        json.loads(r.read()) == [{"customer_id": "C-1", "tier": "high", "score": 90.0}]
                    )
            except OSError:
                return False

        deadline = time.monotonic() + 30
        while not answers():
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "riskwatch serve did not answer"
            time.sleep(0.1)
        assert all(answers() for _ in range(20))
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) == 2, "two server processes"
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)
        if server.stderr is not None:
            server.stderr.close()


def test_store_trims_alerts_with_their_dispositions_and_refuses_a_second_writer(
    redis_client: redis.Redis, prefix: str
) -> None:
    """Against Redis alone (records built here): the newest N alerts stay, a trimmed alert takes its
    disposition along, and a writer whose offsets are not Redis's is refused before it writes anything."""
    from readmodel.records import Record
    from readmodel.store import OffsetConflict

    keys = Keys.for_prefix(prefix)
    settings = load_settings(redis={"key_prefix": prefix}, readmodel={"alerts_per_customer": 2})
    store = RedisStore.from_settings(redis_client, settings)
    disposition = json.dumps(
        {
            "alert_id": "a1",
            "customer_id": "C1",
            "detector": "structuring",
            "officer_id": "off-1",
            "disposition": "false_positive",
            "decided_at": "2026-01-09T00:00:00+00:00",
        }
    ).encode()
    first = [
        Record("alerts", "t-alerts", 0, 0, 1, b"C1", alert_json("C1", "a1", "2026-01-01T00:00:00+00:00")),
        Record("alert_dispositions", "t-disp", 0, 0, 1, b"C1", disposition),
        Record("alerts", "t-alerts", 0, 1, 1, b"C1", alert_json("C1", "a2", "2026-01-02T00:00:00+00:00")),
    ]
    store.apply(first, {("t-alerts", 0): None, ("t-disp", 0): None})
    assert redis_client.hget(keys.dispositions("C1"), "a1") == disposition
    newer = [
        Record("alerts", "t-alerts", 0, 2, 1, b"C1", alert_json("C1", "a3", "2026-01-03T00:00:00+00:00"))
    ]
    store.apply(newer, {("t-alerts", 0): 2})
    assert [m.decode() for m in redis_client.zrange(keys.alert_ids("C1"), 0, -1)] == ["a2", "a3"]
    assert sorted(redis_client.hkeys(keys.alerts("C1"))) == [b"a2", b"a3"]
    assert redis_client.exists(keys.dispositions("C1")) == 0, "the trimmed alert's disposition stayed"

    stale = [
        Record("alerts", "t-alerts", 0, 1, 1, b"C1", alert_json("C1", "a9", "2026-02-01T00:00:00+00:00"))
    ]
    with pytest.raises(OffsetConflict, match=r"t-alerts\[0\] in Redis is b'3', expected 1"):
        store.apply(stale, {("t-alerts", 0): 1})
    assert redis_client.zscore(keys.alert_ids("C1"), "a9") is None
    assert redis_client.hget(keys.offsets, "t-alerts|0") == b"3"
