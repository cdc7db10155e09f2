"""Calendar invites that real calendars accept: iTIP files, .ics routes, add-to-calendar links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import update

from app.db import db
from app.events.calendar import (
    LINK_DETAILS_LIMIT,
    add_to_calendar_links,
    invite,
    plain_description,
    public_calendar,
)
from app.events.models import Event
from app.events.services import cancel_event, update_event
from app.registrations import services
from app.registrations.links import manage_token, manage_url
from app.registrations.models import Registration
from tests.builders import cancel_in_two_steps, make_event, register_person
from tests.itip import assert_mime_calendar_part, assert_valid_invite

SENDER = '"Events, Reserve" <invites@reserve.example>'
NOW = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
START = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "MAIL_DEFAULT_SENDER": SENDER}


def request_for(event: Event, **overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "uid": "0f1e2d3c@reserve-invite",
        "sequence": 0,
        "method": "REQUEST",
        "attendee_email": "ada@example.com",
        "attendee_name": "Ada Lovelace",
        "organizer_name": "Events, Reserve",
        "organizer_email": "invites@reserve.example",
        "manage_url": "http://testserver/r/secret-token",
        "now": NOW,
    }
    values.update(overrides)
    return invite(event, **values)


def vevent(ics: bytes):  # type: ignore[no-untyped-def]
    return Calendar.from_ical(ics).events[0]


def raw_lines(ics: bytes) -> list[bytes]:
    return ics.split(b"\r\n")[:-1]


def unfolded(ics: bytes) -> str:
    return re.sub(rb"\r\n[ \t]", b"", ics).decode()


# --- The invite a registrant gets (METHOD:REQUEST) -------------------------------------------


def test_request_invite_is_a_valid_itip_request_for_one_attendee(app):
    event = make_event(starts_at=START, description="What is **new** this spring.")
    ics = request_for(event)
    calendar = assert_valid_invite(
        ics,
        method="REQUEST",
        uid="0f1e2d3c@reserve-invite",
        sequence=0,
        attendee="ada@example.com",
        organizer="invites@reserve.example",
    )
    entry = calendar.events[0]
    assert entry.start == START and entry.end == START + timedelta(minutes=60)
    assert "DTSTART:20261026T080000Z" in unfolded(ics)
    assert entry.stamp == NOW.replace(microsecond=0)
    assert str(entry.status) == "CONFIRMED"
    assert entry.organizer.CN == "Events, Reserve"
    assert entry.attendees[0].CN == "Ada Lovelace"
    assert 'ORGANIZER;CN="Events, Reserve":mailto:invites@reserve.example' in unfolded(ics)
    (alarm,) = entry.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == -timedelta(minutes=15)


def test_online_event_puts_the_join_link_in_location_url_and_description(app):
    event = make_event(join_url="https://meet.example.com/j/42", location=None)
    entry = vevent(request_for(event, manage_url="http://testserver/r/tok"))
    assert str(entry["LOCATION"]) == "https://meet.example.com/j/42"
    assert str(entry["URL"]) == "https://meet.example.com/j/42"
    description = str(entry["DESCRIPTION"])
    assert "Join: https://meet.example.com/j/42" in description
    assert "http://testserver/r/tok" in description
    assert "What is new this spring." in description


def test_in_person_event_keeps_its_place_in_location_and_the_link_in_url(app):
    event = make_event(location="Hall 3, Messe Berlin", join_url="https://stream.example.com/x")
    entry = vevent(request_for(event))
    assert str(entry["LOCATION"]) == "Hall 3, Messe Berlin"
    assert str(entry["URL"]) == "https://stream.example.com/x"


def test_event_without_a_join_link_has_no_url(app):
    event = make_event(location="Hall 3", join_url=None)
    entry = vevent(request_for(event))
    assert "URL" not in entry
    assert "Join:" not in str(entry["DESCRIPTION"])


def test_markdown_description_becomes_plain_text_with_its_links(app):
    source = (
        "Hear **what is new**, then [read the notes](https://docs.example.com/notes).\n\n"
        "- first topic\n- second topic\n\n1. one\n2. two"
    )
    assert plain_description(source) == (
        "Hear what is new, then read the notes (https://docs.example.com/notes).\n\n"
        "- first topic\n- second topic\n\n1. one\n2. two"
    )


def test_an_update_keeps_the_uid_and_carries_the_new_time_and_a_higher_sequence(app):
    event = make_event(starts_at=START)
    first = request_for(event, sequence=0)
    update_event(event, {"starts_at": START + timedelta(hours=2)})
    second = request_for(event, sequence=1)
    assert_valid_invite(second, method="REQUEST", uid="0f1e2d3c@reserve-invite", sequence=1)
    assert vevent(second).start == START + timedelta(hours=2)
    assert vevent(first).uid == vevent(second).uid


def test_cancel_keeps_the_uid_raises_the_sequence_and_has_no_alarm(app):
    event = make_event()
    request = request_for(event, sequence=1)
    cancel = request_for(event, method="CANCEL", sequence=2)
    calendar = assert_valid_invite(
        cancel,
        method="CANCEL",
        uid="0f1e2d3c@reserve-invite",
        sequence=2,
        attendee="ada@example.com",
        organizer="invites@reserve.example",
    )
    entry = calendar.events[0]
    assert str(entry.status) == "CANCELLED"
    assert not list(entry.walk("VALARM"))
    assert b"VALARM" not in cancel
    assert vevent(request).uid == entry.uid
    assert entry.sequence > vevent(request).sequence


def test_an_invite_is_only_a_request_or_a_cancel(app):
    event = make_event()
    with pytest.raises(ValueError, match="REQUEST or a CANCEL"):
        request_for(event, method="PUBLISH")


def test_a_naive_time_is_refused_rather_than_written_as_floating_time(app):
    event = make_event()
    with pytest.raises(ValueError, match="timezone-aware"):
        request_for(event, now=datetime(2026, 5, 1, 12, 0))


# --- Text that must survive the trip ----------------------------------------------------------

NASTY_TITLES = [
    'Q&A: "Pricing", discounts; refunds \\ returns',
    "Zürich · 東京 · Ελληνικά · emoji 🎉 and tabs\tinside",
    "Two\nlines, with; every \\, escape \\; \\n literally",
    "Ends with a backslash \\",
]


@pytest.mark.parametrize("title", NASTY_TITLES)
def test_nasty_titles_round_trip_exactly(app, title):
    event = make_event(title=title)
    for ics in (request_for(event), public_calendar(event, event_url="http://testserver/e/x")):
        method = "REQUEST" if b"METHOD:REQUEST" in ics else "PUBLISH"
        entry = assert_valid_invite(ics, method=method).events[0]
        assert str(entry["SUMMARY"]) == title


def test_nasty_descriptions_and_names_round_trip_exactly(app):
    text = (
        'Bring a laptop, charger; and "good" questions.\n'
        "Paths like C:\\Temp\\new stay, so does 50% & <b>not bold</b>.\n"
        "Straße, Ελληνικά, 日本語 — ok?"
    )
    event = make_event(description=text)
    ics = request_for(
        event,
        attendee_name='O\'Brien, "Pat"; Jr.',
        organizer_name='Events; Team, "Ops" \\ Berlin',
    )
    entry = assert_valid_invite(ics, method="REQUEST").events[0]
    assert text in str(entry["DESCRIPTION"])
    assert entry.attendees[0].CN == 'O\'Brien, "Pat"; Jr.'
    assert entry.organizer.CN == 'Events; Team, "Ops" \\ Berlin'


def test_control_characters_and_bare_carriage_returns_never_reach_the_file(app):
    event = make_event(title="Bell\x07 and\r\nbreak\rhere", description="one\r\ntwo\x1b")
    ics = request_for(event, attendee_name="Ada\nLovelace")
    entry = assert_valid_invite(ics, method="REQUEST").events[0]
    assert str(entry["SUMMARY"]) == "Bell and\nbreak\nhere"
    assert str(entry["DESCRIPTION"]).endswith("one\ntwo")
    assert entry.attendees[0].CN == "Ada Lovelace"
    assert b"\x07" not in ics and b"\x1b" not in ics


def test_long_non_ascii_lines_fold_at_75_octets_without_splitting_characters(app):
    title = "Résumé-Workshop für Fortgeschrittene – 東京とベルリン 🎉 " * 4  # within 200
    event = make_event(title=title.strip(), description="Überblick über 東京 und Zürich. " * 40)
    ics = request_for(event)
    assert_valid_invite(ics, method="REQUEST")
    lines = raw_lines(ics)
    assert max(len(line) for line in lines) <= 75
    continuation = [line for line in lines if line.startswith(b" ")]
    assert len(continuation) >= 4, "the long title must be folded"
    for line in lines:
        line.decode("utf-8")  # a character split across lines would not decode
    assert str(vevent(ics)["SUMMARY"]) == title.strip()
    assert ("Überblick über 東京 und Zürich. " * 40).strip() in str(vevent(ics)["DESCRIPTION"])


# --- Time: stored in UTC, written in UTC, right across daylight-saving changes -----------------

DST_CASES = [
    # zone, local wall time, the UTC instant it is
    ("Europe/Berlin", datetime(2026, 10, 24, 9, 0), "20261024T070000Z"),  # CEST, UTC+2
    ("Europe/Berlin", datetime(2026, 10, 26, 9, 0), "20261026T080000Z"),  # CET, after 25 Oct
    ("America/New_York", datetime(2026, 10, 31, 9, 0), "20261031T130000Z"),  # EDT, UTC-4
    ("America/New_York", datetime(2026, 11, 2, 9, 0), "20261102T140000Z"),  # EST, after 1 Nov
    ("Europe/Berlin", datetime(2027, 3, 29, 9, 0), "20270329T070000Z"),  # CEST again
]


@pytest.mark.parametrize(("zone", "wall", "utc"), DST_CASES)
def test_local_wall_time_lands_at_the_right_utc_instant_across_dst(app, zone, wall, utc):
    event = make_event(starts_at=wall.replace(tzinfo=ZoneInfo(zone)), timezone=zone)
    db.session.expire_all()  # read it back as stored
    stored = db.session.get(Event, event.id)
    for ics in (request_for(stored), public_calendar(stored, event_url="http://testserver/e/x")):
        text = unfolded(ics)
        assert f"DTSTART:{utc}\r\n" in text
        assert "TZID" not in text
    google = dict(add_to_calendar_links(stored, details="", ics_url="x"))["Google"]
    assert parse_qs(urlsplit(google).query)["dates"][0].startswith(utc + "/")
    assert stored.local_start.hour == 9


@pytest.mark.parametrize(("zone", "wall", "utc"), DST_CASES)
def test_an_event_given_in_local_time_is_written_in_utc(app, zone, wall, utc):
    unsaved = Event(
        id=1, title="Local", description="", timezone=zone, join_url="https://j.example"
    )
    unsaved.schedule(wall.replace(tzinfo=ZoneInfo(zone)), 45)
    assert f"DTSTART:{utc}\r\n" in unfolded(request_for(unsaved))


# --- The public file (METHOD:PUBLISH) ----------------------------------------------------------


def test_public_calendar_is_a_publish_without_attendee_organizer_or_secrets(app):
    event = make_event(join_url="https://meet.example.com/secret-room", location=None)
    ics = public_calendar(event, event_url="http://testserver/e/launch-webinar", now=NOW)
    calendar = assert_valid_invite(ics, method="PUBLISH", uid=f"event-{event.id}@testserver")
    entry = calendar.events[0]
    assert "ATTENDEE" not in entry and "ORGANIZER" not in entry
    assert b"secret-room" not in ics  # the join link is for registrants only
    assert b"/r/" not in ics
    assert str(entry["URL"]) == "http://testserver/e/launch-webinar"
    assert str(entry["LOCATION"]) == "Online"
    assert "Register: http://testserver/e/launch-webinar" in str(entry["DESCRIPTION"])


def test_public_calendar_uid_is_stable_per_event_and_differs_between_events(app):
    event = make_event()
    other = make_event(slug="another-one")
    url = "http://testserver/e/launch-webinar"
    before = vevent(public_calendar(event, event_url=url)).uid
    update_event(event, {"title": "Launch webinar, moved", "starts_at": START})
    after = vevent(public_calendar(event, event_url=url)).uid
    assert before == after == f"event-{event.id}@testserver"
    assert vevent(public_calendar(other, event_url=url)).uid != before


# --- Add-to-calendar links ----------------------------------------------------------------------


def query(url: str) -> dict[str, str]:
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values())
    return {key: values[0] for key, values in parsed.items()}


def test_add_to_calendar_links_carry_the_right_utc_times_and_text(app):
    title = 'Q&A, "live"; Zürich + more'
    event = make_event(title=title, starts_at=START, duration_minutes=90, location=None)
    details = "Join: https://meet.example.com/launch\n\nBring questions, please; 100% welcome"
    links = add_to_calendar_links(
        event, details=details, ics_url="http://testserver/r/t/invite.ics"
    )
    assert [name for name, _ in links] == [
        "Google",
        "Outlook.com",
        "Office 365",
        "Yahoo",
        "Apple (.ics)",
    ]
    urls = dict(links)
    for name in ("Google", "Outlook.com", "Office 365", "Yahoo"):
        # quote, not quote_plus: a literal "+" in the title must stay a plus.
        assert "+" not in urlsplit(urls[name]).query
        assert "%20" in urls[name]

    google = urlsplit(urls["Google"])
    assert (google.scheme, google.netloc, google.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    assert query(urls["Google"]) == {
        "action": "TEMPLATE",
        "text": title,
        "dates": "20261026T080000Z/20261026T093000Z",
        "details": details,
        "location": "https://meet.example.com/launch",
    }

    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "startdt": "2026-10-26T08:00:00Z",
        "enddt": "2026-10-26T09:30:00Z",
        "subject": title,
        "body": details,
        "location": "https://meet.example.com/launch",
        "allday": "false",
    }
    live = urlsplit(urls["Outlook.com"])
    assert (live.netloc, live.path) == ("outlook.live.com", "/calendar/0/deeplink/compose")
    assert query(urls["Outlook.com"]) == outlook
    office = urlsplit(urls["Office 365"])
    assert (office.netloc, office.path) == ("outlook.office.com", "/calendar/0/deeplink/compose")
    assert query(urls["Office 365"]) == outlook

    yahoo = urlsplit(urls["Yahoo"])
    assert (yahoo.netloc, yahoo.path) == ("calendar.yahoo.com", "/")
    assert query(urls["Yahoo"]) == {
        "v": "60",
        "title": title,
        "st": "20261026T080000Z",
        "et": "20261026T093000Z",
        "desc": details,
        "in_loc": "https://meet.example.com/launch",
    }
    assert urls["Apple (.ics)"] == "http://testserver/r/t/invite.ics"


def test_add_to_calendar_links_cut_very_long_details(app):
    event = make_event()
    links = dict(add_to_calendar_links(event, details="x" * 5000, ics_url="u"))
    details = query(links["Google"])["details"]
    assert len(details) == LINK_DETAILS_LIMIT
    assert details.endswith("…")


# --- Routes -------------------------------------------------------------------------------------


def test_public_ics_route_serves_a_publish_file_as_an_attachment(client, event):
    response = client.get("/e/launch-webinar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8; method=PUBLISH"
    assert response.headers["Content-Disposition"] == 'attachment; filename="launch-webinar.ics"'
    entry = assert_valid_invite(response.data, method="PUBLISH").events[0]
    assert str(entry["URL"]) == "http://testserver/e/launch-webinar"
    assert entry.start == event.starts_at
    # The landing page at the same prefix still answers.
    assert client.get("/e/launch-webinar").status_code == 200


def test_public_ics_route_answers_404_for_unknown_draft_and_cancelled_events(client, app):
    make_event(slug="a-draft", status="draft")
    cancel_event(make_event(slug="called-off"))
    for slug in ("nope", "a-draft", "called-off"):
        response = client.get(f"/e/{slug}.ics")
        assert response.status_code == 404
        assert "no published event" in response.get_data(as_text=True)


def test_personal_invite_route_serves_the_registrants_request(client, event):
    registration = register_person(event, "ada@example.com", last_name="Lovelace")
    token = manage_token(registration)
    response = client.get(f"/r/{token}/invite.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8; method=REQUEST"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = assert_valid_invite(
        response.data,
        method="REQUEST",
        uid=registration.invite_uid,
        sequence=registration.invite_sequence,
        attendee="ada@example.com",
        organizer=parseaddr(SENDER)[1],
    )
    entry = calendar.events[0]
    assert entry.organizer.CN == "Events, Reserve"
    assert entry.attendees[0].CN == "Ada Lovelace"
    assert manage_url(registration) in str(entry["DESCRIPTION"])


def test_the_downloaded_invite_names_the_sender_staff_chose_like_the_emailed_one(client, event):
    from app.sender import save_sender

    save_sender("Acme Events", "hello@acme.example")
    registration = register_person(event, "ada@example.com")
    response = client.get(f"/r/{manage_token(registration)}/invite.ics")
    entry = assert_valid_invite(
        response.data, method="REQUEST", organizer="hello@acme.example"
    ).events[0]
    assert entry.organizer.CN == "Acme Events"


def test_personal_invite_keeps_its_uid_through_an_update_and_a_cancel(client, event):
    registration = register_person(event, "ada@example.com")
    token = manage_token(registration)
    first = vevent(client.get(f"/r/{token}/invite.ics").data)

    # Moving the event re-issues invites (SEQUENCE + 1); the file follows the stored sequence.
    update_event(event, {"starts_at": event.starts_at + timedelta(days=1)})
    db.session.refresh(registration)
    moved = vevent(client.get(f"/r/{token}/invite.ics").data)
    assert moved.uid == first.uid == registration.invite_uid
    assert moved.sequence == registration.invite_sequence == first.sequence + 1
    assert moved.start == first.start + timedelta(days=1)

    cancel_in_two_steps(client, f"/r/{token}")
    db.session.refresh(registration)
    cancel = client.get(f"/r/{token}/invite.ics").data
    gone = assert_valid_invite(cancel, method="CANCEL", uid=first.uid).events[0]
    assert gone.sequence == registration.invite_sequence == moved.sequence + 1


def test_cancelled_registration_gets_the_cancel_version(client, event):
    registration = register_person(event, "ada@example.com")
    token = manage_token(registration)
    cancel_in_two_steps(client, f"/r/{token}")
    db.session.refresh(registration)
    assert registration.status == "cancelled"
    response = client.get(f"/r/{token}/invite.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8; method=CANCEL"
    assert_valid_invite(
        response.data,
        method="CANCEL",
        uid=registration.invite_uid,
        sequence=registration.invite_sequence,
        attendee="ada@example.com",
        organizer=parseaddr(SENDER)[1],
    )


def test_cancelled_event_gives_its_confirmed_registrants_the_cancel_version(client, event):
    registration = register_person(event, "ada@example.com")
    cancel_event(event)
    response = client.get(f"/r/{manage_token(registration)}/invite.ics")
    assert response.status_code == 200
    assert "method=CANCEL" in response.headers["Content-Type"]
    assert_valid_invite(response.data, method="CANCEL", uid=registration.invite_uid)


def test_waitlisted_registrant_gets_a_clear_404_instead_of_an_invite(client, app):
    event = make_event(capacity=1, waitlist=True)
    register_person(event, "first@example.com")
    waiting = register_person(event, "second@example.com")
    assert waiting.status == "waitlisted"
    response = client.get(f"/r/{manage_token(waiting)}/invite.ics")
    assert response.status_code == 404
    assert "You are on the waitlist" in response.get_data(as_text=True)


def test_registrant_waiting_for_payment_gets_a_clear_404(client, event):
    registration = register_person(event, "ada@example.com")
    # A paid seat needs Stripe, which is another part's test; the state is what matters here.
    db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id)
        .values(status="pending_payment")
    )
    db.session.commit()
    response = client.get(f"/r/{manage_token(registration)}/invite.ics")
    assert response.status_code == 404
    assert "waiting for payment" in response.get_data(as_text=True)


def test_forged_invite_link_answers_404(client, event):
    assert client.get("/r/not-a-real-token/invite.ics").status_code == 404


class Links(HTMLParser):
    """The hrefs and rel attributes of every link on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))


