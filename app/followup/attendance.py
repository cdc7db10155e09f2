"""Attendance from webinar reports: read a Zoom or GoToWebinar attendee report (or a plain CSV
with `email` and `minutes`), preview it against an event's registrations, apply it at once.

The console, the API and the CLI all call `read_report`, then `preview_attendance` and/or
`apply_attendance`; `import_attendance` does both for the faces that skip the preview.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, Any
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser
from sqlalchemy import select

from app.db import db, utcnow, writing
from app.events.models import Event
from app.registrations.models import Registration

EXPECTED = (
    "Expected a Zoom or GoToWebinar attendee report, or a CSV with the columns email and minutes"
)

# Rejoins after a dropped connection, or a second device, make rows whose minutes add up to
# more than anyone could have watched; a webinar also often runs over. Past the longer of the
# planned and the actual duration plus this, the total is cut.
SLACK_MINUTES = 30

# How many bytes are read before deciding the encoding and the CSV dialect.
_SAMPLE_BYTES = 64 * 1024
# How many of its lines decide the separator (see `_dialect_of`).
SNIFF_LINES = 200
# No attendee report has rows this wide or this many (Zoom webinars seat 50,000, each row a
# join); past these a file is refused rather than read for minutes.
MAX_COLUMNS = 500
MAX_ROWS = 1_000_000
_MAX_WARNINGS = 20
_REMEMBERED_TIMES = 10_000
# Times outside these years are not a webinar's (the API accepts events in the same span).
_YEARS = (1970, 9000)
# The longest date and time the tools print is about 40 characters ("May 16, 2012 10:58 AM EDT").
_TIME_CHARS = 80

# Zoom's single-cell section lines; rows under these are staff, not the audience.
_STAFF_SECTIONS = {"host details", "panelist details", "panelists", "organizer details"}
# Sections that list registrants rather than attendance.
_OTHER_SECTIONS = {"registrant details", "registrants"}
# Other one-cell lines that start a section in Zoom exports.
_NEW_SECTIONS = {"other attended", "attendees", "attendee report"}

# Header synonyms, compared after `_header_key` (lower case, `*` and `_` dropped, spaces folded).
_COLUMN_NAMES = {
    "email": {"email", "email address", "e-mail", "e-mail address", "attendee email", "mail"},
    "minutes": {
        "minutes",
        "time in session (minutes)",
        "time in session",
        "in session duration (minutes)",
        "in session duration",
        "duration (minutes)",
        "duration (mins)",
        "duration",
        "attended minutes",
        "attendance minutes",
        "attendance time (minutes)",
        "total time (minutes)",
    },
    "seconds": {
        "seconds",
        "attendancetimeinseconds",
        "attendance time in seconds",
        "time in session (seconds)",
        "in session duration (seconds)",
        "duration (seconds)",
    },
    "joined": {"join time", "jointime", "joined at", "joined", "first join time"},
    "left": {"leave time", "leavetime", "left at", "left", "last leave time"},
    "attended": {"attended"},
    "questions": {"questions asked by attendee", "questions asked", "questions"},
}

_BLANKS = {"", "--", "-", "n/a", "na", "null", "none"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}

# Zone abbreviations the webinar tools print after a time ("May 16, 2012 10:58 AM EDT").
# Ambiguous ones (IST, CST in China) are left out: those times are read in the event's zone.
_ZONE_HOURS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "EET": 2,
    "EEST": 3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "JST": 9,
    "KST": 9,
    "SGT": 8,
    "AEST": 10,
    "AEDT": 11,
}
_OFFSET = re.compile(r"^\(?(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?\)?$", re.IGNORECASE)
_NUMERIC_TIME = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*([AaPp])?\.?[Mm]?\.?$"
)
_CLOCK = re.compile(r"^(\d+):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


class AttendanceFileError(ValueError):
    """The upload is not an attendee report we can read; the message says what was expected."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Attendee:
    """One person in the report, every row (join) for their email taken together."""

    email: str
    attended: bool = False
    minutes: float = 0.0
    joined_at: datetime | None = None
    left_at: datetime | None = None
    questions: int = 0
    joins: int = 0

    def add_join(
        self,
        minutes: float,
        joined_at: datetime | None,
        left_at: datetime | None,
        questions: int,
    ) -> None:
        self.attended = True
        self.joins += 1
        self.minutes += minutes
        self.questions += questions
        if joined_at and (self.joined_at is None or joined_at < self.joined_at):
            self.joined_at = joined_at
        if left_at and (self.left_at is None or left_at > self.left_at):
            self.left_at = left_at

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "attended": self.attended,
            "minutes": self.minutes,
            "joined_at": self.joined_at.isoformat() if self.joined_at else None,
            "left_at": self.left_at.isoformat() if self.left_at else None,
            "questions": self.questions,
            "joins": self.joins,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attendee:
        def instant(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            email=str(data["email"]),
            attended=bool(data["attended"]),
            minutes=float(data["minutes"]),
            joined_at=instant(data.get("joined_at")),
            left_at=instant(data.get("left_at")),
            questions=int(data.get("questions", 0)),
            joins=int(data.get("joins", 0)),
        )


