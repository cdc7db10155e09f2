"""Source links: an event's named tracking links, one per channel ("LinkedIn ad").

A link is the landing page's address with `?src=<code>`. Opening it adds one to the link's
visit count (one UPDATE, nothing about the visitor is kept) and fills the form's hidden utm
fields from the link, so the registration records the link and its parameters.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from flask import current_app
from sqlalchemy import select, update

from app import fields
from app.db import column_length, db
from app.refusals import Refusal
from app.registrations.models import SourceLink

# The utm values a link carries, in the order the console asks for them.
LINK_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# The console offers these; any other value may be typed.
SOURCE_SUGGESTIONS = ("linkedin", "facebook", "google", "newsletter", "partner", "twitter")
MEDIUM_SUGGESTIONS = ("paid_social", "social", "cpc", "email", "referral", "display")
# Codes are made here, so anything of another shape names no link and never reaches SQL.
_CODE = re.compile(r"[a-z0-9]{8}")


def links_of(event_id: int) -> list[SourceLink]:
    return list(
        db.session.scalars(
            select(SourceLink).where(SourceLink.event_id == event_id).order_by(SourceLink.id)
        )
    )


def find(event_id: int, code: str | None) -> SourceLink | None:
    """The event's link with this code; None for no code, a malformed one or another event's."""
    if not code or not _CODE.fullmatch(code):
        return None
    return db.session.scalar(
        select(SourceLink).where(SourceLink.event_id == event_id, SourceLink.code == code)
    )


def link_url(link: SourceLink) -> str:
    """The address to hand out: the event's landing page with this link's code."""
    return f"{current_app.config['BASE_URL']}/e/{link.event.slug}?src={link.code}"


def count_visit(link: SourceLink) -> None:
    """One more visit, added in the database so that concurrent visits are all counted."""
    db.session.execute(
        update(SourceLink).where(SourceLink.id == link.id).values(visits=SourceLink.visits + 1)
    )
    db.session.commit()


def create_link(event_id: int, values: Mapping[str, str | None]) -> SourceLink:
    """A new link named `values["name"]`, with a fresh code; refuses a missing name, source or
    medium, and values longer than their columns."""
    cleaned = _checked(values, keys=("name", *LINK_UTM))
    link = SourceLink(
        event_id=event_id,
        code=_free_code(event_id),
        **{key: value or None for key, value in cleaned.items()},
    )
    db.session.add(link)
    db.session.commit()
    return link


def change_link(link: SourceLink, values: Mapping[str, str | None]) -> SourceLink:
    """Change the given fields of a link (its code stays, so the addresses already handed out
    keep working); the same refusals as `create_link` for the fields given."""
    cleaned = _checked(values, keys=tuple(key for key in ("name", *LINK_UTM) if key in values))
    for key, value in cleaned.items():
        setattr(link, key, value or None)
    db.session.commit()
    return link


def _checked(values: Mapping[str, str | None], keys: tuple[str, ...]) -> dict[str, str]:
    cleaned = {key: _clean(values.get(key)) for key in keys}
    problems = {
        key: f"Enter the link's {label}."
        for key, label in (("name", "name"), ("utm_source", "source"), ("utm_medium", "medium"))
        if key in cleaned and not cleaned[key]
    }
    problems |= {
        key: f"Keep this under {column_length(SourceLink, key) + 1} characters."
        for key, value in cleaned.items()
        if value and len(value) > column_length(SourceLink, key)
    }
    if problems:
        raise Refusal("Please correct the marked fields.", fields=problems)
    return cleaned


def delete_link(link: SourceLink) -> None:
    """Remove the link; registrations that came through it keep their utm values."""
    db.session.delete(link)
    db.session.commit()


def _clean(value: str | None) -> str:
    return fields.CONTROL_IN_LINE.sub("", value or "").strip()


def _free_code(event_id: int) -> str:
    while True:
        code = secrets.token_hex(4)
        if find(event_id, code) is None:
            return code