def page_links(html: str) -> list[dict[str, str | None]]:
    parser = Links()
    parser.feed(html)
    return parser.links


@pytest.mark.parametrize("page", ["manage", "thanks"])
def test_confirmed_registrant_pages_offer_add_to_calendar_links(client, event, page):
    registration = register_person(event, "ada@example.com")
    token = manage_token(registration)
    path = f"/r/{token}" if page == "manage" else f"/r/{token}/thanks"
    html = client.get(path).get_data(as_text=True)
    assert "Add to your calendar" in html
    links = page_links(html)
    expected = add_to_calendar_links(
        event,
        details=(
            f"Join: {event.join_url}\n\n"
            f"Your registration (details, cancel): {manage_url(registration)}\n\n"
            "What is new this spring."
        ),
        ics_url=f"http://testserver/r/{token}/invite.ics",
    )
    by_href = {link["href"]: link for link in links}
    for name, url in expected:
        assert url in by_href, f"{name} link missing"
    for name, url in expected[:-1]:
        # The page address holds the manage token: it must not leak as a Referer.
        assert by_href[url]["rel"] == "noopener noreferrer", name
    assert "download" in by_href[expected[-1][1]]


def test_waitlisted_and_cancelled_registrants_get_no_add_to_calendar_links(client, app):
    event = make_event(capacity=1, waitlist=True)
    seated = register_person(event, "first@example.com")
    waiting = register_person(event, "second@example.com")
    assert "Add to your calendar" not in client.get(f"/r/{manage_token(waiting)}").text
    services.cancel(seated.id)
    html = client.get(f"/r/{manage_token(seated)}").get_data(as_text=True)
    assert "Add to your calendar" not in html
    assert "calendar.google.com" not in html