@dataclass
class AttendeeReport:
    """What a file says, before it is matched to registrations: one Attendee per email."""

    source: str
    attendees: dict[str, Attendee]
    rows: int
    actual_minutes: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "actual_minutes": self.actual_minutes,
            "warnings": self.warnings,
            "attendees": [person.to_json() for person in self.attendees.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttendeeReport:
        people = [Attendee.from_json(item) for item in data["attendees"]]
        return cls(
            source=str(data["source"]),
            attendees={person.email: person for person in people},
            rows=int(data["rows"]),
            actual_minutes=data.get("actual_minutes"),
            warnings=[str(item) for item in data.get("warnings", [])],
        )


@dataclass
class Matched:
    """A registration the report places in the room, with what will be written to it."""

    registration: Registration
    minutes: float
    joined_at: datetime | None
    left_at: datetime | None
    questions: int
    capped: bool = False


@dataclass
class Preview:
    """What applying the report would do to the event's registrations."""

    event: Event
    report: AttendeeReport
    matched: list[Matched]
    unmatched: list[Attendee]
    no_shows: list[Registration]
    # Registrations neither in the room nor holding a seat: their attendance becomes unknown.
    cleared: list[Registration]
    warnings: list[str]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "attended": len(self.matched),
            "no_show": len(self.no_shows),
            "unmatched": len(self.unmatched),
        }


@dataclass
class ImportSummary:
    """What an applied report changed, as the API answers it."""

    attended: int
    no_show: int
    unmatched: int
    source: str
    imported_at: datetime

    def counts(self) -> dict[str, int]:
        return {"attended": self.attended, "no_show": self.no_show, "unmatched": self.unmatched}


# Reading ------------------------------------------------------------------------------------


def read_report(
    stream: IO[bytes], event: Event, progress: Callable[[int], None] | None = None
) -> AttendeeReport:
    """Read an attendee report from a binary stream, row by row, whatever its name or format.

    `progress`, when given, is called with the number of bytes consumed since its last call.
    Raises AttendanceFileError with a message for the person who uploaded the file.
    """
    head = stream.read(_SAMPLE_BYTES)
    if not head or not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise AttendanceFileError(f"The file is empty. {EXPECTED}.")
    encoding = _encoding_of(head)
    sample = _decode_sample(head, encoding)
    dialect = _dialect_of(sample)
    replay = _Replay(head, stream, progress)
    text = io.TextIOWrapper(io.BufferedReader(replay), encoding=encoding, newline="")
    try:
        return _Reader(event).read(csv.reader(text, dialect))
    finally:
        # The caller owns the upload; closing the wrapper would close it.
        text.detach()


def _encoding_of(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise AttendanceFileError(
            "This is an Excel workbook, not a CSV file. Export the attendee report as CSV "
            f"and upload that. {EXPECTED}."
        )
    if b"\x00" in head:
        raise AttendanceFileError(f"This is a binary file, not CSV text. {EXPECTED}.")
    return "utf-8"


def _decode_sample(head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        sample = decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _not_utf8(head[: exc.start].count(b"\n") + 1) from None
    # The sniffer should see whole lines only.
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    return sample[: cut + 1] if cut > 0 else sample


def _not_utf8(line: int) -> AttendanceFileError:
    return AttendanceFileError(
        f"The file is not UTF-8 text (line {line} has bytes that are not). Save or export it "
        f'as "CSV UTF-8" and upload it again. {EXPECTED}.'
    )


def _dialect_of(sample: str) -> type[csv.Dialect]:
    """The separator that splits the most of the first lines into the same number (above one)
    of cells; the tools all quote with `"`.

    Not csv.Sniffer: its quote guess is a regular expression whose work grows with the square
    of its input (64 KB of `"` and line breaks cost it over a minute of CPU). Reading the
    first lines once per candidate separator is linear, and multi-section reports, whose
    lines have every length, no longer defeat it: the attendee rows outnumber the rest.
    """
    lines = sample.splitlines()[:SNIFF_LINES]
    best, most = ",", 0
    for delimiter in ",;\t|":
        widths = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter) if len(row) > 1)
        agreeing = max(widths.values(), default=0)
        if agreeing > most:
            best, most = delimiter, agreeing

    class Found(csv.excel):
        delimiter = best

    return Found


