"""What registrants receive: real emails through a real SMTP server, each invite parsed and
checked against the iTIP rules, across confirmation, waitlist, promotion, change and cancel."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db import db
from app.events import signals as event_signals
from app.events.services import cancel_event, update_event
from app.mail.letters import write_unwritten
from app.mail.models import OutboxMessage
from app.models import Setting
from app.registrations import services
from app.registrations import signals as registration_signals
from app.registrations.links import manage_url
from app.registrations.models import Registration
from app.worker import run_due_jobs
from tests.builders import make_event, register_person
from tests.itip import assert_mime_calendar_part, assert_valid_invite

SENDER = "Reserve Events <events@reserve.example>"


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, **smtp_server.mail_config, "MAIL_DEFAULT_SENDER": SENDER}


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def invite_in(message: EmailMessage, method: str, **expected):  # type: ignore[no-untyped-def]
    """The message's invite, checked: MIME method = METHOD, CRLF kept, attachment identical."""
    (part,) = calendar_parts(message)
    ics = assert_mime_calendar_part(part)
    (attachment,) = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    assert attachment.get_payload(decode=True) == ics
    return assert_valid_invite(ics, method=method, **expected).events[0]


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} body"
    return part.get_content()


def test_confirmation_carries_text_html_and_a_request_invite_in_the_shape_mail_clients_read(
    app, smtp_server
):
    event = make_event(join_url="https://meet.example.com/launch?pwd=a&b=1")
    registration = register_person(event, "ada@example.com", last_name="Lovelace")
    assert run_due_jobs()["sent"] == 1

    (message,) = smtp_server.to("ada@example.com")
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert attachment.get_content_type() in ("application/ics", "text/calendar")
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert alternative.get_payload()[2].get_param("method") == "REQUEST"

    entry = invite_in(
        message,
        "REQUEST",
        uid=registration.invite_uid,
        sequence=0,
        attendee="ada@example.com",
        organizer="events@reserve.example",
    )
    assert entry.start == event.starts_at
    assert parseaddr(str(message["From"])) == ("Reserve Events", "events@reserve.example")
    assert parseaddr(str(message["To"])) == ("Ada Lovelace", "ada@example.com")
    assert message["Subject"] == "You're registered: Launch webinar"
    assert message["Date"] is not None
    row = db.session.scalars(select(OutboxMessage)).one()
    assert message["Message-ID"] == row.message_id
    assert row.status == "sent" and row.sent_at is not None

    text, html = body(message, "plain"), body(message, "html")
    assert "https://meet.example.com/launch?pwd=a&b=1" in text
    assert 'href="https://meet.example.com/launch?pwd=a&amp;b=1"' in html
    assert manage_url(registration) in text
    assert "Launch webinar" in text and "Launch webinar" in html


def test_waitlisted_registrant_gets_no_invite_until_promoted(app, smtp_server):
    event = make_event(capacity=1)
    first = register_person(event, "ada@example.com")
    second = register_person(event, "bob@example.com", last_name="Babbage")
    run_due_jobs()

    (waitlisted,) = smtp_server.to("bob@example.com")
    assert calendar_parts(waitlisted) == []
    assert list(waitlisted.iter_attachments()) == []
    assert "number 1 on the waitlist" in body(waitlisted, "plain")
    assert "meet.example.com" not in body(waitlisted, "plain")

    services.cancel(first.id)
    run_due_jobs()
    db.session.refresh(second)
    assert second.status == "confirmed"
    _, promoted = smtp_server.to("bob@example.com")
    assert promoted["Subject"].startswith("A seat opened up")
    entry = invite_in(promoted, "REQUEST", uid=second.invite_uid, sequence=0)
    assert entry.attendees[0].email == "bob@example.com"
    assert "https://meet.example.com/launch" in body(promoted, "plain")

    _, cancelled = smtp_server.to("ada@example.com")
    invite_in(cancelled, "CANCEL", uid=first.invite_uid, sequence=1)


def test_a_change_of_time_reinvites_confirmed_registrants_with_the_same_uid_and_next_sequence(
    app, smtp_server
):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")
    run_due_jobs()
    (confirmation,) = smtp_server.to("ada@example.com")
    original = invite_in(confirmation, "REQUEST", uid=ada.invite_uid, sequence=0)

    later = event.starts_at + timedelta(days=1)
    update_event(event, {"starts_at": later})
    run_due_jobs()

    _, update = smtp_server.to("ada@example.com")
    moved = invite_in(update, "REQUEST", uid=ada.invite_uid, sequence=1)
    assert moved.start == later == original.start + timedelta(days=1)
    assert "the time" in body(update, "plain")
    # The waitlist is told of the new time, without an invite: they hold no calendar entry.
    _, note = smtp_server.to("bob@example.com")
    assert calendar_parts(note) == []
    assert "Your place on the waitlist is kept." in body(note, "plain")
    db.session.refresh(ada)
    assert ada.invite_sequence == 1


