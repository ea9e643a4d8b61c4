"""The pieces behind one-line faults: Kafka error classification, the log rate limit, instance-id slots,
the local-broker test of the hash-key check."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, KafkaException

from streams.errors import (
    EXIT_AUTH,
    EXIT_FENCED,
    EXIT_TOPICS,
    EXIT_UNREACHABLE,
    from_kafka_error,
    kafka_error_of,
)
from streams.logging_setup import KAFKA_LOGGER, RateLimitFilter
from streams.worker.command import brokers_are_local
from streams.worker.instance import acquire_instance_id


@pytest.mark.parametrize(
    ("code", "exit_code", "words"),
    [
        (KafkaError._TRANSPORT, EXIT_UNREACHABLE, "cannot reach Kafka at b:9092"),
        (KafkaError._AUTHENTICATION, EXIT_AUTH, "authentication failed"),
        (KafkaError.SASL_AUTHENTICATION_FAILED, EXIT_AUTH, "authentication failed"),
        (KafkaError.TOPIC_AUTHORIZATION_FAILED, EXIT_AUTH, "denied a permission"),
        (KafkaError._FENCED, EXIT_FENCED, "fenced"),
        (KafkaError.PRODUCER_FENCED, EXIT_FENCED, "fenced"),
        (KafkaError.UNKNOWN_TOPIC_OR_PART, EXIT_TOPICS, "topic does not exist"),
    ],
)
def test_kafka_errors_become_named_faults(code: int, exit_code: int, words: str) -> None:
    err = kafka_error_of(KafkaException(KafkaError(code, "detail")))
    assert err is not None
    fault = from_kafka_error(err, "b:9092", "starting the worker")
    assert fault.exit_code == exit_code
    assert words in str(fault)
    assert " — " in str(fault)
    assert "\n" not in str(fault)


def test_kafka_error_of_other_exceptions_is_none() -> None:
    assert kafka_error_of(ValueError("x")) is None


def _record(name: str, level: int, msg: str, created: float) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, None, None)
    record.created = created
    return record


def test_rate_limit_lets_one_line_of_a_kind_through_per_interval_and_counts_the_rest() -> None:
    f = RateLimitFilter(interval_seconds=10.0)
    fail = "FAIL 127.0.0.1:{}/bootstrap: Connect failed (after {}ms in state CONNECT)"
    passed = [
        f.filter(_record(KAFKA_LOGGER, logging.ERROR, fail.format(1, i), 100.0 + i / 50)) for i in range(50)
    ]
    assert passed == [True] + [False] * 49  # 50 a second: one line, numbers do not make a new kind
    later = _record(KAFKA_LOGGER, logging.ERROR, fail.format(1, 0), 111.0)
    assert f.filter(later)
    assert "(49 similar lines left out)" in later.getMessage()
    assert f.filter(_record(KAFKA_LOGGER, logging.ERROR, "another kind", 111.0))


def test_rate_limit_leaves_riskwatch_info_lines_alone() -> None:
    f = RateLimitFilter(interval_seconds=10.0)
    assert all(f.filter(_record("riskwatch.worker", logging.INFO, "assigned 3", 100.0)) for _ in range(5))


def test_default_instance_ids_are_unique_per_process_and_stable_across_restarts(tmp_path: Path) -> None:
    first = acquire_instance_id("g", None, tmp_path)
    second = acquire_instance_id("g", None, tmp_path)
    assert first.instance_id != second.instance_id
    assert first.instance_id.endswith("-0")
    assert second.instance_id.endswith("-1")
    first.release()  # the first worker stops (or dies: the kernel drops its lock) and starts again
    again = acquire_instance_id("g", None, tmp_path)
    assert again.instance_id == first.instance_id
    other_group = acquire_instance_id("h", None, tmp_path)
    assert other_group.instance_id.endswith("-0")
    for lock in (second, again, other_group):
        lock.release()


def test_an_explicit_instance_id_is_locked_too(tmp_path: Path) -> None:
    from streams.errors import Refused

    held = acquire_instance_id("g", "w-1", tmp_path)
    with pytest.raises(Refused, match="already used by pid"):
        acquire_instance_id("g", "w-1", tmp_path)
    held.release()
    acquire_instance_id("g", "w-1", tmp_path).release()


@pytest.mark.parametrize(
    ("servers", "local"),
    [
        ("127.0.0.1:19092", True),
        ("localhost:9092,127.0.0.1:9093", True),
        ("[::1]:9092", True),
        ("kafka:9092", False),
        ("127.0.0.1:9092,broker2:9092", False),
        ("10.0.0.5:9092", False),
    ],
)
def test_which_brokers_count_as_local(servers: str, local: bool) -> None:
    assert brokers_are_local(servers) is local


def test_compose_does_not_run_with_the_public_hash_key() -> None:
    from config.detection import PUBLIC_DEVELOPMENT_HASH_KEY

    text = (Path(__file__).parents[3] / "docker-compose.yml").read_text()
    assert "RISKWATCH_DETECTION__CONTACT_HASH_KEY: ${RISKWATCH_DETECTION__CONTACT_HASH_KEY:?" in text
    assert PUBLIC_DEVELOPMENT_HASH_KEY not in text


def test_broker_wait_backs_off_logs_and_gives_up_with_the_cause(caplog: pytest.LogCaptureFixture) -> None:
    from streams.broker import wait_for_broker
    from streams.errors import Unreachable

    slept: list[float] = []
    with pytest.raises(Unreachable, match=r"cannot reach Kafka at 127\.0\.0\.1:1 while testing") as info:
        wait_for_broker(
            {"bootstrap.servers": "127.0.0.1:1"}, wait_seconds=0.1, doing="testing", sleep=slept.append
        )
    assert "Connection refused" in str(info.value)
    assert slept == []  # the first probe outlasted the wait: no retry
    with caplog.at_level(logging.WARNING, logger="riskwatch.kafka.wait"), pytest.raises(Unreachable):
        wait_for_broker(
            {"bootstrap.servers": "127.0.0.1:1"}, wait_seconds=4.5, doing="testing", sleep=slept.append
        )
    assert slept[:1] == [0.5]  # then doubling, bounded by what is left of the wait
    assert all(b <= 2 * a for a, b in itertools.pairwise(slept))
    assert len([r for r in caplog.records if "does not answer" in r.getMessage()]) == len(slept)


def test_unknown_variables_are_found_and_known_ones_in_any_case_are_not() -> None:
    from config.problems import unknown_env_variables
    from config.settings import Settings

    environ = {
        "RISKWATCH_KAFKA_BOOTSTRAP_SERVERS": "x",
        "RISKWATCH_KAFKA__BOOTSTRAP_SERVERS": "x",
        "riskwatch_worker__log_level": "DEBUG",
        "RISKWATCH_DETECTION__FX_RATES_TO_BASE__USD": "7.2",
        "RISKWATCH_CONFIG": "f.toml",
        "RISKWATCH_TOPICS": "{}",
        "PATH": "/bin",
    }
    assert unknown_env_variables(Settings, environ) == ["RISKWATCH_KAFKA_BOOTSTRAP_SERVERS"]


def test_redis_faults_become_one_line() -> None:
    import redis

    from streams.cli import _foreign_fault
    from streams.errors import EXIT_AUTH, EXIT_UNREACHABLE

    down = _foreign_fault(redis.ConnectionError("Error 111 connecting"), "project")
    assert down is not None
    assert down.exit_code == EXIT_UNREACHABLE
    assert "RISKWATCH_REDIS__URL" in str(down)
    refused = _foreign_fault(redis.AuthenticationError("invalid password"), "serve")
    assert refused is not None
    assert refused.exit_code == EXIT_AUTH
    assert _foreign_fault(ValueError("a bug"), "serve") is None


def test_the_faust_restriction_rests_on_the_pinned_client() -> None:
    """The faust runtime's restriction (README, "Choosing the runtime") is argued from aiokafka 0.14.0's
    protocol versions, and its workarounds patch faust-streaming 0.15.3: an upgrade must revisit both."""
    from importlib.metadata import version

    from aiokafka.protocol import commit, transaction

    assert version("faust-streaming") == "0.15.3"
    assert version("aiokafka") == "0.14.0"
    fetch_versions = [getattr(commit, f"OffsetFetchRequest_v{v}", None) is not None for v in range(8)]
    assert fetch_versions.index(False) == 4, "OffsetFetch v7 (KIP-447 require_stable) would lift a cause"
    assert not hasattr(transaction, "TxnOffsetCommitRequest_v3"), "a generation-fenced TxnOffsetCommit"
