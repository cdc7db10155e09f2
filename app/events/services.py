"""Creating, changing, publishing and listing events: the rules every face calls."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from app.brand import image_url_problem
from app.config import stripe_configured
from app.db import db, rows_changed, utcnow
from app.embedding import parse_origins
from app.events.limits import SLUG_LENGTH, limit_problems
from app.events.models import PLATFORM_NAMES, Campaign, Event
from app.events.signals import event_cancelled, event_changed
from app.fields import CONTROL_IN_LINE
from app.languages import LANGUAGES, language_problem, other_languages_problem
from app.refusals import Refusal

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_TAKEN = "Another event already uses this address."
EDITABLE = (
    "slug",
    "title",
    "description",
    "timezone",
    "language",
    "other_languages",
    "capacity",
    "waitlist",
    "price_cents",
    "currency",
    "refund_until_hours_before",
    "join_url",
    "location",
    "registration_closes_at",
    "double_opt_in",
    "requires_approval",
    "approval_holds_seat",
    "show_seats_left",
    "platform",
    "platform_webinar_id",
    "embed_origins",
    "recording_url",
    "post_event_emails",
    "cta_url",
    "cta_label",
    "cover_image_url",
    "speakers",
)
SPEAKER_FIELDS = ("name", "title", "photo_url")
SPEAKER_TEXT_LENGTH = 200
MAX_SPEAKERS = 20
# A webinar id as the platforms write it (Zoom: digits, often shown in groups).
WEBINAR_ID = re.compile(r"^[A-Za-z0-9_=-]+$")


class EventRejected(Refusal):
    """An event change that breaks a rule; `fields` names each field and why."""

    default_message = "The event was not saved."


def campaign_named(name: str | None) -> Campaign | None:
    """The campaign with this name, created on first use; None for a blank name."""
    name = (name or "").strip()
    if not name:
        return None
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == name))
    if campaign is None:
        campaign = Campaign(name=name)
        db.session.add(campaign)
        db.session.flush()
    return campaign


def create_event(values: dict[str, Any]) -> Event:
    event = Event(
        status="draft",
        seats_taken=0,
        waitlist=True,
        price_cents=0,
        currency="USD",
        language="en",
        other_languages=[],
        description="",
        reminder_minutes=[1440, 60],
        double_opt_in=False,
        requires_approval=False,
        approval_holds_seat=False,
        show_seats_left=True,
        post_event_emails=True,
        speakers=[],
    )
    _apply(event, values)
    db.session.add(event)
    _save(event)
    return event


# Fields whose change must reach registrants' calendars.
SCHEDULE_FIELDS = ("starts_at", "duration_minutes", "join_url", "location", "title")


def schedule_changes(event: Event, values: dict[str, Any]) -> set[str]:
    """The fields registrants are told about (`SCHEDULE_FIELDS`) that `values` would change,
    so a face can ask before `update_event` emails them."""
    return {
        name for name in SCHEDULE_FIELDS if name in values and values[name] != getattr(event, name)
    }


def update_event(event: Event, values: dict[str, Any]) -> Event:
    """Change an event; receivers of `event_changed` act in the same transaction and get the
    values from `before` the change (the update email shows the old time)."""
    watched = (*EDITABLE, "starts_at", "duration_minutes", "campaign_id", "status")
    before = {name: getattr(event, name) for name in watched}
    _apply(event, values)
    _flush()
    changed = {name for name in watched if getattr(event, name) != before[name]}
    if changed and event.status != "draft":
        event_changed.send(event, changed=changed, before=before)
    _save(event)
    return event


def cancel_event(event: Event, *, message: str | None = None) -> Event:
    """Cancel an event for good; receivers of `event_cancelled` withdraw invites and refund.
    `message`: the organizer's own words to every registrant, carried by the email."""
    if event.status == "cancelled":
        return event
    event.status = "cancelled"
    db.session.flush()
    event_cancelled.send(event, message=(message or "").replace("\r\n", "\n").strip() or None)
    _save(event)
    return event


