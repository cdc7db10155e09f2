"""The join link reaches registrants only: never the public event list, the landing pages or the
public calendar file; only a confirmed seat's manage page and the emails to its holder."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from app.registrations import services
from app.registrations.links import manage_token
from app.worker import run_due_jobs
from tests.builders import bearer, make_event, make_user, register_person
from tests.contract import EVENT_FIELDS

JOIN = "https://meet.example.com/secret-room-4711"


@pytest.fixture
def webinar(app):  # type: ignore[no-untyped-def]
    return make_event(slug="launch-webinar", join_url=JOIN, capacity=1)


def test_the_public_event_list_never_carries_the_join_link(client, webinar):
    response = client.get("/api/v1/events")
    assert response.status_code == 200
    (item,) = response.json["items"]
    assert set(item) == EVENT_FIELDS - {"join_url", "platform_webinar_id", "embed_origins"}
    assert JOIN not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "marketer", "rep"])
def test_a_staff_token_sees_the_join_link_in_the_list(client, webinar, role):
    response = client.get("/api/v1/events", headers=bearer(make_user(role)))
    (item,) = response.json["items"]
    assert set(item) == EVENT_FIELDS
    assert item["join_url"] == JOIN


def test_reading_one_event_without_a_staff_token_shows_no_join_link(client, webinar):
    anonymous = client.get("/api/v1/events/launch-webinar")
    assert anonymous.status_code == 401
    assert JOIN not in anonymous.get_data(as_text=True)
    staff = client.get("/api/v1/events/launch-webinar", headers=bearer(make_user("rep")))
    assert staff.json["join_url"] == JOIN


def test_the_document_describes_the_public_list_without_the_join_link(client, app):
    document = client.get("/api/v1/openapi.json").json
    answer = document["paths"]["/api/v1/events"]["get"]["responses"]["200"]
    shapes = answer["content"]["application/json"]["schema"]["anyOf"]
    assert [shape["$ref"].rsplit("/", 1)[1] for shape in shapes] == [
        "EventPage",
        "PublicEventPage",
    ]
    schemas = document["components"]["schemas"]
    assert set(schemas["PublicEventOut"]["properties"]) == EVENT_FIELDS - {
        "join_url",
        "platform_webinar_id",
        "embed_origins",
    }
    assert schemas["PublicEventOut"]["additionalProperties"] is False
    assert "join_url" in schemas["EventOut"]["required"]


@pytest.mark.parametrize("path", ["/", "/e/launch-webinar", "/e/launch-webinar.ics"])
def test_public_pages_never_carry_the_join_link(client, webinar, path):
    response = client.get(path)
    assert response.status_code == 200
    assert JOIN not in response.get_data(as_text=True)


def test_only_a_confirmed_seat_shows_the_join_link_on_its_manage_page(client, webinar):
    confirmed = register_person(webinar, "ada@example.com")
    waitlisted = register_person(webinar, "bob@example.com")
    assert (confirmed.status, waitlisted.status) == ("confirmed", "waitlisted")
    assert JOIN in client.get(f"/r/{manage_token(confirmed)}").get_data(as_text=True)
    for path in (f"/r/{manage_token(waitlisted)}", f"/r/{manage_token(waitlisted)}/thanks"):
        assert JOIN not in client.get(path).get_data(as_text=True), path


def test_a_cancelled_registrant_gets_no_join_link_from_the_invite_or_page(client, webinar):
    registration = register_person(webinar, "ada@example.com")
    services.cancel(registration.id)
    token = manage_token(registration)
    invite = client.get(f"/r/{token}/invite.ics")
    assert invite.status_code == 200 and b"METHOD:CANCEL" in invite.data
    assert JOIN not in invite.get_data(as_text=True)
    assert JOIN not in client.get(f"/r/{token}").get_data(as_text=True)


@pytest.fixture
def app_config(app_config, smtp_server):  # type: ignore[no-untyped-def]
    return {**app_config, **smtp_server.mail_config}


def everything_in(message: EmailMessage) -> str:
    """Every part of a message, decoded: bodies, the inline invite and its attachment."""
    return "\n".join(
        part.get_payload(decode=True).decode() for part in message.walk() if not part.is_multipart()
    )


def test_emails_carry_the_join_link_to_confirmed_registrants_only(app, webinar, smtp_server):
    confirmed = register_person(webinar, "ada@example.com")
    register_person(webinar, "bob@example.com")
    run_due_jobs()
    (confirmation,) = smtp_server.to("ada@example.com")
    (waitlisted,) = smtp_server.to("bob@example.com")
    assert JOIN in everything_in(confirmation)
    assert JOIN not in everything_in(waitlisted)

    services.cancel(confirmed.id)
    run_due_jobs()
    cancellation = smtp_server.to("ada@example.com")[-1]
    assert "METHOD:CANCEL" in everything_in(cancellation)
    assert JOIN not in everything_in(cancellation)
