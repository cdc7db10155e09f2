"""Logs that name no one: a request is logged by its route pattern (`/r/<token>`), never by
the address it was asked at, which may hold a manage token or an email (`/api/v1/people/…`).

`flask serve` logs access lines through `PatternLoggingHandler`; an unhandled error is logged
with the same pattern instead of Flask's "Exception on <path>", and never with the body.
"""

from __future__ import annotations

import logging

from flask import Flask, has_request_context, request
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Response

# Where the matched route's pattern is left for the server's access log.
ROUTE_KEY = "reserve.route"
UNMATCHED = "<unmatched>"


def init_app(app: Flask) -> None:
    app.after_request(_remember_route)
    app.logger.addFilter(_name_the_route_only)


def route_of_request() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _remember_route(response: Response) -> Response:
    request.environ[ROUTE_KEY] = route_of_request()
    return response


def _name_the_route_only(record: logging.LogRecord) -> bool:
    # Flask's own line for an unhandled error is "Exception on <path> [<method>]".
    if has_request_context() and str(record.msg).startswith("Exception on "):
        record.msg = f"Exception on {route_of_request()} [{request.method}]"
        record.args = None
    return True


class PatternLoggingHandler(WSGIRequestHandler):
    """Werkzeug's development server, logging `METHOD <route pattern>` instead of the path."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        environ = getattr(self, "environ", {})
        route = environ.get(ROUTE_KEY, UNMATCHED)
        self.log("info", '"%s %s" %s %s', self.command, route, code, size)
