"""A strict checker for the calendar files we send: RFC 5545 syntax and RFC 5546 (iTIP) rules.

icalendar and vobject both accept files that real calendars reject (no UID, end before start,
a cancel with an alarm), so the iTIP rules are asserted here directly on the raw lines too.
"""

from __future__ import annotations

import re
from collections import Counter
from email.message import Message

import vobject
from icalendar import Calendar
from icalendar import Event as CalendarEvent

MAX_OCTETS = 75
UTC_STAMP = re.compile(r"^\d{8}T\d{6}Z$")
BARE_MAILTO = re.compile(r"^mailto:[^\s<>\"(),;:]+@[^\s<>\"(),;:]+$", re.IGNORECASE)

# Properties a VEVENT may hold at most once (RFC 5545 3.6.1).
SINGLE = {
    "CLASS",
    "CREATED",
    "DESCRIPTION",
    "DTEND",
    "DTSTAMP",
    "DTSTART",
    "DURATION",
    "GEO",
    "LAST-MODIFIED",
    "LOCATION",
    "ORGANIZER",
    "PRIORITY",
    "RECURRENCE-ID",
    "SEQUENCE",
    "STATUS",
    "SUMMARY",
    "TRANSP",
    "UID",
    "URL",
}
# Exactly once in every message we send (RFC 5546 3.2.1, 3.2.2, 3.2.5).
REQUIRED = {"DTSTAMP", "DTSTART", "SUMMARY", "UID"}
REQUIRED_WITH_ORGANIZER = REQUIRED | {"ORGANIZER"}


def assert_valid_invite(
    ics: bytes,
    *,
    method: str,
    uid: str | None = None,
    sequence: int | None = None,
    attendee: str | None = None,
    organizer: str | None = None,
) -> Calendar:
    """Assert `ics` is one event a real calendar accepts as `method`; return it parsed.

    `attendee` and `organizer` are email addresses (compared without regard to case).
    """
    assert method in ("PUBLISH", "REQUEST", "CANCEL"), f"unknown method {method}"
    assert isinstance(ics, bytes), "a calendar file is bytes"
    _assert_lines(ics)
    assert _count_top_level(ics, "BEGIN:VEVENT") == 1, "expected exactly one VEVENT"
    assert _count_top_level(ics, "METHOD") == 1, "METHOD must appear exactly once"
    counts, nested = _vevent_property_counts(ics)
    required = REQUIRED if method == "PUBLISH" else REQUIRED_WITH_ORGANIZER
    for name in sorted(required):
        assert counts[name] == 1, f"{name} appears {counts[name]} times, expected exactly once"
    for name in sorted(SINGLE):
        assert counts[name] <= 1, f"{name} appears {counts[name]} times"
    assert not (counts["DTEND"] and counts["DURATION"]), "DTEND and DURATION together"
    if method == "CANCEL":
        assert counts["SEQUENCE"] == 1, "a CANCEL must carry its SEQUENCE"

    try:
        calendar = Calendar.from_ical(ics)
        calendar.validate()
    except Exception as exc:
        raise AssertionError(f"icalendar rejects the file: {exc}") from exc
    for component in calendar.walk():
        assert component.errors == [], f"{component.name} has errors: {component.errors}"
    try:
        vobject.readOne(ics.decode("utf-8")).validate(raiseException=True)
    except Exception as exc:
        raise AssertionError(f"vobject rejects the file: {exc}") from exc

    assert calendar.method == method, f"METHOD is {calendar.method}, expected {method}"
    assert calendar.get_missing_tzids() == set(), "every TZID needs its VTIMEZONE"
    others = {c.name for c in calendar.subcomponents} - {"VEVENT", "VTIMEZONE"}
    assert not others, f"unexpected components {others}"
    assert len(calendar.events) == 1, f"{len(calendar.events)} VEVENTs, expected exactly one"
    event = calendar.events[0]

    if uid is not None:
        assert str(event.uid) == uid, f"UID {event.uid!r}, expected {uid!r}"
    if sequence is not None:
        assert event.sequence == sequence, f"SEQUENCE {event.sequence}, expected {sequence}"

    stamp_line = _raw_value(ics, "DTSTAMP")
    assert UTC_STAMP.match(stamp_line), f"DTSTAMP {stamp_line!r} is not a UTC time"
    assert event.stamp.utcoffset().total_seconds() == 0
    start, end = event.start, event.end
    assert start.tzinfo is not None and start.utcoffset() is not None, "DTSTART is floating"
    assert end.tzinfo is not None and end.utcoffset() is not None, "DTEND is floating"
    assert end > start, f"the event ends ({end}) before it starts ({start})"

    if method == "PUBLISH":
        assert counts["ATTENDEE"] == 0, "RFC 5546 3.2.1: a PUBLISH has no ATTENDEE"
        assert b"RSVP=" not in _unfolded(ics), "a PUBLISH asks nobody to reply"
    else:
        _assert_organizer(event, ics, organizer)
        _assert_attendee(event, method, attendee)

    status = str(event.get("STATUS", "")).upper()
    if method == "CANCEL":
        assert status == "CANCELLED", f"a CANCEL needs STATUS:CANCELLED, not {status!r}"
        assert "VALARM" not in nested, "RFC 5546 3.2.5: a CANCEL has no VALARM"
    else:
        # REQUEST with STATUS:CANCELLED leaves the event in place in Outlook and Google.
        assert status != "CANCELLED", f"a {method} must not say STATUS:CANCELLED"
    for alarm in event.walk("VALARM"):
        assert alarm.get("ACTION") and alarm.get("TRIGGER"), "an alarm needs ACTION and TRIGGER"
    return calendar


