"""Withdrawing marketing consent: an email's unsubscribe link (`/u/<token>`, one click, also
as RFC 8058's List-Unsubscribe-Post) and the manage page's "Stop marketing email"."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.extensions import csrf
from app.registrations import bp
from app.registrations.consent import WITHDRAWAL_TEXT, lead_unsubscribing, withdraw_lead_consent
from app.registrations.forms import CancelForm
from app.registrations.links import open_link


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt  # a mail client's one-click POST carries no form token; the link is the proof
def unsubscribe(token: str) -> str:
    lead = lead_unsubscribing(token)
    if lead is None:
        abort(404, "This unsubscribe link is not valid. Check that you copied the whole link.")
    done = False
    if request.method == "POST":
        withdraw_lead_consent(lead.id, "link")
        done = True
    return render_template(
        "registrations/unsubscribe.html", token=token, done=done, words=WITHDRAWAL_TEXT
    )


@bp.post("/r/<token>/consent/withdraw")
def withdraw_on_manage_page(token: str) -> Response:
    registration = open_link(token)
    if not CancelForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    withdraw_lead_consent(registration.lead_id, "manage")
    flash(
        "Done: we will send you no more news, reminders or emails after events; what a "
        "registration needs (its confirmation, changes, cancellations) still comes."
    )
    return redirect(url_for("registrations.manage", token=token), code=303)
