"""The manage link: unguessable, unforgeable and expiring after the event, and its two-step
cancel keeps seats and the waitlist consistent (one transaction, idempotent; re-registering
brings the same row back under a new link)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select, update

from app.db import db, utcnow
from app.events.models import Event
from app.registrations import services, signals
from app.registrations.links import manage_token
from app.registrations.models import SEAT_HOLDING, Registration
from tests.builders import cancel_in_two_steps, csrf_token, make_event, register_person

SALT = "manage-registration"


def in_minutes(minutes: int) -> datetime:
    """A moment `minutes` from now: orders sign-ups the way a clock would."""
    return utcnow() + timedelta(minutes=minutes)


def manage_path(registration: Registration) -> str:
    return f"/r/{manage_token(registration)}"


def cancel_from_manage_page(client: Any, registration: Registration) -> Any:
    """What the registrant does: the manage page's cancel link, then the confirming form."""
    return cancel_in_two_steps(client, manage_path(registration))


def fresh() -> None:
    db.session.rollback()
    db.session.expire_all()


def statuses(event: Event) -> dict[str, str]:
    fresh()
    rows = db.session.execute(
        select(Registration.email, Registration.status).where(Registration.event_id == event.id)
    )
    return dict(rows.all())


def seats(event: Event) -> tuple[int, int]:
    """(the event's seat counter, the seat-holding registrations): always equal."""
    fresh()
    counter = db.session.scalar(select(Event.seats_taken).where(Event.id == event.id))
    holding = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(SEAT_HOLDING))
    )
    return counter, holding


def assert_friendly_404(response: Any) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in html
    assert "This link is not valid." in html
    assert "Traceback" not in html


@pytest.fixture
def ada(app) -> Registration:  # type: ignore[no-untyped-def]
    return register_person(make_event(capacity=5), "ada@example.com")


# --- The link itself -------------------------------------------------------------------------


def test_the_raw_database_token_is_not_a_link(client, ada):
    assert_friendly_404(client.get(f"/r/{ada.manage_token}"))
    assert client.get(manage_path(ada)).status_code == 200


def test_a_link_signed_with_another_key_is_refused(client, ada):
    forged = URLSafeSerializer("not-our-secret", salt=SALT).dumps(ada.manage_token)
    assert_friendly_404(client.get(f"/r/{forged}"))


def test_a_link_signed_for_another_purpose_is_refused(client, app, ada):
    other_purpose = URLSafeSerializer(app.config["SECRET_KEY"], salt="password-reset")
    assert_friendly_404(client.get(f"/r/{other_purpose.dumps(ada.manage_token)}"))


@pytest.mark.parametrize("part", ["payload", "signature"])
def test_a_tampered_link_is_refused(client, ada, part):
    payload, signature = manage_token(ada).rsplit(".", 1)
    target = payload if part == "payload" else signature
    middle = len(target) // 2
    swapped = target[:middle] + ("A" if target[middle] != "A" else "B") + target[middle + 1 :]
    tampered = f"{swapped}.{signature}" if part == "payload" else f"{payload}.{swapped}"
    assert_friendly_404(client.get(f"/r/{tampered}"))


def test_a_correctly_signed_link_to_no_registration_is_refused(client, app, ada):
    signer = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT)
    assert_friendly_404(client.get(f"/r/{signer.dumps('no-such-registration')}"))
    assert_friendly_404(client.get(f"/r/{signer.dumps(ada.id)}"))  # not a token at all


@pytest.mark.parametrize("token", ["x", "a.b", "%00", "." * 3, "A" * 5000])
def test_garbage_links_are_refused_on_every_manage_page(client, ada, token):
    assert_friendly_404(client.get(f"/r/{token}"))
    assert_friendly_404(client.get(f"/r/{token}/thanks"))
    assert_friendly_404(client.get(f"/r/{token}/cancel"))
    assert_friendly_404(client.get(f"/r/{token}/invite.ics"))
    page_token = csrf_token(client.get(f"{manage_path(ada)}/cancel").get_data(as_text=True))
    assert_friendly_404(
        client.post(f"/r/{token}/cancel", data={"csrf_token": page_token, "confirm": "yes"})
    )
    assert_friendly_404(client.post(f"/r/{token}/pay", data={"csrf_token": page_token}))
    assert statuses(ada.event) == {"ada@example.com": "confirmed"}


