"""A registrant's personal calendar invite: the one place that turns a registration into the
arguments `app.events.calendar.invite` needs, for the emailed invite and the downloaded one."""

from __future__ import annotations

from typing import Literal

from app.events.calendar import invite
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.sender import Sender, current_sender

Method = Literal["REQUEST", "CANCEL"]


def current_method(registration: Registration) -> Method:
    """CANCEL once the registration or its event is cancelled, else REQUEST."""
    cancelled = registration.status == "cancelled" or registration.event.status == "cancelled"
    return "CANCEL" if cancelled else "REQUEST"


def personal_invite(
    registration: Registration,
    *,
    method: Method,
    sequence: int,
    organizer: Sender | None = None,
    link: str | None = None,
) -> bytes:
    organizer = organizer or current_sender()
    return invite(
        registration.event,
        uid=registration.invite_uid,
        sequence=sequence,
        method=method,
        attendee_email=registration.email,
        attendee_name=registration.full_name,
        organizer_name=organizer.name or organizer.email,
        organizer_email=organizer.email,
        manage_url=link or manage_url(registration),
        join_url=registration.join_link,
        language=registration.language,
    )
