"""Everything the workbench's pages share, built once by the app factory and stopped with the app."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from prometheus_client import CollectorRegistry

from config.settings import Settings
from server.workbench.auth import Sessions
from server.workbench.feed import AlertFeed, DispositionWriter
from server.workbench.inbox import Inbox
from server.workbench.metrics import create_registry
from streams.display import when

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Workbench:
    settings: Settings
    inbox: Inbox
    feed: AlertFeed
    writer: DispositionWriter
    sessions: Sessions
    templates: jinja2.Environment
    registry: CollectorRegistry
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings) -> Workbench:
        w = settings.workbench
        inbox = Inbox(w.inbox_max_alerts, w.tier_history_per_customer)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
        )
        env.filters["when"] = when
        env.filters["json"] = lambda v: __import__("json").dumps(v, sort_keys=True)
        from server.workbench.routes import query

        env.globals["query"] = query
        return cls(
            settings=settings,
            inbox=inbox,
            feed=AlertFeed(settings, inbox),
            writer=DispositionWriter(settings),
            sessions=Sessions(w),
            templates=env,
            registry=create_registry(inbox, tuple(w.users)),
        )

    def start(self) -> None:
        self.feed.start()

    def stop(self) -> None:
        self.stopping.set()
        self.feed.stop()
        self.feed.join(10)
