"""The workbench's KPIs as Prometheus metrics, on ``serve``'s ``/metrics``: computed from the ``Inbox`` at
scrape time (open alerts by age, the oldest, dispositions per officer, precision per detector) plus a
histogram of time to disposition observed as dispositions arrive."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from schemas.outputs import DETECTOR_NAMES
from server.workbench.inbox import AGE_BUCKETS, DISPOSITIONS, Inbox

P = "riskwatch_workbench_"


class KpiCollector(Collector):
    def __init__(self, inbox: Inbox, officers: tuple[str, ...]) -> None:
        self.inbox = inbox
        self.officers = officers

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        k = self.inbox.kpis()
        by_age = GaugeMetricFamily(
            P + "open_alerts", "Alerts without a disposition, by age since detection", labels=["age"]
        )
        for name, _ in AGE_BUCKETS:
            by_age.add_metric([name], k["open_by_age"][name])
        yield by_age
        yield GaugeMetricFamily(
            P + "oldest_open_alert_age_seconds",
            "Age of the oldest alert without a disposition (0: none open)",
            value=k["oldest_open_seconds"],
        )
        decided = CounterMetricFamily(
            P + "dispositions", "Dispositions by officer and outcome", labels=["officer", "disposition"]
        )
        officers = sorted({*self.officers, *(o for o, _ in k["decided"])})
        for officer in officers:
            for disposition in DISPOSITIONS:
                decided.add_metric([officer, disposition], k["decided"].get((officer, disposition), 0))
        yield decided
        precision = GaugeMetricFamily(
            P + "detector_precision",
            "Confirmed / (confirmed + false positive) among the judged alerts in memory, per detector (NaN: none judged)",
            labels=["detector"],
        )
        for detector in DETECTOR_NAMES:
            precision.add_metric([detector], k["precision"].get(detector, float("nan")))
        yield precision


def create_registry(inbox: Inbox, officers: tuple[str, ...]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(KpiCollector(inbox, officers))
    time_to_disposition = Histogram(
        P + "time_to_disposition_seconds",
        "Alert detected -> its first disposition",
        buckets=(60, 300, 900, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600),
        registry=registry,
    )
    inbox.on_first_disposition.append(time_to_disposition.observe)
    return registry
