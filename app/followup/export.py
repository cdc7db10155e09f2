"""The CRM hand-off: leads and their follow-up outcomes as CSV that Salesforce's and
HubSpot's import tools map without manual work (the mapping is documented in README.md).

Every cell goes through `app.spreadsheet.safe_cell` against formula injection, like every
other export. After the standard columns come the events' own registration questions, one
column per label, answered from the lead's registration to the row's event.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.db import db
from app.events.models import Campaign, Event
from app.fields import country_name
from app.followup.models import DISQUALIFY_REASONS, FollowUp
from app.models import User
from app.registrations.answers import answer_text
from app.registrations.models import Lead, Question, Registration
from app.spreadsheet import csv_writer, safe_cell

CRMS = ("salesforce", "hubspot")

# Our lead status -> Salesforce's standard Lead Status picklist / HubSpot's Lead Status.
SALESFORCE_STATUS = {
    "new": "Open - Not Contacted",
    "open": "Open - Not Contacted",
    "contacted": "Working - Contacted",
    "qualified": "Working - Contacted",
    "disqualified": "Closed - Not Converted",
    "converted": "Closed - Converted",
}
HUBSPOT_STATUS = {
    "new": "NEW",
    "open": "OPEN",
    "contacted": "IN_PROGRESS",
    "qualified": "OPEN_DEAL",
    "disqualified": "UNQUALIFIED",
    "converted": "OPEN_DEAL",
}
HUBSPOT_LIFECYCLE = {
    "new": "lead",
    "open": "lead",
    "contacted": "lead",
    "qualified": "salesqualifiedlead",
    "disqualified": "other",
    "converted": "opportunity",
}
PRIORITY_RATING = {"hot": "Hot", "warm": "Warm", "cold": "Cold"}
# Salesforce's "Field Mapping for Importing Leads": Email Opt Out is `1` for a lead who opts out
# and `0` for one who wants emails; the wizard does not read `true`/`false` there.
SALESFORCE_OPT_OUT = {True: "1", False: "0"}

# (Salesforce header, HubSpot header, our field); order is the file's column order.
COLUMNS = (
    ("First Name", "First Name", "first_name"),
    ("Last Name", "Last Name", "last_name"),
    ("Email", "Email", "email"),
    ("Company", "Company Name", "company"),
    ("Title", "Job Title", "job_title"),
    ("Phone", "Phone Number", "phone"),
    ("Country", "Country/Region", "country"),
    ("Lead Status", "Lead Status", "status"),
    ("Rating", "Lifecycle Stage", "stage"),
    ("Lead Source", "Lead Source", "source"),
    # The wizard maps a lead's owner from a column it calls Record Owner.
    ("Record Owner", "Contact owner", "owner"),
    ("Email Opt Out", "Marketing consent", "consent"),
    # When the person unsubscribed from every email beyond their registrations' own (one-click
    # link, consent withdrawal); empty while they have not.
    ("Unsubscribed At", "Unsubscribed At", "unsubscribed_at"),
    ("Campaign", "Campaign", "campaign"),
    ("Event", "Event", "event"),
    ("Attended Minutes", "Attended Minutes", "attended_minutes"),
    ("Lead Score", "Lead Score", "score"),
    ("UTM Source", "UTM Source", "utm_source"),
    ("UTM Medium", "UTM Medium", "utm_medium"),
    ("UTM Campaign", "UTM Campaign", "utm_campaign"),
    ("Follow-up Outcome", "Follow-up Outcome", "outcome"),
    ("Disqualified Reason", "Disqualified Reason", "reason"),
    ("First Contacted", "First Contacted", "first_contacted"),
    ("External ID", "Record ID (source)", "external_id"),
)


# A CRM's import tools read "; " as the separator of a multi-select picklist's values.
MULTISELECT_SEPARATOR = "; "


class AnswerColumns:
    """The custom columns the events' questions add: one per distinct label, in the order
    events and their forms ask them, and which question of each event fills each one."""

    def __init__(self, standard_headers: list[str]) -> None:
        self.headers: list[str] = []
        # event id -> question key -> (column index, question type)
        self.by_event: dict[int, dict[str, tuple[int, str]]] = {}
        taken = set(standard_headers)
        rows = db.session.execute(
            select(Question.event_id, Question.key, Question.label, Question.type).order_by(
                Question.event_id, Question.position, Question.id
            )
        )
        for event_id, key, label, kind in rows:
            # A question labelled like a standard column ("Company") must not shadow it.
            header = f"{label} (answer)" if label in taken else label
            if header not in self.headers:
                self.headers.append(header)
            self.by_event.setdefault(event_id, {})[key] = (self.headers.index(header), kind)

    def cells(self, event_id: int | None, answers: dict[str, Any] | None) -> list[str]:
        cells = [""] * len(self.headers)
        asked = self.by_event.get(event_id or 0, {})
        for key, value in (answers or {}).items():
            if key in asked:
                index, kind = asked[key]
                cells[index] = _crm_answer(kind, value)
        return cells


def _crm_answer(kind: str, value: Any) -> str:
    if isinstance(value, list):
        return MULTISELECT_SEPARATOR.join(str(item) for item in value)
    if kind == "country" and isinstance(value, str):
        return country_name(value)
    return answer_text(value)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def rows(crm: str) -> Iterator[dict[str, Any]]:
    """One dict per lead (our field names), with its latest follow-up's outcome, the event of
    that follow-up under `event_id` and the answers the lead gave registering for it."""
    latest = select(func.max(FollowUp.id).label("id")).group_by(FollowUp.lead_id).subquery()
    owner = aliased(User)
    query = (
        select(Lead, FollowUp, owner.email, Campaign.name, Event.slug, Registration.answers)
        .outerjoin(owner, owner.id == Lead.owner_id)
        .outerjoin(Campaign, Campaign.id == Lead.latest_campaign_id)
        .outerjoin(
            FollowUp,
            (FollowUp.lead_id == Lead.id) & FollowUp.id.in_(select(latest.c.id)),
        )
        .outerjoin(Event, Event.id == FollowUp.event_id)
        .outerjoin(
            Registration,
            (Registration.lead_id == Lead.id) & (Registration.event_id == FollowUp.event_id),
        )
        .order_by(Lead.id)
        .execution_options(yield_per=1000)
    )
    for lead, followup, owner_email, campaign, event_slug, answers in db.session.execute(query):
        status = lead.status
        if crm == "salesforce":
            shown_status = SALESFORCE_STATUS[status]
            stage = PRIORITY_RATING.get(followup.priority, "") if followup is not None else ""
            consent = SALESFORCE_OPT_OUT[
                not lead.consent_marketing or lead.unsubscribed_at is not None
            ]
            # Salesforce refuses a lead without a company; web-to-lead uses this placeholder.
            company = lead.company or "[not provided]"
        else:
            shown_status = HUBSPOT_STATUS[status]
            stage = HUBSPOT_LIFECYCLE[status]
            consent = "true" if lead.consent_marketing and lead.unsubscribed_at is None else "false"
            company = lead.company
        yield {
            "first_name": lead.first_name,
            "last_name": lead.last_name or ("[not provided]" if crm == "salesforce" else ""),
            "email": lead.email,
            "company": company,
            "job_title": lead.job_title,
            "phone": lead.phone,
            "country": country_name(lead.country),
            "status": shown_status,
            "stage": stage,
            "source": "Webinar",
            "owner": owner_email or "",
            "consent": consent,
            "unsubscribed_at": _iso(lead.unsubscribed_at),
            "campaign": campaign or "",
            "event": event_slug or "",
            "attended_minutes": (
                f"{followup.attended_minutes:g}"
                if followup is not None and followup.attended_minutes is not None
                else ""
            ),
            "score": lead.score,
            "utm_source": lead.latest_utm_source,
            "utm_medium": lead.latest_utm_medium,
            "utm_campaign": lead.latest_utm_campaign,
            "outcome": followup.status if followup is not None else "",
            "reason": (
                DISQUALIFY_REASONS.get(followup.reason or "", followup.reason or "")
                + (f": {followup.reason_note}" if followup.reason_note else "")
                if followup is not None and followup.reason
                else ""
            ),
            "first_contacted": _iso(followup.first_contacted_at if followup else None),
            "external_id": f"lead-{lead.id}",
            "event_id": followup.event_id if followup is not None else None,
            "answers": answers,
        }


def lines(crm: str) -> Iterator[str]:
    """The CSV file, a line at a time (streamed: the export can be large)."""
    if crm not in CRMS:
        raise ValueError(f"crm must be one of {', '.join(CRMS)}")
    header_index = 0 if crm == "salesforce" else 1
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    # A byte-order mark makes Excel read the file as UTF-8; both CRMs accept it.
    headers = [column[header_index] for column in COLUMNS]
    custom = AnswerColumns(headers)
    writer.writerow(headers + [safe_cell(header) for header in custom.headers])
    yield "\ufeff" + buffer.getvalue()
    for row in rows(crm):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [safe_cell(row[column[2]]) for column in COLUMNS]
            + [safe_cell(cell) for cell in custom.cells(row["event_id"], row["answers"])]
        )
        yield buffer.getvalue()
