"""Transactional calls while the broker is away (issue #9, broker SIGKILL and restart): a retriable error
is retried (librdkafka: "retry call to resume"), an abortable one goes to the abort-and-rewind path, and a
call that hangs past its own timeout (librdkafka #5456) ends the process with one line. No broker: the
errors are built as librdkafka raises them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException
from pydantic import ValidationError

from config.settings import load_settings
from streams.worker.checkpoint import TRANSACTION_TIMEOUT_SECONDS, WATCHDOG_MARGIN_SECONDS, retrying
from streams.worker.txn_watchdog import TxnWatchdog


@pytest.fixture
def watchdog() -> TxnWatchdog:
    return TxnWatchdog(TRANSACTION_TIMEOUT_SECONDS + WATCHDOG_MARGIN_SECONDS)


def _failing(errors: list[KafkaError]) -> tuple[list[int], Callable[[], None]]:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        if len(calls) <= len(errors):
            raise KafkaException(errors[len(calls) - 1])

    return calls, call


def test_a_timed_out_commit_is_called_again_not_given_up(watchdog: TxnWatchdog) -> None:
    timed_out = KafkaError(KafkaError._TIMED_OUT, "retry call to resume", retriable=True)
    calls, call = _failing([timed_out, timed_out])
    retrying(watchdog, "committing the transaction", call)
    assert len(calls) == 3


def test_an_abortable_error_is_not_retried(watchdog: TxnWatchdog) -> None:
    abortable = KafkaError(KafkaError._TIMED_OUT, "abort", retriable=True, txn_requires_abort=True)
    calls, call = _failing([abortable])
    with pytest.raises(KafkaException):
        retrying(watchdog, "committing the transaction", call)
    assert len(calls) == 1


def test_a_fatal_error_is_not_retried(watchdog: TxnWatchdog) -> None:
    fatal = KafkaError(KafkaError._FENCED, "fenced", fatal=True, retriable=True)
    calls, call = _failing([fatal])
    with pytest.raises(KafkaException):
        retrying(watchdog, "committing the transaction", call)
    assert len(calls) == 1


def test_a_call_hanging_past_its_bound_ends_the_process() -> None:
    now = [0.0]
    lines: list[str] = []
    watchdog = TxnWatchdog(45.0, exit_process=lines.append, clock=lambda: now[0])
    watchdog._thread = object()  # type: ignore[assignment]  # checked by hand below, no watcher thread

    def hangs() -> None:
        now[0] = 44.0
        assert not watchdog.check(), "within its bound"
        now[0] = 46.0
        assert watchdog.check()

    watchdog.guard("sending the offsets to the transaction", hangs)
    assert len(lines) == 1
    assert "sending the offsets to the transaction" in lines[0]
    assert not watchdog.check(), "no call in progress: nothing to bound"


def test_the_calls_wait_the_configured_timeout_and_the_watchdog_the_margin_more() -> None:
    """``worker.transaction_call_timeout_seconds`` bounds each call; the watchdog stays that plus the margin."""
    from streams.worker.checkpoint import Checkpoint

    waits: list[float] = []

    class Producer:
        def send_offsets_to_transaction(self, offsets: object, metadata: object, timeout: float) -> None:
            waits.append(timeout)

        def commit_transaction(self, timeout: float) -> None:
            waits.append(timeout)

    class Consumer:
        def consumer_group_metadata(self) -> None:
            return None

    checkpoint = Checkpoint(Producer(), Consumer(), TxnWatchdog(25.0), 10.0)  # type: ignore[arg-type]
    checkpoint.consumed("transactions", 0, 41)
    checkpoint.commit()
    assert waits == [10.0, 10.0]
    assert load_settings().worker.transaction_call_timeout_seconds == TRANSACTION_TIMEOUT_SECONDS
    with pytest.raises(ValidationError):  # never longer than the broker keeps the transaction open
        load_settings(worker={"transaction_call_timeout_seconds": TRANSACTION_TIMEOUT_SECONDS + 1})