def test_registrants_of_a_cancelled_event_get_no_add_to_calendar_links(client, event):
    registration = register_person(event, "ada@example.com")
    cancel_event(event)
    html = client.get(f"/r/{manage_token(registration)}").get_data(as_text=True)
    assert "calendar.google.com" not in html


# --- The checker itself must catch what real calendars reject ---------------------------------


def good_request(event: Event) -> bytes:
    return request_for(event, sequence=1, now=NOW)


def fold(text: str) -> bytes:
    """Content lines folded at 75 octets between characters, as RFC 5545 3.1 asks."""
    out = []
    for line in text.split("\r\n")[:-1]:
        data, chunks, limit = line.encode(), [], 75
        while len(data) > limit:
            cut = limit
            while data[cut] & 0xC0 == 0x80:  # never inside a UTF-8 character
                cut -= 1
            chunks.append(data[:cut])
            data, limit = data[cut:], 74
        out.append(b"\r\n ".join([*chunks, data]))
    return b"\r\n".join(out) + b"\r\n"


def fold_inside_a_character(ics: bytes) -> bytes:
    line = b"SUMMARY:" + "é".encode() * 40
    assert line[74] == "é".encode()[0]  # octet 75 is the first half of an é
    return re.sub(rb"SUMMARY:[^\r]*\r\n", lambda _: line[:75] + b"\r\n " + line[75:] + b"\r\n", ics)


