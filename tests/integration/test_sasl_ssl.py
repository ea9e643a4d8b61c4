"""The secured client path end to end: ``riskwatch stack up`` with its opt-in SASL_SSL listener (a CA it
generates, a SCRAM user it creates), a worker connecting with SCRAM-SHA-512 over TLS gives replay's
alerts, and a wrong password stops it with an authentication failure instead of hanging."""

from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient
from kafka_harness import (
    WAIT_SECONDS,
    PrivateStack,
    WorkerProcess,
    committed_everything,
    contract_topics,
    produce,
    read_all,
    replay_lines,
    scenario,
    strip,
    topic_factory_on,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AUTH_FAILURE_SECONDS = 60.0


def test_worker_through_sasl_ssl_scram_gives_replays_alerts(
    private_stack: PrivateStack, group_id: str, tmp_path
) -> None:
    profiles, rest = scenario(customers=20, days=20, seed=4)
    expected, _ = replay_lines(profiles + rest, tmp_path)
    assert expected, "the scenario should raise alerts"
    conf = private_stack.sasl_conf()
    with topic_factory_on(AdminClient(dict(conf))) as factory:
        topics = contract_topics(factory)
        produce(conf, topics, profiles + rest)
        w = WorkerProcess("sasl", group_id, topics, tmp_path, private_stack.sasl_env())
        try:
            wait_for(committed_everything(conf, group_id, topics), WAIT_SECONDS, "all input committed", w)
            alerts = read_all(conf, topics["alerts"])
        finally:
            w.close()
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids))
    assert strip(alerts) == expected


def test_wrong_password_is_an_authentication_failure(
    private_stack: PrivateStack, group_id: str, tmp_path
) -> None:
    with topic_factory_on(AdminClient(dict(private_stack.conf))) as factory:
        topics = contract_topics(factory)
        w = WorkerProcess("sasl-bad", group_id, topics, tmp_path, private_stack.sasl_env("not-the-password"))
        try:
            w.proc.wait(AUTH_FAILURE_SECONDS)
        finally:
            w.close()
    log = w.log_path.read_text(errors="replace")
    assert w.proc.returncode != 0, log[-2000:]
    assert "Authentication failed" in log or "authentication" in log.lower(), log[-2000:]