def test_a_change_that_calendars_do_not_show_sends_nothing(app, smtp_server):
    event = make_event()
    register_person(event, "ada@example.com")
    run_due_jobs()
    before = outbox_count()
    update_event(event, {"description": "A new agenda.", "capacity": 500})
    assert outbox_count() == before


def test_event_cancellation_cancels_invites_and_tells_the_waitlist_without_one(app, smtp_server):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")
    update_event(event, {"join_url": "https://meet.example.com/new-room"})
    cancel_event(event)
    # The requests only recorded what is owed to everyone; the worker writes and sends it.
    owed = db.session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.kind.in_(("update", "event_cancelled")))
    ).all()
    assert owed == ["unwritten"] * 4
    run_due_jobs()

    confirmation, update, cancel = smtp_server.to("ada@example.com")
    uids = {
        invite_in(confirmation, "REQUEST").uid,
        invite_in(update, "REQUEST", sequence=1).uid,
        invite_in(cancel, "CANCEL", sequence=2).uid,
    }
    assert uids == {ada.invite_uid}
    assert cancel["Subject"] == "Cancelled: Launch webinar"
    assert "https://meet.example.com/new-room" in body(update, "plain")

    waitlisted, moved, note = smtp_server.to("bob@example.com")
    assert calendar_parts(moved) == [] and calendar_parts(note) == []
    assert "will not take place" in body(note, "plain")


def test_registrant_cancel_withdraws_the_invite_and_a_new_registration_outranks_the_cancel(
    app, smtp_server
):
    event = make_event()
    registration = register_person(event, "ada@example.com")
    services.cancel(registration.id)
    # The same person again: the same registration row comes back.
    register_person(event, "ada@example.com")
    run_due_jobs()

    confirmation, cancel, again = smtp_server.to("ada@example.com")
    invite_in(confirmation, "REQUEST", uid=registration.invite_uid, sequence=0)
    invite_in(cancel, "CANCEL", uid=registration.invite_uid, sequence=1)
    invite_in(again, "REQUEST", uid=registration.invite_uid, sequence=2)
    assert cancel["Subject"] == "Your registration is cancelled: Launch webinar"
    assert len({confirmation["Message-ID"], cancel["Message-ID"], again["Message-ID"]}) == 3


def test_leaving_the_waitlist_is_confirmed_without_an_invite(app, smtp_server):
    event = make_event(capacity=0)
    registration = register_person(event, "ada@example.com")
    services.cancel(registration.id)
    run_due_jobs()
    _, left = smtp_server.to("ada@example.com")
    assert calendar_parts(left) == []
    assert "left the waitlist" in body(left, "plain")


def test_announcing_the_same_change_again_adds_no_message_and_keeps_the_sequence(app):
    event = make_event(capacity=1)
    ada = register_person(event, "ada@example.com")
    bob = register_person(event, "bob@example.com")
    services.cancel(ada.id)  # Bob is promoted
    update_event(event, {"starts_at": event.starts_at + timedelta(hours=2)})
    rows = outbox_count()
    sequences = {r.id: r.invite_sequence for r in db.session.scalars(select(Registration))}
    assert rows == 5  # confirmation, waitlisted, cancellation, promoted, update

    db.session.refresh(ada)
    db.session.refresh(bob)
    db.session.refresh(event)
    registration_signals.registered.send(bob)
    registration_signals.promoted.send(bob)
    registration_signals.cancelled.send(ada, previous_status="confirmed")
    event_signals.event_changed.send(event, changed={"starts_at"})
    db.session.commit()

    assert outbox_count() == rows
    assert {r.id: r.invite_sequence for r in db.session.scalars(select(Registration))} == sequences

    cancel_event(event)
    rows = outbox_count()
    db.session.refresh(event)
    event_signals.event_cancelled.send(event)
    db.session.commit()
    assert outbox_count() == rows


