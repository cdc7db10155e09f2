"""Who a registrant may book time with from the thank-you page: a hook follow-up fills in.

Follow-up knows which rep a registrant belongs to; it provides the finder from its
`init_app`, so registrations never imports it. Without one, no offer is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from app.registrations.models import Registration

_EXTENSION = "registrations.booking"

# (rep name, meeting link) for a registrant, or None.
Finder = Callable[[Registration], tuple[str, str] | None]


def provide(app: Flask, finder: Finder) -> None:
    """Called once by the package that knows the registrants' reps."""
    app.extensions[_EXTENSION] = finder


def offer_for(registration: Registration) -> tuple[str, str] | None:
    """The "Book time with <rep>" offer of the thank-you page, if any."""
    finder: Finder | None = current_app.extensions.get(_EXTENSION)
    return finder(registration) if finder is not None else None
