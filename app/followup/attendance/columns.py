"""The dialects of attendee reports: which tool wrote one, where each thing sits (header
synonyms, section lines) and what a cell says.

Zoom, GoToWebinar, Microsoft Teams and plain CSV files name the same columns differently; each
is recognised here by its header, whatever its position. A new tool's export is taught here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

GOTO = "GoToWebinar attendee report"
ZOOM = "Zoom attendee report"
ZOOM_MEETING = "Zoom meeting participants report"
TEAMS = "Microsoft Teams attendance report"
# Columns only one tool writes.
_GOTO_COLUMNS = {"in session duration (minutes)", "interest rating"}
_ZOOM_COLUMNS = {"time in session (minutes)", "user name (original name)"}
_ZOOM_MEETING_COLUMNS = {"name (original name)", "user email"}
_TEAMS_COLUMNS = {
    "in-meeting duration",
    "participant id (upn)",
    "teilnehmer-id (upn)",
    "id du participant (upn)",
    "id de participant (upn)",
}
# The summary line above a Zoom meeting's participants names the meeting and its host: the
# host's own joins are staff, and its duration is the meeting's.
_MEETING_SUMMARY_COLUMNS = {"meeting id", "topic"}
# Teams lists the organizer among the participants; its role column says so (en, fr, de).
_ORGANIZER_ROLES = {
    "organizer",
    "organiser",
    "co-organizer",
    "co-organiser",
    "organisateur",
    "organisatrice",
    "co-organisateur",
    "co-organisatrice",
    "organisator",
    "organisatorin",
    "mitorganisator",
    "mitorganisatorin",
}
# Teams' summary block gives the meeting's length as `Meeting duration⇥1h 10m 28s`.
MEETING_DURATION_KEYS = {"meeting duration", "duree de la reunion", "besprechungsdauer"}
# Teams numbers its sections (`1. Summary`, `2. Participants`, `3. In-Meeting Activities`);
# the third repeats the second join by join, so the first numbered section with a header is
# the one read.
_NUMBERED = re.compile(r"^\d+\.\s+\w")

# Zoom's single-cell section lines; rows under these are staff, not the audience.
STAFF_SECTIONS = {"host details", "panelist details", "panelists", "organizer details"}
# Sections that list registrants rather than attendance.
OTHER_SECTIONS = {"registrant details", "registrants"}
# Other one-cell lines that start a section in Zoom exports.
_NEW_SECTIONS = {"other attended", "attendees", "attendee report"}

# Header synonyms, compared after `header_key` (lower case, `*` and `_` dropped, spaces folded).
_COLUMN_NAMES = {
    "email": {
        "email",
        "email address",
        "e-mail",
        "e-mail address",
        "e-mail-adresse",
        "adresse e-mail",
        "adresse de messagerie",
        "courriel",
        "attendee email",
        "user email",
        "mail",
    },
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
        "in-meeting duration",
        "duree de la reunion",
        "duree dans la reunion",
        "dauer in der besprechung",
        "besprechungsdauer",
        "dauer",
        "duree",
    },
    "seconds": {
        "seconds",
        "attendancetimeinseconds",
        "attendance time in seconds",
        "time in session (seconds)",
        "in session duration (seconds)",
        "duration (seconds)",
    },
    "joined": {
        "join time",
        "jointime",
        "joined at",
        "joined",
        "first join time",
        "first join",
        "premiere participation",
        "premiere arrivee",
        "erster beitritt",
    },
    "left": {
        "leave time",
        "leavetime",
        "left at",
        "left",
        "last leave time",
        "last leave",
        "dernier depart",
        "letztes verlassen",
        "letzter austritt",
    },
    "name": {
        "name",
        "full name",
        "attendee name",
        "participant name",
        "user name",
        "user name (original name)",
        "name (original name)",
        "nom",
        "nom complet",
        "vollstandiger name",
    },
    "first_name": {"first name", "prenom", "vorname"},
    "last_name": {"last name", "nom de famille", "nachname"},
    "attended": {"attended"},
    "role": {"role", "rolle"},
    "questions": {"questions asked by attendee", "questions asked", "questions"},
}

# Each synonym names one column; a header row is looked up cell by cell.
_COLUMN_OF = {synonym: name for name, synonyms in _COLUMN_NAMES.items() for synonym in synonyms}

_BLANKS = {"", "--", "-", "n/a", "na", "null", "none"}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


def header_key(cell: str) -> str:
    """A header cell as the synonyms are written: lower case, without accents (`Rôle`,
    `Durée de la réunion`), `*` and `_`, spaces folded."""
    cleaned = cell.replace("\ufeff", "").replace("*", "").replace("_", " ").lower()
    if not cleaned.isascii():
        decomposed = unicodedata.normalize("NFKD", cleaned)
        cleaned = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", cleaned).strip()


@dataclass(frozen=True)
class Columns:
    """Where each thing we read sits in a header row."""

    names: tuple[str, ...]
    # The names as `header_key` writes them.
    keys: frozenset[str]
    email: int
    minutes: int | None
    seconds: int | None
    joined: int | None
    left: int | None
    attended: int | None
    questions: int | None
    role: int | None
    name: int | None = None
    first_name: int | None = None
    last_name: int | None = None

    @classmethod
    def find(cls, cells: list[str]) -> Columns | None:
        """The columns of a header row, or None when the row names no email column."""
        places: dict[str, int] = {}
        keys = [header_key(cell) for cell in cells]
        for index, key in enumerate(keys):
            name = _COLUMN_OF.get(key)
            if name is not None and name not in places:
                places[name] = index
        if "email" not in places:
            return None
        return cls(
            names=tuple(cells),
            keys=frozenset(keys),
            email=places["email"],
            minutes=places.get("minutes"),
            seconds=places.get("seconds"),
            joined=places.get("joined"),
            left=places.get("left"),
            attended=places.get("attended"),
            questions=places.get("questions"),
            role=places.get("role"),
            name=places.get("name"),
            first_name=places.get("first_name"),
            last_name=places.get("last_name"),
        )

    @property
    def is_meeting_summary(self) -> bool:
        """Zoom's `Meeting ID, Topic, …, User Email, Duration (Minutes)` line: the host and the
        meeting's length, not a participant."""
        return self.keys >= _MEETING_SUMMARY_COLUMNS

    @property
    def tells_time(self) -> bool:
        has_span = self.joined is not None and self.left is not None
        return self.minutes is not None or self.seconds is not None or has_span


