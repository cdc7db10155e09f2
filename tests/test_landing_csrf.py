"""The public landing form proves its post without a session: the browser must not say another
site made it (Origin, Sec-Fetch-Site), and it must carry our signed token from the last day.
So the landing page sets no cookie, while the console keeps its session-bound tokens."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.registrations.forms import FORM_TOKEN_SECONDS, form_token
from tests.builders import csrf_token, make_event
from tests.test_embed import served_stamp
from tests.test_landing_form_errors import VALID, nothing_saved

LANDING = "/e/launch-webinar"
EMBED = "/e/launch-webinar/embed"
FROM_ANOTHER_SITE = "This form was sent from another website, so it was not accepted."
EXPIRED = "This form has expired. Go back, reload the page and try again."


@pytest.fixture(autouse=True)
def event(app):  # type: ignore[no-untyped-def]
    return make_event()


def page_token(client: Any) -> str:
    return csrf_token(client.get(LANDING).get_data(as_text=True))


def test_the_landing_page_sets_no_cookie(client):
    response = client.get(LANDING)

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert 'name="csrf_token" type="hidden"' in response.get_data(as_text=True)


def test_the_pages_token_registers_without_any_cookie(client):
    token = page_token(client)
    client._cookies.clear()

    response = client.post(LANDING, data={**VALID, "csrf_token": token})

    assert response.status_code == 303
    assert "/r/" in response.headers["Location"]


def test_a_post_from_our_own_origin_registers(client):
    headers = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}

    response = client.post(
        LANDING, data={**VALID, "csrf_token": page_token(client)}, headers=headers
    )

    assert response.status_code == 303


def test_a_post_from_the_base_urls_origin_registers(client):
    # Behind a proxy the Host may differ from the public address the browser names.
    headers = {"Origin": "http://testserver"}

    response = client.post(
        LANDING, data={**VALID, "csrf_token": page_token(client)}, headers=headers
    )

    assert response.status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["other-origin", "lookalike-host", "null-origin", "sec-fetch-cross-site", "both"],
)
def test_a_post_another_site_made_is_refused_with_a_clear_400(client, headers):
    # Even with a valid token: a token can be fetched by anyone, the browser's word cannot.
    response = client.post(
        LANDING, data={**VALID, "csrf_token": page_token(client)}, headers=headers
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert FROM_ANOTHER_SITE in html
    assert "<h1>" in html and "Traceback" not in html
    assert nothing_saved()


def test_a_framed_post_another_site_made_is_refused(client):
    html = client.get(EMBED).get_data(as_text=True)

    response = client.post(
        EMBED,
        data={**VALID, "served": served_stamp(html)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 400
    assert nothing_saved()


def test_a_tampered_token_is_refused(client):
    token = page_token(client)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = client.post(LANDING, data={**VALID, "csrf_token": tampered})

    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
    assert nothing_saved()


def test_a_token_older_than_a_day_is_refused(client, app):
    with app.test_request_context():
        old = form_token(now=time.time() - FORM_TOKEN_SECONDS - 1)

    response = client.post(LANDING, data={**VALID, "csrf_token": old})

    assert response.status_code == 400
    assert EXPIRED in response.get_data(as_text=True)
    assert nothing_saved()


def test_a_token_from_the_last_day_registers(client, app):
    with app.test_request_context():
        recent = form_token(now=time.time() - FORM_TOKEN_SECONDS + 60)

    response = client.post(LANDING, data={**VALID, "csrf_token": recent})

    assert response.status_code == 303


def test_a_token_signed_with_another_key_is_refused(client, app):
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("not-our-key", salt="landing-form-token").dumps(
        ["landing", int(time.time())]
    )

    response = client.post(LANDING, data={**VALID, "csrf_token": forged})

    assert response.status_code == 400
    assert nothing_saved()


def test_the_served_stamp_is_not_a_token(client):
    # The stamp is signed with another salt: it cannot stand in for the form's token.
    html = client.get(LANDING).get_data(as_text=True)

    response = client.post(LANDING, data={**VALID, "csrf_token": served_stamp(html)})

    assert response.status_code == 400
    assert nothing_saved()


def test_a_german_events_visitor_is_refused_in_german(client):
    make_event(slug="webinar-de", language="de")
    page = client.get("/e/webinar-de").get_data(as_text=True)

    response = client.post(
        "/e/webinar-de",
        data={**VALID, "csrf_token": csrf_token(page)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Dieses Formular wurde von einer anderen Website gesendet" in html
    assert nothing_saved()