# Breakages of the lines themselves, applied to the bytes as sent.
BROKEN_LINES: dict[str, Any] = {
    "bare LF line endings": lambda ics: ics.replace(b"\r\n", b"\n"),
    "a bare CR": lambda ics: ics.replace(b"SEQUENCE:1", b"SEQUENCE:1\rX-A:1"),
    "an unfolded line over 75 octets": lambda ics: ics.replace(
        b"SUMMARY:Launch webinar", b"SUMMARY:" + b"Launch webinar " * 6
    ),
    "a fold that splits a UTF-8 character": fold_inside_a_character,
    "no CRLF at the end": lambda ics: ics.removesuffix(b"\r\n"),
}
# Breakages of the content, applied to the unfolded text and folded again correctly.
BROKEN_CONTENT: dict[str, Any] = {
    "no UID": lambda text: re.sub(r"\r\nUID:[^\r]*", "", text),
    "no DTSTAMP": lambda text: re.sub(r"\r\nDTSTAMP:[^\r]*", "", text),
    "no SUMMARY": lambda text: re.sub(r"\r\nSUMMARY:[^\r]*", "", text),
    "two SUMMARY lines": lambda text: text.replace(
        "SUMMARY:Launch webinar\r\n", "SUMMARY:Launch webinar\r\nSUMMARY:Again\r\n"
    ),
    "no ORGANIZER": lambda text: re.sub(r"\r\nORGANIZER[^\r]*", "", text),
    "ORGANIZER with a display name": lambda text: text.replace(
        ":mailto:invites@reserve.example", ":mailto:Events <invites@reserve.example>"
    ),
    "ORGANIZER without CN": lambda text: text.replace(
        'ORGANIZER;CN="Events, Reserve":', "ORGANIZER:"
    ),
    "no ATTENDEE": lambda text: re.sub(r"\r\nATTENDEE[^\r]*", "", text),
    "a second ATTENDEE": lambda text: text.replace(
        "BEGIN:VALARM", "ATTENDEE;CN=Bob:mailto:bob@example.com\r\nBEGIN:VALARM"
    ),
    "RSVP not asked": lambda text: text.replace("RSVP=TRUE", "RSVP=FALSE"),
    "an optional role": lambda text: text.replace("REQ-PARTICIPANT", "OPT-PARTICIPANT"),
    "a floating start time": lambda text: text.replace(
        "DTSTART:20261026T080000Z", "DTSTART:20261026T080000"
    ),
    "the end before the start": lambda text: text.replace(
        "DTEND:20261026T090000Z", "DTEND:20261026T070000Z"
    ),
    "a local DTSTAMP": lambda text: text.replace(
        "DTSTAMP:20260501T120000Z", "DTSTAMP:20260501T120000"
    ),
    "a TZID without VTIMEZONE": lambda text: text.replace(
        "DTSTART:20261026T080000Z", "DTSTART;TZID=Europe/Berlin:20261026T100000"
    ),
    "two VEVENTs": lambda text: text.replace(
        "END:VCALENDAR",
        re.search(r"BEGIN:VEVENT.*END:VEVENT\r\n", text, re.S)[0] + "END:VCALENDAR",  # type: ignore[index]
    ),
    "two METHODs": lambda text: text.replace(
        "METHOD:REQUEST\r\n", "METHOD:REQUEST\r\nMETHOD:PUBLISH\r\n"
    ),
    "an unparsable value": lambda text: text.replace("SEQUENCE:1", "SEQUENCE:one"),
    "a REQUEST saying CANCELLED": lambda text: text.replace("STATUS:CONFIRMED", "STATUS:CANCELLED"),
}


