"""`GET /metrics`: the Prometheus text exposition, for the scraper only: a request from a
loopback address (the scraper on the same host, not through the proxy), or one carrying
`Authorization: Bearer <METRICS_TOKEN>`. Anyone else gets 404: the page is not there for them."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

from flask import Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.db import db, utcnow
from app.operations import backlog, bp

log = logging.getLogger(__name__)


@bp.get("/metrics")
def scrape() -> Response:
    if not allowed():
        abort(404)
    return Response(metrics.exposition([DatabaseFigures()]), mimetype=CONTENT_TYPE_LATEST)


def allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    return _from_loopback()


def _from_loopback() -> bool:
    """The connection comes from this host, and not on behalf of anyone further out: a
    request relayed by a proxy on this host carries X-Forwarded-For with the visitor's
    address (with PROXY_HOPS set, `remote_addr` already is that address)."""
    addresses = [request.remote_addr or ""]
    addresses += [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    addresses += [a.strip() for a in request.headers.get("X-Real-IP", "").split(",")]
    return all(_loopback(a) for a in addresses if a)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class DatabaseFigures(Collector):
    """What the database says at the moment of the scrape: the outbox backlog by state, the
    oldest due message's wait, stuck leases, webhook and platform queues, seats left."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        try:
            found = backlog.backlog(now)
            seats = backlog.seats_left_by_event(now)
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database did not answer", exc_info=True)
            up = GaugeMetricFamily("reserve_database_up", "Whether the scrape could read it.")
            up.add_metric([], 0)
            yield up
            return
        finally:
            db.session.rollback()
        up = GaugeMetricFamily("reserve_database_up", "Whether the scrape could read it.")
        up.add_metric([], 1)
        yield up
        outbox = GaugeMetricFamily(
            "reserve_outbox_messages", "Outbox rows by state, now.", labels=["state"]
        )
        for state, count in found.outbox.items():
            outbox.add_metric([state], count)
        yield outbox
        oldest = GaugeMetricFamily(
            "reserve_outbox_oldest_due_seconds",
            "How long the longest-waiting message owed now has been due (0: none waits).",
        )
        oldest.add_metric([], found.oldest_due_seconds)
        yield oldest
        stuck = GaugeMetricFamily(
            "reserve_stuck_leases",
            "Rows still leased to a worker whose lease ran out, by queue.",
            labels=["queue"],
        )
        for queue, count in found.stuck_leases.items():
            stuck.add_metric([queue], count)
        yield stuck
        webhooks = GaugeMetricFamily(
            "reserve_webhook_deliveries", "Webhook deliveries by state, now.", labels=["state"]
        )
        for state, count in found.webhooks.items():
            webhooks.add_metric([state], count)
        yield webhooks
        paused = GaugeMetricFamily(
            "reserve_webhook_subscriptions_paused", "Webhook subscriptions paused, now."
        )
        paused.add_metric([], found.paused_webhooks)
        yield paused
        syncs = GaugeMetricFamily(
            "reserve_platform_syncs", "Platform registrant syncs by state, now.", labels=["state"]
        )
        for state, count in found.platform_syncs.items():
            syncs.add_metric([state], count)
        yield syncs
        left = GaugeMetricFamily(
            "reserve_event_seats_left",
            "Seats left of each published event with a capacity that has not ended.",
            labels=["event"],
        )
        for slug, count in seats:
            left.add_metric([slug], count)
        yield left
