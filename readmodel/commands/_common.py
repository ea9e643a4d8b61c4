"""What the query commands share: one event loop per command, JSON or plain-text output, and one line
when Redis cannot be reached."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson

from config.settings import Settings
from readmodel.connection import UNREACHABLE, async_client, redis_fault
from readmodel.keys import Keys
from readmodel.queries import ReadModel

T = TypeVar("T")


def query(settings: Settings, ask: Callable[[ReadModel], Awaitable[T]]) -> T:
    """Run one query on its own event loop; an unreachable Redis raises its one-line fault."""

    async def _run() -> T:
        client = async_client(settings.redis)
        try:
            readmodel = ReadModel(
                client, Keys.for_prefix(settings.redis.key_prefix), settings.readmodel.max_top
            )
            return await ask(readmodel)
        finally:
            await client.aclose()

    try:
        return asyncio.run(_run())
    except UNREACHABLE as exc:
        raise redis_fault(settings.redis, exc) from None


def print_json(doc: Any) -> None:
    sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")


def print_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table; ``-`` for missing values."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
