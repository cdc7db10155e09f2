"""The landing page rendered once per version of what it shows, kept in this process; each
request only puts its visitor's own values into that rendering (the form's token and stamp,
the campaign fields, the referring page, hidden questions' values).

An event's version is read in one small query per request: the event row's `updated_at`
(every edit of the event, its speakers or cover, and of its questions, which touch it) and
`seats_taken` (seats left, full, the waitlist), its status, its campaign's name and when the
organization's identity (`brand`) was last saved. A rendering also ends at the next moment
the page's words change by themselves (registration closing, the event ending). Pages of past
or cancelled events (they name the next event of the campaign) and personal links are not
kept: they are rendered for each request, as any POST is.

An event offering several languages is kept only for addresses without a query: its
language switcher links to the address asked, parameters and all.

The ETag names the version and this visitor's values, so a conditional GET answers 304 when
the page would read the same. See the README's "The landing page under a rush".
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app, request
from markupsafe import escape
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app.brand import BRAND_KEY
from app.db import db, utcnow
from app.events.models import Campaign, Event, offered_languages
from app.events.services import could_be_slug
from app.models import Setting
from app.registrations import source_links
from app.registrations.answers import tracking_value
from app.registrations.forms import (
    CLICK_IDS,
    FORM_TOKEN_SECONDS,
    UTM_FIELDS,
    form_stamp,
    form_token,
)

# Renderings kept per process, at most; the oldest goes first.
KEPT = 256
# Browsers and caches must ask again each time (the seat count moves); a 304 then costs one
# small query. Private copies (a browser's) and shared ones (a CDN's) alike: the ETag carries
# every visitor's value the page holds.
CACHE_CONTROL = "public, max-age=0, must-revalidate"
# What the page reads from the request besides its address: the referring page, in a hidden
# field. (Add Accept-Language here when the page's language is negotiated from it.)
VARY = ("Referer",)
# A copy revalidated within the same half-day keeps its token; its visitor then still has at
# least half of the token's day to send the form.
TOKEN_EPOCH_SECONDS = FORM_TOKEN_SECONDS // 2

# Unguessable marks rendered where a visitor's value goes; they survive HTML escaping as is.
_MARK = secrets.token_hex(8)

_events, _campaigns, _settings = Event.__table__.c, Campaign.__table__.c, Setting.__table__.c
# Core, built once: SQLAlchemy compiles it once and it returns plain rows.
_VERSION = (
    select(
        _events.id,
        _events.status,
        _events.language,
        _events.other_languages,
        _events.updated_at,
        _events.seats_taken,
        _campaigns.name,
        select(_settings.updated_at).where(_settings.key == BRAND_KEY).scalar_subquery(),
    )
    .select_from(Event.__table__.outerjoin(Campaign.__table__))
    .where(_events.slug == bindparam("slug"))
)


@lru_cache(maxsize=8)
def _compiled(engine: Engine) -> tuple[str, Callable[[str], Any]]:
    """The version query in `engine`'s SQL, and how to give it a slug in its driver's style."""
    compiled = _VERSION.compile(dialect=engine.dialect)
    defaults = compiled.params
    if compiled.positional:
        names = compiled.positiontup or []
        return str(compiled), lambda slug: tuple({**defaults, "slug": slug}[n] for n in names)
    return str(compiled), lambda slug: {**defaults, "slug": slug}


def slot(name: str) -> str:
    """The mark rendered in place of the visitor's value `name` (`utm_source`, `answers.x`)."""
    return f"{_MARK}-{name}-"


@dataclass(frozen=True)
class Version:
    """What the event's page shows, as one small query reads it."""

    event_id: int
    status: str
    language: str
    # Every language it offers, its main one first (as `Event.languages`).
    languages: tuple[str, ...]
    stamp: tuple[Any, ...]


@dataclass(frozen=True)
class Rendering:
    """A rendered page split at its visitors' slots: `texts` has one more item than `slots`."""

    stamp: tuple[Any, ...]
    texts: tuple[str, ...]
    slots: tuple[str, ...]
    hidden_keys: tuple[str, ...]
    valid_until: datetime | None
    etag_root: str

    def fresh(self, stamp: tuple[Any, ...], now: datetime) -> bool:
        return stamp == self.stamp and (self.valid_until is None or now < self.valid_until)

    def fill(self, values: Mapping[str, str]) -> str:
        parts = [self.texts[0]]
        for name, text in zip(self.slots, self.texts[1:], strict=True):
            parts.append(str(escape(values.get(name, ""))))
            parts.append(text)
        return "".join(parts)