def cell_at(cells: list[str], index: int | None) -> str:
    """The cell at `index`, with `--` and other blanks as ""."""
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    return "" if value.lower() in _BLANKS else value


def is_section_line(cells: list[str]) -> bool:
    """Zoom and GoToWebinar mark sections with one cell of words ("Attendee Details")."""
    filled = [cell for cell in cells if cell]
    if len(filled) != 1 or not cells[0]:
        return False
    text = cells[0]
    return "@" not in text and any(char.isalpha() for char in text) and len(text) <= 60


def names_section(text: str) -> bool:
    """Whether a one-cell line amid the joins starts a new section (rather than being a
    mostly empty row such as `Yes,,,,`)."""
    key = header_key(text)
    return (
        key.endswith(" details")
        or key in STAFF_SECTIONS | OTHER_SECTIONS | _NEW_SECTIONS
        or is_numbered_section(text)
    )


def is_numbered_section(text: str) -> bool:
    """Teams' `2. Participants`, `3. In-Meeting Activities` (in the meeting's language)."""
    return bool(_NUMBERED.match(text))


def is_organizer(role: str) -> bool:
    return header_key(role) in _ORGANIZER_ROLES


def show_columns(cells: list[str]) -> str:
    shown = [cell[:40] for cell in cells if cell][:12]
    if not shown:
        return "none"
    more = len([cell for cell in cells if cell]) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def question_count(text: str) -> int:
    """A count, or the questions themselves (GoToWebinar lists them), one a line.

    GoToWebinar also writes each answered question as a `Q:` line and an `A:` line; then only
    the `Q:` lines are questions (counting both scored one real lead 67 instead of 57).
    """
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    asked = [line for line in lines if line[:2].upper() == "Q:"]
    return len(asked) or len(lines) or 1


def tool_in(first_row: list[str]) -> str | None:
    """The tool a report's first line names: GoToWebinar says so, Zoom titles it."""
    if "gotowebinar" in " ".join(first_row).lower():
        return GOTO
    if first_row[0].lower() == "attendee report":
        return ZOOM
    if is_numbered_section(first_row[0]):
        return TEAMS
    return None


def source_of(columns: Columns, tool: str | None) -> str:
    """What the report is, as the preview names it: the tool its first line or its header names."""
    keys = columns.keys
    if tool == GOTO or keys & _GOTO_COLUMNS:
        return GOTO
    if tool == ZOOM or keys & _ZOOM_COLUMNS:
        return ZOOM
    if tool == TEAMS or keys & _TEAMS_COLUMNS:
        return TEAMS
    if keys >= _ZOOM_MEETING_COLUMNS:
        return ZOOM_MEETING
    return "CSV"
