"""The request id: the one a request came with (`X-Request-ID`, when well-formed) or one made
for it, returned in its answer, written on the jobs it queues (outbox rows, webhook
deliveries) and on every log line, also the worker's while it handles those jobs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request

HEADER = "X-Request-ID"
# Letters, digits and a little punctuation, as proxies and tracing tools make them (a UUID,
# a hex string, `abc.123:4`): nothing that could break a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_KEY = "reserve.request_id"
# The id of the job the worker is handling, outside any request.
_handling: ContextVar[str | None] = ContextVar("reserve_request_id", default=None)


def current() -> str | None:
    """The id of the request being answered (made on first ask), or of the job in hand."""
    if has_request_context():
        # On the request, not on `g`: an app context may outlive one request (the tests').
        found: str | None = request.environ.get(_KEY)
        if found is None:
            found = request.environ[_KEY] = incoming() or new()
        return found
    return _handling.get()


def incoming() -> str | None:
    """The request's own `X-Request-ID`, when it is well-formed."""
    value = request.headers.get(HEADER, "").strip()
    return value if WELL_FORMED.fullmatch(value) else None


def new() -> str:
    return uuid.uuid4().hex


@contextmanager
def handling(request_id: str | None) -> Iterator[None]:
    """Log what happens in the block under `request_id` (a job a request queued)."""
    token = _handling.set(request_id)
    try:
        yield
    finally:
        _handling.reset(token)
