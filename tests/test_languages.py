"""An event's language: its landing page, its registrants' emails (through a real SMTP server)
and its calendar invites are written in it; the console stays English; the catalogs are
complete for German, French and Spanish."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from icalendar import Calendar

from app.events.models import Event
from app.registrations.links import manage_token
from app.worker import run_due_jobs
from tests.builders import bearer, event_form, log_in, make_event, make_user, register_person

CATALOGS = Path(__file__).resolve().parent.parent / "app" / "translations"
SENDER = "Reserve Events <events@reserve.example>"
# A Thursday in winter: Berlin is on CET, 15:00 there.
START = datetime(2030, 1, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, **smtp_server.mail_config, "MAIL_DEFAULT_SENDER": SENDER}


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} body"
    return part.get_content()


def invite_of(message: EmailMessage) -> Any:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]


def german_event(**overrides: Any) -> Event:
    return make_event(
        slug="produkt-tour",
        title="Produkttour",
        language="de",
        starts_at=START,
        duration_minutes=90,
        **overrides,
    )


def test_a_german_events_landing_page_is_german_with_its_date_written_the_german_way(client):
    german_event()
    page = client.get("/e/produkt-tour").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert "Reservieren Sie Ihren Platz" in page
    assert "Meinen Platz reservieren" in page
    assert "Geschäftliche E-Mail" in page and "Vorname" in page
    assert "Donnerstag, 10. Januar 2030, 15:00 CET" in page
    assert "1 Stunde 30 Minuten" in page
    assert "Deutschland" in page  # the country list names countries in German too
    assert "Reserve your spot" not in page and "Work email" not in page


def test_a_german_registrants_confirmation_and_invite_are_german(app, smtp_server):
    event = german_event()
    register_person(event, "ada@example.com", first_name="Ada")
    assert run_due_jobs()["sent"] == 1

    (message,) = smtp_server.to("ada@example.com")
    assert message["Subject"] == "Sie sind angemeldet: Produkttour"
    html, text = body(message, "html"), body(message, "plain")
    assert '<html lang="de">' in html
    assert "Sie sind angemeldet, Ada" in html
    assert "Ihr Platz bei <strong>Produkttour</strong> ist bestätigt." in html
    assert "Hallo Ada," in text and "Anmeldung ansehen oder stornieren" in text
    assert "Donnerstag, 10. Januar 2030, 15:00 CET" in text
    assert "You're registered" not in html + text

    entry = invite_of(message)
    assert str(entry["SUMMARY"]) == "Produkttour"
    assert "Ihre Anmeldung (Details, Stornierung):" in str(entry["DESCRIPTION"])
    assert "Teilnehmen: https://meet.example.com/launch" in str(entry["DESCRIPTION"])
    (alarm,) = entry.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Beginnt in 15 Minuten: Produkttour"


def test_the_downloaded_invite_of_a_german_registration_is_german_too(client, app):
    registration = register_person(german_event(), "ada@example.com")
    ics = client.get(f"/r/{manage_token(registration)}/invite.ics").get_data()
    entry = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert "Ihre Anmeldung (Details, Stornierung):" in str(entry["DESCRIPTION"])


def test_the_thanks_and_manage_pages_of_a_german_registration_are_german(client, app):
    registration = register_person(german_event(), "ada@example.com")
    token = manage_token(registration)
    thanks = client.get(f"/r/{token}/thanks").get_data(as_text=True)
    assert '<html lang="de">' in thanks and "Sie sind angemeldet" in thanks
    manage = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Ihre Anmeldung" in manage and "Meine Anmeldung stornieren" in manage
    cancel = client.get(f"/r/{token}/cancel").get_data(as_text=True)
    assert "Anmeldung stornieren?" in cancel and "Ja, meine Anmeldung stornieren" in cancel


def test_french_and_spanish_events_speak_their_language(client, app, smtp_server):
    make_event(slug="visite", title="Visite", language="fr", starts_at=START)
    make_event(slug="visita", title="Visita", language="es", starts_at=START)
    french = client.get("/e/visite").get_data(as_text=True)
    assert '<html lang="fr">' in french and "Réservez votre place" in french
    assert "jeudi 10 janvier 2030" in french
    spanish = client.get("/e/visita").get_data(as_text=True)
    assert '<html lang="es">' in spanish and "Reserve su plaza" in spanish
    assert "jueves, 10 de enero de 2030" in spanish

    register_person(Event.query.filter_by(slug="visite").one(), "zoe@example.com")
    register_person(Event.query.filter_by(slug="visita").one(), "pia@example.com")
    run_due_jobs()
    (french_mail,) = smtp_server.to("zoe@example.com")
    assert french_mail["Subject"] == "Vous êtes inscrit : Visite"
    assert '<html lang="fr">' in body(french_mail, "html")
    (spanish_mail,) = smtp_server.to("pia@example.com")
    assert spanish_mail["Subject"] == "Está inscrito: Visita"
    assert "Hola, Pia:" in body(spanish_mail, "plain")


def test_an_english_event_is_unchanged_and_the_console_stays_english(client, app, smtp_server):
    make_event(starts_at=START)
    german_event()
    page = client.get("/e/launch-webinar").get_data(as_text=True)
    assert '<html lang="en">' in page and "Reserve your spot" in page
    assert "Thursday 10 January 2030, 15:00 CET" in page
    log_in(client, make_user("admin"))
    client.get("/e/produkt-tour")  # a German page first: the console must not inherit it
    console = client.get("/admin/events/produkt-tour").get_data(as_text=True)
    assert "Thursday 10 January 2030" in console and "Donnerstag" not in console


def test_the_console_form_sets_the_language_and_refuses_an_unknown_one(client, app):
    log_in(client, make_user("admin"))
    response = event_form(client, language="de")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert Event.query.one().language == "de"

    refused = event_form(client, slug="other", language="xx")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="language-error"' in page or "Not a valid choice" in page


def test_the_api_sets_and_shows_the_language_and_refuses_an_unknown_one_naming_it(client, app):
    admin = bearer(make_user("admin"))
    body = {
        "slug": "api-tour",
        "title": "API tour",
        "starts_at": "2031-03-04T16:00:00+01:00",
        "duration_minutes": 45,
        "timezone": "Europe/Paris",
    }
    refused = client.post("/api/v1/events", json={**body, "language": "xx"}, headers=admin)
    assert refused.status_code == 422
    assert "language" in refused.json["error"]["fields"]
    created = client.post("/api/v1/events", json={**body, "language": "fr"}, headers=admin)
    assert created.status_code == 201, created.json
    assert created.json["language"] == "fr"
    plain = client.post("/api/v1/events", json={**body, "slug": "plain"}, headers=admin)
    assert plain.json["language"] == "en"


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_every_message_in_the_catalogs_is_translated(language):
    with (CATALOGS / language / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalog = read_po(fp)
    with (CATALOGS / "messages.pot").open("rb") as fp:
        template = read_po(fp)
    ids = [message.id for message in catalog if message.id]
    assert len(ids) > 150
    assert {m.id for m in template if m.id} <= set(ids), "run `make translations`"
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            not all(message.string)
            if isinstance(message.string, tuple)
            else not message.string.strip()
        )
    ]
    assert untranslated == []
    assert not [message.id for message in catalog if message.id and message.fuzzy]


def test_a_german_double_opt_in_asks_for_confirmation_in_german(app, smtp_server):
    register_person(german_event(double_opt_in=True), "ada@example.com", first_name="Ada")
    run_due_jobs()
    (message,) = smtp_server.to("ada@example.com")
    assert message["Subject"] == "Bestätigen Sie Ihre Anmeldung: Produkttour"
    html = body(message, "html")
    assert '<html lang="de">' in html and "Meine Anmeldung bestätigen" in html
    assert "Ohne Bestätigung verfällt die Anmeldung am" in body(message, "plain")


@pytest.mark.parametrize(
    ("kind", "context", "heading", "german"),
    [
        (
            "payment_due",
            {},
            "Ein Platz ist frei geworden, Ada",
            ["Bei Produkttour ist ein Platz frei geworden", "Platz bezahlen", "EUR 49.00"],
        ),
        (
            "refunded",
            {"amount_cents": 4900, "currency": "EUR", "reason": "event_cancelled"},
            "Ihre Zahlung wurde erstattet",
            ["Produkttour ist abgesagt", "Erstattet: EUR 49.00", "Werktagen"],
        ),
        (
            "erasure_request",
            {"erase_url": "http://testserver/r/x/erase/y"},
            "Bestätigen Sie die Löschung Ihrer Daten, Ada",
            ["alles zu löschen", "innerhalb von 24 Stunden", "anonymisiert"],
        ),
    ],
)
def test_the_payment_and_privacy_emails_of_a_german_event_are_german(
    app, kind, context, heading, german
):
    from app.mail.letters import letter_for

    event = german_event()
    ada = register_person(event, "ada@example.com", first_name="Ada", by_staff=True)
    # The letters read the price from the event; publishing a paid one would need Stripe.
    event.price_cents, event.currency = 4900, "EUR"
    letter = letter_for(kind, ada, **context)
    assert 'lang="de"' in letter.html and heading in letter.html
    for words in german:
        assert words in letter.text, words
        assert words in letter.html, words
    assert "Hello" not in letter.text and "Hallo Ada," in letter.text