class _Replay(io.RawIOBase):
    """The bytes already read to sniff the file, then the rest of the upload, counted."""

    def __init__(
        self, head: bytes, rest: IO[bytes], progress: Callable[[int], None] | None
    ) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self._head):
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
        else:
            data = self._rest.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        if self._progress and size:
            self._progress(size)
        return size


def _header_key(cell: str) -> str:
    cleaned = cell.replace("\ufeff", "").replace("*", "").replace("_", " ").lower()
    return re.sub(r"\s+", " ", cleaned).strip()


@dataclass(frozen=True)
class _Columns:
    """Where each thing we read sits in a header row."""

    names: tuple[str, ...]
    email: int
    minutes: int | None
    seconds: int | None
    joined: int | None
    left: int | None
    attended: int | None
    questions: int | None

    @classmethod
    def find(cls, cells: list[str]) -> _Columns | None:
        """The columns of a header row, or None when the row names no email column."""
        places: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = _header_key(cell)
            for name, synonyms in _COLUMN_NAMES.items():
                if key in synonyms and name not in places:
                    places[name] = index
        if "email" not in places:
            return None
        return cls(
            names=tuple(cells),
            email=places["email"],
            minutes=places.get("minutes"),
            seconds=places.get("seconds"),
            joined=places.get("joined"),
            left=places.get("left"),
            attended=places.get("attended"),
            questions=places.get("questions"),
        )

    @property
    def tells_time(self) -> bool:
        has_span = self.joined is not None and self.left is not None
        return self.minutes is not None or self.seconds is not None or has_span


