"""Attendance from webinar reports: read a Zoom, GoToWebinar or Microsoft Teams report (or a
plain CSV with `email` and `minutes`), preview it against an event's registrations, apply it
at once.

The console, the API and the CLI all call `read_report` (`reading`: bytes to an AttendeeReport,
no database), then `preview_attendance` and/or `apply_attendance` (`applying`);
`import_attendance` does both for the faces that skip the preview.
"""

from app.followup.attendance.applying import (
    SLACK_MINUTES,
    ImportSummary,
    Matched,
    Preview,
    apply_attendance,
    import_attendance,
    minutes_cap,
    preview_attendance,
)
from app.followup.attendance.reading import (
    EXPECTED,
    MAX_COLUMNS,
    MAX_ROWS,
    AttendanceFileError,
    read_report,
)
from app.followup.attendance.report import Attendee, AttendeeReport

__all__ = [
    "EXPECTED",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "SLACK_MINUTES",
    "AttendanceFileError",
    "Attendee",
    "AttendeeReport",
    "ImportSummary",
    "Matched",
    "Preview",
    "apply_attendance",
    "import_attendance",
    "minutes_cap",
    "preview_attendance",
    "read_report",
]
