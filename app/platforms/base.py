"""What every webinar platform connector does, so that a third platform is one new module.

A connector only speaks the platform's HTTP API: it takes plain values and answers plain
values, never reads or writes the database. The worker jobs around it decide when to call,
keep each registrant's sync state, and apply what comes back (attendance goes through the
same `apply_attendance` as an uploaded report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from app.followup.attendance.report import AttendeeReport


@dataclass(frozen=True)
class Person:
    """Who to add on the platform: the registration's own fields, nothing the platform lacks."""

    email: str
    first_name: str
    last_name: str
    company: str | None = None
    title: str | None = None
    country: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class PlatformRegistrant:
    """The platform's record of one registrant: its id there and the person's own join link."""

    registrant_id: str
    join_url: str | None


class PlatformError(Exception):
    """A platform call that did not succeed.

    `retry_after` is the wait, in seconds, that the platform asked for (a 429's `Retry-After`);
    `permanent` means trying again cannot help (a 4xx other than 429: the webinar is gone,
    registration is closed), so the job records the message instead of retrying.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.permanent = permanent


class Connector(Protocol):
    """One webinar platform, as the worker uses it."""

    name: ClassVar[str]  # stored in `events.platform`: "zoom", "goto"
    label: ClassVar[str]  # shown to people: "Zoom", "GoTo Webinar"

    def configured(self) -> bool:
        """True when the credentials needed to call the platform are all set."""
        ...

    def add_registrant(self, webinar_id: str, person: Person) -> PlatformRegistrant:
        """Register the person for the webinar; raise PlatformError when the call fails."""
        ...

    def cancel_registrant(self, webinar_id: str, registrant_id: str, email: str) -> None:
        """Cancel the registrant; a registrant the platform no longer has counts as done."""
        ...

    def fetch_attendance(self, webinar_id: str) -> AttendeeReport:
        """Everyone who joined (every page of the platform's report), as one AttendeeReport."""
        ...
