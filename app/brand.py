"""Who the public pages say they come from: the organization's name, logo, accent colour and
footer, set by admins in the console, served to every public page (a context processor) and
as /brand.css; the accent's text colour is chosen so text on it stays readable."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, render_template_string
from sqlalchemy.exc import SQLAlchemyError

from app.db import db
from app.fields import CONTROL_IN_LINE
from app.models import Setting
from app.refusals import Refusal

BRAND_KEY = "brand"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
NAME_LENGTH = 100
FOOTER_LENGTH = 500
URL_LENGTH = 1000
# WCAG 2.1's contrast for body text (1.4.3, level AA).
READABLE = 4.5
DARK_TEXT = "#111827"
LIGHT_TEXT = "#ffffff"
# Site.css's own colours: what the pages look like before anyone sets a brand.
DEFAULT_ACCENT = "#1f5fbf"
DEFAULT_INK = "#1c2430"


@dataclass(frozen=True)
class Brand:
    name: str = "Events"
    logo_url: str | None = None
    accent: str = DEFAULT_ACCENT
    footer: str = "Questions about an event? Reply to any email we sent you."

    @property
    def on_accent(self) -> str:
        """The text colour on an accent background (buttons): whichever reads better."""
        return LIGHT_TEXT if contrast(self.accent, LIGHT_TEXT) >= READABLE else DARK_TEXT

    @property
    def link(self) -> str:
        """Links on the white page: the accent when it reads on white, else the ink colour."""
        return self.accent if contrast(self.accent, LIGHT_TEXT) >= READABLE else DEFAULT_INK


class BrandRejected(Refusal):
    """A brand setting that cannot be shown; `fields` names each field and why."""

    default_message = "The organization's identity was not saved."


def _luminance(colour: str) -> float:
    """Relative luminance of "#rrggbb" (WCAG 2.1's definition)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two "#rrggbb" colours, from 1 to 21."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def image_url_problem(raw: str | None) -> str | None:
    """Why an image address cannot be shown on a public page, or None when it can."""
    if not raw:
        return None
    if len(raw) > URL_LENGTH:
        return f"Keep the address under {URL_LENGTH} characters."
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname or CONTROL_IN_LINE.search(raw) or " " in raw:
        return "Use an https:// address of an image, such as https://example.com/logo.png."
    return None


def current_brand() -> Brand:
    saved = db.session.get(Setting, BRAND_KEY)
    value = saved.value if saved is not None and isinstance(saved.value, dict) else {}
    defaults = Brand()
    return Brand(
        name=str(value.get("name") or defaults.name),
        logo_url=value.get("logo_url") or None,
        accent=str(value.get("accent") or defaults.accent),
        footer=str(value.get("footer") or defaults.footer),
    )


def save_brand(values: dict[str, Any]) -> Brand:
    """Check and store the organization's identity; BrandRejected names each bad field."""
    problems: dict[str, str] = {}
    name = " ".join(str(values.get("name") or "").split())
    logo_url = str(values.get("logo_url") or "").strip() or None
    accent = str(values.get("accent") or "").strip() or DEFAULT_ACCENT
    footer = " ".join(str(values.get("footer") or "").split())
    if not name or len(name) > NAME_LENGTH:
        problems["name"] = f"Give the organization's name, up to {NAME_LENGTH} characters."
    if problem := image_url_problem(logo_url):
        problems["logo_url"] = problem
    if not HEX_COLOUR.match(accent):
        problems["accent"] = "Use a colour such as #1f5fbf (a # and six hexadecimal digits)."
    if len(footer) > FOOTER_LENGTH:
        problems["footer"] = f"Keep the footer under {FOOTER_LENGTH} characters."
    if problems:
        raise BrandRejected(fields=problems)
    brand = Brand(
        name=name, logo_url=logo_url, accent=accent.lower(), footer=footer or Brand().footer
    )
    setting = db.session.get(Setting, BRAND_KEY)
    if setting is None:
        db.session.add(Setting(key=BRAND_KEY, value=asdict(brand)))
    else:
        setting.value = asdict(brand)
    db.session.commit()
    return brand


# Overrides of site.css's custom properties; the colours were checked when they were saved.
BRAND_CSS = """/* The organization's accent, from the console's settings. */
:root { --brand: {{ b.accent }}; --brand-dark: {{ b.accent }}; --on-brand: {{ b.on_accent }}; }
a { color: {{ b.link }}; }
.button { color: {{ b.on_accent }}; }
.button:hover { filter: brightness(.92); }
.button.secondary { color: {{ b.link }}; border-color: {{ b.link }}; }
"""


def init_app(app: Flask) -> None:
    @app.context_processor
    def brand_context() -> dict[str, Any]:
        # Lazily: most console pages never read it, and a page without a database (the outage
        # page) must not ask for one.
        return {"brand": _LazyBrand()}

    @app.get("/brand.css")
    def brand_css() -> Response:
        css = render_template_string(BRAND_CSS, b=current_brand())
        response = Response(css, mimetype="text/css")
        response.headers["Cache-Control"] = "public, max-age=300"
        return response


class _LazyBrand:
    """The brand, read from the database on first use within a template."""

    _brand: Brand | None = None

    def __getattr__(self, name: str) -> Any:
        if self._brand is None:
            try:
                self._brand = current_brand()
            except SQLAlchemyError:
                # The database is down (the outage page): the pages say who they are anyway.
                db.session.rollback()
                self._brand = Brand()
        return getattr(self._brand, name)
