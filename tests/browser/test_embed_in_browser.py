"""The embed snippet on another site's page, in a real browser: a host page on a second local
origin, under a strict CSP of its own, puts the form in a frame with its utm_ parameters;
the frame grows to fit, and registering works there without the session cookie."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.db import db
from app.registrations.models import Registration
from tests.builders import make_event

pytestmark = pytest.mark.browser


@pytest.fixture
def host_page(app: Flask, live_server: str) -> Iterator[str]:
    """A marketer's page on http://localhost:PORT (another site than the app's 127.0.0.1),
    holding the snippet and allowing scripts and frames from the app only."""
    snippet = f'<script src="{live_server}/static/embed.js" data-event="launch-webinar" async>'

    class Host(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f'<!doctype html><html lang="en"><body><h1>Partner</h1>{snippet}</script>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header(
                "Content-Security-Policy",
                f"default-src 'none'; script-src {live_server}; frame-src {live_server}",
            )
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    origin = f"http://localhost:{server.server_port}"
    app.config["EMBED_ORIGINS"] = (origin,)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield origin
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_a_visitor_registers_in_the_form_embedded_on_another_site(page: Page, host_page: str):
    make_event()
    db.session.commit()

    page.goto(f"{host_page}/spring?utm_source=partner&utm_campaign=spring&other=x")
    frame = page.frame_locator("iframe")
    frame.get_by_label("Work email").fill("ada@example.com")
    frame.get_by_label("First name").fill("Ada")
    frame.get_by_role("button", name="Reserve my spot").click()

    expect(frame.get_by_role("heading", level=1)).to_have_text("You're registered")
    src = page.locator("iframe").get_attribute("src") or ""
    assert "utm_source=partner" in src and "utm_campaign=spring" in src and "other" not in src
    # The framed page reported its height, and the snippet took it.
    expect(page.locator("iframe")).not_to_have_css("height", "600px")
    db.session.rollback()
    saved = db.session.scalars(select(Registration)).one()
    assert (saved.utm_source, saved.utm_campaign) == ("partner", "spring")
