"""The public path: landing page, the form, the thank-you page, leads and the manage link."""

from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy import func, select

from app.db import db, utcnow
from app.events.models import Event
from app.registrations.models import Lead, Registration
from tests.builders import csrf_token, make_event


def reserve(client, slug="launch-webinar", query="", **fields):  # type: ignore[no-untyped-def]
    page = client.get(f"/e/{slug}{query}", headers={"Referer": "https://news.example.org/post"})
    form = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "job_title": "Engineer",
        "country": "GB",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "referrer": "",
    }
    # The hidden tracking fields carry what the GET put in them.
    html = page.get_data(as_text=True)
    for name in ("utm_source", "utm_medium", "utm_campaign", "referrer"):
        marker = f'id="{name}" name="{name}" type="hidden" value="'
        if marker in html:
            form[name] = html.split(marker, 1)[1].split('"', 1)[0]
    form.update(fields)
    return client.post(f"/e/{slug}", data=form)


def test_home_lists_upcoming_published_events_only(client, app):
    make_event(slug="open-day", title="Open day")
    make_event(slug="secret-draft", title="Secret draft", status="draft")
    page = client.get("/").get_data(as_text=True)
    assert "Open day" in page
    assert "Secret draft" not in page


def test_landing_page_shows_time_in_event_zone_duration_and_seats(client, event):
    db.session.execute(db.update(Event).values(capacity=50))
    db.session.commit()
    html = client.get("/e/launch-webinar").get_data(as_text=True)
    assert "<h1>Launch webinar</h1>" in html
    local = event.starts_at.astimezone(event.zone)
    assert local.strftime("%H:%M") in html and local.tzname() in html
    assert "1 hour" in html
    assert "50 of 50 left" in html
    assert "Reserve your spot" in html
    assert 'data-zone="Europe/Berlin"' in html


def test_head_on_a_landing_page_answers_like_get(client, event):
    got = client.get("/e/launch-webinar")
    head = client.head("/e/launch-webinar")
    assert head.status_code == got.status_code == 200
    assert head.content_type == got.content_type
    assert head.get_data() == b""
    assert client.head("/e/nope").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_unknown_and_draft_events_answer_404(client, app):
    make_event(slug="draft-one", status="draft")
    assert client.get("/e/nope").status_code == 404
    assert client.get("/e/draft-one").status_code == 404


def test_registering_confirms_and_shows_the_manage_link(client, event):
    response = reserve(client)
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"])
    html = thanks.get_data(as_text=True)
    assert "You're registered" in html
    registration = db.session.scalars(select(Registration)).one()
    assert registration.status == "confirmed"
    assert registration.email_normalized == "ada@example.com"
    manage_path = urlparse(response.headers["Location"]).path.removesuffix("/thanks")
    assert manage_path in html
    assert client.get(manage_path).status_code == 200


def test_utm_parameters_and_referrer_travel_into_the_registration_and_lead(client, event):
    reserve(client, query="?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
    registration = db.session.scalars(select(Registration)).one()
    assert (registration.utm_source, registration.utm_medium, registration.utm_campaign) == (
        "newsletter",
        "email",
        "spring",
    )
    assert registration.referrer == "https://news.example.org/post"
    lead = db.session.scalars(select(Lead)).one()
    assert lead.first_utm_source == "newsletter"
    assert lead.latest_utm_campaign == "spring"
    assert lead.first_event_id == event.id
    assert lead.first_campaign_id == event.campaign_id


def test_the_same_email_in_another_case_finds_the_existing_registration_and_hides_it(client, event):
    reserve(client)
    again = reserve(client, email="ADA@Example.COM")
    assert again.status_code == 200
    assert "If this address is registered, we've emailed its link again." in again.text
    assert "/r/" not in again.text
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_full_event_puts_the_next_registrant_on_the_waitlist(client, app):
    make_event(capacity=1, waitlist=True)
    reserve(client, email="one@example.com")
    response = reserve(client, email="two@example.com")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You're on the waitlist" in html
    assert "number 1" in html
    statuses = dict(db.session.execute(select(Registration.email, Registration.status)).all())
    assert statuses == {"one@example.com": "confirmed", "two@example.com": "waitlisted"}


def test_full_event_without_waitlist_refuses_clearly(client, app):
    make_event(capacity=1, waitlist=False)
    reserve(client, email="one@example.com")
    response = reserve(client, email="two@example.com")
    assert response.status_code == 409
    assert "This event is full." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


def test_closed_registration_shows_no_form_and_refuses_a_post(client, app):
    make_event(slug="still-open")
    event = make_event()
    event.registration_closes_at = utcnow()
    db.session.commit()
    page = client.get("/e/launch-webinar").get_data(as_text=True)
    assert "Registration for this event has closed." in page
    assert "<form" not in page
    token = csrf_token(client.get("/e/still-open").get_data(as_text=True))
    response = client.post(
        "/e/launch-webinar", data={"csrf_token": token, "email": "a@example.com", "first_name": "A"}
    )
    assert response.status_code == 409
    assert "Registration for this event has closed." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_one_lead_per_email_with_first_and_latest_touch(client, app):
    make_event(slug="first-event", campaign="Winter")
    second = make_event(slug="second-event", campaign="Spring")
    reserve(client, slug="first-event", query="?utm_source=ads")
    reserve(client, slug="second-event", query="?utm_source=partner", email="Ada@example.com")
    lead = db.session.scalars(select(Lead)).one()
    assert lead.first_utm_source == "ads"
    assert lead.latest_utm_source == "partner"
    assert lead.latest_event_id == second.id
    assert lead.first_campaign.name == "Winter"
    assert lead.latest_campaign.name == "Spring"
    assert len(lead.registrations) == 2


def test_marketing_consent_records_time_and_exact_text(client, app, event):
    reserve(client, consent_marketing="y")
    lead = db.session.scalars(select(Lead)).one()
    assert lead.consent_marketing is True
    assert lead.consent_at is not None
    assert lead.consent_text == app.config["CONSENT_TEXT"]
    assert app.config["CONSENT_TEXT"] in client.get("/e/launch-webinar").get_data(as_text=True)


def test_no_consent_is_recorded_as_none_given(client, event):
    reserve(client)
    lead = db.session.scalars(select(Lead)).one()
    assert lead.consent_marketing is False
    assert lead.consent_at is None
