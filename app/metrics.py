"""The Prometheus instruments the parts of the app count on (requests, registrations, the
worker's passes and failures), and the scrape that reads them.

Counters live in this process, or, when `PROMETHEUS_MULTIPROC_DIR` names a directory (several
gunicorn workers, a worker process beside them), in files there that every process writes and
a scrape sums (prometheus-client's multiprocess mode). Figures that are the database's to say
(seats left, the outbox backlog) are not counted here: `app.operations.figures` reads them at
each scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "reserve_http_requests_total",
    "Requests answered, by method, route pattern (never the address asked) and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "reserve_http_request_duration_seconds",
    "Time to answer a request, by method and route pattern.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REGISTRATIONS = Counter(
    "reserve_registrations_total",
    "Registrations taken (committed), each once, by the status they were given when taken.",
    ["status"],
)
WORKER_PASSES = Counter("reserve_worker_passes_total", "Passes the background worker ran.")
JOB_FAILURES = Counter(
    "reserve_worker_job_failures_total", "Worker jobs that failed in a pass, by job.", ["job"]
)
WEBHOOK_DELIVERY_FAILURES = Counter(
    "reserve_webhook_delivery_failures_total",
    "Webhook delivery attempts that failed (retried or given up).",
)
PLATFORM_SYNC_FAILURES = Counter(
    "reserve_platform_sync_failures_total",
    "Webinar-platform registrant calls that failed (retried or given up), by platform.",
    ["platform"],
)


def multiprocess_dir() -> str | None:
    """Where the processes of a multi-process deployment keep their counters, if they do."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of every instrument, and of the `extra` collectors (read now)."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


def mark_process_dead(pid: int) -> None:
    """Forget a finished process's live gauges (gunicorn's `child_exit` hook calls this)."""
    if multiprocess_dir():
        prometheus_multiprocess.mark_process_dead(pid)


class _ThisProcess(Collector):
    """The process-wide default registry, read through a scrape's own registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()
