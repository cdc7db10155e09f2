"""The landing page is rendered once per version of what it shows and served to every visitor
with their own values; it is never stale: an edit, a seat, a question, the organization's
identity or the clock moving past a deadline shows at once. A conditional GET answers 304
when the visitor's copy reads the same."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from app.brand import save_brand
from app.db import utcnow
from app.events.services import cancel_event, update_event
from app.registrations.questions import add_question, change_question, remove_question
from tests.builders import csrf_token, make_event, register_person
from tests.test_landing_form_errors import VALID

LANDING = "/e/launch-webinar"
PER_VISITOR = re.compile(r'(name="(?:csrf_token|served)" type="hidden" value=")[^"]+"')


def without_token_and_stamp(html: str) -> str:
    return PER_VISITOR.sub(r'\1"', html)


def hidden_value(html: str, name: str) -> str:
    match = re.search(
        rf'name="{re.escape(name)}" type="hidden" value="([^"]*)"', html
    ) or re.search(rf'type="hidden" name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def test_the_kept_page_reads_as_the_first_rendering_with_a_fresh_token_and_stamp(client):
    make_event()
    first = client.get(LANDING).text
    time.sleep(1.1)  # tokens are signed per second
    second = client.get(LANDING).text

    assert without_token_and_stamp(second) == without_token_and_stamp(first)
    assert csrf_token(second) != csrf_token(first)
    assert hidden_value(second, "served") != hidden_value(first, "served")


def test_a_token_from_the_kept_page_registers(client):
    make_event()
    client.get(LANDING)
    token = csrf_token(client.get(LANDING).text)

    response = client.post(LANDING, data={**VALID, "csrf_token": token})

    assert response.status_code == 303


def test_each_visitor_gets_their_own_campaign_fields_and_referrer_escaped(client):
    make_event()
    client.get(LANDING)
    ada = client.get(
        LANDING + "?utm_source=news&utm_campaign=spring", headers={"Referer": "https://a.example/"}
    ).text
    bob = client.get(LANDING + '?utm_source="><script>x</script>').text

    assert hidden_value(ada, "utm_source") == "news"
    assert hidden_value(ada, "utm_campaign") == "spring"
    assert hidden_value(ada, "referrer") == "https://a.example/"
    assert hidden_value(bob, "utm_source") == "&#34;&gt;&lt;script&gt;x&lt;/script&gt;"
    assert hidden_value(bob, "utm_campaign") == "" and hidden_value(bob, "referrer") == ""
    assert "<script>x" not in bob


def test_a_hidden_questions_value_comes_from_each_visitors_address(client):
    event = make_event()
    add_question(event.id, {"key": "partner", "label": "Partner", "type": "hidden"})
    client.get(LANDING)

    assert hidden_value(client.get(LANDING + "?partner=acme").text, "answers.partner") == "acme"
    assert hidden_value(client.get(LANDING).text, "answers.partner") == ""


def test_an_edit_of_the_event_shows_at_once(client):
    event = make_event()
    assert "Launch webinar" in client.get(LANDING).text

    update_event(event, {"title": "Relaunch webinar", "speakers": [{"name": "Grace Hopper"}]})

    page = client.get(LANDING).text
    assert "Relaunch webinar" in page and "Grace Hopper" in page


def test_every_seat_taken_shows_at_once_and_a_full_event_offers_the_waitlist(client):
    event = make_event(capacity=2)
    assert "2 of 2 left" in client.get(LANDING).text

    register_person(event, "ada@example.com")
    assert "1 of 2 left" in client.get(LANDING).text

    register_person(event, "bob@example.com")
    page = client.get(LANDING).text
    assert "Full: you can join the waitlist" in page
    assert '<h2 id="reserve-heading">Join the waitlist</h2>' in page


def test_a_question_added_changed_or_removed_shows_at_once(client):
    event = make_event()
    client.get(LANDING)

    question = add_question(event.id, {"key": "team_size", "label": "Team size", "type": "text"})
    assert "Team size" in client.get(LANDING).text

    change_question(question, {"label": "How many in your team?"})
    assert "How many in your team?" in client.get(LANDING).text

    remove_question(question)
    assert "How many in your team?" not in client.get(LANDING).text


def test_the_organizations_identity_shows_at_once(client):
    make_event()
    client.get(LANDING)

    save_brand({"name": "Acme Analytics", "accent": "#0b7a3e"})

    assert "Acme Analytics" in client.get(LANDING).text


def test_registration_closing_shows_when_its_moment_passes(client):
    make_event(registration_closes_at=utcnow() + timedelta(seconds=1.5))
    assert "<form" in client.get(LANDING).text

    time.sleep(1.6)

    page = client.get(LANDING).text
    assert "Registration for this event has closed." in page


def test_a_cancelled_event_is_not_served_from_the_kept_page(client):
    event = make_event()
    client.get(LANDING)

    cancel_event(event)

    page = client.get(LANDING).text
    assert "This event was cancelled." in page and "<form" not in page


def test_a_draft_is_still_a_404_after_its_page_was_kept(client):
    event = make_event()
    client.get(LANDING)

    update_event(event, {"status": "draft"})

    assert client.get(LANDING).status_code == 404


# --- Revalidation ----------------------------------------------------------------------------


def test_the_page_can_be_revalidated_by_browsers_and_caches(client):
    make_event()
    response = client.get(LANDING)

    assert response.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert response.headers["ETag"].startswith('W/"')
    assert "Referer" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers


def test_a_conditional_get_of_an_unchanged_page_answers_304_without_a_body(client):
    make_event()
    etag = client.get(LANDING).headers["ETag"]

    again = client.get(LANDING, headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_a_conditional_get_after_a_change_answers_the_new_page(client):
    event = make_event(capacity=3)
    etag = client.get(LANDING).headers["ETag"]
    register_person(event, "ada@example.com")

    again = client.get(LANDING, headers={"If-None-Match": etag})

    assert again.status_code == 200
    assert "2 of 3 left" in again.text
    assert again.headers["ETag"] != etag


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (LANDING + "?utm_source=other", {}),
        (LANDING, {"Referer": "https://elsewhere.example/"}),
    ],
    ids=["other-campaign", "other-referrer"],
)
def test_a_copy_holding_another_visitors_values_is_not_confirmed(client, path, headers):
    make_event()
    etag = client.get(LANDING).headers["ETag"]

    again = client.get(path, headers={"If-None-Match": etag, **headers})

    assert again.status_code == 200


def test_a_personal_link_and_an_answer_to_a_post_are_never_kept_by_a_cache(client):
    make_event()
    client.get(LANDING)

    refused = client.post(
        LANDING, data={**VALID, "email": "nope", "csrf_token": csrf_token(client.get(LANDING).text)}
    )
    # A forged link is ignored (the plain form), but its page is not kept either.
    personal = client.get(LANDING + "?p=not-a-real-link")

    assert refused.status_code == 422
    assert refused.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in refused.headers
    assert personal.headers["Cache-Control"] == "private, no-store"


# --- Languages -------------------------------------------------------------------------------

GERMAN_BROWSER = {"Accept-Language": "de-DE,de;q=0.9"}
AMERICAN_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


def test_each_language_of_an_event_is_kept_apart_and_marked_as_varying(client):
    make_event(other_languages=["de"])
    for _ in range(2):
        german = client.get(LANDING, headers=GERMAN_BROWSER)
        english = client.get(LANDING, headers=AMERICAN_BROWSER)

        assert '<html lang="de">' in german.text and "Reservieren Sie Ihren Platz" in german.text
        assert '<html lang="en">' in english.text and "Reserve your spot" in english.text
        for page in (german, english):
            assert "Accept-Language" in page.headers["Vary"]
    assert german.headers["ETag"] != english.headers["ETag"]


def test_a_switcher_keeps_each_visitors_own_parameters(client):
    make_event(other_languages=["de"])
    client.get(LANDING, headers=AMERICAN_BROWSER)

    ada = client.get(LANDING + "?utm_source=news", headers=AMERICAN_BROWSER).text
    bob = client.get(LANDING + "?utm_source=partner", headers=AMERICAN_BROWSER).text

    assert "utm_source=news" in ada and "utm_source=partner" not in ada
    assert "utm_source=partner" in bob and "utm_source=news" not in bob
