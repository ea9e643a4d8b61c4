"""The officers' workbench in a real headless Chromium (Debian's ``chromium``, driven by selenium through
``chromedriver``) against a real worker and ``riskwatch serve``: a produced event's alert appears on the open
inbox within 2 s, a disposition round-trips through the ``alert-dispositions`` topic, and the pages are
read-only without a login. Screenshots are kept under tmp/artefacts/workbench/ in the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka_harness import PARTITIONS, Topics, WorkerProcess, all_topics, free_port, wait_for

from server.workbench.auth import hash_password

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "tmp" / "artefacts" / "workbench"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
)
OFFICER, PASSWORD = "officer1", "correct horse battery staple"


class Serve:
    """``riskwatch serve`` on a free port with one configured officer."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.log_path = log_dir / "serve.log"
        self._log = self.log_path.open("wb")
        users = json.dumps({OFFICER: hash_password(PASSWORD, iterations=1000)})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "serve", "--port", str(self.port)],
            env={**env, "RISKWATCH_WORKBENCH__USERS": users},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=5) as r:  # noqa: S310 - local test server
            return str(r.read().decode())

    def wait_ready(self) -> None:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.log_path.read_text()[-3000:]}")
            try:
                return "open alerts" in self.get("/")
            except OSError:
                return False

        wait_for(up, 60, "riskwatch serve to answer")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium/chromedriver missing: apt-get install chromium chromium-driver (.ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def cash_credit(customer: str, amount: str = "60000.00") -> bytes:
    """One event that raises a large_value alert on its own (cash >= 50,000 CNY)."""
    return json.dumps(
        {
            "type": "transaction",
            "event_id": f"wb-{uuid.uuid4().hex}",
            "customer_id": customer,
            "timestamp": "2025-03-03T10:00:00+08:00",
            "account_id": f"A-{customer}",
            "amount": amount,
            "currency": "CNY",
            "direction": "credit",
            "channel": "cash",
        }
    ).encode()


def _rows(driver: Any, selector: str, expression: str) -> list[str]:
    """``expression`` of every row matching ``selector`` in the current document (``r`` is the row)."""
    script = f"return Array.from(document.querySelectorAll(arguments[0]), r => {expression});"
    return list(driver.execute_script(script, selector))


def shot(driver: Any, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_live_alert_disposition_round_trip_and_read_only_without_login(
    topic_factory: Callable[..., str],
    group_id: str,
    kafka_conf: dict[str, str],
    tmp_path: Path,
    browser: Any,
) -> None:
    from selenium.webdriver.common.by import By

    topics: Topics = all_topics(topic_factory)
    env = {**os.environ, **topics.env(), "RISKWATCH_KAFKA__CONSUMER_GROUP": group_id}
    worker = WorkerProcess("workbench", group_id, topics, tmp_path, {})
    serve = Serve(env, tmp_path)
    try:
        worker.wait_ready()
        serve.wait_ready()
        browser.get(serve.url + "/")
        wait_for(lambda: browser.execute_script("return document.body.dataset.live") == "1", 15, "SSE open")
        # read-only without a login: no disposition forms, and a POST is refused
        assert not browser.find_elements(By.CSS_SELECTOR, "form.dispose")
        forbidden = urllib.request.Request(serve.url + "/alerts/x/disposition", data=b"disposition=confirmed")  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forbidden, timeout=5)  # noqa: S310
        assert refused.value.code == 403
        refused.value.close()

        producer = Producer({**kafka_conf, "partitioner": "murmur2_random"})
        customer = f"WB{uuid.uuid4().hex[:6]}"
        produced_at_ms = time.time() * 1000
        producer.produce(topics["transactions"], key=customer.encode(), value=cash_credit(customer))
        assert producer.flush(10) == 0
        selector = f'article[data-customer="{customer}"]'
        wait_for(lambda: bool(browser.find_elements(By.CSS_SELECTOR, selector)), 10, "the alert on the page")
        alert_id = browser.find_element(By.CSS_SELECTOR, selector).get_attribute("data-alert-id")
        seen_ms = browser.execute_script("return window.rwSeen[arguments[0]]", alert_id)
        latency = (seen_ms - produced_at_ms) / 1000
        shot(browser, "01-inbox-live-alert")
        assert latency < 2.0, f"produced event -> alert on the page took {latency:.2f}s"
        row = browser.find_element(By.CSS_SELECTOR, selector)
        assert "large_value" in row.text
        assert "Cash credit of 60000.00" in row.text
        assert row.get_attribute("data-status") == "open"

        # log in, then judge the alert: it goes to alert-dispositions and shows at once
        browser.get(serve.url + "/login")
        browser.find_element(By.ID, "officer-id").send_keys(OFFICER)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "login-submit").click()
        wait_for(lambda: bool(browser.find_elements(By.ID, "officer")), 10, "logged in")
        row = browser.find_element(By.CSS_SELECTOR, selector)
        row.find_element(By.NAME, "note").send_keys("salary paid in cash, known employer")
        row.find_element(By.CSS_SELECTOR, 'button[value="false_positive"]').click()
        # read in the page, in one call: the submit reloads the inbox and the live feed re-renders rows, so
        # an element handle taken a moment before may belong to a document that is gone
        wait_for(
            lambda: "false_positive" in _rows(browser, selector, "r.dataset.status"),
            10,
            "the disposition shown in the inbox",
        )
        shot(browser, "02-inbox-disposition")
        assert any(f"false positive by {OFFICER}" in text for text in _rows(browser, selector, "r.innerText"))

        disposition = _read_disposition(kafka_conf, topics["alert_dispositions"], alert_id)
        assert disposition["officer_id"] == OFFICER
        assert disposition["disposition"] == "false_positive"
        assert disposition["customer_id"] == customer
        assert disposition["note"] == "salary paid in cash, known employer"

        browser.get(serve.url + f"/customers/{customer}")
        assert "tier history" in browser.page_source
        assert alert_id in browser.page_source
        shot(browser, "03-customer")
        metrics = serve.get("/metrics")
        assert (
            f'riskwatch_workbench_dispositions_total{{disposition="false_positive",officer="{OFFICER}"}} 1.0'
            in metrics
        )
        assert 'riskwatch_workbench_detector_precision{detector="large_value"} 0.0' in metrics
    finally:
        serve.close()
        worker.close()


def _read_disposition(conf: dict[str, str], topic: str, alert_id: str) -> dict[str, Any]:
    consumer = Consumer(
        {**conf, "group.id": f"wb-check-{uuid.uuid4().hex[:6]}", "isolation.level": "read_committed"}
    )
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for msg in consumer.consume(100, 0.5):
                if msg.error() is None and json.loads(msg.value()).get("alert_id") == alert_id:
                    return dict(json.loads(msg.value()))
        raise AssertionError(f"no disposition of {alert_id} on {topic}")
    finally:
        consumer.close()
