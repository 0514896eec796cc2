"""What `GET /metrics` answers: the counters the processes keep (api.metrics), summed over
every process in prometheus_client's multiprocess mode, and the figures read from the
database at scrape time.

The outbox's figures are read from its rows, not counted by the workers as they deliver: a
worker may run on another machine, whose counters this web process could never read, and
the rows are the truth whoever delivered them. Notices are never deleted (the outbox is the
record of what was sent), so the outcomes and the attempts only grow, as counters must.
"""

import math

from django.conf import settings
from django.db import DatabaseError
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from notifications.selectors import notifications_by_status_and_channel, notifications_undelivered
from ops.selectors import reads_bounded, worker_heartbeats

# The prometheus text format 0.0.4, which every Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FINAL_STATUSES = ("sent", "failed", "skipped")


def metrics_scrape() -> bytes:
    """The text of one scrape."""
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class _ThisProcess:
    """The single-process registry: this process's counters, and its CPU and memory."""

    def collect(self):
        yield from REGISTRY.collect()


class DatabaseCollector:
    """The outbox and the worker heartbeat, as the database has them now."""

    def collect(self):
        up = GaugeMetricFamily(
            "telehealth_metrics_database_up",
            "1 if this scrape read the database; 0: the outbox and heartbeat figures are missing.",
        )
        try:
            # Bounded: a locked table fails these figures, not the whole scrape.
            with reads_bounded(timeout=settings.HEALTH_CHECK_TIMEOUT):
                figures = notifications_by_status_and_channel()
                undelivered, oldest = notifications_undelivered()
                heartbeat_age, workers = worker_heartbeats(max_age=settings.HEALTH_WORKER_MAX_AGE)
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        notifications = GaugeMetricFamily(
            "telehealth_notifications",
            "Notifications in the outbox, by status and channel.",
            labels=["status", "channel"],
        )
        outcomes = CounterMetricFamily(
            "telehealth_notification_outcomes",
            "Notifications that reached a final status (sent, failed, skipped), by channel.",
            labels=["outcome", "channel"],
        )
        attempts = CounterMetricFamily(
            "telehealth_notification_delivery_attempts",
            "Delivery attempts made (each send to a gateway, successful or not), by channel.",
            labels=["channel"],
        )
        attempts_by_channel: dict[str, int] = {}
        for (status, channel), (count, tried) in sorted(figures.items()):
            notifications.add_metric([status, channel], count)
            if status in FINAL_STATUSES:
                outcomes.add_metric([status, channel], count)
            attempts_by_channel[channel] = attempts_by_channel.get(channel, 0) + tried
        for channel, tried in sorted(attempts_by_channel.items()):
            attempts.add_metric([channel], tried)
        yield notifications
        yield outcomes
        yield attempts
        yield GaugeMetricFamily(
            "telehealth_notifications_undelivered",
            "Notifications not yet delivered (pending or sending).",
            value=undelivered,
        )
        yield GaugeMetricFamily(
            "telehealth_notifications_oldest_undelivered_age_seconds",
            "Age of the oldest notification not yet delivered; 0 when none is waiting.",
            value=oldest.total_seconds() if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "telehealth_worker_heartbeat_age_seconds",
            "Seconds since a Celery worker last ran the heartbeat task; +Inf: never.",
            value=heartbeat_age.total_seconds() if heartbeat_age else math.inf,
        )
        yield GaugeMetricFamily(
            "telehealth_workers_alive",
            "Celery workers whose heartbeat is within HEALTH_WORKER_MAX_AGE.",
            value=workers,
        )
