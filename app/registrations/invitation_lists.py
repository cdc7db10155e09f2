"""Personal links in bulk: a marketing tool's list of emails in, each person's personal link
to an event's page out, as a CSV to import back (a contact property the invitation's merge
tag reads).

An email that is not a lead yet becomes one (first and last name from the list when it has
those columns), so every row comes back with a link: a HubSpot or Mailchimp user merges the
column into every invitation, and an empty cell would send someone a broken link. The answer
says how many leads were new, and the CSV marks each.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app import fields
from app.db import column_length, db, insert_ignoring_conflict, utcnow, writing
from app.refusals import Refusal
from app.registrations.models import Lead
from app.registrations.personal_links import personal_url
from app.spreadsheet import csv_writer, dialect_of, safe_cell

# A marketing list of this many people is a segment, not an invitation; split it.
MAX_PEOPLE = 10_000
MAX_BYTES = 5 * 1024 * 1024
CSV_HEADER = ("email", "first_name", "last_name", "personal_link", "new_lead")
# Header names the tools use, read without regard to case, spaces, `-` and `_`.
_EMAIL_HEADERS = {"email", "emailaddress", "email1", "workemail"}
_FIRST_HEADERS = {"firstname", "givenname", "first"}
_LAST_HEADERS = {"lastname", "surname", "familyname", "last"}


class ListRefused(Refusal):
    """The upload is not a list of emails we can read; `fields` names the `file`."""

    def __init__(self, message: str) -> None:
        super().__init__(message, fields={"file": message})


@dataclass(frozen=True)
class Listed:
    """One person on the uploaded list, as it names them."""

    email: str
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class PersonalLinkRow:
    email: str
    first_name: str
    last_name: str
    personal_link: str
    new_lead: bool


def read_list(data: bytes) -> list[Listed]:
    """The people on an uploaded CSV: its email column (a header such as `Email`), or else
    the first cell of each row that reads as an address; rows without one are skipped, and
    an address listed twice counts once."""
    if len(data) > MAX_BYTES:
        raise ListRefused(f"Upload at most {MAX_BYTES // (1024 * 1024)} MB of emails at a time.")
    text = _text_of(data)
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect_of(text[: 64 * 1024])))
    header = [_header_key(cell) for cell in rows[0]] if rows else []
    columns = _columns(header)
    if columns is not None:
        rows = rows[1:]
    people: dict[str, Listed] = {}
    for row in rows:
        person = _person(row, columns)
        if person is not None:
            people.setdefault(person.email, person)
    if not people:
        raise ListRefused("The file holds no email addresses: upload a CSV with an email column.")
    if len(people) > MAX_PEOPLE:
        raise ListRefused(f"Upload at most {MAX_PEOPLE:,} people at a time.")
    return list(people.values())


def listed(emails: Sequence[str]) -> list[Listed]:
    """The people an API call names by email; ListRefused naming the first address that is
    not one (a list from an integration has no header rows or blanks to skip)."""
    people: dict[str, Listed] = {}
    for at, email in enumerate(emails):
        address = _address(email)
        if address is None:
            raise Refusal(
                "Some emails are not addresses.",
                fields={f"emails.{at}": "This is not an email address."},
            )
        people.setdefault(address, Listed(address))
    return list(people.values())


def personal_links(people: Sequence[Listed], slug: str) -> list[PersonalLinkRow]:
    """Each person's personal link to event `slug`, in the list's order; an email that is
    not a lead yet becomes one, in one transaction."""
    now = utcnow()
    created: set[str] = set()
    with writing():
        for person in people:
            inserted = insert_ignoring_conflict(
                Lead,
                ["email"],
                email=person.email,
                first_name=person.first_name[: column_length(Lead, "first_name")],
                last_name=person.last_name[: column_length(Lead, "last_name")],
                status="new",
                score=0,
                consent_marketing=False,
                created_at=now,
                updated_at=now,
            )
            if inserted:
                created.add(person.email)
        leads = {
            lead.email: lead
            for lead in db.session.scalars(
                select(Lead).where(Lead.email.in_([person.email for person in people]))
            )
        }
        return [
            PersonalLinkRow(
                email=lead.email,
                first_name=lead.first_name,
                last_name=lead.last_name,
                personal_link=personal_url(lead, slug),
                new_lead=person.email in created,
            )
            for person in people
            if (lead := leads.get(person.email)) is not None
        ]


def links_csv(rows: Sequence[PersonalLinkRow]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(
            [
                safe_cell(row.email),
                safe_cell(row.first_name),
                safe_cell(row.last_name),
                row.personal_link,
                "yes" if row.new_lead else "no",
            ]
        )
    return buffer.getvalue()


def _text_of(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ListRefused(
            'The file is not UTF-8 text. Save or export it as "CSV UTF-8" and upload it again.'
        ) from None
    if "\x00" in text:
        raise ListRefused("This is a binary file, not a CSV of emails.")
    return text


def _header_key(cell: str) -> str:
    return "".join(char for char in cell.lower() if char.isalnum())


def _columns(header: list[str]) -> tuple[int, int | None, int | None] | None:
    """Where the email, first and last names are, when the first row is a header naming an
    email column; None otherwise (the rows are read for addresses alone)."""
    email = next((at for at, key in enumerate(header) if key in _EMAIL_HEADERS), None)
    if email is None:
        return None
    first = next((at for at, key in enumerate(header) if key in _FIRST_HEADERS), None)
    last = next((at for at, key in enumerate(header) if key in _LAST_HEADERS), None)
    return email, first, last


def _person(row: list[str], columns: tuple[int, int | None, int | None] | None) -> Listed | None:
    if columns is None:
        cells = [cell for cell in row if "@" in cell]
        email = _address(cells[0]) if cells else None
        return Listed(email) if email else None
    at, first, last = columns
    email = _address(row[at]) if at < len(row) else None
    if email is None:
        return None
    return Listed(email, _cell(row, first), _cell(row, last))


def _address(cell: str) -> str | None:
    try:
        return fields.normalize_email(cell)[1]
    except fields.InvalidValue:
        return None


def _cell(row: list[str], at: int | None) -> str:
    if at is None or at >= len(row):
        return ""
    return fields.CONTROL_IN_LINE.sub("", row[at]).strip()
