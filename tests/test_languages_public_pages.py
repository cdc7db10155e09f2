"""The public pages beyond the landing page speak the event's language too: the unsubscribe
page (whose words are the consent record's), the payment and link refusals, the form's field
errors and closed reasons, and the error pages (the event's language, else the browser's).
The console and the API keep English for the same messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.registrations.consent import WITHDRAWAL_TEXT, unsubscribe_url
from app.registrations.links import manage_token
from app.registrations.models import ConsentRecord, Lead
from app.registrations.questions import add_question
from tests.builders import bearer, csrf_token, log_in, make_event, make_user, register_person

START = datetime(2030, 1, 10, 14, 0, tzinfo=UTC)
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def german_event(**overrides: Any) -> Event:
    values = {"slug": "produkt-tour", "title": "Produkttour", "language": "de", "starts_at": START}
    return make_event(**{**values, **overrides})


def send_form(client: Any, **fields: str) -> Any:
    """The German landing form, loaded and sent back with `fields`."""
    page = client.get("/e/produkt-tour").text
    return client.post("/e/produkt-tour", data={"csrf_token": csrf_token(page), **fields})


def withdrawals(email: str) -> list[tuple[str, str]]:
    db.session.rollback()
    lead = db.session.scalar(select(Lead).where(Lead.email == email))
    assert lead is not None
    records = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.lead_id == lead.id, ConsentRecord.action == "withdrawn")
        .order_by(ConsentRecord.id)
    )
    return [(record.source, record.text) for record in records]


def test_the_unsubscribe_page_of_a_german_registrant_is_german_and_records_its_german_words(
    client, app
):
    register_person(german_event(), "ada@example.com", consent_marketing=True)
    lead = db.session.scalar(select(Lead).where(Lead.email == "ada@example.com"))
    path = urlsplit(unsubscribe_url(lead)).path
    words = "Keine Neuigkeiten, Erinnerungen und E-Mails nach Veranstaltungen mehr senden"

    page = client.get(path).text
    assert '<html lang="de">' in page
    assert "Abmelden?" in page and f">{words}</button>" in page
    assert "Unsubscribe" not in page and WITHDRAWAL_TEXT not in page

    done = client.post(path).text
    assert "Sie sind abgemeldet" in done and "You are unsubscribed" not in done
    assert withdrawals("ada@example.com") == [("link", words)]


def test_an_english_unsubscribe_keeps_the_english_words_on_record(client, app):
    register_person(make_event(), "bob@example.com", consent_marketing=True)
    lead = db.session.scalar(select(Lead).where(Lead.email == "bob@example.com"))
    path = urlsplit(unsubscribe_url(lead)).path
    # A German browser does not turn an English event's page German.
    assert f">{WITHDRAWAL_TEXT}</button>" in client.get(path, headers=GERMAN).text
    client.post(path)
    assert withdrawals("bob@example.com") == [("link", WITHDRAWAL_TEXT)]


def test_withdrawing_on_a_german_manage_page_records_the_button_as_shown_and_says_so_in_german(
    client, app
):
    registration = register_person(german_event(), "ada@example.com", consent_marketing=True)
    path = f"/r/{manage_token(registration)}"
    page = client.get(path).text
    words = "Keine Neuigkeiten, Erinnerungen und E-Mails nach Veranstaltungen mehr senden"
    assert f">{words}</button>" in page

    answer = client.post(
        f"{path}/consent/withdraw", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "Erledigt: Wir senden Ihnen keine Neuigkeiten" in answer.text
    assert withdrawals("ada@example.com") == [("manage", words)]


def test_the_german_landing_form_shows_its_field_errors_in_german(client, app):
    german_event()
    answer = send_form(
        client, email="ada@mailinator.com", first_name="", phone="12", company="x" * 300
    )
    assert answer.status_code == 422
    text = answer.text
    assert '<html lang="de">' in text
    assert "Das sieht nach einer Wegwerf-E-Mail-Adresse aus" in text
    assert "Geben Sie Ihren Vornamen ein." in text
    assert "Verwenden Sie höchstens" in text and "(hier sind es 300)" in text
    assert "Geben Sie eine Telefonnummer mit Ländervorwahl ein" in text
    assert "disposable" not in text and "Use at most" not in text

    bad_address = send_form(client, email="not an address")
    assert "Geben Sie eine gültige E-Mail-Adresse ein" in bad_address.text


def test_the_german_landing_form_asks_its_questions_and_refuses_their_answers_in_german(
    client, app
):
    event = german_event()
    add_question(event.id, {"key": "size", "label": "Team", "type": "number", "required": True})
    add_question(
        event.id,
        {"key": "agree", "label": "Einverstanden", "type": "checkbox", "required": True},
    )
    page = client.get("/e/produkt-tour").text
    assert "(Pflichtfeld)" in page and "(required)" not in page
    answer = send_form(client, email="ada@example.com", first_name="Ada", **{"answers.size": "x"})
    assert answer.status_code == 422
    assert "Geben Sie eine Zahl an, etwa 250." in answer.text
    assert "Kreuzen Sie dieses Feld an, um sich anzumelden." in answer.text


def test_the_api_refuses_a_german_events_answers_in_english(client, app):
    event = german_event()
    add_question(event.id, {"key": "size", "label": "Team", "type": "number", "required": True})
    admin = bearer(make_user("admin"))
    refused = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": "Ada", "answers": {"size": "viele"}},
        headers=admin,
    )
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["fields"]["answers.size"] == "Give a number, such as 250."


def test_a_german_event_closed_to_registration_says_so_in_german(client, app):
    german_event(registration_closes_at=datetime.now(UTC) - timedelta(days=1))
    page = client.get("/e/produkt-tour").text
    assert "Die Anmeldung für diese Veranstaltung ist geschlossen." in page
    assert "has closed" not in page


def test_a_full_german_event_without_a_waitlist_says_so_in_german(client, app):
    event = german_event(capacity=1, waitlist=False)
    register_person(event, "ada@example.com")
    answer = send_form(client, email="bob@example.com", first_name="Bob")
    assert answer.status_code == 409
    assert "Diese Veranstaltung ist ausgebucht." in answer.text


def test_paying_for_a_seat_that_waits_for_nothing_says_so_in_german(client, app):
    registration = register_person(german_event(), "ada@example.com")
    path = f"/r/{manage_token(registration)}"
    page = client.get(path).text
    answer = client.post(
        f"{path}/pay", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "Diese Anmeldung wartet auf keine Zahlung." in answer.text
    assert "not waiting for a payment" not in answer.text


def test_a_german_registrations_link_errors_are_german(client, app):
    registration = register_person(german_event(capacity=1), "ada@example.com")
    waiting = register_person(Event.query.one(), "bob@example.com")
    assert waiting.status == "waitlisted"
    missing = client.get(f"/r/{manage_token(waiting)}/invite.ics")
    assert missing.status_code == 404
    assert '<html lang="de">' in missing.text and "Nicht gefunden" in missing.text
    assert "Sie stehen auf der Warteliste: Ihre Kalendereinladung kommt" in missing.text

    event = Event.query.one()
    event.starts_at = datetime.now(UTC) - timedelta(days=400)
    event.ends_at = event.starts_at + timedelta(hours=1)
    db.session.commit()
    expired = client.get(f"/r/{manage_token(registration)}")
    assert expired.status_code == 410
    assert "Link abgelaufen" in expired.text and "Dieser Link ist abgelaufen" in expired.text


def test_an_error_page_without_an_event_speaks_the_browsers_language(client, app):
    german = client.get("/e/nothing-here", headers=GERMAN)
    assert german.status_code == 404
    assert '<html lang="de">' in german.text
    assert "Unter dieser Adresse gibt es keine offene Veranstaltung." in german.text
    assert "Kommende Veranstaltungen ansehen" in german.text

    french = client.get("/r/forged-token", headers={"Accept-Language": "fr-CA,fr;q=0.8"})
    assert '<html lang="fr">' in french.text and "Ce lien n’est pas valide." in french.text
    spanish = client.get("/no/such/page", headers={"Accept-Language": "es"})
    assert '<html lang="es">' in spanish.text and "No hay nada en esta dirección." in spanish.text
    # Werkzeug's words for developers are not shown in any language.
    assert "requested URL" not in spanish.text

    plain = client.get("/e/nothing-here", headers={"Accept-Language": "it,ja;q=0.5"})
    assert '<html lang="en">' in plain.text and "There is no open event" in plain.text


def test_a_german_events_error_page_is_german_whatever_the_browser_speaks(client, app):
    german_event()
    # The form's token is missing: refused before the view runs, yet the address names the event.
    refused = client.post("/e/produkt-tour", data={"email": "ada@example.com"}, headers=GERMAN)
    assert refused.status_code == 400
    assert '<html lang="de">' in refused.text
    assert "Dieses Formular ist abgelaufen." in refused.text
    english_browser = client.post("/e/produkt-tour", data={}, headers={"Accept-Language": "en"})
    assert '<html lang="de">' in english_browser.text


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "RATELIMIT_ENABLED": True, "LANDING_RATE_LIMIT": "1/minute"}

    def test_a_german_landing_page_refuses_too_many_posts_in_german(self, client, app):
        german_event()
        token = csrf_token(client.get("/e/produkt-tour").text)
        data = {"csrf_token": token, "email": "ada@example.com", "first_name": "Ada"}
        client.post("/e/produkt-tour", data=data)
        refused = client.post("/e/produkt-tour", data=data)
        assert refused.status_code == 429
        assert '<html lang="de">' in refused.text and "Zu viele Anfragen" in refused.text
        assert "Warten Sie eine Minute" in refused.text


def test_console_error_pages_stay_english_for_a_german_browser(client, app):
    german_event()
    log_in(client, make_user("admin"))
    missing = client.get("/admin/events/no-such-event", headers=GERMAN)
    assert missing.status_code == 404
    assert '<html lang="en">' in missing.text and "Nicht gefunden" not in missing.text


def test_the_upcoming_events_page_speaks_the_browsers_language(client, app):
    make_event(slug="tour", title="Product tour", capacity=5, location=None)

    french = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert french.status_code == 200
    assert '<html lang="fr">' in french.text
    assert "Événements à venir" in french.text and "Encore 5 sur 5" in french.text
    # The event's own words stay as written.
    assert "Product tour" in french.text
    # A cache must keep one copy per language asked.
    assert "Accept-Language" in french.headers["Vary"]

    english = client.get("/", headers={"Accept-Language": "en-US"}).text
    assert "Upcoming events" in english and "5 of 5 left" in english
    assert "Événements" not in english


def test_an_empty_upcoming_events_page_says_so_in_the_browsers_language(client, app):
    page = client.get("/", headers=GERMAN).text
    assert "Kommende Veranstaltungen" in page
    assert "Zurzeit ist keine Veranstaltung zur Anmeldung offen." in page
