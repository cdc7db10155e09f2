"""What every response tells the browser: a content policy without inline script, no framing,
no sniffing, a referrer policy (none at all from manage pages), a permissions policy, HSTS
under an https:// BASE_URL, and no caching of console and manage pages."""

from __future__ import annotations

import re

import pytest

from app.registrations.links import manage_token
from tests.builders import bearer, log_in, make_event, make_user, register_person

PUBLIC_PAGES = ["/", "/e/launch-webinar", "/e/launch-webinar.ics", "/healthz", "/no-such-page"]
CONSOLE_PAGES = [
    "/admin/events",
    "/admin/events/launch-webinar",
    "/admin/events/launch-webinar/registrations",
    "/admin/reports",
    "/admin/events/launch-webinar/report",
    "/followups",
]
API_ANSWERS = ["/api/v1/events", "/api/v1/openapi.json", "/api/v1/leads", "/api/v1/nothing"]


def policy(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The Content-Security-Policy header as {directive: sources}."""
    header = response.headers["Content-Security-Policy"]
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: (rest[0] if rest else "") for name, *rest in directives}


def assert_protected(response) -> None:  # type: ignore[no-untyped-def]
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Referrer-Policy" in response.headers


@pytest.fixture
def webinar(app):  # type: ignore[no-untyped-def]
    return make_event(slug="launch-webinar")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_are_protected_and_may_be_cached(client, webinar, path):
    response = client.get(path)
    assert_protected(response)
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("page", ["", "/thanks", "/invite.ics"])
def test_manage_pages_send_no_referrer_and_are_never_stored(client, webinar, page):
    token = manage_token(register_person(webinar, "ada@example.com"))
    response = client.get(f"/r/{token}{page}")
    assert response.status_code == 200
    assert_protected(response)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unknown_manage_link_is_not_stored_either(client, app):
    response = client.get("/r/not-a-token")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_are_protected_and_never_stored(client, webinar, path):
    log_in(client, make_user("admin"))
    response = client.get(path)
    assert response.status_code == 200, path
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_the_reps_list_and_the_sign_in_pages_are_never_stored(client, app):
    for path in ("/login", "/logout"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    log_in(client, make_user("rep"))
    response = client.get("/followups")
    assert response.status_code == 200
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", API_ANSWERS)
def test_api_answers_are_protected_too(client, webinar, path):
    response = client.get(path, headers=bearer(make_user("rep")))
    assert response.is_json
    assert_protected(response)


def test_no_hsts_under_an_http_base_url(client, webinar):
    response = client.get("/e/launch-webinar", base_url="https://testserver")
    assert "Strict-Transport-Security" not in response.headers


def test_the_app_never_redirects_to_https_itself(client, webinar):
    # TLS is the proxy's job: a plain request is answered, not bounced.
    assert client.get("/e/launch-webinar").status_code == 200


class TestUnderAnHttpsBaseUrl:
    @pytest.fixture
    def app_config(self, app_config):  # type: ignore[no-untyped-def]
        # As Config derives them from an https:// BASE_URL in the environment.
        return {
            **app_config,
            "BASE_URL": "https://events.example.com",
            "SESSION_COOKIE_SECURE": True,
        }

    def test_hsts_is_sent_over_https(self, client, webinar):
        response = client.get("/e/launch-webinar", base_url="https://events.example.com")
        assert response.status_code == 200
        hsts = response.headers["Strict-Transport-Security"]
        assert re.fullmatch(r"max-age=\d{8,}; includeSubDomains", hsts)

    def test_the_session_cookie_stays_secure_and_http_only(self, client, app):
        response = client.get("/login", base_url="https://events.example.com")
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_session_cookie_is_not_forced_secure_under_plain_http(client, app):
    # A Secure cookie would never come back over http://, and no one could sign in.
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie


INLINE = [
    # A JSON-LD block (the landing page's schema.org Event) is data the browser never runs,
    # so script-src does not apply to it; any other inline script would be blocked.
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/ld\+json\")[^>]*>", re.I),
    re.compile(r"<[a-z][^>]*\sstyle=", re.I),
    re.compile(r"<[a-z][^>]*\son[a-z]+=", re.I),
    re.compile(r"<style", re.I),
    re.compile(r"javascript:", re.I),
]


def test_no_page_carries_inline_script_or_style_the_policy_would_block(client, webinar):
    token = manage_token(register_person(webinar, "ada@example.com"))
    public = ["/login", "/", "/e/launch-webinar", f"/r/{token}", f"/r/{token}/thanks"]
    console = [*CONSOLE_PAGES, "/admin/settings", "/admin/events/new"]
    for path in public + console:
        if path == console[0]:
            log_in(client, make_user("admin"))
        response = client.get(path)
        assert response.status_code == 200, path
        for pattern in INLINE:
            assert not pattern.search(response.text), (path, pattern.search(response.text))