def _kept() -> dict[tuple[str, bool, str], Rendering]:
    # Per app: two apps in one process (tests) never share a page.
    pages: dict[tuple[str, bool, str], Rendering] = current_app.extensions.setdefault(
        "landing_pages", {}
    )
    return pages


def version_of(slug: str) -> Version | None:
    """The version of the page at `slug`, or None when no event has it."""
    if not could_be_slug(slug):
        return None
    engine = db.engine
    sql, parameters = _compiled(engine)
    # The driver's own connection and cursor, from the pool: SQLAlchemy's execution around
    # one small read cost more than the rest of a kept page's answer. Nothing is written.
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, parameters(slug))
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
    except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error):
        # The page's full path asks again, through the ORM, and answers the outage as such.
        return None
    if row is None:
        return None
    event_id, status, language, others, *stamp = row
    # JSON comes back as text from SQLite, parsed from PostgreSQL.
    others = json.loads(others) if isinstance(others, str) else others
    languages = offered_languages(language, others)
    return Version(event_id, status, language, languages, (event_id, status, *languages, *stamp))


def kept(slug: str, embed: bool, language: str, version: Version) -> Rendering | None:
    rendering = _kept().get((slug, embed, language))
    return rendering if rendering is not None and rendering.fresh(version.stamp, utcnow()) else None


def keep(
    slug: str,
    embed: bool,
    language: str,
    version: Version,
    html: str,
    hidden_keys: Sequence[str],
    valid_until: datetime | None,
) -> Rendering:
    """Split `html` (rendered with `slot` marks) at its marks and keep it for this version."""
    pieces = html.split(_MARK)
    texts = [pieces[0]]
    slots = []
    for piece in pieces[1:]:
        # Each piece after a mark starts "-name-" and goes on with the page's text.
        name, text = piece[1:].split("-", 1)
        slots.append(name)
        texts.append(text)
    root = hashlib.blake2b(repr((slug, embed, language, version.stamp)).encode(), digest_size=9)
    rendering = Rendering(
        stamp=version.stamp,
        texts=tuple(texts),
        slots=tuple(slots),
        hidden_keys=tuple(hidden_keys),
        valid_until=valid_until,
        etag_root=root.hexdigest(),
    )
    pages = _kept()
    while len(pages) >= KEPT:
        pages.pop(next(iter(pages), None), None)  # type: ignore[arg-type]
    pages[(slug, embed, language)] = rendering
    return rendering


def next_change(event: Event, now: datetime | None = None) -> datetime | None:
    """The next moment the page's words change by themselves: registration closing, the
    event starting or ending (its form, its notice, its structured data)."""
    now = now or utcnow()
    moments = (event.registration_closes_at, event.starts_at, event.ends_at, event.over_at)
    return min((moment for moment in moments if moment is not None and moment > now), default=None)


def visitor_values(event_id: int, hidden_keys: Sequence[str]) -> dict[str, str]:
    """This visitor's values of the form's hidden fields: the campaign parameters (a source
    link's own utm values win over the address's), the referring page and hidden questions,
    each from the parameter of its key (`?partner=acme`). Counts a source link's visit."""
    args = request.args
    link = source_links.find(event_id, args.get("src"))
    if link is not None and request.method == "GET":
        source_links.count_visit(link)
    values = {
        name: (getattr(link, name, None) or args.get(name, ""))[:200]
        for name in (*UTM_FIELDS, *CLICK_IDS)
    }
    values["src"] = link.code if link is not None else ""
    values["referrer"] = (request.referrer or "")[:500]
    for key in hidden_keys:
        values[f"answers.{key}"] = tracking_value(args.get(key)) or ""
    return values


def answer(rendering: Rendering, slug: str, values: Mapping[str, str]) -> Response:
    """The page for this visitor, or a 304 when their copy (by its ETag) reads the same."""
    epoch = int(time.time() // TOKEN_EPOCH_SECONDS)
    visitor = hashlib.blake2b(repr(sorted(values.items())).encode(), digest_size=9)
    etag = f"{rendering.etag_root}.{visitor.hexdigest()}.{epoch}"
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        # A stamp to the tenth of a second: visitors served in the same one share a signature.
        served = form_stamp(slug, now=math.floor(time.time() * 10) / 10)
        html = rendering.fill({**values, "csrf_token": form_token(), "served": served})
        response = Response(html, mimetype="text/html")
    # Weak: two copies differ in their token and stamp, and read the same.
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.update(VARY)
    return response
