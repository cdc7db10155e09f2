"""CORS for the one call a browser on another site may make: registering for an event.

Only the origins of `app.embedding` get `Access-Control-Allow-Origin`; any other origin gets
no CORS header at all, so its browser keeps the answer from its script. No credentials are
allowed: the call is public, and a staff token is never sent from another site's page.
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from app.embedding import is_allowed
from app.events.services import by_slug

REGISTER_ENDPOINT = "Registrations.register"
PREFLIGHT_SECONDS = 600


def allow_embedding_origins(response: Response) -> Response:
    """Add the CORS headers to the registration call's answer (and to its preflight)."""
    if request.endpoint != REGISTER_ENDPOINT or request.method not in ("POST", "OPTIONS"):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin:
        # Not a browser on another site: nothing to allow, and no reason to ask the database.
        return response
    # A 503 means the database is not answering: the site-wide origins still get to read it.
    slug = (request.view_args or {}).get("slug", "")
    event = None if response.status_code == 503 else by_slug(slug)
    if not is_allowed(origin, event.embed_origins if event else None):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    # A script may read whether its retry was answered from the first attempt.
    response.headers["Access-Control-Expose-Headers"] = "Idempotent-Replayed, Retry-After"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_SECONDS)
    return response
