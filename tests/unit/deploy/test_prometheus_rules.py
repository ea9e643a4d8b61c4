"""The shipped Prometheus configuration and alerting rules: valid, unit-tested by promtool, and querying only
metrics riskwatch exports. promtool comes with Debian's ``prometheus`` package, which .ci/run installs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from streams.worker.metrics import WorkerMetrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool") or "/usr/bin/promtool"
    if not Path(path).exists():
        pytest.fail("promtool not found: install Debian's prometheus package (.ci/run does)", pytrace=False)
    return path


def test_promtool_unit_tests_of_the_rules_pass(promtool: str) -> None:
    proc = subprocess.run(
        [promtool, "test", "rules", "rules.test.yml"],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_the_scrape_config_and_its_rule_file_are_valid(promtool: str) -> None:
    proc = subprocess.run(
        [promtool, "check", "config", "prometheus.yml"],
        cwd=DEPLOY,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 rule files found" in proc.stdout


def test_every_rule_of_an_alert_named_in_the_issue_is_tested() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text())
    tests = yaml.safe_load((DEPLOY / "prometheus" / "rules.test.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    fired = {a["alertname"] for t in tests["tests"] for a in t["alert_rule_test"] if a["exp_alerts"]}
    assert alerts == fired
    assert {
        "RiskwatchWorkerDown",
        "RiskwatchNoInput",
        "RiskwatchConsumerLagGrowing",
        "RiskwatchDeadLetterRate",
        "RiskwatchLatencyHigh",
        "RiskwatchTransactionsAborted",
        "RiskwatchOpenAlertsAgeing",
    } <= alerts


def test_worker_rules_query_only_exported_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text())
    metrics = WorkerMetrics.create(input_topics=("t",))
    # the labelled gauges: set per assigned partition; the state's memory after the first batch
    metrics.consumer_lag.labels("t", "0").set(0)
    metrics.state_memory.labels("records").set(0)
    exported = set(re.findall(r"^(riskwatch_[a-z_]+)", generate_latest(metrics.registry).decode(), re.M))
    worker_rules = next(g for g in rules["groups"] if g["name"] == "riskwatch-worker")["rules"]
    queried = {m for r in worker_rules for m in re.findall(r"riskwatch_[a-z_]+", r["expr"])}
    assert queried
    assert queried <= exported, sorted(queried - exported)