def assert_mime_calendar_part(part: Message, ics: bytes | None = None) -> bytes:
    """Assert a MIME part is a text/calendar whose `method` parameter matches its METHOD.

    Returns the decoded calendar bytes (CRLFs as sent) for `assert_valid_invite`; when `ics`
    is given, they must equal it exactly.
    """
    assert part.get_content_type() == "text/calendar", part.get_content_type()
    declared = part.get_param("method")
    assert isinstance(declared, str) and declared, "text/calendar part without a method parameter"
    charset = part.get_param("charset")
    assert isinstance(charset, str) and charset.lower() == "utf-8", f"charset {charset!r}"
    body = part.get_payload(decode=True)
    assert isinstance(body, bytes) and body, "empty calendar part"
    _assert_lines(body)
    inside = Calendar.from_ical(body).method
    assert declared.upper() == str(inside).upper(), f"MIME method={declared}, METHOD:{inside}"
    if ics is not None:
        assert body == ics, "the calendar part differs from the calendar that was built"
    return body


def _assert_lines(ics: bytes) -> None:
    assert ics.endswith(b"\r\n"), "the file must end with CRLF"
    bare = ics.replace(b"\r\n", b"")
    assert b"\n" not in bare, "bare LF: lines must end with CRLF"
    assert b"\r" not in bare, "bare CR: lines must end with CRLF"
    for number, line in enumerate(ics.split(b"\r\n")[:-1], start=1):
        assert len(line) <= MAX_OCTETS, f"line {number} has {len(line)} octets: {line!r}"
        # Folding must not split a UTF-8 character across two physical lines.
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AssertionError(f"line {number} splits a UTF-8 character: {line!r}") from exc


def _unfolded(ics: bytes) -> bytes:
    return re.sub(rb"\r\n[ \t]", b"", ics)


def _content_lines(ics: bytes) -> list[str]:
    return _unfolded(ics).decode("utf-8").split("\r\n")[:-1]


def _name(line: str) -> str:
    return re.split(r"[;:]", line, maxsplit=1)[0].upper()


def _vevent_property_counts(ics: bytes) -> tuple[Counter[str], set[str]]:
    """Property names directly inside the VEVENT, and the components nested in it."""
    counts: Counter[str] = Counter()
    nested: set[str] = set()
    stack: list[str] = []
    for line in _content_lines(ics):
        name = _name(line)
        value = line.split(":", 1)[1].upper() if ":" in line else ""
        if name == "BEGIN":
            if stack and stack[-1] == "VEVENT":
                nested.add(value)
            stack.append(value)
        elif name == "END":
            assert stack and stack[-1] == value, f"END:{value} does not close {stack}"
            stack.pop()
        elif stack and stack[-1] == "VEVENT":
            counts[name] += 1
    assert not stack, f"unclosed components {stack}"
    return counts, nested


def _count_top_level(ics: bytes, wanted: str) -> int:
    """How often a property (METHOD) or a component (BEGIN:VEVENT) sits directly in VCALENDAR."""
    depth = 0
    found = 0
    for line in _content_lines(ics):
        name = _name(line)
        if name == "BEGIN":
            depth += 1
            found += depth == 2 and line.upper() == wanted
        elif name == "END":
            depth -= 1
        elif depth == 1 and name == wanted:
            found += 1
    return found


def _raw_value(ics: bytes, property_name: str) -> str:
    for line in _content_lines(ics):
        if _name(line) == property_name:
            return line.split(":", 1)[1]
    raise AssertionError(f"no {property_name} line")


def _assert_organizer(event: CalendarEvent, ics: bytes, expected: str | None) -> None:
    found = event.organizer
    assert found is not None, "an iTIP message needs an ORGANIZER"
    raw = _raw_value(ics, "ORGANIZER")
    assert BARE_MAILTO.match(raw), f"ORGANIZER must be a bare mailto:, not {raw!r}"
    assert found.CN, "ORGANIZER needs a CN"
    if expected is not None:
        assert found.email.lower() == expected.lower(), f"ORGANIZER {found.email}"


def _assert_attendee(event: CalendarEvent, method: str, expected: str | None) -> None:
    attendees = event.attendees
    assert len(attendees) == 1, f"{len(attendees)} ATTENDEEs: one invite per registrant"
    attendee = attendees[0]
    assert str(attendee).lower().startswith("mailto:"), f"ATTENDEE {attendee!r}"
    assert attendee.CN, "ATTENDEE needs a CN"
    assert attendee.ROLE == "REQ-PARTICIPANT", f"ROLE={attendee.ROLE}"
    if method == "REQUEST":
        assert attendee.PARTSTAT == "NEEDS-ACTION", f"PARTSTAT={attendee.PARTSTAT}"
        assert attendee.RSVP is True, f"RSVP={attendee.RSVP}"
    if expected is not None:
        assert attendee.email.lower() == expected.lower(), f"ATTENDEE {attendee.email}"
