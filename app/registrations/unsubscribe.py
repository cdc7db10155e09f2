"""Withdrawing marketing consent: an email's unsubscribe link (`/u/<token>`, one click, also
as RFC 8058's List-Unsubscribe-Post) and the manage page's "Stop marketing email"."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import db
from app.extensions import csrf
from app.languages import N_, speak, visitor_language
from app.registrations import bp
from app.registrations.consent import lead_unsubscribing, withdraw_lead_consent, withdrawal_words
from app.registrations.forms import CancelForm
from app.registrations.links import open_link
from app.registrations.models import Registration

# The manage page's button says the same words the record keeps.
bp.add_app_template_global(withdrawal_words, "withdrawal_words")


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt  # a mail client's one-click POST carries no form token; the link is the proof
def unsubscribe(token: str) -> str:
    lead = lead_unsubscribing(token)
    if lead is None:
        abort(404, N_("This unsubscribe link is not valid. Check that you copied the whole link."))
    speak(_language_of_newest_registration(lead.id))
    done = False
    if request.method == "POST":
        withdraw_lead_consent(lead.id, "link", words=withdrawal_words())
        done = True
    return render_template(
        "registrations/unsubscribe.html", token=token, done=done, words=withdrawal_words()
    )


def _language_of_newest_registration(lead_id: int) -> str:
    """The link names a person, not an event: the page speaks the language of their newest
    registration (the email it came in was most likely about it), else their browser's."""
    language = db.session.scalar(
        select(Registration.language)
        .where(Registration.lead_id == lead_id)
        .order_by(Registration.created_at.desc(), Registration.id.desc())
        .limit(1)
    )
    return language or visitor_language()


@bp.post("/r/<token>/consent/withdraw")
def withdraw_on_manage_page(token: str) -> Response:
    registration = open_link(token)
    if not CancelForm().validate_on_submit():
        abort(400, N_("This form has expired. Reload the page and try again."))
    withdraw_lead_consent(registration.lead_id, "manage", words=withdrawal_words())
    flash(
        gettext(
            "Done: we will send you no more news, reminders or emails after events; what a "
            "registration needs (its confirmation, changes, cancellations) still comes."
        )
    )
    return redirect(url_for("registrations.manage", token=token), code=303)