def test_refolding_an_unbroken_request_keeps_it_valid(app):
    # So in the test below it is the breakage, not the refolding, that the checker rejects.
    good = good_request(make_event(title="Résumé 東京 " * 12, starts_at=START))
    refolded = fold(unfolded(good))
    assert unfolded(refolded) == unfolded(good)
    assert_valid_invite(refolded, method="REQUEST", sequence=1)


@pytest.mark.parametrize("breakage", [*BROKEN_LINES, *BROKEN_CONTENT])
def test_checker_rejects_a_broken_request(app, breakage):
    event = make_event(starts_at=START)
    good = good_request(event)
    assert_valid_invite(good, method="REQUEST", sequence=1)
    if breakage in BROKEN_LINES:
        broken = BROKEN_LINES[breakage](good)
    else:
        broken = fold(BROKEN_CONTENT[breakage](unfolded(good)))
    assert broken != good, "the breakage must change the file"
    with pytest.raises(AssertionError):
        assert_valid_invite(broken, method="REQUEST", sequence=1)


def test_checker_rejects_a_cancel_with_an_alarm_or_without_cancelled_status(app):
    event = make_event()
    request = good_request(event)
    cancel_with_alarm = request.replace(b"METHOD:REQUEST", b"METHOD:CANCEL").replace(
        b"STATUS:CONFIRMED", b"STATUS:CANCELLED"
    )
    with pytest.raises(AssertionError, match="VALARM"):
        assert_valid_invite(cancel_with_alarm, method="CANCEL")
    good_cancel = request_for(event, method="CANCEL", sequence=2)
    still_confirmed = good_cancel.replace(b"STATUS:CANCELLED", b"STATUS:CONFIRMED")
    with pytest.raises(AssertionError, match="CANCELLED"):
        assert_valid_invite(still_confirmed, method="CANCEL")


