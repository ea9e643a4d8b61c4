"""A partition's new owner restores its state only once the previous owner's last transaction on the
changelog has settled.

The previous owner commits its last transaction as it gives the partition up, and the commit markers reach
the changelog a moment later. A read_committed consumer stops at the last stable offset, before records
whose transaction is not yet marked, so a restore that stopped at the first end it saw could miss the last
batch's state while the input offsets committed with it move on: an alert lost on a rebalance. The restore
reads up to the high watermark taken before it started instead, and that end passes only once the
transaction is committed (its records restored) or aborted (skipped).
"""

from __future__ import annotations

import threading
import uuid

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from config.settings import load_settings
from detectors.engine import RiskEngine
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.recovery import Recovery, end_reader_config, restorer_config
from streams.worker.state_store import PartitionState

pytestmark = pytest.mark.integration

# the old restore returned within one 50 ms poll of reaching the stable end; this is forty times that
STILL_RESTORING_CHECK_SECONDS = 2.0
SETTLED_TIMEOUT_SECONDS = 30.0


@pytest.mark.parametrize("outcome", ["commit", "abort"])
def test_restore_waits_for_the_previous_owners_open_transaction(kafka_conf, topic_factory, outcome) -> None:
    changelog = topic_factory(1, prefix="rw-changelog")
    engine = RiskEngine(load_settings().detection)
    previous_owner = Producer({**kafka_conf, "transactional.id": f"rw-test-{uuid.uuid4().hex[:12]}"})
    previous_owner.init_transactions(10)
    previous_owner.begin_transaction()
    previous_owner.produce(changelog, key=b"C1", value=b"the last batch's state", partition=0)
    previous_owner.flush(10)  # written to the partition, its transaction still open

    group = f"rw-test-{uuid.uuid4().hex[:12]}"
    restorer = Consumer(restorer_config(kafka_conf, group, "new-owner"))
    end_reader = AdminClient(end_reader_config(kafka_conf, "new-owner"))
    recovery = Recovery(
        restorer, changelog, lambda: PartitionState(engine), WorkerMetrics.create(), Health(), end_reader
    )
    restored: dict[int, PartitionState] = {}
    restoring = threading.Thread(target=lambda: restored.update(recovery.restore([0])))
    try:
        restoring.start()
        restoring.join(STILL_RESTORING_CHECK_SECONDS)
        assert restoring.is_alive(), "the restore ended before the previous owner's transaction settled"

        if outcome == "commit":
            previous_owner.commit_transaction(10)
        else:
            previous_owner.abort_transaction(10)
        restoring.join(SETTLED_TIMEOUT_SECONDS)
        assert not restoring.is_alive(), "the restore did not end once the transaction settled"
    finally:
        restoring.join(SETTLED_TIMEOUT_SECONDS)
        restorer.close()

    expected = {"C1": b"the last batch's state"} if outcome == "commit" else {}
    assert restored[0].raw == expected
