"""Prometheus metrics of the dispatcher, on a registry per app (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DispatchMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sent = Counter(
            "eplan_messages_sent_total",
            "Telegram messages sent by the dispatcher, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.failed = Counter(
            "eplan_messages_failed_total",
            "Messages not delivered, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.lateness = Histogram(
            "eplan_first_reminder_lateness_seconds",
            "Seconds between a step's due time and its first reminder being sent",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300, 900, 3600, 86400),
            registry=self.registry,
        )
        self.claim_batch = Histogram(
            "eplan_claim_batch_size",
            "Reminders taken per claim",
            buckets=(0, 1, 2, 5, 10, 25, 50, 100, 250, 500),
            registry=self.registry,
        )
        self.retry_after = Counter(
            "eplan_telegram_429_total",
            "429 Too Many Requests answers from Telegram",
            registry=self.registry,
        )
        self.pass_duration = Histogram(
            "eplan_dispatch_pass_seconds",
            "Duration of one dispatch pass",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.backlog = Gauge(
            "eplan_backlog",
            "Open reminders whose action time has passed, as of the last pass",
            registry=self.registry,
        )
        self.passes = Counter(
            "eplan_dispatch_passes_total",
            "Dispatch passes, by outcome",
            ["outcome"],
            registry=self.registry,
        )