def test_the_link_is_unguessable_and_not_the_database_token(app):
    event = make_event(capacity=None)
    registrations = [register_person(event, f"person{n}@example.com") for n in range(20)]
    raw_tokens = [r.manage_token for r in registrations]
    for raw in raw_tokens:
        random_bytes = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        assert len(random_bytes) * 8 >= 128
    assert len(set(raw_tokens)) == len(raw_tokens)
    for registration in registrations:
        link = manage_token(registration)
        assert link != registration.manage_token
        assert registration.manage_token not in link
        assert str(registration.id) != link


# --- Cancelling ------------------------------------------------------------------------------


def test_cancelling_without_the_csrf_token_is_refused_and_changes_nothing(client, ada):
    client.get(f"{manage_path(ada)}/cancel")
    for data in ({"confirm": "yes"}, {"csrf_token": "forged", "confirm": "yes"}):
        response = client.post(f"{manage_path(ada)}/cancel", data=data)
        assert response.status_code == 400
        assert "This form has expired" in response.get_data(as_text=True)
    assert statuses(ada.event) == {"ada@example.com": "confirmed"}
    assert seats(ada.event) == (1, 1)


def test_the_manage_page_links_to_a_confirmation_step_instead_of_cancelling(client, ada):
    manage = client.get(manage_path(ada)).get_data(as_text=True)
    assert f'href="{manage_path(ada)}/cancel"' in manage
    assert "Cancel my registration" in manage
    assert 'action="' + manage_path(ada) + '/cancel"' not in manage

    # Following the link (or a prefetcher following it) only asks.
    step = client.get(f"{manage_path(ada)}/cancel")
    html = step.get_data(as_text=True)
    assert step.status_code == 200
    assert "Cancel your registration?" in html
    assert "You give up your seat" in html
    assert 'name="confirm" type="hidden" value="yes"' in html or (
        'type="hidden" name="confirm" value="yes"' in html
    )
    assert "<script" not in html.split("</section>")[0]  # a plain form: no JavaScript needed
    assert statuses(ada.event) == {"ada@example.com": "confirmed"}
    assert seats(ada.event) == (1, 1)


