"""Console pages for marketing's side of follow-up: lead quality per campaign, event and
source, and the CRM export of leads and their outcomes."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context

from app.admin import bp
from app.auth.access import roles_required
from app.db import utcnow
from app.followup import export
from app.followup.feedback import GROUPINGS, lead_quality
from app.followup.models import DISQUALIFY_REASONS


@bp.get("/feedback")
@roles_required("marketer")
def feedback() -> str:
    by = request.args.get("by", "campaign")
    if by not in GROUPINGS:
        by = "campaign"
    return render_template(
        "followup/feedback.html",
        by=by,
        groupings=GROUPINGS,
        lines=lead_quality(by),
        reasons=DISQUALIFY_REASONS,
    )


@bp.get("/leads.csv")
@roles_required("marketer")
def leads_csv() -> Response:
    crm = request.args.get("crm", "salesforce")
    if crm not in export.CRMS:
        crm = "salesforce"
    name = f"leads-{crm}-{utcnow():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(export.lines(crm)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
