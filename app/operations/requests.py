"""Per request: its id (taken or made, returned in `X-Request-ID`), its count and latency by
route pattern and status, and one log line (`request`) naming the route pattern, never the
address asked, which may hold a token or an email."""

from __future__ import annotations

import logging
import time

from flask import Flask, request
from werkzeug.wrappers import Response

from app import metrics, request_ids
from app.access_log import route_of_request

log = logging.getLogger("app.requests")
_STARTED = "reserve.request_started"


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    request.environ[_STARTED] = time.perf_counter()
    request_ids.current()


def _finish(response: Response) -> Response:
    request_id = request_ids.current()
    if request_id:
        response.headers[request_ids.HEADER] = request_id
    route = route_of_request()
    started = request.environ.get(_STARTED)
    seconds = time.perf_counter() - started if started is not None else 0.0
    metrics.REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    metrics.REQUEST_SECONDS.labels(request.method, route).observe(seconds)
    log.info(
        "%s %s %s",
        request.method,
        route,
        response.status_code,
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
        },
    )
    return response