def test_a_post_without_the_confirm_field_cancels_nothing_and_asks_again(client, ada):
    path = f"{manage_path(ada)}/cancel"
    token = csrf_token(client.get(path).get_data(as_text=True))
    for data in ({"csrf_token": token}, {"csrf_token": token, "confirm": "no"}):
        response = client.post(path, data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "Nothing was cancelled." in html
        assert "Yes, cancel my registration" in html
    assert statuses(ada.event) == {"ada@example.com": "confirmed"}
    assert seats(ada.event) == (1, 1)


def test_the_confirmation_step_says_what_leaving_the_waitlist_means(client, app):
    event = make_event(capacity=1)
    register_person(event, "ada@example.com")
    grace = register_person(event, "grace@example.com", now=in_minutes(1))
    html = client.get(f"{manage_path(grace)}/cancel").get_data(as_text=True)
    assert "You leave the waitlist" in html
    assert "You give up your seat" not in html


def test_cancelling_frees_the_seat_for_the_first_on_the_waitlist(client, app):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com", now=in_minutes(0))
    register_person(event, "grace@example.com", now=in_minutes(1))
    register_person(event, "alan@example.com", now=in_minutes(2))
    assert statuses(event) == {
        "ada@example.com": "confirmed",
        "grace@example.com": "waitlisted",
        "alan@example.com": "waitlisted",
    }

    response = cancel_from_manage_page(client, ada)
    assert response.status_code == 303
    assert statuses(event) == {
        "ada@example.com": "cancelled",
        "grace@example.com": "confirmed",
        "alan@example.com": "waitlisted",
    }
    assert seats(event) == (1, 1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your registration has been cancelled." in page
    alan = db.session.scalar(select(Registration).where(Registration.email == "alan@example.com"))
    assert services.waitlist_position(alan) == 1


def test_a_waitlist_position_counts_those_who_joined_before(client, app):
    event = make_event(capacity=1)
    register_person(event, "ada@example.com", now=in_minutes(0))
    grace = register_person(event, "grace@example.com", now=in_minutes(1))
    alan = register_person(event, "alan@example.com", now=in_minutes(2))
    assert services.waitlist_position(grace) == 1
    assert services.waitlist_position(alan) == 2


def test_the_first_on_the_waitlist_is_the_one_who_joined_earliest(client, app):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com", now=in_minutes(0))
    # Joined later by the clock, though written first: the clock decides.
    register_person(event, "late@example.com", now=in_minutes(5))
    register_person(event, "early@example.com", now=in_minutes(1))
    cancel_from_manage_page(client, ada)
    assert statuses(event)["early@example.com"] == "confirmed"
    assert statuses(event)["late@example.com"] == "waitlisted"


def test_cancellation_and_promotion_commit_together_or_not_at_all(client, app):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com")
    register_person(event, "grace@example.com", now=in_minutes(1))

    def promotion_fails(registration: Registration, **_: Any) -> None:
        raise RuntimeError("the promotion could not be recorded")

    signals.promoted.connect(promotion_fails)
    try:
        with pytest.raises(RuntimeError):
            services.cancel(ada.id)
    finally:
        signals.promoted.disconnect(promotion_fails)
    # The cancellation was rolled back with the failed promotion: no seat lost or doubled.
    assert statuses(event) == {"ada@example.com": "confirmed", "grace@example.com": "waitlisted"}
    assert seats(event) == (1, 1)

    services.cancel(ada.id)
    assert statuses(event) == {"ada@example.com": "cancelled", "grace@example.com": "confirmed"}
    assert seats(event) == (1, 1)


def test_cancelling_twice_changes_nothing(client, app):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com")
    register_person(event, "grace@example.com", now=in_minutes(1))
    register_person(event, "alan@example.com", now=in_minutes(2))
    # Two tabs open on the manage page: the second click comes after the first cancelled.
    path = manage_path(ada)
    token = csrf_token(client.get(f"{path}/cancel").get_data(as_text=True))
    confirmed = {"csrf_token": token, "confirm": "yes"}
    assert client.post(f"{path}/cancel", data=confirmed).status_code == 303
    fresh()
    first = db.session.get(Registration, ada.id)
    cancelled_at, updated_at = first.cancelled_at, first.updated_at

    again = client.post(f"{path}/cancel", data=confirmed)
    assert again.status_code == 303
    assert statuses(event) == {
        "ada@example.com": "cancelled",
        "grace@example.com": "confirmed",
        "alan@example.com": "waitlisted",
    }
    assert seats(event) == (1, 1)
    fresh()
    second = db.session.get(Registration, ada.id)
    assert (second.cancelled_at, second.updated_at) == (cancelled_at, updated_at)
    assert services.cancel(ada.id) is None


def test_a_waitlisted_registrant_cancelling_frees_no_seat_and_promotes_nobody(client, app):
    event = make_event(capacity=1)
    register_person(event, "ada@example.com")
    grace = register_person(event, "grace@example.com", now=in_minutes(1))
    register_person(event, "alan@example.com", now=in_minutes(2))
    cancel_from_manage_page(client, grace)
    assert statuses(event) == {
        "ada@example.com": "confirmed",
        "grace@example.com": "cancelled",
        "alan@example.com": "waitlisted",
    }
    assert seats(event) == (1, 1)


def test_the_manage_page_does_not_claim_a_cancellation_that_did_not_happen(client, ada):
    html = client.get(f"{manage_path(ada)}?cancelled=1").get_data(as_text=True)
    assert "Your registration has been cancelled." not in html
    assert "Cancel my registration" in html


# --- Coming back -----------------------------------------------------------------------------


def reserve_on_landing(client: Any, email: str) -> Any:
    token = csrf_token(client.get("/e/launch-webinar").get_data(as_text=True))
    return client.post(
        "/e/launch-webinar", data={"csrf_token": token, "email": email, "first_name": "Ada"}
    )


def test_registering_again_after_cancelling_brings_back_the_row_under_a_new_link(client, app):
    event = make_event(capacity=2)
    first = reserve_on_landing(client, "ada@example.com")
    old_path = urlparse(first.headers["Location"]).path.removesuffix("/thanks")
    ada = db.session.scalars(select(Registration)).one()
    old_id, old_token, old_uid = ada.id, ada.manage_token, ada.invite_uid
    cancel_from_manage_page(client, ada)
    assert seats(event) == (0, 0)

    again = reserve_on_landing(client, "Ada@Example.com")
    assert again.status_code == 303
    new_path = urlparse(again.headers["Location"]).path.removesuffix("/thanks")
    fresh()
    back = db.session.scalars(select(Registration)).one()
    # The same row (its history, its invite UID) but a new token: whoever kept or found the
    # old link no longer reaches the new seat.
    assert back.id == old_id
    assert back.invite_uid == old_uid
    assert back.manage_token != old_token
    assert new_path != old_path
    assert_friendly_404(client.get(old_path))
    assert (back.status, back.cancelled_at) == ("confirmed", None)
    assert seats(event) == (1, 1)
    manage = client.get(new_path).get_data(as_text=True)
    assert "Cancel my registration" in manage


def test_registering_again_when_the_seat_has_gone_joins_the_waitlist(client, app):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com")
    cancel_from_manage_page(client, ada)
    register_person(event, "grace@example.com", now=in_minutes(1))
    response = reserve_on_landing(client, "ada@example.com")
    assert response.status_code == 303
    assert statuses(event) == {"ada@example.com": "waitlisted", "grace@example.com": "confirmed"}
    assert seats(event) == (1, 1)


# --- Expiry ----------------------------------------------------------------------------------


def event_ended(event: Event, days_ago: float) -> None:
    ended = utcnow() - timedelta(days=days_ago)
    db.session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(starts_at=ended - timedelta(hours=1), ends_at=ended)
    )
    db.session.commit()


def assert_expired(response: Any) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 410, html
    assert "This link has expired" in html
    assert "30 days after the event ends" in html
    assert "Traceback" not in html


def test_every_manage_page_answers_410_thirty_days_after_the_event(client, ada):
    path = manage_path(ada)
    token = csrf_token(client.get(f"{path}/cancel").get_data(as_text=True))
    event_ended(ada.event, days_ago=30.01)
    for page in (path, f"{path}/thanks", f"{path}/cancel", f"{path}/invite.ics"):
        assert_expired(client.get(page))
    assert_expired(client.post(f"{path}/cancel", data={"csrf_token": token, "confirm": "yes"}))
    assert_expired(client.post(f"{path}/pay", data={"csrf_token": token}))
    assert statuses(ada.event) == {"ada@example.com": "confirmed"}


def test_a_manage_link_still_works_until_then(client, ada):
    event_ended(ada.event, days_ago=29.9)
    assert client.get(manage_path(ada)).status_code == 200
    assert client.get(f"{manage_path(ada)}/invite.ics").status_code == 200


def test_how_long_links_last_after_the_event_is_a_setting(client, app, ada):
    app.config["MANAGE_LINK_DAYS_AFTER_EVENT"] = 5
    event_ended(ada.event, days_ago=6)
    response = client.get(manage_path(ada))
    assert response.status_code == 410
    assert "5 days after the event ends" in response.get_data(as_text=True)
