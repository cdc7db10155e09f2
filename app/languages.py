"""The languages an event's public pages, emails and invites are written in: the catalogs
(compiled from their .po files when a .mo is missing or stale), the language a visitor's page
speaks among those its event offers, the locale a page or a message speaks, and dates
formatted for it. The console always speaks English."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import (
    Flask,
    after_this_request,
    g,
    has_app_context,
    has_request_context,
    request,
    url_for,
)
from flask_babel import Babel, force_locale, get_locale, gettext, refresh
from werkzeug.wrappers import Response

# The first is the default; an event's `language` is one of these.
LANGUAGES = ("en", "de", "fr", "es")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
DEFAULT = LANGUAGES[0]
CATALOGS = Path(__file__).parent / "translations"

babel = Babel()


def N_(message: str) -> str:
    """Mark a message for the catalogs; it is translated where it is shown."""
    return message


def language_problem(code: str | None) -> str | None:
    """Why `code` is not an event language, or None when it is one."""
    if code in LANGUAGES:
        return None
    return "Choose one of: " + ", ".join(LANGUAGES) + "."


def other_languages_problem(codes: object) -> str | None:
    """Why `codes` is not a list of languages an event may offer, or None when it is one."""
    if isinstance(codes, list | tuple) and all(code in LANGUAGES for code in codes):
        return None
    return "List languages from: " + ", ".join(LANGUAGES) + "."


class Offering(Protocol):
    """What choosing a page's language needs of an event (`app.events.models.Event`), named
    here so that languages, which the field rules use, does not import events."""

    @property
    def language(self) -> str: ...

    @property
    def languages(self) -> tuple[str, ...]: ...


# The query parameter that asks for one of an event's languages (`/e/<slug>?lang=de`).
ASK = "lang"


def page_language(event: Offering) -> str:
    """The language `event`'s public page speaks to this visitor: the one `?lang=` asks for
    among those the event offers, else the best of the browser's Accept-Language among them,
    else the event's main language. When the event offers more than one, the response is
    marked `Vary: Accept-Language`, since the same address may then answer in another."""
    offered = event.languages
    if len(offered) == 1:
        return offered[0]

    @after_this_request
    def varies(response: Response) -> Response:
        response.vary.add("Accept-Language")
        return response

    asked = request.args.get(ASK)
    if asked in offered:
        return str(asked)
    return request.accept_languages.best_match(offered) or event.language


@dataclass(frozen=True)
class LanguageLink:
    """One language of a page in its switcher: `url` is this page, in it."""

    code: str
    name: str
    url: str
    current: bool


def language_links(event: Offering) -> list[LanguageLink]:
    """This page (its other query parameters kept) in each language `event` offers; none when
    it offers only one."""
    if len(event.languages) == 1 or request.endpoint is None:
        return []
    kept: dict[str, Any] = {**(request.view_args or {})}
    kept.update((name, values) for name, values in request.args.lists() if name != ASK)
    here = current_language()
    return [
        LanguageLink(
            code, LANGUAGE_NAMES[code], url_for(request.endpoint, **kept, lang=code), code == here
        )
        for code in event.languages
    ]


def speak(language: str | None) -> None:
    """Render the rest of this request (a public page of an event) in `language`."""
    g.language = language if language in LANGUAGES else DEFAULT
    refresh()


def visitor_language() -> str:
    """The visitor's browser language (Accept-Language), the best match among ours; for a
    public page that belongs to no event."""
    if not has_request_context():
        return DEFAULT
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Write a message (an email, an invite) in `language`, wherever it is composed."""
    with force_locale(language if language in LANGUAGES else DEFAULT):
        yield


def current_language() -> str:
    locale = get_locale() if has_app_context() else None
    return locale.language if locale is not None else DEFAULT


def long_time(local: datetime) -> str:
    """ "Donnerstag, 3. Dezember 2026, 14:00 CET": a zoned wall-clock time in the current
    language."""
    language = current_language()
    return (
        f"{format_date(local, 'full', locale=language)}, "
        f"{format_time(local, 'short', locale=language)} {local.tzname()}"
    )


def short_time(local: datetime) -> str:
    """ "3. Dezember 2026, 14:00 UTC" in the current language."""
    language = current_language()
    return (
        f"{format_date(local, 'long', locale=language)}, "
        f"{format_time(local, 'short', locale=language)} {local.tzname()}"
    )


def translated(message: object) -> str:
    """A message written in English where it arose (a refusal, a field's error, an error
    page's words; each marked with `N_`), in the current language: the catalog's translation
    when it has one, else as given. Plain text, so a page escapes it like any other."""
    return gettext(str(message)) if message else ""


def _select_locale() -> str:
    return g.get("language") or DEFAULT


def compiled_catalogs(source: Path = CATALOGS) -> Path:
    """The folder of compiled catalogs: next to the .po files when that folder is writable,
    else a cache folder; each .mo is (re)written when missing or older than its .po."""
    for target in (source, Path(tempfile.gettempdir()) / "reserve-translations"):
        try:
            for po in source.glob("*/LC_MESSAGES/messages.po"):
                mo = target / po.relative_to(source).with_suffix(".mo")
                if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                    continue
                mo.parent.mkdir(parents=True, exist_ok=True)
                with po.open("rb") as fp:
                    catalog = read_po(fp)
                # Written aside then moved: another process starting now reads a whole file.
                fd, temporary = tempfile.mkstemp(dir=mo.parent, suffix=".mo")
                with os.fdopen(fd, "wb") as out:
                    write_mo(out, catalog)
                os.replace(temporary, mo)
            return target
        except OSError:
            continue
    return source


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        default_locale=DEFAULT,
        default_translation_directories=str(compiled_catalogs()),
        locale_selector=_select_locale,
    )
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.add_template_filter(translated, "translated")

    @app.before_request
    def english_until_told() -> None:
        # A test or CLI may hold one app context over several requests: each starts afresh.
        if "language" in g:
            g.pop("language")
            refresh()

    app.add_template_global(language_links)

    @app.context_processor
    def language() -> dict[str, str]:
        return {"page_language": current_language()}
