"""Calendar files (iTIP invites and public .ics files) and add-to-calendar links for events."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

from flask_babel import gettext
from icalendar import Alarm, Calendar, vCalAddress
from icalendar import Event as CalendarEvent
from icalendar.enums import PARTSTAT, ROLE, STATUS
from markdown_it import MarkdownIt
from markdown_it.token import Token

from app.db import utcnow
from app.events.models import Event
from app.languages import speaking

PRODID = "-//Reserve//Event registration//EN"
REMINDER = timedelta(minutes=15)
# Characters of details kept in an add-to-calendar link: the services refuse very long URLs.
LINK_DETAILS_LIMIT = 1000

# RFC 5545 TEXT may not hold control characters other than tab (and newline, escaped as \n).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\r\n?")
# Without "typographer" the text keeps the quotes and dashes the marketer typed; raw HTML in
# the source stays literal text.
_markdown = MarkdownIt("js-default")


def invite(
    event: Event,
    *,
    uid: str,
    sequence: int,
    method: Literal["REQUEST", "CANCEL"],
    attendee_email: str,
    attendee_name: str,
    organizer_name: str,
    organizer_email: str,
    manage_url: str,
    join_url: str | None = None,
    now: datetime | None = None,
    language: str | None = None,
) -> bytes:
    """One registrant's iTIP invite (RFC 5546): REQUEST to add or update it, CANCEL to remove it.

    Keep `uid` for the registration's whole life and raise `sequence` on every change; a
    CANCEL must carry a higher sequence than the last REQUEST. `join_url` is the registrant's
    own link (from the webinar platform) when they have one, in place of the event's.
    `language`: the registrant's (one the event offers); default, the event's main language.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"an invite is a REQUEST or a CANCEL, not {method!r}")
    language = language or event.language
    with speaking(language):
        return _invite_entry(
            event,
            uid=uid,
            sequence=sequence,
            method=method,
            attendee_email=attendee_email,
            attendee_name=attendee_name,
            organizer_name=organizer_name,
            organizer_email=organizer_email,
            manage_url=manage_url,
            join_url=join_url,
            now=now,
            language=language,
        )


def _invite_entry(
    event: Event,
    *,
    uid: str,
    sequence: int,
    method: Literal["REQUEST", "CANCEL"],
    attendee_email: str,
    attendee_name: str,
    organizer_name: str,
    organizer_email: str,
    manage_url: str,
    join_url: str | None,
    now: datetime | None,
    language: str,
) -> bytes:
    entry = _entry(event, uid=uid, now=now)
    entry.sequence = sequence
    # The join link is for someone with a seat: a CANCEL goes to people who no longer have one.
    joining = method == "REQUEST"
    join_url = (join_url or event.join_url) if joining else None
    entry.description = event_details(
        event, manage_url=manage_url, join_url=join_url, language=language
    )
    entry.location = _clean(event.location or join_url or "") or None
    entry.url = join_url or None
    # A bare mailto: with the name in CN; clients send RSVP replies to this address.
    entry.organizer = vCalAddress.new(organizer_email, cn=_name(organizer_name) or organizer_email)
    entry.attendees = [
        vCalAddress.new(
            attendee_email,
            cn=_name(attendee_name) or attendee_email,
            role=ROLE.REQ_PARTICIPANT,
            partstat=PARTSTAT.NEEDS_ACTION,
            rsvp=True,
        )
    ]
    if method == "CANCEL":
        # RFC 5546 3.2.5: a cancel carries no alarm; REQUEST with CANCELLED would not remove it.
        entry.status = STATUS.CANCELLED
    else:
        entry.status = STATUS.CONFIRMED
        entry.add_component(_reminder(event))
    return _calendar(method, entry)


def public_calendar(event: Event, *, event_url: str, now: datetime | None = None) -> bytes:
    """The event for anyone (METHOD:PUBLISH): no attendee, organizer or join link.

    The join link is only for registrants, so the file points at the landing page instead.
    """
    with speaking(event.language):
        return _public_entry(event, event_url=event_url, now=now)


def _public_entry(event: Event, *, event_url: str, now: datetime | None) -> bytes:
    # One UID per event and installation, so importing the file again updates the same entry.
    host = urlsplit(event_url).hostname or "localhost"
    entry = _entry(event, uid=f"event-{event.id}@{host}", now=now)
    entry.sequence = 0
    entry.last_modified = _utc(event.updated_at or event.created_at or utcnow())
    entry.description = event_details(event, register_url=event_url)
    entry.location = _clean(event.location or gettext("Online")) or None
    entry.url = event_url
    entry.status = STATUS.CONFIRMED
    entry.add_component(_reminder(event))
    return _calendar("PUBLISH", entry)


