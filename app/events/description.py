"""Event descriptions: Markdown written by marketers, rendered to HTML that is safe to show."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# "js-default" escapes raw HTML in the source; nh3 then drops anything dangerous that remains.
_markdown = MarkdownIt("js-default", {"linkify": False, "typographer": True})


def render_description(source: str) -> Markup:
    html = _markdown.render(source or "")
    clean = nh3.clean(html, link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def plain_summary(source: str, length: int = 160) -> str:
    """A one-line text summary for link previews."""
    text = " ".join(html.unescape(nh3.clean(_markdown.render(source or ""), tags=set())).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
