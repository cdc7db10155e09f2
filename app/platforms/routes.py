"""The platforms' webhook endpoints (no login, no CSRF: the signature is the proof)."""

from __future__ import annotations

from flask import request

from app.extensions import csrf, limiter
from app.inputs import body_limit
from app.platforms import bp
from app.platforms.zoom_webhook import BadDelivery, challenge_answer, receive, verify


@bp.post("/zoom/webhook")
@csrf.exempt
@limiter.exempt
@body_limit("MAX_WEBHOOK_BODY_BYTES")
def zoom_webhook() -> tuple[dict[str, object], int]:
    """Verify Zoom's signature on the raw body; answer the URL-validation challenge; store
    and act on any other delivery once. Forged or stale: 401, nothing changes."""
    body = request.get_data()
    try:
        data = verify(
            body,
            request.headers.get("x-zm-request-timestamp"),
            request.headers.get("x-zm-signature"),
        )
    except BadDelivery as exc:
        return {"error": {"code": "bad_signature", "message": str(exc)}}, 401
    if data.get("event") == "endpoint.url_validation":
        return dict(challenge_answer(data)), 200
    new = receive(body, data)
    return {"received": True, "duplicate": not new}, 200
