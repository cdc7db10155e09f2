"""The dialects of attendee reports: which tool wrote one, where each thing sits (header
synonyms, section lines) and what a cell says.

Zoom, GoToWebinar and plain CSV files name the same columns differently; each is recognised here
by its header, whatever its position. A new tool's export is taught here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GOTO = "GoToWebinar attendee report"
ZOOM = "Zoom attendee report"
# Columns only one tool writes.
_GOTO_COLUMNS = {"in session duration (minutes)", "interest rating"}
_ZOOM_COLUMNS = {"time in session (minutes)", "user name (original name)"}

# Zoom's single-cell section lines; rows under these are staff, not the audience.
STAFF_SECTIONS = {"host details", "panelist details", "panelists", "organizer details"}
# Sections that list registrants rather than attendance.
OTHER_SECTIONS = {"registrant details", "registrants"}
# Other one-cell lines that start a section in Zoom exports.
_NEW_SECTIONS = {"other attended", "attendees", "attendee report"}

# Header synonyms, compared after `header_key` (lower case, `*` and `_` dropped, spaces folded).
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
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


def header_key(cell: str) -> str:
    cleaned = cell.replace("\ufeff", "").replace("*", "").replace("_", " ").lower()
    return re.sub(r"\s+", " ", cleaned).strip()


@dataclass(frozen=True)
class Columns:
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
    def find(cls, cells: list[str]) -> Columns | None:
        """The columns of a header row, or None when the row names no email column."""
        places: dict[str, int] = {}
        for index, cell in enumerate(cells):
            key = header_key(cell)
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
    return key.endswith(" details") or key in STAFF_SECTIONS | OTHER_SECTIONS | _NEW_SECTIONS


def show_columns(cells: list[str]) -> str:
    shown = [cell[:40] for cell in cells if cell][:12]
    if not shown:
        return "none"
    more = len([cell for cell in cells if cell]) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def question_count(text: str) -> int:
    """A count, or the questions themselves (GoToWebinar lists them), one a line."""
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    return len([line for line in text.splitlines() if line.strip()]) or 1


def tool_in(first_row: list[str]) -> str | None:
    """The tool a report's first line names: GoToWebinar says so, Zoom titles it."""
    if "gotowebinar" in " ".join(first_row).lower():
        return GOTO
    if first_row[0].lower() == "attendee report":
        return ZOOM
    return None


def source_of(columns: Columns, tool: str | None) -> str:
    """What the report is, as the preview names it: the tool its first line or its header names."""
    keys = {header_key(name) for name in columns.names}
    if tool == GOTO or keys & _GOTO_COLUMNS:
        return GOTO
    if tool == ZOOM or keys & _ZOOM_COLUMNS:
        return ZOOM
    return "CSV"