def add_to_calendar_links(event: Event, *, details: str, ics_url: str) -> list[tuple[str, str]]:
    """Links that open each service's "new event" form filled in, with times in UTC.

    They only copy the event: no RSVP and no later updates, unlike the emailed invite.
    `details` longer than LINK_DETAILS_LIMIT characters is cut at the end.
    """
    start, end = _utc(event.starts_at), _utc(event.ends_at)
    title = _clean(event.title)
    details = _clean(details)
    if len(details) > LINK_DETAILS_LIMIT:
        # The services refuse very long URLs; the end of the text is what can go.
        details = details[: LINK_DETAILS_LIMIT - 1].rstrip() + "…"
    location = _clean(event.location or event.join_url or "")
    compact = "%Y%m%dT%H%M%SZ"
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{start:{compact}}/{end:{compact}}",
        "details": details,
        "location": location,
    }
    # Without the Z, Outlook reads the time in the viewer's own zone.
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
        "subject": title,
        "body": details,
        "location": location,
        "allday": "false",
    }
    yahoo = {
        "v": "60",
        "title": title,
        "st": f"{start:{compact}}",
        "et": f"{end:{compact}}",
        "desc": details,
        "in_loc": location,
    }
    return [
        ("Google", "https://calendar.google.com/calendar/render?" + _query(google)),
        (
            "Outlook.com",
            "https://outlook.live.com/calendar/0/deeplink/compose?" + _query(outlook),
        ),
        ("Office 365", "https://outlook.office.com/calendar/0/deeplink/compose?" + _query(outlook)),
        ("Yahoo", "https://calendar.yahoo.com/?" + _query(yahoo)),
        ("Apple (.ics)", ics_url),
    ]


def event_details(
    event: Event,
    *,
    manage_url: str | None = None,
    register_url: str | None = None,
    join_url: str | None = None,
    language: str | None = None,
) -> str:
    """The links a calendar entry needs (`join_url` only for someone with a seat), then the
    event's description as plain text; in `language` (a registrant's), else the event's.

    Links come first so that a client (or a link) that cuts long text still shows them.
    """
    blocks = []
    with speaking(language or event.language):
        if join_url:
            blocks.append(gettext("Join: %(url)s", url=join_url))
        if register_url:
            blocks.append(gettext("Register: %(url)s", url=register_url))
        if manage_url:
            blocks.append(gettext("Your registration (details, cancel): %(url)s", url=manage_url))
    blocks.append(plain_description(event.description))
    return "\n\n".join(block for block in blocks if block)


def plain_description(source: str) -> str:
    """Markdown as readable plain text: paragraphs, list markers, and links as "text (url)"."""
    out: list[str] = []
    lists: list[int | None] = []  # per open list: the next number, or None for bullets
    for token in _markdown.parse(_clean(source or "")):
        kind = token.type
        if kind == "inline":
            out.append(_inline_text(token.children or []))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            if lists and out and not out[-1].endswith("\n"):
                out.append("\n")
            lists.append(int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            out.append("\n" if lists else "\n\n")
        elif kind == "list_item_open":
            number = lists[-1]
            out.append("  " * (len(lists) - 1) + ("- " if number is None else f"{number}. "))
            if number is not None:
                lists[-1] = number + 1
        elif kind == "paragraph_close":
            # Paragraphs in a tight list are hidden: one line per item, no blank line.
            out.append("\n" if token.hidden else "\n\n")
        elif kind == "heading_close":
            out.append("\n\n")
        elif kind in ("fence", "code_block"):
            out.append(token.content.rstrip("\n") + "\n\n")
        elif kind == "hr":
            out.append("----\n\n")
    text = re.sub(r"\n{3,}", "\n\n", "".join(out))
    return _clean(text).strip()


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    links: list[tuple[str, int]] = []  # open links: href and where their text starts
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "link_open":
            links.append((str(child.attrGet("href") or ""), len(parts)))
        elif kind == "link_close" and links:
            href, begin = links.pop()
            label = "".join(parts[begin:])
            if href and href not in (label, f"mailto:{label}"):
                parts.append(f" ({href})")
    return "".join(parts)


def _entry(event: Event, *, uid: str, now: datetime | None) -> CalendarEvent:
    start, end = _utc(event.starts_at), _utc(event.ends_at)
    if end <= start:
        raise ValueError("an event must end after it starts")
    return CalendarEvent.new(
        uid=uid,
        stamp=_utc(now or utcnow()).replace(microsecond=0),
        start=start,
        end=end,
        summary=_clean(event.title),
    )


def _reminder(event: Event) -> Alarm:
    return Alarm.new_display(
        gettext("Starts in 15 minutes: %(title)s", title=_clean(event.title)), -REMINDER
    )


def _calendar(method: str, entry: CalendarEvent) -> bytes:
    calendar = Calendar.new(method=method, prodid=PRODID, subcomponents=[entry])
    # Calendar.new() adds a random RFC 7986 calendar UID; a message needs none, and leaving it
    # out keeps the file the same for the same event and time.
    calendar.uid = None
    return calendar.to_ical()


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        # A naive time would be written as a floating time, read in each viewer's own zone.
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC)


def _clean(text: str) -> str:
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", text))


def _name(text: str) -> str:
    # A CN is one line: a name with a line break in it is still the same name.
    return " ".join(_clean(text).split())


def _query(params: dict[str, str]) -> str:
    # quote (not quote_plus): spaces as %20, which every one of these services reads.
    return urlencode(params, quote_via=quote)
