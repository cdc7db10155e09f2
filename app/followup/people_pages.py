"""The person page (/leads/<id>), the company page (/companies/<domain>) and the search
(/leads?q=) for every staff role; a rep opening what is not theirs gets a 404."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from app.auth.access import roles_required
from app.db import db
from app.followup import bp
from app.followup.forms import STATUS_LABELS
from app.followup.people import company, find_lead, may_open_company, search, story
from app.inputs import query_int
from app.models import ROLES
from app.registrations.search import search_text

PER_PAGE = 50


@bp.get("/leads")
@roles_required(*ROLES)
def leads() -> str:
    user = current_user._get_current_object()
    q = search_text(request.args.get("q"))
    page = db.paginate(
        search(user, q),
        page=query_int(request.args, "page", 1),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("followup/leads.html", page=page, q=q)


@bp.get("/leads/<int:lead_id>")
@roles_required(*ROLES)
def lead(lead_id: int) -> str:
    user = current_user._get_current_object()
    found = find_lead(user, lead_id)
    if found is None:
        abort(404, "There is no lead at this address.")
    person = story(user, found)
    return render_template(
        "followup/lead.html",
        person=person,
        lead=found,
        company_link=person.domain is not None and may_open_company(user, person.domain),
        status_labels=STATUS_LABELS,
    )


@bp.get("/companies/<domain>")
@roles_required(*ROLES)
def company_page(domain: str) -> str:
    user = current_user._get_current_object()
    found = company(domain)
    if found is None or not may_open_company(user, found.domain):
        abort(404, "There is no company at this address.")
    return render_template("followup/company.html", company=found)
