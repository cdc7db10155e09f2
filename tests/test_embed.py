"""The embeddable form: only `/e/<slug>/embed` may be framed, by exactly the origins of
EMBED_ORIGINS; its post works without the session cookie a third-party frame does not send;
the registration API answers CORS for those origins only; bad origins are refused by name."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from app.config import Config
from app.db import db
from app.embedding import checked_origin, parse_origins
from app.refusals import Refusal
from app.registrations.models import Registration
from tests.builders import bearer, event_form, make_event, make_user
from tests.test_reserve_your_spot import reserve

ALLOWED = ("https://www.partner.example", "http://localhost:8001")
EMBED = "/e/launch-webinar/embed"
REGISTER = "/api/v1/events/launch-webinar/registrations"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "EMBED_ORIGINS": ALLOWED}


@pytest.fixture(autouse=True)
def event(app):  # type: ignore[no-untyped-def]
    return make_event()


def frame_ancestors(response: Any) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part for part in policy.split("; ") if part.startswith("frame-ancestors"))


def served_stamp(html: str) -> str:
    match = re.search(r'name="served" type="hidden" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_the_embed_view_may_be_framed_by_exactly_the_allowed_origins(client):
    response = client.get(EMBED)

    assert response.status_code == 200
    assert frame_ancestors(response) == "frame-ancestors 'self' " + " ".join(ALLOWED)
    assert "X-Frame-Options" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_every_other_page_keeps_refusing_frames(client):
    for path in ("/e/launch-webinar", "/", "/login"):
        response = client.get(path)
        assert frame_ancestors(response) == "frame-ancestors 'none'", path
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_embed_view_has_no_site_chrome_and_keeps_the_utm_parameters(client):
    html = client.get(EMBED + "?utm_source=partner&utm_campaign=spring").get_data(as_text=True)

    assert 'class="site-header"' not in html
    assert "embed-frame.js" in html
    assert 'value="partner"' in html and 'value="spring"' in html
    assert f'action="{EMBED}"' in html


def test_the_framed_form_registers_without_a_session_cookie_and_shows_the_thanks(app, client):
    html = client.get(EMBED + "?utm_source=partner").get_data(as_text=True)
    # The browser in a third-party frame sends no cookie: a fresh client has none.
    stranger = app.test_client()

    response = stranger.post(
        EMBED,
        data={
            "served": served_stamp(html),
            "utm_source": "partner",
            "email": "ada@example.com",
            "first_name": "Ada",
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert "You're registered" in response.get_data(as_text=True)
    assert frame_ancestors(response).startswith("frame-ancestors 'self' https://www.partner")
    saved = db.session.scalars(select(Registration)).one()
    assert saved.utm_source == "partner"


def test_the_framed_thanks_opens_its_pay_and_manage_links_in_a_new_tab(app, client):
    html = client.get(EMBED).get_data(as_text=True)
    response = app.test_client().post(
        EMBED, data={"served": served_stamp(html), "email": "ada@example.com", "first_name": "Ada"}
    )
    page = response.get_data(as_text=True)
    (manage,) = re.findall(r'<a class="manage-link"[^>]*>', page)
    assert 'target="_blank"' in manage and 'rel="noopener"' in manage
    # Without the site's chrome: the framed page is the embedded layout.
    assert "site-header" not in page


def test_the_plain_thanks_page_keeps_its_manage_link_in_the_same_tab(app, client):
    thanks = client.get(reserve(client).headers["Location"]).get_data(as_text=True)
    (manage,) = re.findall(r'<a class="manage-link"[^>]*>', thanks)
    assert "target" not in manage


def test_a_framed_post_without_our_stamp_is_refused(client):
    response = client.post(EMBED, data={"email": "ada@example.com", "first_name": "Ada"})

    assert response.status_code == 400
    assert db.session.scalars(select(Registration)).first() is None


def test_the_plain_landing_form_still_needs_its_csrf_token(client):
    html = client.get("/e/launch-webinar").get_data(as_text=True)

    response = client.post(
        "/e/launch-webinar",
        data={"served": served_stamp(html), "email": "ada@example.com", "first_name": "Ada"},
    )

    assert response.status_code == 400


def preflight(client: Any, origin: str) -> Any:
    return preflight_of(client, REGISTER, origin)


def test_a_preflight_from_an_allowed_origin_is_answered(client):
    response = preflight(client, "https://www.partner.example")

    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "https://www.partner.example"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    # A page's script may retry safely, and tell a replayed answer from a first one.
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]
    assert "Idempotent-Replayed" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_preflight_from_another_origin_gets_no_cors_headers(client):
    response = preflight(client, "https://evil.example")

    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]
    assert "Origin" in response.headers["Vary"]


def test_the_registration_answer_names_only_an_allowed_origin(client):
    person = {"email": "ada@example.com", "first_name": "Ada"}
    allowed = client.post(REGISTER, json=person, headers={"Origin": "http://localhost:8001"})
    other = client.post(
        REGISTER, json={**person, "email": "bob@example.com"}, headers={"Origin": "https://x.test"}
    )

    assert allowed.status_code == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:8001"
    assert other.status_code == 201
    assert "Access-Control-Allow-Origin" not in other.headers


def test_other_api_calls_answer_no_cors(client):
    response = client.get("/api/v1/events", headers={"Origin": "https://www.partner.example"})

    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [
        "www.partner.example",
        "http://www.partner.example",
        "https://www.partner.example/path",
        "https://www.partner.example?x=1",
        "https://user@www.partner.example",
        "https://www.partner.example:99999",
        "ftp://www.partner.example",
        "https://",
        "*",
    ],
)
def test_a_bad_origin_is_refused_naming_the_field(origin):
    with pytest.raises(Refusal) as refused:
        checked_origin(origin)

    assert set(refused.value.fields) == {"embed_origins"}


def test_good_origins_are_normalised_and_deduplicated():
    assert parse_origins(
        "https://WWW.Partner.example/, http://localhost:8001 https://www.partner.example"
    ) == (
        "https://www.partner.example",
        "http://localhost:8001",
    )
    assert checked_origin("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_a_bad_embed_origins_setting_stops_the_app_starting(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBED_ORIGINS", "https://ok.example, http://bad.example")

    with pytest.raises(
        ValueError, match="EMBED_ORIGINS: 'http://bad.example' must start with https"
    ):
        Config(str(tmp_path))


# --- Per event -------------------------------------------------------------------------------


def test_an_events_own_origins_may_frame_it_and_register_besides_the_global_ones(app, client):
    make_event(
        slug="partner-day", embed_origins="https://Shop.example, https://www.partner.example"
    )

    framed = client.get("/e/partner-day/embed")
    asked = preflight_of(client, "/api/v1/events/partner-day/registrations", "https://shop.example")
    elsewhere = preflight(client, "https://shop.example")

    assert frame_ancestors(framed) == "frame-ancestors 'self' " + " ".join(
        [*ALLOWED, "https://shop.example"]
    )
    assert asked.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    # Another event's origins do not open launch-webinar.
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    assert "shop.example" not in frame_ancestors(client.get(EMBED))


def test_the_api_refuses_a_bad_event_origin_naming_the_field(client):
    admin = bearer(make_user("admin"))

    refused = client.patch(
        "/api/v1/events/launch-webinar",
        json={"embed_origins": "http://shop.example"},
        headers=admin,
    )
    kept = client.patch(
        "/api/v1/events/launch-webinar",
        json={"embed_origins": "https://shop.example/"},
        headers=admin,
    )

    assert refused.status_code == 422
    assert "https://" in refused.json["error"]["fields"]["embed_origins"]
    assert kept.status_code == 200, kept.json
    assert kept.json["embed_origins"] == "https://shop.example"


def test_the_console_form_shows_a_bad_origin_beside_its_field_and_the_page_the_snippet(staff):
    path = "/admin/events/launch-webinar/edit"

    refused = event_form(staff, path, slug="launch-webinar", embed_origins="shop.example")
    saved = event_form(staff, path, slug="launch-webinar", embed_origins="https://shop.example")
    page = staff.get("/admin/events/launch-webinar").get_data(as_text=True)

    assert refused.status_code == 422
    assert "is not an origin like https://www.example.com" in refused.get_data(as_text=True)
    assert saved.status_code == 303
    assert '/static/embed.js" data-event="launch-webinar" async&gt;' in page
    assert "/e/launch-webinar/embed" in page and "https://shop.example" in page


def preflight_of(client: Any, path: str, origin: str) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
