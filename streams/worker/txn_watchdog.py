"""A bound on librdkafka's transactional calls, which can block past their own timeout.

``send_offsets_to_transaction`` waits for the group coordinator without checking its timeout when that
coordinator went away (librdkafka issues #5456 and #5511, open in 2.16): after a broker SIGKILL and restart
the worker's only thread stayed inside it for minutes, committing nothing and logging nothing (librdkafka's
log reaches riskwatch's through that same thread). A blocked C call cannot be cancelled, so the process
ends with one line and the exit code of an unreachable broker; its supervisor restarts it, and the restarted
worker's ``init_transactions`` aborts the transaction left open, so nothing is lost or duplicated.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from streams.errors import EXIT_UNREACHABLE


class TxnWatchdog:
    """``guard(doing, call)`` runs ``call`` on the caller's thread; a daemon thread ends the process if it
    has not returned after ``limit_seconds``. Cheap per call: two attribute writes, no thread per call."""

    def __init__(
        self,
        limit_seconds: float,
        exit_process: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit_seconds = limit_seconds
        self.clock = clock
        self._exit = exit_process or _exit_unreachable
        self._doing: str | None = None
        self._since = 0.0
        self._thread: threading.Thread | None = None

    def guard(self, doing: str, call: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="txn-watchdog", daemon=True)
            self._thread.start()
        self._since = self.clock()
        self._doing = doing
        try:
            call()
        finally:
            self._doing = None

    def check(self) -> bool:
        """Whether the call in progress overran (then the process is ended)."""
        doing = self._doing
        if doing is None or self.clock() - self._since < self.limit_seconds:
            return False
        self._exit(
            f"riskwatch: librdkafka's {doing} has not returned for {self.limit_seconds:.0f}s although "
            "its timeout is shorter (a known librdkafka hang after the group coordinator went away) — the "
            "worker exits so that its supervisor restarts it; the open transaction is aborted on restart"
        )
        return True

    def _watch(self) -> None:
        while not self.check():
            time.sleep(1.0)


def _exit_unreachable(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
    os._exit(EXIT_UNREACHABLE)
