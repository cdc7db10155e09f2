"""Stripe's webhook, and the registrant's "Pay now" button for a held seat."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.extensions import csrf, limiter
from app.inputs import body_limit
from app.languages import N_
from app.payments import bp, gateway
from app.payments.checkout import checkout_url
from app.payments.settlement import NotYetKnown, handle_webhook
from app.registrations.forms import CancelForm
from app.registrations.links import open_link
from app.registrations.payment_hooks import PaymentUnavailable


@bp.post("/stripe/webhook")
@csrf.exempt
@limiter.exempt
@body_limit("MAX_WEBHOOK_BODY_BYTES")
def webhook() -> tuple[dict[str, object], int]:
    """Verify the signature on the raw body, then act on the event once.

    A bad or stale signature, or a signed event of the wrong shape, answers 400 and changes
    nothing. An error while acting rolls
    the transaction back (the event id included) and answers 500, so Stripe delivers again.
    """
    try:
        event = gateway.verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except gateway.BadSignature as exc:
        return {"error": {"code": "bad_signature", "message": str(exc)}}, 400
    try:
        outcome = handle_webhook(event)
    except NotYetKnown as exc:
        # Nothing was recorded; Stripe delivers it again later.
        return {"error": {"code": "not_yet_known", "message": str(exc)}}, 409
    except gateway.MalformedEvent as exc:
        # Signed, yet not shaped as Stripe documents: nothing was recorded or changed.
        return {"error": {"code": "malformed_event", "message": str(exc)}}, 400
    return {"received": True, "outcome": outcome}, 200


@bp.post("/r/<token>/pay")
def pay(token: str) -> Response:
    """Send a registrant whose seat is held to Stripe Checkout (the same session while it
    is open)."""
    registration = open_link(token)
    # The manage page's button carries a CSRF token like its cancel button.
    if not CancelForm().validate_on_submit():
        abort(400, N_("This form has expired. Reload the page and try again."))
    try:
        url = checkout_url(registration.id)
    except PaymentUnavailable as exc:
        flash(exc.message, "error")
        return redirect(url_for("registrations.manage", token=token), code=303)
    return redirect(url, code=303)