class _Reader:
    """A small state machine over the rows: preamble, sections, the header, then joins."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.zone = ZoneInfo(event.timezone)
        self.anchor = event.starts_at.astimezone(self.zone).replace(tzinfo=None)
        self.attendees: dict[str, Attendee] = {}
        self.rows = 0
        self.warnings: list[str] = []
        self.extra_warnings = 0
        self.first_row: list[str] | None = None
        self.candidate: list[str] | None = None
        self.mentions_goto = False
        self.mentions_zoom = False
        self.actual_minutes: float | None = None
        self.unknown_zones: set[str] = set()
        self.found_header = False
        self.source = "CSV"
        self.times: dict[str, datetime] = {}

    def read(self, rows: Iterator[list[str]]) -> AttendeeReport:
        section: str | None = None
        columns: _Columns | None = None
        duration_at: int | None = None
        line = 0
        try:
            for raw in rows:
                line = getattr(rows, "line_num", line + 1)
                if len(raw) > MAX_COLUMNS:
                    raise AttendanceFileError(
                        f"Line {line} has {len(raw)} columns; an attendee report has at most "
                        f"{MAX_COLUMNS}. {EXPECTED}."
                    )
                if self.rows >= MAX_ROWS:
                    raise AttendanceFileError(
                        f"The file has more than {MAX_ROWS:,} rows, more than any attendee "
                        f"report. {EXPECTED}."
                    )
                cells = [cell.strip() for cell in raw]
                if not any(cells):
                    continue
                if self.first_row is None:
                    self.first_row = cells
                    self._notice_tool(cells)
                if _is_section_line(cells) and (columns is None or _names_section(cells[0])):
                    section = _header_key(cells[0])
                    columns = None
                    continue
                if section in _STAFF_SECTIONS or section in _OTHER_SECTIONS:
                    continue
                if columns is not None and "@" in _cell(cells, columns.email):
                    # An address in the email column: a join, not another header.
                    self._read_join(columns, cells, line)
                    continue
                found = _Columns.find(cells)
                if found is not None:
                    if found.tells_time:
                        columns = found
                        self._notice_columns(found)
                    else:
                        self.candidate = self.candidate or cells
                    continue
                if columns is None:
                    duration_at = self._read_preamble(cells, duration_at)
                    continue
                self._read_join(columns, cells, line)
        except UnicodeDecodeError:
            raise _not_utf8(line + 1) from None
        except csv.Error as exc:
            raise AttendanceFileError(
                f"Line {line + 1} could not be read as CSV ({exc}). {EXPECTED}."
            ) from None
        if not self.found_header:
            shown = self.candidate or self.first_row or []
            raise AttendanceFileError(f"{EXPECTED}; found columns: {_show_columns(shown)}.")
        if not self.attendees:
            self._warn("The report lists nobody: every confirmed registrant would be a no-show.")
        for zone in sorted(self.unknown_zones):
            self._warn(f"The time zone {zone} is not known; those times were read as {self.zone}.")
        if self.extra_warnings:
            self.warnings.append(f"… and {self.extra_warnings} more notes like these.")
        return AttendeeReport(
            source=self.source,
            attendees=self.attendees,
            rows=self.rows,
            actual_minutes=self.actual_minutes,
            warnings=self.warnings,
        )

    def _notice_tool(self, cells: list[str]) -> None:
        joined = " ".join(cells).lower()
        if "gotowebinar" in joined:
            self.mentions_goto = True
        elif cells[0].lower() == "attendee report":
            self.mentions_zoom = True

    def _notice_columns(self, columns: _Columns) -> None:
        self.found_header = True
        keys = {_header_key(name) for name in columns.names}
        if self.mentions_goto or keys & {"in session duration (minutes)", "interest rating"}:
            self.source = "GoToWebinar attendee report"
        elif self.mentions_zoom or keys & {
            "time in session (minutes)",
            "user name (original name)",
        }:
            self.source = "Zoom attendee report"
        else:
            self.source = "CSV"

    def _read_preamble(self, cells: list[str], duration_at: int | None) -> int | None:
        """Note the actual duration from the summary lines above the attendee header."""
        if duration_at is not None:
            if duration_at < len(cells):
                with contextlib.suppress(ValueError):
                    self.actual_minutes = _minutes(cells[duration_at])
            return None
        for index, cell in enumerate(cells):
            if _header_key(cell) == "actual duration (minutes)":
                return index
        return None

    def _read_join(self, columns: _Columns, cells: list[str], line: int) -> None:
        def cell(index: int | None) -> str:
            return _cell(cells, index)

        email = cell(columns.email).lower()
        if not email:
            return
        self.rows += 1
        if "@" not in email or " " in email:
            self._warn(f"Line {line}: {email[:60]!r} is not an email address; the row was skipped.")
            return
        person = self.attendees.setdefault(email, Attendee(email=email))
        said = cell(columns.attended).lower()
        if said in _NO:
            return
        joined_at = self._time(cell(columns.joined), line)
        left_at = self._time(cell(columns.left), line)
        minutes = self._row_minutes(columns, cell, line)
        if minutes is None and joined_at and left_at:
            minutes = max((left_at - joined_at).total_seconds() / 60, 0.0)
        if said in _YES or minutes or joined_at:
            person.add_join(minutes or 0.0, joined_at, left_at, _questions(cell(columns.questions)))

    def _row_minutes(
        self, columns: _Columns, cell: Callable[[int | None], str], line: int
    ) -> float | None:
        text, per_minute = cell(columns.minutes), 1.0
        if not text and columns.seconds is not None:
            text, per_minute = cell(columns.seconds), 60.0
        if not text:
            return None
        try:
            return _minutes(text) / per_minute
        except ValueError:
            self._warn(f"Line {line}: {text[:40]!r} is not a number of minutes; it was ignored.")
            return None

    def _time(self, text: str, line: int) -> datetime | None:
        if not text:
            return None
        if len(text) > _TIME_CHARS:
            self._warn(f"Line {line}: {text[:40]!r}… is not a date and time; it was ignored.")
            return None
        # Many rows share a time (everyone leaves when the host ends the webinar).
        if text in self.times:
            return self.times[text]
        try:
            moment = _instant(text, self.zone, self.anchor, self.unknown_zones)
        except ValueError:
            self._warn(f"Line {line}: {text[:40]!r} is not a date and time; it was ignored.")
            return None
        if len(self.times) >= _REMEMBERED_TIMES:
            self.times.clear()
        self.times[text] = moment
        return moment

    def _warn(self, message: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.extra_warnings += 1


def _cell(cells: list[str], index: int | None) -> str:
    """The cell at `index`, with `--` and other blanks as ""."""
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    return "" if value.lower() in _BLANKS else value


def _is_section_line(cells: list[str]) -> bool:
    """Zoom and GoToWebinar mark sections with one cell of words ("Attendee Details")."""
    filled = [cell for cell in cells if cell]
    if len(filled) != 1 or not cells[0]:
        return False
    text = cells[0]
    return "@" not in text and any(char.isalpha() for char in text) and len(text) <= 60


def _names_section(text: str) -> bool:
    """Whether a one-cell line amid the joins starts a new section (rather than being a
    mostly empty row such as `Yes,,,,`)."""
    key = _header_key(text)
    return key.endswith(" details") or key in _STAFF_SECTIONS | _OTHER_SECTIONS | _NEW_SECTIONS


def _show_columns(cells: list[str]) -> str:
    shown = [cell[:40] for cell in cells if cell][:12]
    if not shown:
        return "none"
    more = len([cell for cell in cells if cell]) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _minutes(text: str) -> float:
    """Minutes from `58`, `58.53`, `58,53` or a clock `1:05:30`; ValueError otherwise."""
    text = text.strip()
    if _NUMBER.match(text):
        return float(text.replace(",", "."))
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours) * 60 + int(minutes) + float(seconds or 0) / 60
    raise ValueError(text)


def _questions(text: str) -> int:
    """A count, or the questions themselves (GoToWebinar lists them), one a line."""
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    return len([line for line in text.splitlines() if line.strip()]) or 1


def _instant(text: str, zone: ZoneInfo, anchor: datetime, unknown: set[str]) -> datetime:
    """A UTC instant from the date styles the tools print; a time without a zone is the
    event's local time. Raises ValueError."""
    text = " ".join(text.split())
    tz: Any = None
    body, _, last = text.rpartition(" ")
    if body:
        upper = last.upper().strip("()")
        offset = _OFFSET.match(last)
        if upper in _ZONE_HOURS:
            tz, text = timezone(timedelta(hours=_ZONE_HOURS[upper])), body
        elif offset and (":" in body):
            sign, hours, minutes = offset.groups()
            delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
            tz, text = timezone(delta if sign == "+" else -delta), body
        elif upper.isalpha() and 2 <= len(upper) <= 5 and upper not in {"AM", "PM"}:
            unknown.add(upper)
            text = body
    moment = _naive_or_aware(text, anchor)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or zone)
    # Year 9999 in a zone west of UTC has no UTC instant, and no webinar was ever that far out.
    if not _YEARS[0] <= moment.year <= _YEARS[1]:
        raise ValueError(text)
    return moment.astimezone(UTC)


