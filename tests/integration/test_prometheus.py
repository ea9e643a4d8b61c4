"""A real Prometheus (Debian's ``prometheus`` package) with the shipped scrape configuration and rules,
against a live worker: it scrapes riskwatch's metrics (zero series included) and evaluates the rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Producer
from kafka_harness import WorkerProcess, all_topics, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


class Prometheus:
    def __init__(self, workdir: Path, worker_port: int) -> None:
        """The shipped deploy/prometheus.yml and rules, laid out as in the repository, with the local
        worker target pointing at the test's worker and faster intervals (the only change)."""
        config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
        config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        (workdir / "prometheus" / "targets").mkdir(parents=True)
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        shutil.copy(DEPLOY / "prometheus" / "rules.yml", workdir / "prometheus" / "rules.yml")
        (workdir / "prometheus" / "targets" / "worker-local.yml").write_text(
            yaml.safe_dump([{"targets": [f"127.0.0.1:{worker_port}"]}])
        )
        self.port = free_port()
        self.log_path = workdir / "prometheus.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def api(self, path: str, **params: str) -> Any:
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log_path.read_text()[-3000:]}")
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = json.loads(r.read())
        except OSError:
            return None
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        return [] if data is None else list(data["result"])

    def rule_state(self, name: str) -> str | None:
        data = self.api("rules")
        for group in (data or {}).get("groups", []):
            for rule in group["rules"]:
                if rule.get("name") == name:
                    return str(rule.get("state"))
        return None

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def test_prometheus_scrapes_a_live_worker_and_evaluates_the_rules(
    topic_factory: Callable[..., str], group_id: str, kafka_conf: dict[str, str], tmp_path: Path
) -> None:
    if not Path(PROMETHEUS).exists():
        pytest.fail("prometheus not found: install Debian's prometheus package (.ci/run does)", pytrace=False)
    topics = all_topics(topic_factory)
    worker = WorkerProcess("prom", group_id, topics, tmp_path, {})
    prom: Prometheus | None = None
    try:
        worker.wait_ready()
        prom = Prometheus(tmp_path / "prom", worker.metrics_port)
        # a zero series exported at start-up is scraped as 0 (not absent): increase() will see the first one
        zero = 'riskwatch_alerts_total{job="riskwatch-worker", detector="structuring", severity="critical"}'
        wait_for(lambda: bool(prom.query(zero)), 60, f"{zero} in Prometheus")
        assert prom.query(zero)[0]["value"][1] == "0"
        assert prom.query('up{job="riskwatch-worker"}')[0]["value"][1] == "1"
        # the worker is up but consumes nothing: RiskwatchNoInput becomes pending, RiskwatchWorkerDown does not
        wait_for(lambda: prom.rule_state("RiskwatchNoInput") == "pending", 60, "RiskwatchNoInput pending")
        assert prom.rule_state("RiskwatchWorkerDown") == "inactive"

        # traffic moves the counter, and the rule goes back to inactive
        topic = topics["transactions"]
        producer = Producer({**kafka_conf, "partitioner": "murmur2_random"})
        for i in range(5):
            producer.produce(topic, key=b"C1", value=b'{"type": "transaction", "broken": %d}' % i)
        assert producer.flush(30) == 0
        consumed = 'sum(riskwatch_events_consumed_total{job="riskwatch-worker"})'
        wait_for(lambda: _value(prom.query(consumed)) == 5, 60, "5 events consumed in Prometheus")
        dead = 'sum(riskwatch_dead_letters_total{job="riskwatch-worker"})'
        assert _value(prom.query(dead)) == 5
        wait_for(lambda: prom.rule_state("RiskwatchNoInput") == "inactive", 60, "RiskwatchNoInput inactive")
    finally:
        if prom is not None:
            prom.close()
        worker.close()


def _value(result: list[dict[str, Any]]) -> float | None:
    return float(result[0]["value"][1]) if result else None
