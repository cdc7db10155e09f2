"""What a paying registrant sees: the return page that waits for Stripe's word, the manage
page's Pay button and refund rule, and the emails that ask for a payment or return one."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import urlparse

from app.db import db, utcnow
from app.mail.letters import write_unwritten
from app.mail.models import OutboxMessage
from app.pages import local_time
from app.payments.refunds import issue_due_refunds
from app.registrations import services as registrations
from app.registrations.models import Registration
from tests.builders import cancel_in_two_steps, csrf_token
from tests.payments_fixtures import (
    app_config,  # noqa: F401
    deliver,
    make_paid_event,
    pay,
    payment_of,
    register_via_api,
    status_of,
)

REFRESH = '<meta http-equiv="refresh" content="5">'


def page_at(client: Any, path: str) -> str:
    """The page's HTML with each run of white space made one space, as a reader sees it."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return " ".join(response.text.split())


def manage_path(body: dict[str, Any]) -> str:
    return urlparse(body["manage_url"]).path


def mail_text(kind: str, registration_id: int) -> str:
    """The plain-text body of the one `kind` email to this registration, as the worker wrote it."""
    write_unwritten()
    db.session.expire_all()
    (content,) = db.session.scalars(
        db.select(OutboxMessage.content).where(
            OutboxMessage.kind == kind, OutboxMessage.registration_id == registration_id
        )
    ).all()
    assert content is not None, f"the {kind} email was not written"
    message = message_from_bytes(content, policy=policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def held_until(registration_id: int) -> str:
    db.session.expire_all()
    registration = db.session.get(Registration, registration_id)
    assert registration is not None and registration.hold_expires_at is not None
    return local_time(registration.hold_expires_at, registration.event.timezone)


# The return page


def test_the_return_page_waits_for_stripes_word_before_saying_the_seat_is_confirmed(
    client, fake_stripe
):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    thanks = f"{manage_path(body)}/thanks?paid=1"

    # Stripe's page sent the buyer back, but its webhook has not come: nothing is confirmed.
    fake_stripe.pay(payment_of(body["id"]).checkout_session_id)
    waiting = page_at(client, thanks)
    assert "Payment processing" in waiting
    assert "We're waiting for Stripe to confirm your payment" in waiting
    assert REFRESH in waiting
    assert "You're registered" not in waiting
    assert "Add to your calendar" not in waiting and "invite.ics" not in waiting
    assert "Payment received" not in waiting

    deliver(client, fake_stripe, fake_stripe.events[-1])
    assert status_of(body["id"]) == "confirmed"
    confirmed = page_at(client, thanks)
    assert "You're registered" in confirmed
    assert "Payment received: EUR 49.00" in confirmed
    assert "Add to your calendar" in confirmed
    assert REFRESH not in confirmed
    assert "Payment processing" not in confirmed


def test_a_bank_payment_on_its_way_is_told_without_refreshing_forever(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    delayed = fake_stripe.pay(payment_of(body["id"]).checkout_session_id, delayed=True)
    deliver(client, fake_stripe, delayed)
    html = page_at(client, f"{manage_path(body)}/thanks?paid=1")
    assert "Your payment is on its way" in html
    assert REFRESH not in html
    assert "You're registered" not in html


def test_a_late_payment_for_a_seat_given_away_says_it_is_refunded(client, fake_stripe):
    event = make_paid_event(capacity=1)
    late = register_via_api(client, event, "late@example.com")
    paid = fake_stripe.pay(payment_of(late["id"]).checkout_session_id)
    # The hold ran out before Stripe's word came, and someone else took the only seat.
    registrations.cancel(late["id"], by="payment")
    register_via_api(client, event, "next@example.com")
    # Stripe does not answer the webhook request's own refund attempt: still being refunded.
    fake_stripe.fail_next("POST", "/v1/refunds", status=500, error_type="api_error")
    deliver(client, fake_stripe, paid)
    assert status_of(late["id"]) == "cancelled"

    html = page_at(client, f"{manage_path(late)}/thanks?paid=1")
    assert "Your registration is cancelled" in html
    assert "arrived after your held seat had been released" in html
    assert "are refunding it in full (EUR 49.00)" in html
    assert REFRESH not in html

    assert issue_due_refunds(utcnow() + timedelta(hours=1)) == 1
    html = page_at(client, f"{manage_path(late)}/thanks?paid=1")
    assert "are refunding" not in html
    assert "refunded it in full" in html
    text = mail_text("refunded", late["id"])
    assert "arrived after your held seat had been released and the event was full" in text
    assert "so we refunded it in full" in text
    assert "Refunded: EUR 49.00" in text


# The manage page


def test_the_pay_button_sends_a_held_seat_back_to_the_same_checkout(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    page = page_at(client, manage_path(body))
    held = re.escape(held_until(body["id"]))
    assert re.search(rf"Your seat is held until <time [^>]+>{held}</time> while you pay", page)
    assert "Pay now" in page
    # The Pay button is a CSRF-protected form; cancelling is a separate, confirmed step.
    pay_form = page.split('action="' + manage_path(body) + '/pay"', 1)[1].split("</form>")[0]
    assert f'href="{manage_path(body)}/cancel"' in page

    response = client.post(f"{manage_path(body)}/pay", data={"csrf_token": csrf_token(pay_form)})
    assert response.status_code == 303
    assert response.headers["Location"] == body["checkout_url"]
    creates = [c for c in fake_stripe.requests if c.path == "/v1/checkout/sessions"]
    assert len(creates) == 1


def test_the_pay_button_needs_the_csrf_token(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    page_at(client, manage_path(body))
    assert client.post(f"{manage_path(body)}/pay").status_code == 400


def test_leaving_checkout_says_the_seat_is_still_held(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    html = page_at(client, f"{manage_path(body)}?checkout=left")
    held = re.escape(held_until(body["id"]))
    assert re.search(
        rf"You left the payment page; your seat is still held until <time [^>]+>{held}</time>",
        html,
    )
    assert "Pay now" in html


def promoted_into_a_held_seat(client: Any) -> dict[str, Any]:
    """The second registrant of a one-seat paid event, let in when the first cancels."""
    event = make_paid_event(capacity=1)
    first = register_via_api(client, event, "first@example.com")
    waiting = register_via_api(client, event, "second@example.com")
    registrations.cancel(first["id"])
    return waiting


def test_a_stripe_error_on_pay_is_shown_on_the_manage_page_and_the_seat_released(
    client, fake_stripe
):
    waiting = promoted_into_a_held_seat(client)
    # Promoted into the held seat; no Checkout Session is open for them yet.
    assert status_of(waiting["id"]) == "pending_payment"
    page = page_at(client, manage_path(waiting))

    fake_stripe.fail_next("POST", "/v1/checkout/sessions", status=500, error_type="api_error")
    response = client.post(f"{manage_path(waiting)}/pay", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert urlparse(response.headers["Location"]).path == manage_path(waiting)
    assert status_of(waiting["id"]) == "cancelled"

    html = page_at(client, response.headers["Location"])
    assert 'role="alert">The payment service refused the request. Nothing was charged' in html
    assert "Pay now" not in html
    assert "Register again" in html
    # The message is shown once.
    assert "Nothing was charged; please try again" not in page_at(client, manage_path(waiting))


def test_a_paid_seat_shows_the_amount_and_until_when_cancelling_is_refunded(client, fake_stripe):
    event = make_paid_event(refund_until_hours_before=24)
    body = register_via_api(client, event, "ada@example.com")
    pay(client, fake_stripe, body["id"])
    html = page_at(client, manage_path(body))
    assert "<dt>Paid</dt><dd>EUR 49.00</dd>" in html
    deadline = local_time(event.starts_at - timedelta(hours=24), event.timezone)
    assert "Cancel before" in html and f">{deadline}</time> for a full refund." in html
    assert "Pay now" not in html


def test_after_the_refund_window_the_page_says_cancelling_gives_the_seat_up(client, fake_stripe):
    # The event starts in three days; refunds ended four days before the start.
    event = make_paid_event(refund_until_hours_before=96)
    body = register_via_api(client, event, "ada@example.com")
    pay(client, fake_stripe, body["id"])
    html = page_at(client, manage_path(body))
    deadline = local_time(event.starts_at - timedelta(hours=96), event.timezone)
    assert "Refunds ended at <time" in html
    assert f">{deadline}</time>; cancelling now gives your seat up without a refund." in html
    assert "for a full refund" not in html

    cancel_in_two_steps(client, manage_path(body))
    html = page_at(client, manage_path(body))
    assert "Your payment of EUR 49.00 was not refunded" in html
    assert payment_of(body["id"]).refund_status == "declined"


def test_cancelling_a_paid_seat_shows_the_refund_and_emails_it(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    pay(client, fake_stripe, body["id"])
    response = cancel_in_two_steps(client, manage_path(body))
    assert response.status_code == 303

    # The cancelling request made the refund before answering: the next page says so.
    html = page_at(client, response.headers["Location"])
    assert "Your registration has been cancelled." in html
    assert "Your payment of EUR 49.00 was refunded." in html
    assert "being refunded" not in html
    assert issue_due_refunds() == 0

    text = mail_text("refunded", body["id"])
    assert "You cancelled your registration for Paid workshop in time for a refund" in text
    assert "Refunded: EUR 49.00" in text
    assert body["manage_url"] in text


def test_the_confirmation_of_a_paid_seat_says_what_was_paid(client, fake_stripe):
    event = make_paid_event()
    body = register_via_api(client, event, "ada@example.com")
    pay(client, fake_stripe, body["id"])
    text = mail_text("confirmation", body["id"])
    assert "Your seat at Paid workshop is confirmed." in text
    assert "Paid: EUR 49.00" in text


def test_someone_promoted_into_a_paid_seat_is_emailed_a_link_to_pay_by_the_deadline(
    client, fake_stripe
):
    waiting = promoted_into_a_held_seat(client)
    assert status_of(waiting["id"]) == "pending_payment"
    text = mail_text("payment_due", waiting["id"])
    assert "A seat opened up at Paid workshop and we are holding it for you." in text
    assert f"Pay EUR 49.00 by {held_until(waiting['id'])} to make it yours" in text
    assert f"Pay for your seat: {waiting['manage_url']}" in text
    # The link leads to the Pay button.
    assert "Pay now" in page_at(client, manage_path(waiting))
