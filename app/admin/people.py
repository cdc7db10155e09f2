"""Console pages for data-subject requests (admins): find a person by email, read everything
held about them, download it as JSON, withdraw their consent, erase them after a confirm step."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import BooleanField
from wtforms.validators import DataRequired

from app.admin import bp
from app.auth.access import roles_required
from app.db import db, utcnow
from app.privacy.people import ERASED_DOMAIN, erase_person, export_person, find_person
from app.registrations.consent import withdraw_lead_consent
from app.registrations.models import Lead
from app.registrations.search import lead_matches, search_text

# A search lists at most this many people; a narrower search finds the rest.
SHOWN = 50


class EraseForm(FlaskForm):
    confirm = BooleanField(
        "I understand this erases this person for good and refunds nothing.",
        validators=[DataRequired("Tick the box to confirm the erasure.")],
    )


class WithdrawForm(FlaskForm):
    """Only the CSRF token."""


@bp.get("/people")
@roles_required("admin")
def people() -> str:
    text = search_text(request.args.get("q"))
    found: list[Lead] = []
    if text:
        found = list(
            db.session.scalars(
                select(Lead)
                .where(lead_matches(text), ~Lead.email.endswith("@" + ERASED_DOMAIN))
                .order_by(Lead.email)
                .limit(SHOWN)
            )
        )
    return render_template("admin/people.html", q=text, found=found, shown=SHOWN)


def _held_about(email: str) -> dict[str, Any]:
    document = export_person(email)
    if document is None:
        abort(404, "Nothing is held about this address.")
    return document


@bp.get("/people/<email>")
@roles_required("admin")
def person(email: str) -> str:
    document = _held_about(email)
    return render_template("admin/person.html", person=document, withdraw_form=WithdrawForm())


@bp.get("/people/<email>/export.json")
@roles_required("admin")
def person_json(email: str) -> Response:
    document = _held_about(email)
    name = f"person-{utcnow():%Y-%m-%d}.json"
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/people/<email>/consent/withdraw")
@roles_required("admin")
def person_withdraw(email: str) -> WerkzeugResponse:
    if not WithdrawForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    found = find_person(email)
    if found is None or found.lead_id is None:
        abort(404, "Nothing is held about this address.")
    if withdraw_lead_consent(found.lead_id, "console"):
        flash("Marketing consent withdrawn; no more marketing email goes to this person.")
    return redirect(url_for("admin.person", email=found.email), code=303)


@bp.route("/people/<email>/erase", methods=["GET", "POST"])
@roles_required("admin")
def person_erase(email: str) -> str | WerkzeugResponse | tuple[str, int]:
    document = _held_about(email)
    form = EraseForm()
    if form.validate_on_submit():
        report = erase_person(email, actor=current_user.email, source="console")
        if report is not None:
            flash(
                f"Erased. {sum(report.counts.values())} records erased or made anonymous; "
                "nothing was refunded. The log keeps only the address's SHA-256."
            )
        return redirect(url_for("admin.people"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/person_erase.html", person=document, form=form), status
