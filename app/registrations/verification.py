"""The link in a double opt-in verification email: open it, and the registration is confirmed."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.languages import N_, speak
from app.registrations import bp, opt_in
from app.registrations.links import manage_token


@bp.get("/r/<token>/verify")
def verify(token: str) -> Response:
    registration = opt_in.registration_to_verify(token)
    if registration is None:
        abort(
            404, N_("This link is not valid. Check that you copied the whole link from your email.")
        )
    speak(registration.language)
    manage = url_for("registrations.manage", token=manage_token(registration))
    if request.method == "HEAD":
        # Mail scanners probe links with HEAD; only a person opening it verifies.
        return redirect(manage, code=303)
    try:
        verification = opt_in.verify(registration.id)
    except opt_in.RegistrationRefused as exc:
        flash(exc.message, "error")
        return redirect(manage, code=303)
    if verification is None:
        abort(404, N_("This link is not valid."))
    registration = verification.registration
    if verification.outcome == "expired" or (
        registration.status == "cancelled" and registration.verified_at is None
    ):
        flash(
            N_(
                "This confirmation link has expired, so the registration was not kept. "
                "Register again to get a new link."
            ),
            "error",
        )
    elif registration.status == "confirmed":
        flash(N_("Your registration is confirmed."), "ok")
    elif registration.status == "pending_approval":
        flash(N_("Your email address is confirmed; the organisers review your registration."), "ok")
    elif registration.status == "waitlisted":
        flash(
            "Your registration is confirmed: the event is full, so you are on the waitlist.",
            "ok",
        )
    return redirect(manage, code=303)