def test_no_message_exists_when_its_registration_is_rolled_back(app, event):
    def fail_after_mail(sender, **_):  # type: ignore[no-untyped-def]
        raise RuntimeError("a later step of the same transaction failed")

    with (
        registration_signals.registered.connected_to(fail_after_mail),
        pytest.raises(RuntimeError),
    ):
        register_person(event, "ada@example.com")
    assert outbox_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_event_text_is_escaped_in_html_and_kept_on_one_line_in_the_subject(app, smtp_server):
    event = make_event(title='Q&A <script>alert("x")</script>\r\nBcc: all@example.com')
    register_person(event, "ada@example.com", first_name="<b>Ada</b>")
    run_due_jobs()
    (message,) = smtp_server.to("ada@example.com")
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].recipients == ("ada@example.com",)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    html = body(message, "html")
    assert "<script>" not in html and "<b>Ada</b>" not in html
    assert "Q&amp;A &lt;script&gt;" in html and "&lt;b&gt;Ada&lt;/b&gt;" in html
    invite_in(message, "REQUEST")


def test_names_and_titles_beyond_ascii_survive_the_trip(app, smtp_server):
    event = make_event(title="Café für Entwickler: 東京")
    register_person(event, "zoe@example.com", first_name="Zoë", last_name="Ünal-Çelik")
    run_due_jobs()
    (message,) = smtp_server.to("zoe@example.com")
    assert message["Subject"] == "You're registered: Café für Entwickler: 東京"
    assert parseaddr(str(message["To"]))[0] == "Zoë Ünal-Çelik"
    entry = invite_in(message, "REQUEST", attendee="zoe@example.com")
    assert str(entry["SUMMARY"]) == "Café für Entwickler: 東京"
    assert "Zoë" in body(message, "html")


def test_the_sender_setting_overrides_the_configured_sender(app, smtp_server):
    db.session.add(Setting(key="sender", value={"name": "ACME Webinars", "email": "hi@acme.test"}))
    db.session.commit()
    register_person(make_event(), "ada@example.com")
    run_due_jobs()
    (message,) = smtp_server.to("ada@example.com")
    assert parseaddr(str(message["From"])) == ("ACME Webinars", "hi@acme.test")
    assert smtp_server.received[0].envelope_from == "hi@acme.test"
    entry = invite_in(message, "REQUEST", organizer="hi@acme.test")
    assert entry.organizer.CN == "ACME Webinars"


def test_without_a_mail_server_each_message_is_written_as_an_eml_file(app):
    app.config["MAIL_SERVER"] = None
    event = make_event()
    registration = register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")
    assert run_due_jobs()["sent"] == 2

    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    outbox = Path(app.config["OUTBOX_DIR"])
    assert outbox == Path(app.instance_path) / "outbox"
    files = sorted(path.name for path in outbox.iterdir())
    assert files == sorted(f"{row.message_id.strip('<>')}.eml" for row in rows)
    raw = (outbox / f"{rows[0].message_id.strip('<>')}.eml").read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Message-ID"] == rows[0].message_id
    invite_in(message, "REQUEST", uid=registration.invite_uid, sequence=0)
    assert all(row.status == "sent" for row in rows)


def test_outbox_rows_are_added_in_the_registration_transaction(app):
    event = make_event()
    registration = register_person(event, "ada@example.com")
    row = db.session.scalars(select(OutboxMessage)).one()
    # Recorded with the registration; written by the worker, outside the seat lock.
    assert row.status == "unwritten" and row.attempts == 0 and row.content is None
    assert row.kind == "confirmation" and row.recipient == "ada@example.com"
    assert row.registration_id == registration.id and row.event_id == event.id
    assert row.dedupe_key.startswith(f"seat:reg:{registration.id}:")
    assert row.details == {"method": "REQUEST", "sequence": 0, "context": {}}
    assert write_unwritten() == 1
    db.session.refresh(row)
    assert row.status == "pending"
    message = message_from_bytes(row.content, policy=policy.default)
    assert message["Message-ID"] == row.message_id


def test_a_message_that_cannot_be_written_is_failed_and_the_others_still_go(app, smtp_server):
    event = make_event()
    register_person(event, "ada@example.com")
    register_person(event, "bob@example.com")
    run_due_jobs()
    update_event(event, {"starts_at": event.starts_at + timedelta(hours=1)})
    broken = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "update", OutboxMessage.recipient == "ada@example.com"
        )
    ).one()
    broken.details = {**(broken.details or {}), "sequence": -1}  # no calendar takes that
    db.session.commit()
    run_due_jobs()
    db.session.refresh(broken)
    assert broken.status == "failed" and "could not write" in (broken.last_error or "")
    assert [m["Subject"] for m in smtp_server.to("bob@example.com")][-1] == (
        "Updated: Launch webinar"
    )
