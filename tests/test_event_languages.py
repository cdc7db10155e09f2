"""An event offered in several languages: the visitor's browser (or `?lang=`) picks the page's
among them, the registration keeps the one its registrant used, and that registrant's emails,
invites and pages speak it; the console and the API set the languages an event offers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from icalendar import Calendar

from app.events.models import Event
from app.events.services import update_event
from app.mail.letters import letter_for
from app.registrations.links import manage_token
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import (
    bearer,
    csrf_token,
    event_form,
    log_in,
    make_event,
    make_user,
    register_person,
)
from tests.test_languages import body, invite_of

SENDER = "Reserve Events <events@reserve.example>"
START = datetime(2030, 1, 10, 14, 0, tzinfo=UTC)
GERMAN_BROWSER = {"Accept-Language": "de-DE,de;q=0.9"}
AMERICAN_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, **smtp_server.mail_config, "MAIL_DEFAULT_SENDER": SENDER}


def english_and_german(**overrides: Any) -> Event:
    return make_event(
        slug="tour",
        title="Tour",
        language="en",
        other_languages=["de"],
        starts_at=START,
        **overrides,
    )


def register_on_the_page(
    client: Any, path: str, email: str, headers: dict[str, str], **extra: str
) -> Any:
    """What a visitor does: open the page, then send its form where the form says."""
    page = client.get(path, headers=headers)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    action = unescape(FORM_ACTION.search(html).group(1))  # type: ignore[union-attr]
    data = {"csrf_token": csrf_token(html), "email": email, "first_name": "Ada", **extra}
    return client.post(action, data=data, headers=headers)


def registration_of(email: str) -> Registration:
    return Registration.query.filter_by(email_normalized=email).one()


def test_a_browser_asking_for_german_gets_the_german_page_and_german_emails(
    client, app, smtp_server
):
    english_and_german()
    page = client.get("/e/tour", headers=GERMAN_BROWSER)
    html = page.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Reservieren Sie Ihren Platz" in html and "Reserve your spot" not in html
    assert "Accept-Language" in page.headers["Vary"]

    sent = register_on_the_page(client, "/e/tour", "ada@example.com", GERMAN_BROWSER)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert registration_of("ada@example.com").language == "de"
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert '<html lang="de">' in thanks and "Sie sind angemeldet" in thanks

    assert run_due_jobs()["sent"] == 1
    (message,) = smtp_server.to("ada@example.com")
    assert message["Subject"] == "Sie sind angemeldet: Tour"
    assert '<html lang="de">' in body(message, "html")
    assert "Hallo Ada," in body(message, "plain")
    entry = invite_of(message)
    assert "Ihre Anmeldung (Details, Stornierung):" in str(entry["DESCRIPTION"])
    (alarm,) = entry.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Beginnt in 15 Minuten: Tour"


def test_an_american_browser_gets_the_english_page_and_english_emails(client, app, smtp_server):
    english_and_german()
    html = client.get("/e/tour", headers=AMERICAN_BROWSER).get_data(as_text=True)
    assert '<html lang="en">' in html and "Reserve your spot" in html

    sent = register_on_the_page(client, "/e/tour", "bob@example.com", AMERICAN_BROWSER)
    assert sent.status_code == 303
    assert registration_of("bob@example.com").language == "en"
    run_due_jobs()
    (message,) = smtp_server.to("bob@example.com")
    assert message["Subject"] == "You're registered: Tour"
    assert "Your registration (details, cancel):" in str(invite_of(message)["DESCRIPTION"])


def test_lang_in_the_address_wins_over_the_browser_and_the_form_keeps_it(client, app):
    english_and_german()
    html = client.get("/e/tour?lang=de", headers=AMERICAN_BROWSER).get_data(as_text=True)
    assert '<html lang="de">' in html
    back = client.get("/e/tour?lang=en", headers=GERMAN_BROWSER).get_data(as_text=True)
    assert '<html lang="en">' in back

    # Sent from the German page by a browser that prefers English: German is what they read.
    page = client.get("/e/tour?lang=de", headers=AMERICAN_BROWSER).get_data(as_text=True)
    action = unescape(FORM_ACTION.search(page).group(1))  # type: ignore[union-attr]
    assert "lang=de" in action
    data = {"csrf_token": csrf_token(page), "email": "cy@example.com", "first_name": "Cy"}
    assert client.post(action, data=data, headers=AMERICAN_BROWSER).status_code == 303
    assert registration_of("cy@example.com").language == "de"


def test_a_language_the_event_does_not_offer_falls_back_to_its_main_one(client, app):
    make_event(slug="produkt", title="Produkt", language="de", other_languages=["en"])
    french = client.get("/e/produkt", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="de">' in french.get_data(as_text=True)
    asked = client.get("/e/produkt?lang=es", headers={"Accept-Language": "fr"})
    assert '<html lang="de">' in asked.get_data(as_text=True)
    english = client.get("/e/produkt", headers={"Accept-Language": "fr;q=0.9,en-GB;q=0.5"})
    assert '<html lang="en">' in english.get_data(as_text=True)

    sent = register_on_the_page(client, "/e/produkt", "zoe@example.com", {"Accept-Language": "fr"})
    assert sent.status_code == 303
    assert registration_of("zoe@example.com").language == "de"


def test_an_event_in_one_language_has_no_switcher_and_does_not_vary(client, app):
    make_event(slug="solo", language="de")
    page = client.get("/e/solo", headers=AMERICAN_BROWSER)
    html = page.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "language-switcher" not in html and "hreflang" not in html
    assert "Accept-Language" not in page.headers.get("Vary", "")
    assert client.get("/e/solo?lang=en").get_data(as_text=True).count('<html lang="de">') == 1


def test_the_switcher_links_each_language_keeping_the_other_parameters(client, app):
    english_and_german()
    html = client.get(
        "/e/tour?utm_source=news&utm_campaign=spring&lang=de", headers=AMERICAN_BROWSER
    ).get_data(as_text=True)
    switcher = html.split('class="language-switcher"', 1)[1].split("</nav>", 1)[0]
    links = dict(re.findall(r'href="([^"]+)" hreflang="([a-z]+)"', switcher))
    assert set(links.values()) == {"en", "de"}
    for url, code in links.items():
        url = unescape(url)
        assert url.startswith("/e/tour?") and f"lang={code}" in url
        assert "utm_source=news" in url and "utm_campaign=spring" in url
        assert url.count("lang=") == 1
    assert 'hreflang="de" lang="de" aria-current="page">Deutsch</a>' in switcher
    assert ">English</a>" in switcher

    assert re.search(r'<link rel="alternate" hreflang="en" href="http[^"]+/e/tour\?lang=en">', html)
    assert re.search(r'<link rel="alternate" hreflang="de" href="[^"]+/e/tour\?lang=de">', html)
    assert re.search(r'<link rel="alternate" hreflang="x-default" href="[^"]+/e/tour">', html)


def test_the_embedded_form_picks_the_language_the_same_way(client, app):
    english_and_german()
    framed = client.get("/e/tour/embed", headers=GERMAN_BROWSER)
    html = framed.get_data(as_text=True)
    assert '<html lang="de">' in html and "Meinen Platz reservieren" in html
    assert "Accept-Language" in framed.headers["Vary"]
    action = unescape(FORM_ACTION.search(html).group(1))  # type: ignore[union-attr]
    assert action.startswith("/e/tour/embed?") and "lang=de" in action
    # The embedded page is not one for search engines: no alternates, but the switcher stays.
    assert '<link rel="alternate"' not in html and "language-switcher" in html


def test_the_replay_form_of_a_past_event_speaks_the_visitors_language(client, app):
    starts = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    make_event(
        slug="past",
        title="Past",
        other_languages=["de"],
        starts_at=starts,
        recording_url="https://videos.example.com/past",
    )
    html = client.get("/e/past", headers=GERMAN_BROWSER).get_data(as_text=True)
    assert '<html lang="de">' in html
    sent = register_on_the_page(client, "/e/past", "rae@example.com", GERMAN_BROWSER)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert registration_of("rae@example.com").language == "de"


def test_the_registrants_own_pages_and_letters_speak_their_language_not_the_events(client, app):
    event = english_and_german()
    ada = register_person(event, "ada@example.com", first_name="Ada", language="de")
    bob = register_person(event, "bob@example.com", first_name="Bob")
    assert (ada.language, bob.language) == ("de", "en")

    token = manage_token(ada)
    # Whatever the browser prefers, the manage pages follow the registration.
    manage = client.get(f"/r/{token}", headers=AMERICAN_BROWSER).get_data(as_text=True)
    assert '<html lang="de">' in manage and "Meine Anmeldung stornieren" in manage
    cancel = client.get(f"/r/{token}/cancel", headers=AMERICAN_BROWSER).get_data(as_text=True)
    assert "Ja, meine Anmeldung stornieren" in cancel
    ics = client.get(f"/r/{token}/invite.ics").get_data()
    entry = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert "Ihre Anmeldung (Details, Stornierung):" in str(entry["DESCRIPTION"])

    assert "Hallo Ada," in letter_for("reminder", ada, lead="1 Stunde").text
    assert "Hello Bob," in letter_for("reminder", bob, lead="1 hour").text
    english = client.get(f"/r/{manage_token(bob)}", headers=GERMAN_BROWSER).get_data(as_text=True)
    assert '<html lang="en">' in english

    log_in(client, make_user("admin"))
    console = client.get(f"/admin/events/tour/registrations/{ada.id}").get_data(as_text=True)
    assert '<dd id="registration-language">de:' in console
    exported = client.get("/api/v1/people/ada@example.com", headers=bearer(make_user("admin")))
    assert exported.json["registrations"][0]["language"] == "de"


def test_a_schedule_change_tells_each_registrant_the_old_time_in_their_language(app, smtp_server):
    event = english_and_german()
    register_person(event, "ada@example.com", first_name="Ada", language="de")
    register_person(event, "bob@example.com", first_name="Bob")
    run_due_jobs()
    update_event(event, {"starts_at": START + timedelta(days=1)})
    run_due_jobs()
    german = smtp_server.to("ada@example.com")[-1]
    assert german["Subject"] == "Geändert: Tour"
    assert "Donnerstag, 10. Januar 2030, 15:00 CET (1 Stunde)" in body(german, "plain")
    english = smtp_server.to("bob@example.com")[-1]
    assert english["Subject"] == "Updated: Tour"
    assert "Thursday 10 January 2030, 15:00 CET (1 hour)" in body(english, "plain")


def test_a_registration_language_the_event_does_not_offer_is_its_main_one(app):
    event = make_event(language="fr")
    assert register_person(event, "zoe@example.com", language="de").language == "fr"


def test_the_console_form_sets_the_languages_offered_besides_the_main_one(client, app):
    log_in(client, make_user("admin"))
    response = client.post(
        "/admin/events/new",
        data={
            **_console_form(client),
            "language": "de",
            "other_languages": ["en", "de", "fr"],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    event = Event.query.one()
    assert event.language == "de" and event.other_languages == ["en", "fr"]
    assert event.languages == ("de", "en", "fr")
    edit = client.get(f"/admin/events/{event.slug}/edit").get_data(as_text=True)
    checked = set(
        re.findall(r'<input checked id="[^"]+" name="other_languages"[^>]*value="(\w+)"', edit)
    )
    assert checked == {"en", "fr"}

    refused = event_form(client, slug="other", other_languages="xx")
    assert refused.status_code == 422
    assert 'id="other_languages-error"' in refused.get_data(as_text=True)


def _console_form(client: Any) -> dict[str, Any]:
    page = client.get("/admin/events/new").get_data(as_text=True)
    return {
        "csrf_token": csrf_token(page),
        "title": "Tour",
        "slug": "",
        "timezone": "Europe/Berlin",
        "starts_at": "2030-07-01T10:00",
        "duration_minutes": "45",
        "currency": "USD",
    }


def test_the_api_sets_reads_and_validates_the_languages_offered(client, app):
    admin = bearer(make_user("admin"))
    body = {
        "slug": "api-tour",
        "title": "API tour",
        "starts_at": "2031-03-04T16:00:00+01:00",
        "duration_minutes": 45,
        "timezone": "Europe/Paris",
        "language": "fr",
    }
    refused = client.post(
        "/api/v1/events", json={**body, "other_languages": ["de", "xx"]}, headers=admin
    )
    assert refused.status_code == 422
    assert any(name.startswith("other_languages") for name in refused.json["error"]["fields"])
    not_a_list = client.post(
        "/api/v1/events", json={**body, "other_languages": "de"}, headers=admin
    )
    assert not_a_list.status_code == 422
    assert "other_languages" in not_a_list.json["error"]["fields"]

    created = client.post(
        "/api/v1/events", json={**body, "other_languages": ["es", "de"]}, headers=admin
    )
    assert created.status_code == 201, created.json
    assert created.json["other_languages"] == ["de", "es"]
    changed = client.patch(
        "/api/v1/events/api-tour", json={"other_languages": ["en"]}, headers=admin
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["other_languages"] == ["en"]
    assert client.get("/api/v1/events/api-tour", headers=admin).json["other_languages"] == ["en"]

    plain = client.post("/api/v1/events", json={**body, "slug": "plain"}, headers=admin)
    assert plain.json["other_languages"] == []


def test_an_api_registration_keeps_the_language_it_names_when_the_event_offers_it(client, app):
    english_and_german()
    path = "/api/v1/events/tour/registrations"
    german = client.post(
        path, json={"email": "ada@example.com", "first_name": "Ada", "language": "de"}
    )
    assert german.status_code == 201, german.json
    assert registration_of("ada@example.com").language == "de"
    french = client.post(
        path, json={"email": "zoe@example.com", "first_name": "Zoe", "language": "fr"}
    )
    assert french.status_code == 201
    assert registration_of("zoe@example.com").language == "en"
    plain = client.post(path, json={"email": "bob@example.com", "first_name": "Bob"})
    assert plain.status_code == 201
    assert registration_of("bob@example.com").language == "en"

    refused = client.post(
        path, json={"email": "cy@example.com", "first_name": "Cy", "language": "xx"}
    )
    assert refused.status_code == 422
    assert "language" in refused.json["error"]["fields"]

    admin = bearer(make_user("admin"))
    listed = client.get(path, headers=admin).json["items"]
    assert {item["email"]: item["language"] for item in listed} == {
        "ada@example.com": "de",
        "zoe@example.com": "en",
        "bob@example.com": "en",
    }
