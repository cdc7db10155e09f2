"""What an attendee report says, before it is matched to registrations: one Attendee per email.

Plain data that the reader builds and the applier consumes; the console keeps it as JSON between
the preview and the apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Attendee:
    """One person in the report, every row (join) for their email taken together."""

    email: str
    # As the report spells it, when it does: a walk-in's lead is named by it.
    name: str = ""
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
            "name": self.name,
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
            name=str(data.get("name", "")),
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
