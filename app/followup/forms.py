"""Forms for follow-up pages: the rep's verdict and notes, routing rules, follow-up settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs are for 3.2
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.followup.models import DISQUALIFY_REASONS, FOLLOWUP_STATUSES
from app.followup.rules import REGIONS
from app.followup.services import MAX_NOTE, MAX_REASON_NOTE

STATUS_LABELS = {
    "open": "Open (not contacted yet)",
    "contacted": "Contacted",
    "qualified": "Qualified",
    "disqualified": "Disqualified",
    "converted": "Converted",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class MeetingLinkForm(FlaskForm):
    """A rep's own meeting link (the staff edit page sets it for admins)."""

    meeting_url = StringField("Meeting link", validators=[Optional(), Length(max=500)])


class OutcomeForm(FlaskForm):
    status = SelectField(
        "Status",
        choices=[SelectChoice(s, STATUS_LABELS[s]) for s in FOLLOWUP_STATUSES],
        validate_choice=False,
    )
    reason = SelectField(
        "Reason (required when disqualifying)",
        choices=[
            SelectChoice("", "Choose a reason"),
            *(SelectChoice(code, label) for code, label in DISQUALIFY_REASONS.items()),
        ],
        validate_choice=False,
    )
    reason_note = StringField(
        "Reason in your words", validators=[Optional(), Length(max=MAX_REASON_NOTE)]
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=MAX_NOTE)])


def _lines(text: str | None) -> list[str]:
    """A comma- or line-separated list as typed into one box."""
    parts = (text or "").replace("\n", ",").split(",")
    return [" ".join(part.split()) for part in parts if part.strip()]


class RuleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the rule a name."), Length(max=120)])
    active = BooleanField("Active", default=True)
    alert_on_registration = BooleanField("Alert on registration", default=False)
    countries = StringField("Countries", validators=[Optional(), Length(max=2000)])
    regions = SelectMultipleField(
        "Regions", choices=[SelectChoice(r) for r in REGIONS], validate_choice=False
    )
    segments = StringField("Segments", validators=[Optional(), Length(max=2000)])
    email_domains = StringField("Email domains", validators=[Optional(), Length(max=2000)])
    campaigns = StringField("Campaigns", validators=[Optional(), Length(max=2000)])
    title_keywords = StringField("Job-title keywords", validators=[Optional(), Length(max=2000)])
    target = SelectField(
        "Send to",
        choices=[SelectChoice("rep", "One rep"), SelectChoice("pool", "A round-robin pool")],
    )
    target_rep = SelectField("Rep", choices=[], validate_choice=False)

    def condition_values(self) -> dict[str, list[str]]:
        return {
            "countries": _lines(self.countries.data),
            "regions": list(self.regions.data or []),
            "segments": _lines(self.segments.data),
            "email_domains": _lines(self.email_domains.data),
            "campaigns": _lines(self.campaigns.data),
            "title_keywords": _lines(self.title_keywords.data),
        }


class RouteEventForm(FlaskForm):
    event = SelectField("Event", choices=[], validate_choice=False)


class SettingsForm(FlaskForm):
    hot_score = IntegerField(
        "Hot from score", validators=[InputRequired("Enter a score."), NumberRange(1, 100)]
    )
    warm_score = IntegerField(
        "Warm from score", validators=[InputRequired("Enter a score."), NumberRange(0, 100)]
    )
    sla_hot = IntegerField(
        "Hot: business minutes to first contact",
        validators=[InputRequired("Enter minutes."), NumberRange(1, 100000)],
    )
    sla_warm = IntegerField(
        "Warm: business minutes",
        validators=[InputRequired("Enter minutes."), NumberRange(1, 100000)],
    )
    sla_cold = IntegerField(
        "Cold: business minutes",
        validators=[InputRequired("Enter minutes."), NumberRange(1, 100000)],
    )
    workday_start = StringField("Working day starts", validators=[InputRequired(), Length(max=5)])
    workday_end = StringField("Working day ends", validators=[InputRequired(), Length(max=5)])
    workdays = SelectMultipleField(
        "Working days", choices=[SelectChoice(str(i), day) for i, day in enumerate(WEEKDAYS)]
    )
    escalate_after_minutes = IntegerField(
        "Escalate when overdue by (minutes)",
        validators=[InputRequired("Enter minutes."), NumberRange(1, 100000)],
    )
    route_after_minutes = IntegerField(
        "Route this many minutes after the end when no attendance arrives",
        validators=[InputRequired("Enter minutes."), NumberRange(0, 100000)],
    )


class AssignForm(FlaskForm):
    rep = SelectField("Give it to", choices=[], validate_choice=False)


class ActionForm(FlaskForm):
    """Only the CSRF token: a button."""