def _apply(event: Event, values: dict[str, Any]) -> None:
    # Checked before anything is set: a duration past the limit cannot even be scheduled.
    if problems := limit_problems(values):
        raise EventRejected(fields=problems)
    if "embed_origins" in values:
        values = {**values, "embed_origins": _origins_kept(values["embed_origins"])}
    if "speakers" in values:
        values = {**values, "speakers": _speakers_kept(values["speakers"])}
    if "other_languages" in values:
        values = {**values, "other_languages": _languages_kept(values["other_languages"])}
    if "cover_image_url" in values:
        cover = (values["cover_image_url"] or "").strip() or None
        if problem := image_url_problem(cover):
            raise EventRejected(fields={"cover_image_url": problem})
        values = {**values, "cover_image_url": cover}
    for name in EDITABLE:
        if name in values:
            setattr(event, name, values[name])
    if isinstance(event.platform_webinar_id, str):
        # "812 3456 7890", as Zoom shows it, is the webinar 81234567890.
        event.platform_webinar_id = "".join(event.platform_webinar_id.split()) or None
    if "starts_at" in values or "duration_minutes" in values:
        event.schedule(
            values.get("starts_at", event.starts_at),
            values.get("duration_minutes", event.duration_minutes),
        )
    if "campaign" in values:
        event.campaign = campaign_named(values["campaign"])
    problems = _problems(event)
    status = values.get("status")
    if status is not None and status != event.status:
        problems.update(_status_problems(event, status))
        event.status = status
    if problems:
        db.session.rollback()
        raise EventRejected(fields=problems)


def _speakers_kept(raw: Any) -> list[dict[str, str]]:
    """The speakers as stored: each a name (required), a title and an https:// photo."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_SPEAKERS:
        raise EventRejected(fields={"speakers": f"Give a list of up to {MAX_SPEAKERS} speakers."})
    kept = []
    for number, speaker in enumerate(raw, start=1):
        if not isinstance(speaker, dict) or set(speaker) - set(SPEAKER_FIELDS):
            message = f"Speaker {number}: give only {', '.join(SPEAKER_FIELDS)}."
            raise EventRejected(fields={"speakers": message})
        values = {name: " ".join(str(speaker.get(name) or "").split()) for name in SPEAKER_FIELDS}
        if not values["name"]:
            raise EventRejected(fields={"speakers": f"Speaker {number}: give the name."})
        if any(len(value) > SPEAKER_TEXT_LENGTH for value in values.values()):
            message = f"Speaker {number}: keep each part under {SPEAKER_TEXT_LENGTH} characters."
            raise EventRejected(fields={"speakers": message})
        if problem := image_url_problem(values["photo_url"]):
            raise EventRejected(fields={"speakers": f"Speaker {number}'s photo: {problem}"})
        kept.append(values)
    return kept


def _languages_kept(raw: Any) -> list[str]:
    """The other languages as stored: known codes, each once, in the catalogs' order."""
    codes = [] if raw is None else raw
    if (problem := other_languages_problem(codes)) is not None:
        raise EventRejected(fields={"other_languages": problem})
    return [code for code in LANGUAGES if code in codes]


def _origins_kept(text: str | None) -> str | None:
    """The embedding origins as stored: checked, lower-cased, space-separated."""
    try:
        return " ".join(parse_origins(text)) or None
    except Refusal as exc:
        raise EventRejected(fields=exc.fields) from None


def _problems(event: Event) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not event.slug or not SLUG.match(event.slug):
        problems["slug"] = "Use lower-case letters, digits and single hyphens, such as spring-demo."
    elif _slug_taken(event):
        problems["slug"] = SLUG_TAKEN
    if (problem := language_problem(event.language)) is not None:
        problems["language"] = problem
    if event.capacity is not None and event.capacity < event.seats_taken:
        problems["capacity"] = (
            f"{event.seats_taken} seats are already taken; capacity cannot go below that."
        )
    if event.registration_closes_at and event.registration_closes_at > event.ends_at:
        problems["registration_closes_at"] = "Registration must close before the event ends."
    if event.price_cents and not event.currency:
        problems["currency"] = "A paid event needs a currency."
    problems.update(_platform_problems(event))
    if event.cta_label and not event.cta_url:
        problems["cta_url"] = "Give the link the call to action's button opens, or clear its label."
    if event.double_opt_in and event.is_paid:
        # Paying through Stripe Checkout already proves the buyer reads that address.
        problems["double_opt_in"] = (
            "Double opt-in is for free events: on a paid event, the payment already "
            "confirms the registrant's email address."
        )
    if event.requires_approval and event.is_paid:
        # A seat is paid for when it is taken; approval would have to come before checkout,
        # and a registrant declined after paying would need a refund for nothing.
        problems["requires_approval"] = (
            "Approval is for free events: a paid registration takes its seat when it is paid."
        )
    return problems


def _platform_problems(event: Event) -> dict[str, str]:
    if event.platform is not None and event.platform not in PLATFORM_NAMES:
        return {"platform": "Choose Zoom, GoTo Webinar or no platform."}
    webinar = event.platform_webinar_id
    if event.platform and not webinar:
        return {"platform_webinar_id": "Give the webinar's id on the platform."}
    if webinar and not event.platform:
        return {"platform": "Choose the platform this webinar id belongs to."}
    if webinar and not WEBINAR_ID.match(webinar):
        return {"platform_webinar_id": "Use the webinar's id as the platform shows it (digits)."}
    return {}


