"""What every console page shares: errors shown in the console's own layout (public pages keep
theirs), a favicon on every layout and at /favicon.ico, and a navigation that marks the section
the page belongs to."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.builders import event_form, log_in, make_event, make_user

CONSOLE = 'class="console-header"'
PUBLIC = 'class="site-header"'


def nav_marks(html: str) -> list[str]:
    nav = html.split('class="console-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'aria-current="page">([^<]+)<', nav)


# Error pages


def test_a_console_404_uses_the_console_layout(client, app):
    log_in(client, make_user("marketer"))
    response = client.get("/admin/events/no-such-event")
    assert response.status_code == 404
    assert CONSOLE in response.text and PUBLIC not in response.text
    assert "Not found" in response.text
    assert 'href="/admin/events"' in response.text  # back to the console
    assert nav_marks(response.text) == ["Events"]


def test_an_unknown_console_address_is_a_console_404_even_signed_out(client, app):
    response = client.get("/admin/no/such/page")
    assert response.status_code == 404
    assert CONSOLE in response.text and 'href="/login"' in response.text


def test_a_rep_refused_a_console_page_sees_a_console_403(client, app):
    log_in(client, make_user("rep"))
    response = client.get("/admin/reports")
    assert response.status_code == 403
    assert CONSOLE in response.text and "Not allowed" in response.text
    assert 'href="/followups"' in response.text


def test_another_reps_followup_is_a_console_404(client, app):
    log_in(client, make_user("rep"))
    response = client.get("/followups/987654")
    assert response.status_code == 404
    assert CONSOLE in response.text


def test_an_expired_console_form_is_a_console_400(client, app):
    log_in(client, make_user("marketer"))
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/admin/events/new", data={"title": "No token"})
    assert response.status_code == 400
    assert CONSOLE in response.text and "This form has expired" in response.text


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    def broken() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/admin/broken", "broken_console", broken)
    app.add_url_rule("/broken", "broken_public", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_a_console_500_uses_the_console_layout_and_a_public_one_the_public_layout(failing_app):
    client = failing_app.test_client()
    log_in(client, make_user("admin"))
    console = client.get("/admin/broken")
    assert console.status_code == 500
    assert CONSOLE in console.text and "Something went wrong on our side" in console.text
    public = client.get("/broken")
    assert public.status_code == 500
    assert PUBLIC in public.text and CONSOLE not in public.text


def test_public_error_pages_keep_the_public_layout(client, app):
    log_in(client, make_user("marketer"))
    response = client.get("/e/no-such-event")
    assert response.status_code == 404
    assert PUBLIC in response.text and CONSOLE not in response.text


# The favicon


def test_the_favicon_is_served_and_every_layout_links_it(client, app):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data
    make_event(slug="launch")
    for path in ("/", "/e/launch", "/login", "/e/launch/embed"):
        page = client.get(path).text
        assert 'rel="icon" href="/static/favicon.svg"' in page, path
        assert 'rel="icon" href="/favicon.ico"' in page, path


# The navigation


def test_the_navigation_marks_the_section_of_every_console_page(client, app):
    admin = make_user("admin")
    log_in(client, admin)
    assert event_form(client, title="Mapped").status_code == 303
    sections = {
        "/admin/events": "Events",
        "/admin/events/new": "Events",
        "/admin/events/mapped": "Events",
        "/admin/events/mapped/registrations": "Events",
        "/admin/events/mapped/attendance": "Events",
        "/admin/events/mapped/report": "Reports",
        "/admin/reports": "Reports",
        "/admin/feedback": "Reports",
        "/admin/routing": "Routing",
        "/admin/routing/rules/new": "Routing",
        "/followups": "Follow-ups",
        "/leads": "Leads",
        "/leads?q=nobody": "Leads",
        "/admin/tokens": "API tokens",
        "/admin/people": "People",
        "/admin/webhooks": "Webhooks",
        "/admin/operations": "Operations",
        "/admin/settings": "Settings",
        "/admin/settings/staff/new": "Settings",
        f"/admin/settings/staff/{admin.id}": "Settings",
        "/admin/settings/platforms": "Settings",
    }
    for path, label in sections.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert nav_marks(response.text) == [label], path
