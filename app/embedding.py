"""Which other sites may put a landing form in a frame, and call the registration API from a
browser: the origins in `EMBED_ORIGINS` and the event's own, each `scheme://host[:port]`.

One list serves both the embed view's CSP `frame-ancestors` and the API's CORS answer, so a
site allowed to frame the form may also post to the API, and no other site may do either.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from urllib.parse import urlsplit

from flask import current_app

from app.refusals import Refusal

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# How many events' origins a process keeps for the outage page of their embed.
REMEMBERED_EVENTS = 1000
_REMEMBERED = "reserve_embed_origins"


def checked_origin(text: str, field: str = "embed_origins") -> str:
    """`text` as an origin, lower-cased, or a Refusal naming `field`.

    Only https, except on this machine (a developer's page), because a page served over plain
    http could be rewritten on its way and then frame the form in the marketer's name.
    """
    value = text.strip().lower().rstrip("/")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        parts, port = None, None
    problem = f"{text.strip()!r} is not an origin like https://www.example.com."
    if parts is None or not parts.hostname or parts.path or parts.query or parts.fragment:
        raise Refusal(problem, fields={field: problem})
    if parts.username is not None or parts.password is not None:
        raise Refusal(problem, fields={field: problem})
    local = parts.netloc.rsplit(":", 1)[0] in LOCAL_HOSTS if port else parts.netloc in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        insecure = f"{text.strip()!r} must start with https:// (http:// only for localhost)."
        raise Refusal(insecure, fields={field: insecure})
    return value


def parse_origins(text: str | None, field: str = "embed_origins") -> tuple[str, ...]:
    """The origins in a comma- or whitespace-separated list, each checked, without repeats."""
    found: list[str] = []
    for item in (text or "").replace(",", " ").split():
        origin = checked_origin(item, field)
        if origin not in found:
            found.append(origin)
    return tuple(found)


def allowed_origins(own: str | None) -> tuple[str, ...]:
    """The origins that may frame an event's form or register for it from a browser: every
    event's (EMBED_ORIGINS), then the event's `own` (its stored `embed_origins`)."""
    return tuple(dict.fromkeys([*current_app.config["EMBED_ORIGINS"], *(own or "").split()]))


def is_allowed(origin: str | None, own: str | None) -> bool:
    return bool(origin) and (origin or "").lower() in allowed_origins(own)


def last_allowed_origins(slug: str) -> tuple[str, ...]:
    """The origins this process last let frame `slug`'s form, else every event's: read
    without the database, so that the outage page shows inside the frame when it is down."""
    remembered, lock = _remembered()
    with lock:
        return remembered.get(slug) or tuple(current_app.config["EMBED_ORIGINS"])


def remember_allowed_origins(slug: str, origins: tuple[str, ...]) -> None:
    """Keep the origins that may frame `slug`'s form for `last_allowed_origins`."""
    remembered, lock = _remembered()
    with lock:
        remembered[slug] = origins
        remembered.move_to_end(slug)
        while len(remembered) > REMEMBERED_EVENTS:
            remembered.popitem(last=False)


def _remembered() -> tuple[OrderedDict[str, tuple[str, ...]], Lock]:
    # Per app, not per module: each app (and each test's) has its own events.
    return current_app.extensions.setdefault(_REMEMBERED, (OrderedDict(), Lock()))
