"""Paid events in the console: each seat's payment and refund in the registrations table, a
failed refund tried again, the event's takings, and the refund window in the event form."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.db import db, utcnow
from app.events.models import Event
from app.payments.refunds import issue_due_refunds
from app.registrations import services as registrations
from tests.builders import (
    counting_queries,
    csrf_token,
    log_in,
    make_event,
    make_user,
    register_person,
)
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    make_paid_event,
    paid_seat,
    payment_of,
    register_via_api,
)

TABLE = "/admin/events/paid-workshop/registrations"


def row_text(html: str, email: str) -> str:
    """The words of the table row of `email`, tags and runs of white space dropped."""
    row = html.split(f'<span class="sub email">{email}</span>', 1)[1].split("</tr>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def table(client: Any) -> str:
    response = client.get(TABLE)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def cancel_from_table(client: Any, registration_id: int) -> None:
    response = client.post(
        f"{TABLE}/{registration_id}/cancel", data={"csrf_token": csrf_token(table(client))}
    )
    assert response.status_code == 303


def fail_every_refund_attempt(fake_stripe: Any) -> None:
    """Stripe refuses the refund each time the worker asks, until the worker gives up."""
    fake_stripe.fail_next(
        "POST",
        "/v1/refunds",
        status=400,
        error_type="invalid_request_error",
        message="The card this payment was made with is closed.",
        times=8,
    )
    for attempt in range(1, 9):
        # Each failure waits longer before the next attempt; the worker runs later each time.
        issue_due_refunds(utcnow() + timedelta(days=attempt))


# The registrations table


def test_the_table_shows_each_seats_amount_and_payment_state(staff, fake_stripe):
    event = make_paid_event(capacity=3)
    paid_seat(staff, fake_stripe, event, "paid@example.com")
    holding = register_via_api(staff, event, "holding@example.com")
    leaving = paid_seat(staff, fake_stripe, event, "leaving@example.com")
    # Stripe does not answer the cancelling request's own refund attempt: the worker's turn.
    fake_stripe.fail_next("POST", "/v1/refunds", status=500, error_type="api_error")
    cancel_from_table(staff, leaving["id"])

    html = table(staff)
    assert '<th scope="col">Payment</th>' in html
    assert "EUR 49.00 Paid" in row_text(html, "paid@example.com")
    hold = payment_of(holding["id"]).registration.hold_expires_at
    until = hold.astimezone(event.zone).strftime("%-d %b, %H:%M")
    assert f"EUR 49.00 Awaiting payment until {until}" in row_text(html, "holding@example.com")
    assert "EUR 49.00 Paid; refund due" in row_text(html, "leaving@example.com")

    assert issue_due_refunds(utcnow() + timedelta(hours=1)) == 1
    assert "EUR 49.00 Refunded EUR 49.00" in row_text(table(staff), "leaving@example.com")


def test_the_payment_column_reads_one_query_however_many_rows(staff, fake_stripe):
    event = make_paid_event(capacity=10)
    paid_seat(staff, fake_stripe, event, "first@example.com")
    db.session.commit()  # each count starts from a fresh transaction, as a request does
    with counting_queries() as few:
        table(staff)
    for number in range(4):
        paid_seat(staff, fake_stripe, event, f"person{number}@example.com")
    db.session.commit()
    with counting_queries() as many:
        html = table(staff)
    assert all("Paid" in row_text(html, f"person{n}@example.com") for n in range(4))
    assert len(many) == len(few)
    assert sum("from payments" in statement.lower() for statement in many) == 1


def test_a_free_event_has_no_payment_column(staff):
    event = make_event()
    register_person(event, "ada@example.com")
    html = staff.get(f"/admin/events/{event.slug}/registrations").get_data(as_text=True)
    assert "ada@example.com" in html
    assert '<th scope="col">Payment</th>' not in html


def test_a_failed_refund_shows_stripes_reason_and_can_be_tried_again(staff, fake_stripe):
    event = make_paid_event()
    body = paid_seat(staff, fake_stripe, event, "ada@example.com")
    registrations.cancel(body["id"], by="staff")
    fail_every_refund_attempt(fake_stripe)
    payment = payment_of(body["id"])
    assert payment.refund_status == "failed"

    html = table(staff)
    row = row_text(html, "ada@example.com")
    assert "Refund failed:" in row and "The card this payment was made with is closed." in row
    assert "Retry refund to ada@example.com" in row
    retry = f"/admin/events/paid-workshop/payments/{payment.id}/retry-refund"
    assert f'action="{retry}"' in html

    assert staff.post(retry).status_code == 400  # without the CSRF token nothing happens
    assert payment_of(body["id"]).refund_status == "failed"
    response = staff.post(retry, data={"csrf_token": csrf_token(html)}, follow_redirects=True)
    assert "The refund to ada@example.com is being made again" in response.text
    # The retrying request made it at once, under a new idempotency key.
    assert payment_of(body["id"]).refund_status == "succeeded"
    keys = [c.idempotency_key for c in fake_stripe.requests if c.path == "/v1/refunds"]
    assert keys[-1] == f"refund-payment-{payment.id}-retry1"
    assert issue_due_refunds() == 0
    assert len(fake_stripe.refunds) == 1
    row = row_text(table(staff), "ada@example.com")
    assert "Refunded EUR 49.00" in row and "Retry refund" not in row


def test_retrying_a_refund_that_has_not_failed_changes_nothing(staff, fake_stripe):
    event = make_paid_event()
    body = paid_seat(staff, fake_stripe, event, "ada@example.com")
    payment = payment_of(body["id"])
    response = staff.post(
        f"/admin/events/paid-workshop/payments/{payment.id}/retry-refund",
        data={"csrf_token": csrf_token(table(staff))},
        follow_redirects=True,
    )
    assert "has not failed; there is nothing to retry" in response.text
    assert payment_of(body["id"]).refund_status == "none"
    assert (
        staff.post(
            "/admin/events/paid-workshop/payments/999999/retry-refund",
            data={"csrf_token": csrf_token(table(staff))},
        ).status_code
        == 404
    )


def test_a_rep_cannot_retry_a_refund(client, fake_stripe):
    event = make_paid_event()
    body = paid_seat(client, fake_stripe, event, "ada@example.com")
    registrations.cancel(body["id"], by="staff")
    fail_every_refund_attempt(fake_stripe)
    log_in(client, make_user("rep"))
    token = csrf_token(client.get("/followups").get_data(as_text=True))
    payment = payment_of(body["id"])
    response = client.post(
        f"/admin/events/paid-workshop/payments/{payment.id}/retry-refund",
        data={"csrf_token": token},
    )
    assert response.status_code == 403
    assert payment_of(body["id"]).refund_status == "failed"


# The event page


def test_the_event_page_shows_what_was_taken_and_refunded(staff, fake_stripe):
    event = make_paid_event(capacity=3, refund_until_hours_before=24)
    paid_seat(staff, fake_stripe, event, "stays@example.com")
    leaving = paid_seat(staff, fake_stripe, event, "leaves@example.com")
    register_via_api(staff, event, "holding@example.com")
    registrations.cancel(leaving["id"], by="staff")
    issue_due_refunds()

    html = " ".join(staff.get("/admin/events/paid-workshop").get_data(as_text=True).split())
    assert '<h2 id="takings-heading">Payments</h2>' in html
    assert "<dt>Taken</dt><dd>EUR 98.00</dd>" in html
    assert "<dt>Refunded</dt><dd>EUR 49.00</dd>" in html
    assert "<dt>Kept</dt><dd>EUR 49.00</dd>" in html
    assert "<dt>Payments</dt><dd>2</dd>" in html
    assert "<dt>Refunds</dt><dd>Until 24 hours before the start" in html


# The event form


def event_form(client: Any, path: str, **changes: str) -> Any:
    """Fill the event form the way a marketer would, with `changes` on top."""
    values = {
        "csrf_token": csrf_token(client.get(path).get_data(as_text=True)),
        "title": "Paid masterclass",
        "slug": "paid-masterclass",
        "description": "",
        "timezone": "Europe/Berlin",
        "starts_at": "2030-07-01T10:00",
        "duration_minutes": "90",
        "capacity": "20",
        "waitlist": "y",
        "price": "49.00",
        "currency": "EUR",
        "refund_until_hours_before": "",
        "join_url": "https://meet.example.com/masterclass",
        "location": "",
        "campaign": "",
        "registration_closes_at": "",
    }
    values.update(changes)
    return client.post(path, data=values)


def saved_window() -> int | None:
    db.session.expire_all()
    return db.session.scalars(select(Event.refund_until_hours_before)).one()


def test_the_event_form_saves_the_refund_window(staff):
    form = staff.get("/admin/events/new").get_data(as_text=True)
    assert '<label for="refund_until_hours_before">Refunds until (hours before the start)' in form
    assert 'aria-describedby="refund_until_hours_before-hint"' in form

    assert event_form(staff, "/admin/events/new", refund_until_hours_before="48").status_code == 303
    assert saved_window() == 48
    edit = "/admin/events/paid-masterclass/edit"
    assert 'name="refund_until_hours_before" type="number" value="48"' in staff.get(edit).text
    assert event_form(staff, edit, refund_until_hours_before="").status_code == 303
    assert saved_window() is None  # refunds until the start
    assert event_form(staff, edit, refund_until_hours_before="0").status_code == 303
    assert saved_window() == 0


@pytest.mark.parametrize("value", ["-1", "many", "99999999999"])
def test_the_event_form_refuses_a_bad_refund_window_next_to_the_field(staff, value):
    event_form(staff, "/admin/events/new", refund_until_hours_before="24")
    response = event_form(
        staff, "/admin/events/paid-masterclass/edit", refund_until_hours_before=value
    )
    assert response.status_code == 422
    error = response.text.split('id="refund_until_hours_before-error">', 1)
    assert len(error) == 2, "no error shown next to the refund window"
    assert error[1].split("</p>", 1)[0].startswith("Refunds until:")
    assert saved_window() == 24
