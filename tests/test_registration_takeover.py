"""Nobody takes over a registration by typing its email: the form and the public API answer
neutrally, and only the stored address gets the manage link (a few times an hour at most)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.db import db, utcnow
from app.events.models import Event
from app.mail.models import OutboxMessage
from app.registrations import services
from app.registrations.links import manage_token, manage_url
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import bearer, csrf_token, make_event, make_user, register_person
from tests.fake_stripe import FakeStripe, stripe_settings
from tests.payments_fixtures import make_paid_event

NEUTRAL = "If this address is registered, we've emailed its link again."
JOIN_URL = "https://meet.example.com/secret-room"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server, fake_stripe: FakeStripe) -> dict[str, Any]:
    return app_config | smtp_server.mail_config | stripe_settings(fake_stripe)


def post_landing(client: Any, slug: str, email: str, **fields: str) -> Any:
    page = client.get(f"/e/{slug}")
    data = {"csrf_token": csrf_token(page.text), "email": email, "first_name": "Mallory"}
    return client.post(f"/e/{slug}", data=data | fields)


def post_api(client: Any, slug: str, email: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(
        f"/api/v1/events/{slug}/registrations",
        json={"email": email, "first_name": "Mallory"},
        headers=headers or {},
    )


def link_emails(registration: Registration) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.registration_id == registration.id,
                OutboxMessage.kind == "manage_link",
            )
        )
    )


def assert_reveals_nothing_of(text: str, victim: Registration) -> None:
    assert manage_token(victim) not in text
    assert victim.manage_token not in text
    assert "/r/" not in text
    assert JOIN_URL not in text
    assert "Victoria" not in text and "Vance" not in text
    assert "Confirmed" not in text and "waitlist" not in text.lower()


@pytest.fixture
def victim(app) -> Registration:  # type: ignore[no-untyped-def]
    event = make_event(join_url=JOIN_URL)
    victim = register_person(
        event, "victoria@example.com", first_name="Victoria", last_name="Vance"
    )
    run_due_jobs()  # her confirmation goes out; what follows is only the attack's doing
    return victim


def test_posting_a_registered_email_on_the_form_shows_a_neutral_page_and_no_link(
    client, victim, smtp_server
):
    response = post_landing(client, "launch-webinar", "Victoria@Example.com")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert NEUTRAL in html
    assert_reveals_nothing_of(html, victim)
    # Nothing about her registration changed, and the attacker's name was not stored.
    db.session.expire_all()
    assert (victim.first_name, victim.status) == ("Victoria", "confirmed")
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


def test_the_registered_address_is_emailed_its_manage_link_instead(client, victim, smtp_server):
    confirmations = len(smtp_server.to("victoria@example.com"))
    post_landing(client, "launch-webinar", "victoria@example.com")
    assert run_due_jobs()["sent"] == 1

    messages = smtp_server.to("victoria@example.com")
    assert len(messages) == confirmations + 1
    message = messages[-1]
    assert message["Subject"] == "Your registration link: Launch webinar"
    assert [p.get_content_type() for p in message.walk()][1:] == ["text/plain", "text/html"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert manage_url(victim) in text
    assert f'href="{manage_url(victim)}"' in html
    assert "Hello Victoria" in text
    # Nobody else got anything.
    assert all(r.recipients == ("victoria@example.com",) for r in smtp_server.received)


def test_the_public_api_returns_no_link_for_a_registered_email_and_emails_it(
    client, victim, smtp_server
):
    response = post_api(client, "launch-webinar", "VICTORIA@example.com")

    assert response.status_code == 200
    assert response.json["manage_url"] is None
    assert response.json["checkout_url"] is None
    assert_reveals_nothing_of(response.get_data(as_text=True), victim)
    assert len(link_emails(victim)) == 1
    run_due_jobs()
    text = smtp_server.to("victoria@example.com")[-1].get_body(("plain",)).get_content()
    assert manage_url(victim) in text


def test_a_manager_calling_the_api_still_gets_the_link_and_no_email_goes_out(client, victim):
    response = post_api(client, "launch-webinar", victim.email, bearer(make_user("marketer")))
    assert response.status_code == 200
    assert response.json["manage_url"] == manage_url(victim)
    assert link_emails(victim) == []


def test_at_most_three_link_emails_go_to_one_registration_in_an_hour(client, victim):
    for attempt in range(3):
        post_landing(client, "launch-webinar", victim.email)
        assert len(link_emails(victim)) == attempt + 1
    fourth = post_landing(client, "launch-webinar", victim.email)
    api = post_api(client, "launch-webinar", victim.email)

    # The 4th and 5th answer the same neutral way and send nothing.
    assert NEUTRAL in fourth.get_data(as_text=True)
    assert api.status_code == 200
    assert len(link_emails(victim)) == 3

    # An hour later the address may ask again.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == "manage_link")
        .values(created_at=utcnow() - timedelta(minutes=61))
    )
    db.session.commit()
    post_landing(client, "launch-webinar", victim.email)
    assert len(link_emails(victim)) == 4


def test_the_cap_counts_each_registration_on_its_own(client, victim):
    other = register_person(victim.event, "other@example.com")
    for _ in range(4):
        post_landing(client, "launch-webinar", victim.email)
    post_landing(client, "launch-webinar", other.email)
    assert len(link_emails(victim)) == 3
    assert len(link_emails(other)) == 1


def test_a_held_unpaid_seat_is_not_sent_to_checkout_for_whoever_types_its_email(
    client, app, fake_stripe, smtp_server
):
    event = make_paid_event(join_url=JOIN_URL)
    first = post_landing(client, event.slug, "victoria@example.com", first_name="Victoria")
    assert first.status_code == 303  # her own registration went to Checkout
    victim = db.session.scalars(select(Registration)).one()
    assert victim.status == "pending_payment"
    sessions = len(fake_stripe.sessions)

    form = post_landing(client, event.slug, "victoria@example.com")
    api = post_api(client, event.slug, "victoria@example.com")

    assert form.status_code == 200
    assert NEUTRAL in form.get_data(as_text=True)
    assert "checkout" not in form.get_data(as_text=True).lower()
    assert (api.status_code, api.json["manage_url"], api.json["checkout_url"]) == (200, None, None)
    assert len(fake_stripe.sessions) == sessions  # no Checkout Session was opened for them
    run_due_jobs()
    # One email for each of the two tries, both to her.
    message, _ = [
        m
        for m in smtp_server.to("victoria@example.com")
        if m["Subject"] == "Your registration link: Paid workshop"
    ]
    text = message.get_body(("plain",)).get_content()
    assert manage_url(victim) in text and "Pay now" in text
    # The link leads to her page, where she pays.
    page = client.get(f"/r/{manage_token(victim)}").get_data(as_text=True)
    assert "Pay now" in page


def test_a_revived_registration_gets_a_new_link_and_the_old_one_stops_working(client, victim):
    old_link = f"/r/{manage_token(victim)}"
    services.cancel(victim.id)

    response = post_api(client, "launch-webinar", victim.email)
    assert response.status_code == 201
    new_link = response.json["manage_url"]
    assert new_link and not new_link.endswith(old_link)
    assert client.get(old_link).status_code == 404
    assert client.get(new_link.removeprefix("http://testserver")).status_code == 200


def test_no_link_email_goes_out_once_the_link_has_expired(client, victim):
    ended = utcnow() - timedelta(days=31)
    db.session.execute(
        update(Event)
        .where(Event.id == victim.event_id)
        .values(starts_at=ended - timedelta(hours=1), ends_at=ended)
    )
    db.session.commit()
    response = post_api(client, "launch-webinar", victim.email)
    assert (response.status_code, response.json["manage_url"]) == (200, None)
    assert link_emails(victim) == []
