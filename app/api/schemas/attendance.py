"""The API's attendance schemas: the attendee report sent as a file, and what applying it
found."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload


class AttendanceUpload(ma.Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "A Zoom, GoToWebinar or Microsoft Teams attendance report, or a CSV "
            "with the columns `email` and `minutes`. The format is read from the content."
        },
    )


class AttendanceOut(ma.Schema):
    attended = ma.fields.Integer(
        required=True, metadata={"description": "Registrants the report places in the room."}
    )
    no_show = ma.fields.Integer(
        required=True, metadata={"description": "Confirmed registrants who did not attend."}
    )
    unmatched = ma.fields.Integer(
        required=True,
        metadata={"description": "People who attended under an email with no registration."},
    )


class AttendancePullOut(ma.Schema):
    status = ma.fields.String(
        required=True, metadata={"description": "`pending`: the next worker pass pulls it."}
    )
    platform = ma.fields.String(required=True, metadata={"enum": ["zoom", "goto"]})
    message = ma.fields.String(required=True)