def test_checker_rejects_a_publish_with_an_attendee_and_wrong_expectations(app):
    event = make_event()
    request = good_request(event)
    with pytest.raises(AssertionError, match="ATTENDEE"):
        assert_valid_invite(request.replace(b"METHOD:REQUEST", b"METHOD:PUBLISH"), method="PUBLISH")
    with pytest.raises(AssertionError, match="METHOD"):
        assert_valid_invite(request, method="CANCEL")
    with pytest.raises(AssertionError, match="UID"):
        assert_valid_invite(request, method="REQUEST", uid="another@reserve-invite")
    with pytest.raises(AssertionError, match="SEQUENCE"):
        assert_valid_invite(request, method="REQUEST", sequence=0)
    with pytest.raises(AssertionError, match="ATTENDEE"):
        assert_valid_invite(request, method="REQUEST", attendee="bob@example.com")
    with pytest.raises(AssertionError, match="ORGANIZER"):
        assert_valid_invite(request, method="REQUEST", organizer="someone@else.example")


def calendar_part(ics: bytes, method: str) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message.set_content(
        ics, maintype="text", subtype="calendar", params={"method": method, "charset": "utf-8"}
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.SMTP)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_mime_checker_needs_the_method_parameter_to_match_method(app):
    event = make_event()
    ics = good_request(event)
    body = assert_mime_calendar_part(calendar_part(ics, "REQUEST"), ics)
    assert body == ics  # CRLFs survive the base64 trip
    assert_valid_invite(body, method="REQUEST")
    with pytest.raises(AssertionError, match="method"):
        assert_mime_calendar_part(calendar_part(ics, "CANCEL"), ics)
    with pytest.raises(AssertionError):
        assert_mime_calendar_part(calendar_part(ics, "REQUEST"), ics.replace(b"Launch", b"Other"))