def _naive_or_aware(text: str, anchor: datetime) -> datetime:
    numeric = _NUMERIC_TIME.match(text)
    if numeric:
        return _numeric_time(numeric, anchor)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # Named months ("May 16, 2012 10:58 AM"); a year is required so that a stray number is
    # never read as a day of the current month.
    if not re.search(r"\d{4}", text) or not re.search(r"[A-Za-z]{3}|^\d{4}/", text):
        raise ValueError(text)
    try:
        return dateutil_parser.parse(text)
    except (dateutil_parser.ParserError, OverflowError) as exc:
        raise ValueError(text) from exc


def _numeric_time(match: re.Match[str], anchor: datetime) -> datetime:
    """`04/05/2026 10:58:01 AM` is April 5th in the US and 4 May elsewhere: of the readings
    that make a date, take the one nearest the event."""
    first, second, year, hour, minute, second_of_minute, half = match.groups()
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    clock = int(hour)
    if half:
        if not 1 <= clock <= 12:
            raise ValueError(match.string)
        clock = clock % 12 + (12 if half.lower() == "p" else 0)
    readings = []
    for month, day in ((first, second), (second, first)):
        try:
            readings.append(
                datetime(
                    full_year,
                    int(month),
                    int(day),
                    clock,
                    int(minute),
                    int(second_of_minute or 0),
                )
            )
        except ValueError:
            continue
    if not readings:
        raise ValueError(match.string)
    return min(readings, key=lambda moment: abs(moment - anchor))


# Matching and applying -----------------------------------------------------------------------


def minutes_cap(event: Event, report: AttendeeReport) -> float:
    """The most minutes one person can be credited with for this event."""
    return max(float(event.duration_minutes), report.actual_minutes or 0.0) + SLACK_MINUTES


