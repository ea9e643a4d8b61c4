"""Helpers for the operator-facing integration tests (send/tail, Prometheus, the workbench): a fresh topic
for every topic the settings name, a ``riskwatch worker`` child process, and waiting on conditions."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from config.settings import Settings, TopicSettings

PARTITIONS = 6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_topics(topic_factory: Callable[..., str]) -> dict[str, str]:
    """settings.topics attribute -> a new topic, for every topic riskwatch reads or writes."""
    roles = [r for r in TopicSettings.model_fields if r not in ("partitions", "replication_factor")]
    compacted = {"cleanup.policy": "compact"}
    return {
        role: topic_factory(
            PARTITIONS, compacted if role in TopicSettings.COMPACTED else None, prefix=f"rw-{role[:8]}"
        )
        for role in roles
    }


def topics_env(topics: dict[str, str]) -> dict[str, str]:
    return {f"RISKWATCH_TOPICS__{role.upper()}": name for role, name in topics.items()}


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


class Worker:
    """``riskwatch worker`` on the given environment, with its metrics on a free port."""

    def __init__(self, env: dict[str, str], log_dir: Path, instance_id: str = "ops-test") -> None:
        self.metrics_port = free_port()
        self.log_path = log_dir / f"worker-{instance_id}-{uuid.uuid4().hex[:6]}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker", "--instance-id", instance_id],
            env={**env, "RISKWATCH_WORKER__METRICS_PORT": str(self.metrics_port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.metrics_port}{path}"

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as r:  # noqa: S310
                    return bool(r.status == 200)
            except OSError:
                return False

        wait_for(ready, timeout, "the worker to be ready")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def caught_up(conf: dict[str, str], group: str, topics: list[str]) -> bool:
    """The group committed offsets at every input partition's end."""
    probe = Consumer({**conf, "group.id": group, "enable.auto.commit": False})
    try:
        tps = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        committed = probe.committed(tps, timeout=10)
        for tp in committed:
            _, high = probe.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=10)
            if high > 0 and tp.offset < high:
                return False
        return True
    finally:
        probe.close()


def cli_env(settings: Settings, topics: dict[str, str], group: str) -> dict[str, str]:
    return {**os.environ, **topics_env(topics), "RISKWATCH_KAFKA__CONSUMER_GROUP": group, "NO_COLOR": "1"}
