"""Attendance from webinar reports: read a Zoom, GoToWebinar or Microsoft Teams report (or a
plain CSV with `email` and `minutes`), preview it against an event's registrations, apply it
at once.

The console keeps an upload in the database as it is read (`keep_upload`, `previews`), shows
`preview_attendance` and applies it with `apply_preview`; the API and the CLI call
`import_attendance`, which keeps and applies at once; a report read in memory (`read_report`:
bytes to an AttendeeReport, no database; a platform's answer) goes to `apply_attendance`.
"""

from app.followup.attendance.applying import (
    SLACK_MINUTES,
    ImportSummary,
    Matched,
    Preview,
    apply_attendance,
    apply_preview,
    import_attendance,
    minutes_cap,
    preview_attendance,
)
from app.followup.attendance.previews import KeptReport, keep_upload
from app.followup.attendance.reading import (
    BATCH,
    EXPECTED,
    MAX_COLUMNS,
    MAX_ROWS,
    AttendanceFileError,
    read_report,
)
from app.followup.attendance.report import Attendee, AttendeeReport

__all__ = [
    "BATCH",
    "EXPECTED",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "SLACK_MINUTES",
    "AttendanceFileError",
    "Attendee",
    "AttendeeReport",
    "ImportSummary",
    "KeptReport",
    "Matched",
    "Preview",
    "apply_attendance",
    "apply_preview",
    "import_attendance",
    "keep_upload",
    "minutes_cap",
    "preview_attendance",
    "read_report",
]