def preview_attendance(event: Event, report: AttendeeReport) -> Preview:
    """Match the report to the event's registrations (one query); writes nothing."""
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id)
        .order_by(Registration.email_normalized)
    ).all()
    by_email = {registration.email_normalized: registration for registration in registrations}
    cap = minutes_cap(event, report)
    matched: list[Matched] = []
    capped = 0
    for email, person in sorted(report.attendees.items()):
        registration = by_email.get(email)
        if registration is None or not person.attended:
            continue
        minutes = round(min(person.minutes, cap), 2)
        capped += person.minutes > cap
        matched.append(
            Matched(
                registration=registration,
                minutes=minutes,
                joined_at=person.joined_at,
                left_at=person.left_at,
                questions=person.questions,
                capped=person.minutes > cap,
            )
        )
    present = {item.registration.id for item in matched}
    absent = [registration for registration in registrations if registration.id not in present]
    unmatched = [
        person
        for email, person in sorted(report.attendees.items())
        if person.attended and email not in by_email
    ]
    warnings = list(report.warnings)
    if capped:
        warnings.append(
            f"{capped} attendee{'s' if capped != 1 else ''} had more minutes than the event "
            f"lasted (overlapping joins); credited with at most {cap:g} minutes."
        )
    warnings.extend(_date_warnings(event, report))
    return Preview(
        event=event,
        report=report,
        matched=matched,
        unmatched=unmatched,
        no_shows=[item for item in absent if item.status == "confirmed"],
        cleared=[item for item in absent if item.status != "confirmed"],
        warnings=warnings,
    )


def _date_warnings(event: Event, report: AttendeeReport) -> list[str]:
    joins = [person.joined_at for person in report.attendees.values() if person.joined_at]
    if not joins:
        return []
    first = min(joins)
    if abs(first - event.starts_at) <= timedelta(days=1):
        return []
    local = first.astimezone(ZoneInfo(event.timezone))
    starts = event.starts_at.astimezone(ZoneInfo(event.timezone))
    return [
        f"The first join in the report is on {local:%d %b %Y}, but the event starts on "
        f"{starts:%d %b %Y}: check that this is the report for this event."
    ]


def apply_attendance(
    event: Event, report: AttendeeReport, now: datetime | None = None
) -> ImportSummary:
    """Write the report to the event's registrations in one transaction.

    Values are set, never added: the event's attendance is what the last applied report says,
    so applying the same report twice changes nothing. Attendees get their minutes, first join,
    last leave and questions; confirmed registrants who were not there get 0 minutes (a
    no-show); everyone else's attendance becomes unknown.
    """
    event_id = event.id
    with writing():
        # Two imports of one event take turns: the second waits for the first's commit.
        locked = db.session.scalars(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update(of=Event)
            .execution_options(populate_existing=True)
        ).first()
        if locked is None:
            raise AttendanceFileError("This event no longer exists.")
        preview = preview_attendance(locked, report)
        changed = [
            _set(item.registration, item.minutes, item.joined_at, item.left_at, item.questions)
            for item in preview.matched
        ]
        changed += [_set(registration, 0.0, None, None, 0) for registration in preview.no_shows]
        changed += [_set(registration, None, None, None, 0) for registration in preview.cleared]
        # The time of the import that last changed something: routing waits for it, and the
        # same report applied again is not news.
        if any(changed) or locked.attendance_imported_at is None:
            locked.attendance_imported_at = now or utcnow()
        summary = ImportSummary(
            attended=len(preview.matched),
            no_show=len(preview.no_shows),
            unmatched=len(preview.unmatched),
            source=report.source,
            imported_at=locked.attendance_imported_at,
        )
    return summary


def _set(
    registration: Registration,
    minutes: float | None,
    joined_at: datetime | None,
    left_at: datetime | None,
    questions: int,
) -> bool:
    """Set the attendance fields; True when one of them changed."""
    values = {
        "attended_minutes": minutes,
        "joined_at": joined_at,
        "left_at": left_at,
        "questions_asked": questions,
    }
    changed = False
    for name, value in values.items():
        # Assigning an equal value would still mark the row dirty; a repeat import writes nothing.
        if getattr(registration, name) != value:
            setattr(registration, name, value)
            changed = True
    return changed


def import_attendance(
    event: Event, stream: IO[bytes], progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Read and apply in one call, for the faces without a preview step (API, CLI)."""
    return apply_attendance(event, read_report(stream, event, progress))
