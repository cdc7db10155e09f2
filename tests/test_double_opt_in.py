"""Double opt-in: a registration is `unverified` until the link in its verification email is
opened; it holds its seat meanwhile, gets no invite or join link, records consent only when
verified, and gives its seat up after 24 hours. Real SMTP, real worker passes."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.events.models import Event
from app.mail.models import OutboxMessage
from app.registrations import services
from app.registrations.links import manage_token, manage_url
from app.registrations.models import Lead, Registration
from app.registrations.opt_in import verify_url
from app.worker import run_due_jobs
from tests.builders import bearer, csrf_token, make_event, make_user, register_person, registrant

JOIN = "https://meet.example.com/launch"
VERIFY_LINK = re.compile(r"http://testserver(/r/[^/\s]+/verify)")


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config}


@pytest.fixture
def event(app):  # type: ignore[no-untyped-def]
    return make_event(double_opt_in=True, capacity=1, join_url=JOIN)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def has_invite(message: EmailMessage) -> bool:
    return any(part.get_content_type() == "text/calendar" for part in message.walk())


def verification_path(message: EmailMessage) -> str:
    match = VERIFY_LINK.search(text_of(message))
    assert match, "the letter carries no verification link"
    return match.group(1)


def fresh(registration: Registration) -> Registration:
    db.session.expire_all()
    found = db.session.get(Registration, registration.id)
    assert found is not None
    return found


def seats_taken(event: Event) -> int:
    db.session.expire_all()
    return db.session.get(Event, event.id).seats_taken  # type: ignore[union-attr]


def subjects(smtp_server, address: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(message["Subject"]) for message in smtp_server.to(address)]


def test_a_new_registration_holds_its_seat_unverified_and_gets_only_a_verification_letter(
    app, event, smtp_server
):
    ada = register_person(event, "ada@example.com")
    assert ada.status == "unverified"
    assert ada.verified_status == "confirmed"
    assert ada.verify_by == ada.created_at + timedelta(hours=24)
    assert seats_taken(event) == 1

    run_due_jobs()
    (letter,) = smtp_server.to("ada@example.com")
    assert letter["Subject"] == "Confirm your registration: Launch webinar"
    assert letter.get_content_type() == "multipart/alternative"
    assert not has_invite(letter)
    assert list(letter.iter_attachments()) == []
    text, html = text_of(letter), html_of(letter)
    assert verify_url(ada) in text and verify_url(ada) in html
    assert "within 24 hours" in text
    assert JOIN not in text and JOIN not in html


def test_opening_the_link_confirms_the_seat_and_only_then_sends_the_confirmation_and_invite(
    app, event, client, smtp_server
):
    ada = register_person(event, "ada@example.com")
    run_due_jobs()
    (letter,) = smtp_server.to("ada@example.com")

    response = client.get(verification_path(letter))
    assert response.status_code == 303
    assert urlsplit(response.location).path == f"/r/{manage_token(ada)}"
    page = client.get(response.location).text
    assert "Your registration is confirmed" in page
    assert JOIN in page  # confirmed now: the manage page shows the join link

    ada = fresh(ada)
    assert ada.status == "confirmed" and ada.verified_at is not None
    assert ada.verify_by is None
    assert seats_taken(event) == 1  # the seat held since registering, not a second one
    run_due_jobs()
    _, confirmation = smtp_server.to("ada@example.com")
    assert confirmation["Subject"] == "You're registered: Launch webinar"
    assert has_invite(confirmation)
    assert JOIN in text_of(confirmation)


def test_opening_the_link_twice_changes_nothing(app, event, client, smtp_server):
    ada = register_person(event, "ada@example.com")
    run_due_jobs()
    path = verification_path(smtp_server.to("ada@example.com")[0])
    client.get(path)
    run_due_jobs()
    verified_at = fresh(ada).verified_at

    again = client.get(path)
    assert again.status_code == 303
    run_due_jobs()
    ada = fresh(ada)
    assert ada.status == "confirmed" and ada.verified_at == verified_at
    assert seats_taken(event) == 1
    assert subjects(smtp_server, "ada@example.com") == [
        "Confirm your registration: Launch webinar",
        "You're registered: Launch webinar",
    ]


def test_a_registrant_of_a_full_event_holds_no_seat_and_joins_the_waitlist_when_verified(
    app, event, client, smtp_server
):
    register_person(event, "ada@example.com")  # takes the only seat, unverified
    bob = register_person(event, "bob@example.com")
    assert bob.status == "unverified" and bob.verified_status == "waitlisted"
    assert seats_taken(event) == 1
    run_due_jobs()
    letter = smtp_server.to("bob@example.com")[0]
    assert "full" in text_of(letter)

    client.get(verification_path(letter))
    bob = fresh(bob)
    assert bob.status == "waitlisted"
    assert services.waitlist_position(bob) == 1
    assert seats_taken(event) == 1
    run_due_jobs()
    _, waitlisted = smtp_server.to("bob@example.com")
    assert waitlisted["Subject"] == "You're on the waitlist: Launch webinar"
    assert not has_invite(waitlisted) and JOIN not in text_of(waitlisted)


def test_the_worker_expires_an_unverified_seat_and_promotes_the_waitlist_without_telling_them(
    app, event, client, runner, smtp_server
):
    long_ago = utcnow() - timedelta(hours=25)
    ada = register_person(event, "ada@example.com", now=long_ago)
    bob = register_person(event, "bob@example.com", now=long_ago + timedelta(hours=2))
    client.get(urlsplit(verify_url(bob)).path)
    assert fresh(bob).status == "waitlisted"

    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "unverified_expired: 1" in result.output

    ada, bob = fresh(ada), fresh(bob)
    assert ada.status == "cancelled"
    assert bob.status == "confirmed"
    assert seats_taken(event) == 1
    # Ada never confirmed: no cancellation, and the letter still waiting is not sent either.
    assert smtp_server.to("ada@example.com") == []
    promoted = smtp_server.to("bob@example.com")[-1]
    assert promoted["Subject"] == "A seat opened up, you're in: Launch webinar"
    assert has_invite(promoted)


def test_a_registrant_bound_for_the_waitlist_takes_a_seat_freed_while_nobody_waited(
    app, event, client, smtp_server
):
    long_ago = utcnow() - timedelta(hours=25)
    register_person(event, "ada@example.com", now=long_ago)
    bob = register_person(event, "bob@example.com")  # full: waitlist-bound, unverified
    run_due_jobs()  # Ada's seat is freed; nobody is on the waitlist to take it
    assert seats_taken(event) == 0

    client.get(verification_path(smtp_server.to("bob@example.com")[0]))
    assert fresh(bob).status == "confirmed"
    assert seats_taken(event) == 1


def test_a_link_opened_after_the_deadline_gives_the_seat_up_and_says_so(app, event, client):
    ada = register_person(event, "ada@example.com", now=utcnow() - timedelta(hours=25))

    response = client.get(urlsplit(verify_url(ada)).path, follow_redirects=True)
    assert "This confirmation link has expired" in response.text
    assert fresh(ada).status == "cancelled"
    assert seats_taken(event) == 0


def test_consent_is_recorded_when_the_address_is_verified_and_not_before(app, event, client):
    ada = register_person(event, "ada@example.com", consent_marketing=True)
    lead = db.session.get(Lead, ada.lead_id)
    assert lead is not None
    assert not lead.consent_marketing and lead.consent_at is None and lead.consent_text is None

    client.get(urlsplit(verify_url(ada)).path)
    db.session.expire_all()
    lead = db.session.get(Lead, ada.lead_id)
    ada = fresh(ada)
    assert lead is not None
    assert lead.consent_marketing
    assert lead.consent_at == ada.verified_at
    assert lead.consent_text == app.config["CONSENT_TEXT"]


def test_verifying_without_the_consent_box_ticked_records_no_consent(app, event, client):
    bob = register_person(event, "bob@example.com")
    client.get(urlsplit(verify_url(bob)).path)
    db.session.expire_all()
    lead = db.session.get(Lead, bob.lead_id)
    assert lead is not None and not lead.consent_marketing and lead.consent_at is None


def test_an_unverified_registrant_sees_the_inbox_message_and_no_join_link_or_invite(
    app, event, client
):
    ada = register_person(event, "ada@example.com")
    token = manage_token(ada)
    expected = (
        "Check your inbox: click the link we sent to <strong>ada@example.com</strong> "
        "within 24 hours to confirm your seat"
    )
    for path in (f"/r/{token}/thanks", f"/r/{token}"):
        page = client.get(path)
        assert page.status_code == 200
        assert expected in page.text
        assert JOIN not in page.text
        assert "invite.ics" not in page.text and "calendar.google.com" not in page.text
    assert client.get(f"/r/{token}/invite.ics").status_code == 404


def test_reminders_and_updates_skip_unverified_registrants(app, client, smtp_server):
    soon = make_event(
        double_opt_in=True,
        starts_at=(utcnow() + timedelta(minutes=50)).replace(microsecond=0),
    )
    earlier = utcnow() - timedelta(minutes=30)  # before the 60-minute reminder was due
    register_person(soon, "ada@example.com", now=earlier)
    register_person(soon, "carl@example.com", now=earlier, by_staff=True)
    run_due_jobs()
    assert subjects(smtp_server, "carl@example.com") == [
        "You're registered: Launch webinar",
        "Starts in 50 minutes: Launch webinar",
    ]
    assert subjects(smtp_server, "ada@example.com") == ["Confirm your registration: Launch webinar"]


def test_the_manage_link_is_not_a_verification_link_and_a_head_request_verifies_nothing(
    app, event, client
):
    ada = register_person(event, "ada@example.com")
    assert client.get(f"/r/{manage_token(ada)}/verify").status_code == 404
    assert client.get("/r/forged/verify").status_code == 404
    assert client.head(urlsplit(verify_url(ada)).path).status_code == 303
    assert fresh(ada).status == "unverified"


def test_registering_again_while_unverified_resends_the_link_three_times_at_most(
    app, event, smtp_server
):
    ada = registrant("ada@example.com")
    for _ in range(5):
        # The public path: the form and the API, where a known address gets its link again.
        services.register_publicly(event.id, ada)
    run_due_jobs()
    assert (
        subjects(smtp_server, "ada@example.com")
        == ["Confirm your registration: Launch webinar"] * 3
    )


def test_cancelling_an_unverified_registration_frees_its_seat_without_an_email(
    app, event, smtp_server
):
    ada = register_person(event, "ada@example.com")
    services.cancel(ada.id)  # from the manage page, before opening the link
    run_due_jobs()
    assert fresh(ada).status == "cancelled"
    assert seats_taken(event) == 0
    # Neither a cancellation nor the verification letter still waiting to go out.
    assert smtp_server.to("ada@example.com") == []


def test_staff_adding_someone_by_hand_skips_verification(app, event, smtp_server):
    outcome = services.add_by_hand(
        event.id,
        registrant("ada@example.com"),
    )
    assert outcome.registration.status == "confirmed"
    assert outcome.registration.verify_by is None
    run_due_jobs()
    assert subjects(smtp_server, "ada@example.com") == ["You're registered: Launch webinar"]


def test_an_event_without_double_opt_in_confirms_at_once(app, smtp_server):
    plain = make_event()
    ada = register_person(plain, "ada@example.com")
    assert ada.status == "confirmed" and ada.verify_by is None
    run_due_jobs()
    assert subjects(smtp_server, "ada@example.com") == ["You're registered: Launch webinar"]


# --- the API and the console --------------------------------------------------------------


def test_the_api_answers_unverified_and_lists_it_by_status(app, event, client):
    response = client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={"email": "ada@example.com", "first_name": "Ada"},
    )
    assert response.status_code == 201
    assert response.json["status"] == "unverified"

    headers = bearer(make_user("marketer"))
    listed = client.get(
        f"/api/v1/events/{event.slug}/registrations?status=unverified", headers=headers
    )
    assert listed.status_code == 200
    assert [item["email"] for item in listed.json["items"]] == ["ada@example.com"]
    assert client.get(f"/api/v1/events/{event.slug}", headers=headers).json["double_opt_in"]

    document = client.get("/api/v1/openapi.json").json
    schema = document["components"]["schemas"]["RegistrationOut"]
    assert "unverified" in schema["properties"]["status"]["enum"]
    assert "double_opt_in" in document["components"]["schemas"]["EventIn"]["properties"]


def test_double_opt_in_is_refused_on_a_paid_event_through_the_api(app, client):
    headers = bearer(make_user("marketer"))
    created = client.post(
        "/api/v1/events",
        headers=headers,
        json={
            "slug": "paid-class",
            "title": "Paid class",
            "starts_at": "2030-07-01T10:00:00Z",
            "duration_minutes": 60,
            "timezone": "UTC",
            "price_cents": 4900,
            "currency": "EUR",
            "double_opt_in": True,
        },
    )
    assert created.status_code == 422
    assert "free events" in created.json["error"]["fields"]["double_opt_in"]

    make_event(slug="free-class", double_opt_in=True)
    changed = client.patch("/api/v1/events/free-class", headers=headers, json={"price_cents": 4900})
    assert changed.status_code == 422
    assert "double_opt_in" in changed.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.scalar(select(Event.price_cents).where(Event.slug == "free-class")) == 0


def test_double_opt_in_is_refused_on_a_paid_event_in_the_console_next_to_its_field(app, staff):
    path = "/admin/events/new"
    response = staff.post(
        path,
        data={
            "csrf_token": csrf_token(staff.get(path).text),
            "title": "Paid class",
            "timezone": "Europe/Berlin",
            "starts_at": "2030-07-01T10:00",
            "duration_minutes": "45",
            "price": "49.00",
            "currency": "EUR",
            "double_opt_in": "y",
            "join_url": "https://meet.example.com/class",
        },
    )
    assert response.status_code == 422
    field = re.search(r'id="double_opt_in-error">([^<]+)<', response.text)
    assert field and "free events" in field.group(1)
    assert db.session.scalars(select(Event)).first() is None


def test_the_console_saves_double_opt_in_and_shows_unverified_readably(app, staff):
    path = "/admin/events/new"
    response = staff.post(
        path,
        data={
            "csrf_token": csrf_token(staff.get(path).text),
            "title": "Open day",
            "timezone": "Europe/Berlin",
            "starts_at": "2030-07-01T10:00",
            "duration_minutes": "45",
            "currency": "USD",
            "double_opt_in": "y",
            "join_url": "https://meet.example.com/open",
        },
    )
    assert response.status_code == 303
    event = db.session.scalars(select(Event)).one()
    assert event.double_opt_in
    from app.events.services import update_event

    update_event(event, {"status": "published"})
    register_person(event, "ada@example.com")

    table = staff.get(f"/admin/events/{event.slug}/registrations").text
    assert "email not confirmed" in table
    assert "Email not yet confirmed" in table  # the status filter
    assert "Double opt-in" in staff.get(f"/admin/events/{event.slug}").text
    assert staff.get(f"/admin/events/{event.slug}/registrations.csv").status_code == 200
    assert staff.get(f"/admin/events/{event.slug}/report").status_code == 200
    assert staff.get("/admin/reports").status_code == 200
    assert staff.get("/admin/events").status_code == 200


def test_no_outbox_row_before_verification_carries_an_invite_or_the_join_link(app, event):
    register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")
    run_due_jobs()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {row.kind for row in rows} == {"verification"}
    for row in rows:
        assert row.content is not None
        assert JOIN.encode() not in row.content and b"text/calendar" not in row.content
    assert manage_url(fresh_by_email("ada@example.com")).startswith("http://testserver/r/")


def fresh_by_email(email: str) -> Registration:
    return db.session.scalars(select(Registration).where(Registration.email == email)).one()
