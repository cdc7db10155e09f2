"""Approval: a registration for an event with `requires_approval` is `pending_approval` and is
told "we'll confirm shortly"; staff approve it (confirmed with the confirmation and invite, or
waitlisted when no seat is free) or decline it (a polite no, its held seat given on), from the
API and the console. Real SMTP, real worker passes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import db
from app.events.models import Event
from app.registrations import approval, services
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import (
    bearer,
    csrf_token,
    form_token,
    make_event,
    make_user,
    register_person,
)
from tests.test_double_opt_in import fresh, has_invite, seats_taken, subjects, text_of

JOIN = "https://meet.example.com/launch"
PENDING_SUBJECT = "We'll confirm your registration shortly: Launch webinar"
CONFIRMED_SUBJECT = "You're registered: Launch webinar"
DECLINED_SUBJECT = "About your registration: Launch webinar"


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config}


def approval_event(**overrides) -> Event:  # type: ignore[no-untyped-def]
    return make_event(**{"requires_approval": True, "capacity": 2, "join_url": JOIN, **overrides})


def test_a_registration_waits_for_approval_without_a_seat_and_is_told_so(app, smtp_server):
    event = approval_event()
    ada = register_person(event, "ada@example.com")
    assert ada.status == "pending_approval" and not ada.approval_seat
    assert seats_taken(event) == 0

    run_due_jobs()
    (letter,) = smtp_server.to("ada@example.com")
    assert letter["Subject"] == PENDING_SUBJECT
    assert not has_invite(letter)
    assert "we'll confirm yours shortly" in text_of(letter)
    assert JOIN not in text_of(letter)


def test_approving_takes_a_seat_and_sends_the_confirmation_with_its_invite(app, smtp_server):
    event = approval_event()
    ada = register_person(event, "ada@example.com")

    approved = approval.approve(ada.id)

    assert approved.status == "confirmed" and approved.decided_at is not None
    assert seats_taken(event) == 1
    run_due_jobs()
    assert subjects(smtp_server, "ada@example.com") == [PENDING_SUBJECT, CONFIRMED_SUBJECT]
    confirmation = smtp_server.to("ada@example.com")[1]
    assert has_invite(confirmation) and JOIN in text_of(confirmation)


def test_an_event_may_hold_a_seat_for_each_pending_registration_while_one_is_free(app):
    event = approval_event(approval_holds_seat=True)
    ada = register_person(event, "ada@example.com")
    bob = register_person(event, "bob@example.com")
    cy = register_person(event, "cy@example.com")  # no seat is left to hold

    assert [fresh(r).approval_seat for r in (ada, bob, cy)] == [True, True, False]
    assert seats_taken(event) == 2

    assert approval.approve(ada.id).status == "confirmed"
    assert seats_taken(event) == 2  # the seat it held, not another
    # Cy held none, and none is free: approved onto the waitlist.
    assert approval.approve(cy.id).status == "waitlisted"
    assert seats_taken(event) == 2


def test_approving_when_full_waitlists_and_says_so_by_email(app, smtp_server):
    event = approval_event(capacity=1)
    ada = register_person(event, "ada@example.com")
    bob = register_person(event, "bob@example.com")
    approval.approve(ada.id)

    assert approval.approve(bob.id).status == "waitlisted"
    run_due_jobs()
    assert subjects(smtp_server, "bob@example.com") == [
        PENDING_SUBJECT,
        "You're on the waitlist: Launch webinar",
    ]


def test_approving_with_no_seat_and_no_waitlist_is_refused_and_changes_nothing(app):
    event = approval_event(capacity=1, waitlist=False)
    ada = register_person(event, "ada@example.com")
    bob = register_person(event, "bob@example.com")
    approval.approve(ada.id)

    with pytest.raises(services.RegistrationRefused, match="no free seat"):
        approval.approve(bob.id)
    assert fresh(bob).status == "pending_approval"
    assert seats_taken(event) == 1


def test_a_full_event_without_a_waitlist_refuses_new_registrations_for_approval(app):
    event = approval_event(capacity=1, waitlist=False)
    approval.approve(register_person(event, "ada@example.com").id)

    with pytest.raises(services.RegistrationRefused, match="full"):
        register_person(event, "bob@example.com")


def test_declining_sends_a_polite_no_and_gives_a_held_seat_to_the_waitlist(app, smtp_server):
    event = approval_event(capacity=1, approval_holds_seat=True)
    ada = register_person(event, "ada@example.com")  # holds the one seat
    bob = register_person(event, "bob@example.com")  # holds none
    approval.approve(bob.id)  # onto the waitlist
    assert fresh(bob).status == "waitlisted"

    declined = approval.decline(ada.id)

    assert declined.status == "declined" and not declined.approval_seat
    assert fresh(bob).status == "confirmed"  # the freed seat went to the waitlist
    assert seats_taken(event) == 1
    run_due_jobs()
    assert subjects(smtp_server, "ada@example.com") == [PENDING_SUBJECT, DECLINED_SUBJECT]
    (no,) = [m for m in smtp_server.to("ada@example.com") if m["Subject"] == DECLINED_SUBJECT]
    assert "not able to offer you a place" in text_of(no)
    assert not has_invite(no) and JOIN not in text_of(no)
    assert "A seat opened up, you're in: Launch webinar" in subjects(smtp_server, "bob@example.com")


def test_declining_one_that_held_no_seat_frees_nothing(app):
    event = approval_event(capacity=1)
    approval.approve(register_person(event, "ada@example.com").id)
    bob = register_person(event, "bob@example.com")
    cy = register_person(event, "cy@example.com")
    approval.approve(cy.id)  # waitlisted

    approval.decline(bob.id)

    assert fresh(cy).status == "waitlisted"
    assert seats_taken(event) == 1


def test_cancelling_while_pending_gives_a_held_seat_back(app):
    event = approval_event(capacity=1, approval_holds_seat=True)
    ada = register_person(event, "ada@example.com")
    assert seats_taken(event) == 1

    services.cancel(ada.id)

    assert fresh(ada).status == "cancelled" and not fresh(ada).approval_seat
    assert seats_taken(event) == 0


def test_a_decision_is_made_once(app):
    event = approval_event()
    ada = register_person(event, "ada@example.com")
    approval.approve(ada.id)

    for decide in (approval.approve, approval.decline):
        with pytest.raises(services.RegistrationRefused, match="not pending approval"):
            decide(ada.id)
    assert fresh(ada).status == "confirmed"
    assert seats_taken(event) == 1


def test_people_staff_add_by_hand_need_no_approval(app):
    event = approval_event()
    outcome = services.add_by_hand(
        event.id, services.Registrant("ada@example.com", "ada@example.com", "Ada")
    )
    assert outcome.registration.status == "confirmed"


def test_with_double_opt_in_the_address_is_verified_first_then_staff_decide(
    app, client, smtp_server
):
    event = approval_event(double_opt_in=True, approval_holds_seat=True)
    ada = register_person(event, "ada@example.com")
    assert ada.status == "unverified" and seats_taken(event) == 1
    run_due_jobs()
    (verification,) = smtp_server.to("ada@example.com")
    assert "the organisers review your registration" in text_of(verification)

    from app.registrations.opt_in import verify_token

    opened = client.get(f"/r/{verify_token(ada)}/verify")
    assert "Your email address is confirmed" in client.get(opened.location).text

    ada = fresh(ada)
    assert ada.status == "pending_approval" and ada.approval_seat
    assert seats_taken(event) == 1
    run_due_jobs()
    assert subjects(smtp_server, "ada@example.com")[1:] == [PENDING_SUBJECT]
    assert approval.approve(ada.id).status == "confirmed"
    assert seats_taken(event) == 1


def test_the_landing_form_says_the_registration_waits_for_approval(app, client):
    event = approval_event()
    page = client.get(f"/e/{event.slug}").text
    assert "we'll confirm yours shortly" in page
    response = client.post(
        f"/e/{event.slug}",
        data={"csrf_token": csrf_token(page), "email": "ada@example.com", "first_name": "Ada"},
    )
    assert response.status_code == 303
    thanks = client.get(response.location).text
    assert "Thanks for registering" in thanks and "confirm yours shortly" in thanks
    manage = client.get(response.location.removesuffix("/thanks")).text
    assert "Waiting for the organisers" in manage and JOIN not in manage
    invite = client.get(response.location.replace("/thanks", "/invite.ics"))
    assert invite.status_code == 404


# The API


def approve_path(registration: Registration, decision: str = "approve") -> str:
    return f"/api/v1/registrations/{registration.id}/{decision}"


def test_the_api_approves_and_declines_for_admins_and_marketers(app, client, smtp_server):
    event = approval_event()
    ada = register_person(event, "ada@example.com")
    bob = register_person(event, "bob@example.com")

    approved = client.post(approve_path(ada), headers=bearer(make_user("marketer")))
    declined = client.post(approve_path(bob, "decline"), headers=bearer(make_user("admin")))

    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "confirmed" and approved.json["email"] == "ada@example.com"
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    run_due_jobs()
    assert subjects(smtp_server, "ada@example.com")[-1] == CONFIRMED_SUBJECT
    assert subjects(smtp_server, "bob@example.com")[-1] == DECLINED_SUBJECT


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_the_api_answers_409_naming_the_status_when_the_registration_is_not_pending(
    app, client, decision
):
    event = approval_event()
    ada = register_person(event, "ada@example.com")
    approval.approve(ada.id)

    response = client.post(approve_path(ada, decision), headers=bearer(make_user("admin")))

    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert "not pending approval: it is confirmed" in response.json["error"]["message"]


def test_the_api_answers_409_when_there_is_no_seat_and_no_waitlist(app, client):
    event = approval_event(capacity=1, waitlist=False)
    ada = register_person(event, "ada@example.com")
    bob = register_person(event, "bob@example.com")
    approval.approve(ada.id)

    response = client.post(approve_path(bob), headers=bearer(make_user("admin")))

    assert response.status_code == 409
    assert "no free seat" in response.json["error"]["message"]
    assert fresh(bob).status == "pending_approval"


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_only_admins_and_marketers_decide_and_an_unknown_id_is_404(app, client, decision):
    event = approval_event()
    ada = register_person(event, "ada@example.com")

    assert client.post(approve_path(ada, decision)).status_code == 401
    rep = client.post(approve_path(ada, decision), headers=bearer(make_user("rep")))
    assert rep.status_code == 403
    assert fresh(ada).status == "pending_approval"
    unknown = client.post(
        f"/api/v1/registrations/999999/{decision}", headers=bearer(make_user("admin"))
    )
    assert unknown.status_code == 404


def test_the_api_sets_approval_on_an_event_and_refuses_it_on_a_paid_one(app, client):
    headers = bearer(make_user("marketer"))
    event = make_event()
    changed = client.patch(
        f"/api/v1/events/{event.slug}",
        json={"requires_approval": True, "approval_holds_seat": True, "show_seats_left": False},
        headers=headers,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["requires_approval"] is True
    assert changed.json["approval_holds_seat"] is True
    assert changed.json["show_seats_left"] is False

    paid = client.patch(f"/api/v1/events/{event.slug}", json={"price_cents": 4900}, headers=headers)
    assert paid.status_code == 422
    assert "requires_approval" in paid.json["error"]["fields"]
    assert "free events" in paid.json["error"]["fields"]["requires_approval"]


def test_the_registrations_list_filters_pending_approval(app, client):
    event = approval_event()
    register_person(event, "ada@example.com")
    approval.approve(register_person(event, "bob@example.com").id)

    listed = client.get(
        f"/api/v1/events/{event.slug}/registrations?status=pending_approval",
        headers=bearer(make_user("admin")),
    )

    assert [item["email"] for item in listed.json["items"]] == ["ada@example.com"]


# The console


def table_path(event: Event, **query: str) -> str:
    args = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/admin/events/{event.slug}/registrations" + (f"?{args}" if args else "")


def test_the_console_filters_pending_and_decides_one_row(staff, smtp_server):
    event = approval_event()
    ada = register_person(event, "ada@example.com")
    approval.approve(register_person(event, "bob@example.com").id)

    pending = staff.get(table_path(event, status="pending_approval")).text
    assert "ada@example.com" in pending and "bob@example.com" not in pending
    assert f"/registrations/{ada.id}/approve" in pending

    response = staff.post(
        f"/admin/events/{event.slug}/registrations/{ada.id}/decline",
        data={"csrf_token": form_token(staff, table_path(event))},
    )
    assert response.status_code == 303
    assert "ada@example.com is declined" in staff.get(response.location).text
    assert fresh(ada).status == "declined"


def test_the_console_approves_the_ticked_registrations_in_bulk(staff, smtp_server):
    event = approval_event(capacity=2)
    people = [register_person(event, f"p{n}@example.com") for n in range(4)]
    other = register_person(approval_event(slug="other-event"), "x@example.com")
    page = staff.get(table_path(event)).text
    assert 'form="bulk-decisions"' in page

    response = staff.post(
        f"/admin/events/{event.slug}/registrations/decide",
        data={
            "csrf_token": csrf_token(page),
            "decision": "approve",
            # Three of this event's and one of another event's, which is ignored.
            "registration": [
                str(people[0].id),
                str(people[1].id),
                str(people[2].id),
                str(other.id),
            ],
        },
    )

    assert response.status_code == 303
    shown = staff.get(response.location).text
    assert "3 registrations approved (1 on the waitlist: no seat was free)." in shown
    assert [fresh(p).status for p in people] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "pending_approval",
    ]
    assert fresh(other).status == "pending_approval"
    assert seats_taken(event) == 2
    run_due_jobs()
    assert subjects(smtp_server, "p0@example.com")[-1] == CONFIRMED_SUBJECT


def test_the_bulk_decision_needs_the_csrf_token_and_a_decision(staff):
    event = approval_event()
    ada = register_person(event, "ada@example.com")
    path = f"/admin/events/{event.slug}/registrations/decide"

    assert (
        staff.post(path, data={"decision": "approve", "registration": str(ada.id)}).status_code
        == 400
    )
    token = form_token(staff, table_path(event))
    assert (
        staff.post(path, data={"csrf_token": token, "registration": str(ada.id)}).status_code == 400
    )
    assert fresh(ada).status == "pending_approval"


def test_the_console_event_form_sets_approval(staff):
    from tests.builders import event_form

    response = event_form(staff, requires_approval="y", approval_holds_seat="y")
    assert response.status_code == 303, response.text
    event = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert event is not None and event.requires_approval and event.approval_holds_seat
    assert event.show_seats_left
