"""Log lines: with `LOG_FORMAT=json`, one JSON object per line on stderr (time, level, logger,
message, request id, and any `extra` fields), for a log shipper; otherwise Python's usual text.
Every line carries the request id (`request_id`), a request's or the worker's job's."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.logging import default_handler

from app import request_ids

# The attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    """Put the current request id on each record (None outside requests and jobs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_ids.current()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `time` (UTC, ISO 8601), `level`, `logger`, `message`,
    `request_id`, the `extra` fields, and `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class JsonHandler(logging.StreamHandler):
    """The root logger's handler under LOG_FORMAT=json (one per process)."""


def init_app(app: Flask) -> None:
    if app.config["LOG_FORMAT"] != "json":
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, JsonHandler):
            root.removeHandler(handler)
    handler = JsonHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # Flask's own handler would print each of the app's lines a second time, as text.
    app.logger.removeHandler(default_handler)
