"""`GET /metrics`: Prometheus text for the scraper only (loopback, or the METRICS_TOKEN
bearer), with requests counted by route pattern, registrations, seats left and the outbox
backlog read from the database at the scrape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update

from app.db import db, utcnow
from app.mail.models import OutboxMessage
from app.registrations import approval, opt_in
from app.registrations.links import manage_url
from app.registrations.models import Registration
from tests.builders import make_event, register_person
from tests.fake_stripe import stripe_settings
from tests.payments_fixtures import make_paid_event, paid_seat

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
TOKEN = "scrape-token-for-tests"


@pytest.fixture
def app_config(app_config):
    return app_config | {"METRICS_TOKEN": TOKEN}


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape from loopback, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_a_scrape_from_loopback_is_answered(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "reserve_outbox_messages" in response.get_data(as_text=True)


def test_a_remote_address_without_the_token_is_refused(client):
    assert client.get("/metrics", environ_base=REMOTE).status_code == 404
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", environ_base=REMOTE, headers=wrong).status_code == 404


def test_a_request_relayed_by_a_proxy_on_this_host_is_not_loopback(client):
    relayed = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=relayed).status_code == 404


def test_the_token_opens_it_from_anywhere(client):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = client.get("/metrics", environ_base=REMOTE, headers=headers)
    assert response.status_code == 200
    assert "reserve_http_requests_total" in response.get_data(as_text=True)


def test_without_a_token_configured_only_loopback_is_answered(app, client):
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", environ_base=REMOTE).status_code == 404
    empty = {"Authorization": "Bearer "}
    assert client.get("/metrics", environ_base=REMOTE, headers=empty).status_code == 404
    assert client.get("/metrics").status_code == 200


def test_the_outbox_backlog_is_what_the_table_holds(client):
    event = make_event(capacity=10)
    for n in range(3):
        register_person(event, f"person{n}@example.com")
    db.session.commit()
    owed = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "unwritten")
    )
    assert owed == 3
    # One written message has waited ten minutes past its due time.
    first = db.session.scalar(select(func.min(OutboxMessage.id)))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == first)
        .values(status="pending", next_attempt_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()

    samples = scrape(client)
    assert samples[("reserve_outbox_messages", (("state", "unwritten"),))] == 2
    assert samples[("reserve_outbox_messages", (("state", "pending"),))] == 1
    assert samples[("reserve_outbox_messages", (("state", "sent"),))] == 0
    assert 600 <= samples[("reserve_outbox_oldest_due_seconds", ())] < 660
    assert samples[("reserve_event_seats_left", (("event", "launch-webinar"),))] == 7
    assert samples[("reserve_stuck_leases", (("queue", "outbox"),))] == 0


def test_a_lease_past_its_time_is_counted_stuck(client):
    event = make_event()
    register_person(event, "ada@example.com")
    db.session.execute(
        update(OutboxMessage).values(
            status="sending", lease="gone", locked_until=utcnow() - timedelta(minutes=1)
        )
    )
    db.session.commit()
    assert scrape(client)[("reserve_stuck_leases", (("queue", "outbox"),))] == 1


def test_requests_are_counted_by_route_pattern_never_by_address(client):
    event = make_event()
    registration = register_person(event, "ada@example.com")
    db.session.commit()
    link = manage_url(registration).removeprefix("http://testserver")
    token = link.rsplit("/", 1)[1]
    key = (
        "reserve_http_requests_total",
        (("method", "GET"), ("route", "/r/<token>"), ("status", "200")),
    )
    before = scrape(client).get(key, 0)
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200
    response = client.get("/metrics")
    text = response.get_data(as_text=True)
    assert token not in text
    samples = scrape(client)
    assert samples[key] == before + 2
    latency = (
        "reserve_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/r/<token>")),
    )
    assert samples[latency] >= 2


def test_registrations_are_counted_by_the_status_they_got(client):
    event = make_event(capacity=1)
    confirmed = ("reserve_registrations_total", (("status", "confirmed"),))
    waitlisted = ("reserve_registrations_total", (("status", "waitlisted"),))
    before = scrape(client)
    register_person(event, "ada@example.com")
    register_person(event, "grace@example.com")
    after = scrape(client)
    assert after[confirmed] == before.get(confirmed, 0) + 1
    assert after[waitlisted] == before.get(waitlisted, 0) + 1


def registrations_counted(client) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {
        dict(labels)["status"]: value
        for (name, labels), value in scrape(client).items()
        if name == "reserve_registrations_total"
    }


def grown(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {
        status: after[status] - before.get(status, 0)
        for status in after
        if after[status] != before.get(status, 0)
    }


def test_a_double_opt_in_registration_is_counted_once_as_taken_not_again_when_verified(client):
    event = make_event(capacity=5, double_opt_in=True)
    before = registrations_counted(client)
    ada = register_person(event, "ada@example.com")
    opt_in.verify(ada.id)
    assert db.session.get(Registration, ada.id).status == "confirmed"
    assert grown(before, registrations_counted(client)) == {"unverified": 1}


def test_a_registration_awaiting_approval_is_counted_once_not_again_when_approved(client):
    event = make_event(capacity=5, requires_approval=True)
    before = registrations_counted(client)
    ada = register_person(event, "ada@example.com")
    taken_as = ada.status
    approval.approve(ada.id)
    assert db.session.get(Registration, ada.id).status == "confirmed"
    assert grown(before, registrations_counted(client)) == {taken_as: 1}


class TestPaidSeats:
    @pytest.fixture
    def app_config(self, app_config, fake_stripe):  # type: ignore[no-untyped-def]
        return app_config | stripe_settings(fake_stripe)

    def test_a_registration_paid_for_later_is_counted_once_as_taken(self, client, fake_stripe):
        event = make_paid_event()
        before = registrations_counted(client)
        paid_seat(client, fake_stripe, event)
        assert grown(before, registrations_counted(client)) == {"pending_payment": 1}
