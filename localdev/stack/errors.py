"""One exception for every way the local stack can fail, so ``command.run`` can print one line and exit 1."""

from __future__ import annotations


class StackError(Exception):
    """A stack step failed in a way the user can act on.

    ``str(exc)`` is the one-line reason; ``details`` (a log or Maven output tail) is printed after it.
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details
