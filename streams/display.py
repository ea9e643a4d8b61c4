"""Human-readable rows of riskwatch's output messages, shared by ``riskwatch tail`` and the demo.

Each kind of message gets a fixed-width first line (fits 120 columns) and its free text (reason, error,
note) wrapped on indented lines below, so nothing a risk officer needs is cut off. Rows are built from the
decoded JSON, not the pydantic models, so a message of a newer schema version still prints. Timestamps are
shown in the offset they carry; a column says whether it is event time or wall-clock time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

WIDTH = 120
TEXT_INDENT = "    "


def when(timestamp: object) -> str:
    """``YYYY-MM-DD HH:MM:SS+HHMM`` in the timestamp's own offset (24 characters)."""
    try:
        return datetime.fromisoformat(str(timestamp)).strftime("%Y-%m-%d %H:%M:%S%z")
    except ValueError:
        return str(timestamp)[:24]


def wrapped(text: object, width: int = WIDTH) -> list[str]:
    """Free text on indented lines no wider than ``width``."""
    return textwrap.wrap(
        str(text),
        width=width,
        initial_indent=TEXT_INDENT,
        subsequent_indent=TEXT_INDENT,
        break_on_hyphens=False,
    ) or [TEXT_INDENT]


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    value: Callable[[Mapping[str, Any]], object]
    right: bool = False

    def cell(self, message: Mapping[str, Any]) -> str:
        text = str(self.value(message))
        if len(text) > self.width:
            text = text[: self.width - 1] + "…"
        return text.rjust(self.width) if self.right else text.ljust(self.width)


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of message and the field printed as wrapped text below them."""

    columns: tuple[Column, ...]
    text: Callable[[Mapping[str, Any]], object]

    def header(self) -> str:
        return "  ".join(
            c.title.rjust(c.width) if c.right else c.title.ljust(c.width) for c in self.columns
        ).rstrip()

    def first_line(self, message: Mapping[str, Any]) -> str:
        return "  ".join(c.cell(message) for c in self.columns).rstrip()

    def lines(self, message: Mapping[str, Any], width: int = WIDTH) -> list[str]:
        text = str(self.text(message) or "")
        return [self.first_line(message), *(wrapped(text, width) if text else [])]


def _get(field: str, default: str = "-") -> Callable[[Mapping[str, Any]], object]:
    return lambda m: default if m.get(field) is None else m[field]


def _upper(field: str) -> Callable[[Mapping[str, Any]], object]:
    return lambda m: str(m.get(field, "-")).upper()


def _time(field: str) -> Callable[[Mapping[str, Any]], object]:
    return lambda m: when(m.get(field, "-"))


def _score(m: Mapping[str, Any]) -> str:
    try:
        return f"{float(m['score']):.2f}"
    except (KeyError, TypeError, ValueError):
        return "-"


def _risk_score(m: Mapping[str, Any]) -> str:
    try:
        return f"{float(m['score']):.0f}"
    except (KeyError, TypeError, ValueError):
        return "-"


def _tier_move(m: Mapping[str, Any]) -> str:
    previous = m.get("previous_tier")
    return f"{previous} -> {m.get('tier')}" if previous else f"(new) {m.get('tier')}"


def _where(m: Mapping[str, Any]) -> str:
    return f"{m.get('source')}[{m.get('partition')}]@{m.get('offset')}"


def _disposition_text(m: Mapping[str, Any]) -> str:
    note = m.get("note")
    return f"customer {m.get('customer_id')}" + (f"; note: {note}" if note else "")


ALERT = Layout(
    (
        Column("EVENT TIME", 24, _time("event_time")),
        Column("SEVERITY", 8, _upper("severity")),
        Column("DETECTOR", 20, _get("detector")),
        Column("CUSTOMER", 12, _get("customer_id")),
        Column("TIER", 6, _get("risk_tier")),
        Column("SCORE", 5, _score, right=True),
        Column("ALERT ID", 32, _get("alert_id")),
    ),
    lambda m: m.get("reason"),
)
CUSTOMER_RISK = Layout(
    (
        Column("EVENT TIME", 24, _time("updated_at")),
        Column("CUSTOMER", 12, _get("customer_id")),
        Column("TIER", 16, _tier_move),
        Column("SCORE", 5, _risk_score, right=True),
        Column("NEXT REVIEW", 11, _get("next_review_due")),
    ),
    lambda m: m.get("reason"),
)
DEAD_LETTER = Layout(
    (
        Column("RECEIVED (WALL CLOCK)", 24, _time("received_at")),
        Column("SOURCE[PARTITION]@OFFSET", 40, _where),
        Column("KEY", 20, _get("key")),
    ),
    lambda m: m.get("error"),
)
REVIEW = Layout(
    (
        Column("DUE DATE", 10, _get("due_date")),
        Column("CUSTOMER", 12, _get("customer_id")),
        Column("TIER", 6, _get("tier")),
        Column("LAST REVIEW", 11, _get("last_review")),
        Column("REVIEW ID", 40, _get("review_id")),
    ),
    lambda m: m.get("reason"),
)
DISPOSITION = Layout(
    (
        Column("DECIDED AT (WALL CLOCK)", 24, _time("decided_at")),
        Column("DISPOSITION", 14, _get("disposition")),
        Column("OFFICER", 12, _get("officer_id")),
        Column("DETECTOR", 20, _get("detector")),
        Column("ALERT ID", 32, _get("alert_id")),
    ),
    _disposition_text,
)
INPUT_EVENT = Layout(
    (
        Column("EVENT TIME", 24, _time("timestamp")),
        Column("TYPE", 16, _get("type")),
        Column("CUSTOMER", 12, _get("customer_id")),
        Column("EVENT ID", 36, _get("event_id")),
    ),
    lambda m: "",
)

# settings.topics attribute -> layout; topics not listed print their key and raw JSON
LAYOUTS: dict[str, Layout] = {
    "alerts": ALERT,
    "customer_risk": CUSTOMER_RISK,
    "dead_letter": DEAD_LETTER,
    "reviews": REVIEW,
    "alert_dispositions": DISPOSITION,
    "transactions": INPUT_EVENT,
    "contact_changes": INPUT_EVENT,
    "customer_profiles": INPUT_EVENT,
    "risk_overrides": INPUT_EVENT,
    "review_completed": INPUT_EVENT,
    "erasure_requests": INPUT_EVENT,
}
