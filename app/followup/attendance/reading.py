"""Reading an attendee report from an upload: its encoding, its CSV separator, then its rows
(preamble, sections, the header, joins) into an AttendeeReport. No database: the reader knows
only the event's time zone and start.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app.followup.attendance.columns import (
    MEETING_DURATION_KEYS,
    NO,
    OTHER_SECTIONS,
    STAFF_SECTIONS,
    YES,
    Columns,
    cell_at,
    header_key,
    is_numbered_section,
    is_organizer,
    is_section_line,
    names_section,
    question_count,
    show_columns,
    source_of,
    tool_in,
)
from app.followup.attendance.report import Attendee, AttendeeReport
from app.followup.attendance.times import TIME_CHARS, parse_instant, parse_minutes
from app.refusals import Refusal
from app.spreadsheet import dialect_of

if TYPE_CHECKING:
    from app.events.models import Event

EXPECTED = (
    "Expected a Zoom or GoToWebinar attendee report, a Microsoft Teams attendance report, "
    "or a CSV with the columns email and minutes"
)
# The section of a report after the one read (Teams repeats its participants join by join).
_READ_ALREADY = "(read already)"

# How many bytes are read before deciding the encoding and the CSV dialect.
_SAMPLE_BYTES = 64 * 1024
# No attendee report has rows this wide or this many (Zoom webinars seat 50,000, each row a
# join); past these a file is refused rather than read for minutes.
MAX_COLUMNS = 500
MAX_ROWS = 1_000_000
_MAX_WARNINGS = 20
_REMEMBERED_TIMES = 10_000
# How many people a batch handed to `read_report_in_batches`'s `keep` holds.
BATCH = 1_000


class AttendanceFileError(Refusal):
    """The upload is not an attendee report we can read; the message says what was expected."""

    def __init__(self, message: str) -> None:
        # The file is what is wrong: the API names its upload field `file`.
        super().__init__(message, fields={"file": message})


def read_report(
    stream: IO[bytes], event: Event, progress: Callable[[int], None] | None = None
) -> AttendeeReport:
    """Read an attendee report from a binary stream, row by row, whatever its name or format.

    `progress`, when given, is called with the number of bytes consumed since its last call.
    Raises AttendanceFileError with a message for the person who uploaded the file.
    """
    return read_report_in_batches(stream, event, None, progress)


def read_report_in_batches(
    stream: IO[bytes],
    event: Event,
    keep: Callable[[list[Attendee]], None] | None,
    progress: Callable[[int], None] | None = None,
) -> AttendeeReport:
    """`read_report` that hands the attendees to `keep` a batch at a time (`BATCH` people, each
    with the joins read since their last batch), so that memory holds one batch whatever the
    file's size; the report returned then lists nobody. One person may come in several
    batches: `keep` adds each batch to what it kept (minutes and joins added, the earliest
    join and the latest leave kept, the first name given). Without `keep`, every attendee is
    in the report returned.
    """
    head = stream.read(_SAMPLE_BYTES)
    if not head or not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise AttendanceFileError(f"The file is empty. {EXPECTED}.")
    encoding = _encoding_of(head)
    sample = _decode_sample(head, encoding)
    dialect = dialect_of(sample)
    replay = _Replay(head, stream, progress)
    text = io.TextIOWrapper(io.BufferedReader(replay), encoding=encoding, newline="")
    try:
        return _Reader(event, keep).read(csv.reader(text, dialect))
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


class _Reader:
    """A small state machine over the rows: preamble, sections, the header, then joins."""

    def __init__(self, event: Event, keep: Callable[[list[Attendee]], None] | None) -> None:
        self.zone = ZoneInfo(event.timezone)
        self.anchor = event.starts_at.astimezone(self.zone).replace(tzinfo=None)
        self.attendees: dict[str, Attendee] = {}
        self.keep = keep
        # Whether anyone was read, kept already or not.
        self.anyone = False
        self.rows = 0
        self.warnings: list[str] = []
        self.extra_warnings = 0
        self.first_row: list[str] | None = None
        self.candidate: list[str] | None = None
        # The tool the first line names (GoToWebinar, Zoom), if it names one.
        self.tool: str | None = None
        self.actual_minutes: float | None = None
        self.unknown_zones: set[str] = set()
        self.found_header = False
        self.source = "CSV"
        self.times: dict[str, datetime] = {}
        # Zoom's meeting summary line, whose next row names the host and the meeting's length.
        self.summary: Columns | None = None
        self.hosts: set[str] = set()

    def read(self, rows: Iterator[list[str]]) -> AttendeeReport:
        section: str | None = None
        columns: Columns | None = None
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
                    self.tool = tool_in(cells)
                if is_section_line(cells) and (columns is None or names_section(cells[0])):
                    section = header_key(cells[0])
                    if self.found_header and is_numbered_section(cells[0]):
                        section = _READ_ALREADY
                    columns = None
                    continue
                if section in STAFF_SECTIONS or section in OTHER_SECTIONS:
                    continue
                if section == _READ_ALREADY:
                    continue
                if self.summary is not None:
                    self._read_summary(self.summary, cells)
                    self.summary = None
                    continue
                if columns is not None and "@" in cell_at(cells, columns.email):
                    # An address in the email column: a join, not another header.
                    self._read_join(columns, cells, line)
                    self._hand_over(BATCH)
                    continue
                found = Columns.find(cells)
                if found is not None:
                    if found.is_meeting_summary:
                        self.summary = found
                    elif found.tells_time:
                        columns = found
                        self.found_header = True
                        self.source = source_of(found, self.tool)
                    else:
                        self.candidate = self.candidate or cells
                    continue
                if columns is None:
                    duration_at = self._read_preamble(cells, duration_at)
                    continue
                self._read_join(columns, cells, line)
                self._hand_over(BATCH)
        except UnicodeDecodeError:
            raise _not_utf8(line + 1) from None
        except csv.Error as exc:
            raise AttendanceFileError(
                f"Line {line + 1} could not be read as CSV ({exc}). {EXPECTED}."
            ) from None
        if not self.found_header:
            shown = self.candidate or self.first_row or []
            raise AttendanceFileError(f"{EXPECTED}; found columns: {show_columns(shown)}.")
        self._hand_over(1)
        if not self.anyone:
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

    def _hand_over(self, at_least: int) -> None:
        """Give the people read so far to `keep` once there are `at_least` of them."""
        if self.keep is not None and len(self.attendees) >= at_least:
            self.keep(list(self.attendees.values()))
            self.attendees = {}

    def _read_summary(self, summary: Columns, cells: list[str]) -> None:
        """Zoom's meeting line: its host is staff, its duration the meeting's length."""
        host = cell_at(cells, summary.email).lower()
        if host:
            self.hosts.add(host)
        with contextlib.suppress(ValueError):
            self.actual_minutes = parse_minutes(cell_at(cells, summary.minutes))

    def _read_preamble(self, cells: list[str], duration_at: int | None) -> int | None:
        """Note the actual duration from the summary lines above the attendee header: Zoom and
        GoToWebinar put it under an `Actual Duration (minutes)` header, Teams beside its name."""
        if len(cells) >= 2 and header_key(cells[0]) in MEETING_DURATION_KEYS:
            with contextlib.suppress(ValueError):
                self.actual_minutes = parse_minutes(cells[1])
            return None
        if duration_at is not None:
            if duration_at < len(cells):
                with contextlib.suppress(ValueError):
                    self.actual_minutes = parse_minutes(cells[duration_at])
            return None
        for index, cell in enumerate(cells):
            if header_key(cell) == "actual duration (minutes)":
                return index
        return None

    def _read_join(self, columns: Columns, cells: list[str], line: int) -> None:
        def cell(index: int | None) -> str:
            return cell_at(cells, index)

        email = cell(columns.email).lower()
        if not email or email in self.hosts or is_organizer(cell(columns.role)):
            return
        self.rows += 1
        if "@" not in email or " " in email:
            self._warn(f"Line {line}: {email[:60]!r} is not an email address; the row was skipped.")
            return
        self.anyone = True
        person = self.attendees.setdefault(email, Attendee(email=email))
        if not person.name:
            person.name = _person_name(columns, cell)
        said = cell(columns.attended).lower()
        if said in NO:
            return
        joined_at = self._time(cell(columns.joined), line)
        left_at = self._time(cell(columns.left), line)
        minutes = self._row_minutes(columns, cell, line)
        if minutes is None and joined_at and left_at:
            minutes = max((left_at - joined_at).total_seconds() / 60, 0.0)
        if said in YES or minutes or joined_at:
            person.add_join(
                minutes or 0.0, joined_at, left_at, question_count(cell(columns.questions))
            )

    def _row_minutes(
        self, columns: Columns, cell: Callable[[int | None], str], line: int
    ) -> float | None:
        text, per_minute = cell(columns.minutes), 1.0
        if not text and columns.seconds is not None:
            text, per_minute = cell(columns.seconds), 60.0
        if not text:
            return None
        try:
            return parse_minutes(text) / per_minute
        except ValueError:
            self._warn(f"Line {line}: {text[:40]!r} is not a number of minutes; it was ignored.")
            return None

    def _time(self, text: str, line: int) -> datetime | None:
        if not text:
            return None
        if len(text) > TIME_CHARS:
            self._warn(f"Line {line}: {text[:40]!r}… is not a date and time; it was ignored.")
            return None
        # Many rows share a time (everyone leaves when the host ends the webinar).
        if text in self.times:
            return self.times[text]
        try:
            moment = parse_instant(text, self.zone, self.anchor, self.unknown_zones)
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


def _person_name(columns: Columns, cell: Callable[[int | None], str]) -> str:
    """The name on a row: a full-name column, else first and last name (GoToWebinar)."""
    if columns.name is not None:
        return cell(columns.name).strip()
    return f"{cell(columns.first_name).strip()} {cell(columns.last_name).strip()}".strip()