def _slug_taken(event: Event) -> bool:
    # Not flushed first: writing the changed slug is what would break the unique index.
    with db.session.no_autoflush:
        other = select(Event.id).where(Event.slug == event.slug)
        if event.id is not None:
            other = other.where(Event.id != event.id)
        return db.session.scalar(other.limit(1)) is not None


def _status_problems(event: Event, status: str) -> dict[str, str]:
    if event.status == "cancelled":
        return {"status": "A cancelled event cannot be reopened; duplicate it instead."}
    if status == "cancelled":
        return {"status": "Cancel an event with its cancel action, which tells every registrant."}
    if status == "published" and event.is_paid and not stripe_configured():
        return {
            "price_cents": "A paid event cannot be published until Stripe is configured "
            "(STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)."
        }
    if status == "published" and not (event.join_url or event.location or event.platform):
        return {"join_url": "Give a join link or a location before publishing."}
    return {}


def _flush() -> None:
    # Checked before writing too, but two staff saving the same slug at once both pass that.
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise EventRejected(fields={"slug": SLUG_TAKEN}) from None


def _save(event: Event) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EventRejected(fields={"slug": SLUG_TAKEN}) from None


def mark_ended(event: Event, at: datetime) -> bool:
    """Record when the webinar actually ended, as its platform reported it (`at`, aware).

    The first report wins: a replayed or later `webinar.ended` changes nothing, so calling it
    again is harmless. Runs in the caller's transaction (the caller commits); True when this
    call set the time.
    """
    if at.tzinfo is None:
        raise ValueError("the end of a webinar is an aware datetime")
    marked = rows_changed(
        update(Event)
        .where(Event.id == event.id, Event.ended_at.is_(None))
        .values(ended_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(event, ["ended_at"])
    return marked == 1


def upcoming_published(now: datetime | None = None) -> list[Event]:
    """Published events that have not ended yet, soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.status == "published", Event.ends_at > now)
            .order_by(Event.starts_at)
        )
    )


def published_by_slug(slug: str) -> Event | None:
    event = by_slug(slug)
    return event if event is not None and event.status == "published" else None


# Built once: SQLAlchemy then neither coerces its parts nor computes its cache key per call.
_EVENT_AT = select(Event).where(Event.slug == bindparam("slug"))


def by_slug(slug: str) -> Event | None:
    """The event at this address; every face looks slugs up here."""
    if not could_be_slug(slug):
        return None
    return db.session.scalar(_EVENT_AT, {"slug": slug})


def could_be_slug(slug: str) -> bool:
    """Whether an event could have this slug: one none could have is not looked up
    (PostgreSQL refuses NUL in a query, and an address from outside may hold anything)."""
    return bool(slug) and len(slug) <= SLUG_LENGTH and not CONTROL_IN_LINE.search(slug)


def slug_from(text: str) -> str:
    """A URL slug made from a title: lower-case ASCII words joined by single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = "-".join(words)[:SLUG_LENGTH].strip("-")
    return slug or "event"


def free_slug(base: str) -> str:
    """`base`, or `base-2`, `base-3`… whichever no event uses yet."""
    base = base[: SLUG_LENGTH - 4].strip("-") or "event"
    taken = set(
        db.session.scalars(
            select(Event.slug).where(
                (Event.slug == base) | Event.slug.startswith(base + "-", autoescape=True)
            )
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def duplicate_event(event: Event) -> Event:
    """A new draft with the same details and schedule, at a new address; nobody registered."""
    return create_event(
        {
            "slug": free_slug(f"{event.slug}-copy"),
            "title": event.title,
            "description": event.description,
            "starts_at": event.starts_at,
            "duration_minutes": event.duration_minutes,
            "timezone": event.timezone,
            "language": event.language,
            "other_languages": list(event.other_languages or []),
            "capacity": event.capacity,
            "waitlist": event.waitlist,
            "price_cents": event.price_cents,
            "currency": event.currency,
            "refund_until_hours_before": event.refund_until_hours_before,
            "join_url": event.join_url,
            "location": event.location,
            "campaign": event.campaign.name if event.campaign else None,
            "registration_closes_at": event.registration_closes_at,
            "double_opt_in": event.double_opt_in,
            "requires_approval": event.requires_approval,
            "approval_holds_seat": event.approval_holds_seat,
            "show_seats_left": event.show_seats_left,
            "post_event_emails": event.post_event_emails,
            "cta_url": event.cta_url,
            "cta_label": event.cta_label,
            "cover_image_url": event.cover_image_url,
            "speakers": [dict(speaker) for speaker in event.speakers or []],
        }
    )
